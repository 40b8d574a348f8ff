#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The instruction counter counts right. A span (the per-vCPU marker of
# tools/qemu-insn) around a loop of known length, on one CPU: N iterations
# of dec+jnz count 2N user instructions plus the closing marker, none of
# them locked; with a `lock incq` in the loop, 3N + 1 and exactly N LOCK
# ops. Runs under scripts/insn-count only (make check's insn step).
. "$(dirname "$0")/lib.sh"
need_vm
need_insn
ktap_plan 5

# span_loop ARGS...: the span's user instructions and LOCK ops, "I L".
span_loop() {
	local s0 s1
	s0=$(insn_spans 0)
	taskset -c 0 "$PSPAT_INSN_WINDOW" --span-loop "$@"
	s1=$(insn_spans 0)
	echo "$(insn_delta "$s0" "$s1" user_insns) $(insn_delta "$s0" "$s1" user_lock_ops) $(insn_delta "$s0" "$s1" spans)"
}

read -r i1 l1 n1 <<<"$(span_loop 100000)"
read -r i2 l2 n2 <<<"$(span_loop 300000)"
read -r i3 l3 n3 <<<"$(span_loop 100000 lock)"
ktap_info "100000 x dec,jnz: $i1 insns, $l1 locked; 300000: $i2, $l2; 100000 x lock incq,dec,jnz: $i3, $l3"
check_eq "one span per loop" "$n1 $n2 $n3" "1 1 1"
check_eq "100000 iterations: 200000 instructions and the closing marker" "$i1" 200001
check_eq "300000 iterations: 600001" "$i2" 600001
check_eq "no LOCK op in the plain loops" "$l1 $l2" "0 0"
check_eq "the locked loop: 300001 instructions, 100000 LOCK ops" "$i3 $l3" "300001 100000"
ktap_finish
