#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The client's path is the paper's: in steady state (one sender, its
# mailbox listed, the arbiter awake) the code of sch_pspat that a sending
# CPU runs, enqueue and the dequeue hook, executes no LOCK-prefixed
# instruction. Counted by the plugin (scripts/insn-count): pspat_xmitbench
# brackets each dev_queue_xmit() with a span marker on CPU 0; the arbiter
# is on CPU 1 and polls (idle_poll_us=1 s), so it does not sleep. The
# module area's LOCK ops in those spans are sch_pspat's (the dummy driver
# runs on the arbiter's CPU). The core's own, around the enqueue (the
# qdisc seqlock's trylock, qdisc_run_end()'s barrier), are reported, not
# asserted. The arbiter once unlisted the mailbox on every empty look, and
# the client paid a barrier, a relink and a kick: 1.18 LOCK ops per packet.
. "$(dirname "$0")/lib.sh"
need_vm
need_insn
pspat_load arbiter_cpu=1 idle_poll_us=1000000 mailbox_entries=8192
xb=$(test_ko xmitbench)
insmod "$xb" || skip_all "no pspat_xmitbench module"
defer rmmod pspat_xmitbench
ns_create t
dummy_dev "$t" d0
ip netns exec "$t" tc qdisc add dev d0 root handle 1: pspat || ktap_bail "tc qdisc add failed"
ktap_plan 4

xmit() { ip netns exec "$t" taskset -c 0 sh -c "echo 'd0 $1' >/sys/module/pspat_xmitbench/parameters/run"; }
param() { cat "/sys/module/pspat_xmitbench/parameters/$1"; }
n=20000
xmit 2000	# warm-up: the mailbox, its link, the code translated
s0=$(insn_spans 0)
sent0=$(param sent) ref0=$(param refused)
xmit $n
s1=$(insn_spans 0)
spans=$(insn_delta "$s0" "$s1" spans)
per() { jq -n "($(insn_delta "$s0" "$s1" "$1")) / $n * 1000 | round / 1000"; }
ktap_info "per dev_queue_xmit(): $(per insns) instructions, $(per lock_ops) LOCK ops; in sch_pspat: $(per module_insns) instructions, $(per module_lock_ops) LOCK ops"
ktap_info "arbiter: $(pspat_stat arbiter rounds) rounds, $(pspat_stat arbiter packets) packets, $(pspat_stat arbiter links) links, $(pspat_stat arbiter sleeps) sleeps"
check_eq "one span per packet" "$spans" $n
check_eq "dev_queue_xmit() took every packet" \
	"$(($(param sent) - sent0)) $(($(param refused) - ref0))" "$n 0"
# Steady state, a few exceptions: the core's MISSED bit, which the hook
# clears when a client's trylock lost to the arbiter's transmit.
check_range "sch_pspat's LOCK ops per 1000 packets (1181 before it was the paper's)" \
	"$(jq -n "($(insn_delta "$s0" "$s1" module_lock_ops)) * 1000 / $n | floor")" 0 20
wait_for 10 pspat_empty "$t" d0 || pspat_dump "$t" d0
check_eq "pspat sent them all" "$(qstat "$t" d0 1: packets) $(qstat "$t" d0 1: drops)" "$((n + 2000)) 0"
ktap_finish
