#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the guest of scripts/bench-insn.sh (under the counting plugin): every
# configuration side by side in one boot, REPS interleaved rounds. A run:
# a fresh netns with a dummy device and the qdiscs of the configuration,
# 1000 packets of warm-up, then N packets with the window open; each
# dev_queue_xmit() is a span on CPU 0 (pspat_xmitbench); the arbiter is
# pinned to CPU 1 and polls 1 s before it sleeps (steady state); with a
# module built with PSPAT_INSN_MARKS=y each of its rounds is a span of
# CPU 1 (discarded when it moved nothing), the child's and the driver's
# work its inner part. One JSON line per run into OUT/runs.jsonl: the
# deltas of the plugin's counters.
#
# Usage: bench-insn-guest.sh OUT
# Environment: PSPAT_BENCH_INSN_N (packets per run, default 10000),
# PSPAT_BENCH_INSN_REPS (rounds, default 3), PSPAT_BENCH_INSN_CONFIGS (a
# subset of the configurations below). OUT/kallsyms: the guest's symbols.
set -euo pipefail
. "$(dirname "$0")/../selftests/lib.sh"	# pspat_stat, qstat, wait_for
trap _run_cleanup EXIT
out=$1
n=${PSPAT_BENCH_INSN_N:-10000}
reps=${PSPAT_BENCH_INSN_REPS:-3}
xb=$(dirname "$PSPAT_KO")/kmod/xmitbench_test/pspat_xmitbench.ko
w=$PSPAT_INSN_WINDOW
: >"$out/runs.jsonl"
# Everything here on CPU 0: CPU 1 is the arbiter's alone.
taskset -pc 0 $$ >/dev/null
sysctl -qw kernel.printk="3 4 1 3"
insmod "$PSPAT_KO" arbiter_cpu=1 idle_poll_us=1000000 mailbox_entries=8192
insmod "$xb"
# For scripts/insn-profile: the addresses of this boot, modules included.
cat /proc/kallsyms >"$out/kallsyms"
arb() { pspat_stat arbiter "$1"; }
param() { cat "/sys/module/pspat_xmitbench/parameters/$1"; }
xmit() { ip netns exec bi taskset -c 0 sh -c "echo 'd0 $1' >/sys/module/pspat_xmitbench/parameters/run"; }
tcn() { ip netns exec bi tc "$@"; }

# setup CONFIG: the qdiscs; stock-K is K as root, pspat-K is K under pspat
# (pspat-pfifo: its default child).
setup() {
	local at=(root handle 1:) h=1 k=${1#*-}
	case $1 in
	pspat-*|light-*) tcn qdisc add dev d0 root handle 1: pspat; at=(parent 1:1 handle 2:) h=2 ;;
	esac
	case $k in
	pfifo_fast|pfifo) [ $h = 2 ] || tcn qdisc replace dev d0 "${at[@]}" "$k" ;;
	fq) tcn qdisc replace dev d0 "${at[@]}" fq ;;
	hfsc)
		tcn qdisc replace dev d0 "${at[@]}" hfsc default 1
		tcn class add dev d0 parent $h: classid $h:1 hfsc ls m2 10gbit ul m2 10gbit ;;
	drr)
		tcn qdisc replace dev d0 "${at[@]}" drr
		tcn class add dev d0 parent $h: classid $h:1 drr
		tcn filter add dev d0 parent $h: matchall classid $h:1 ;;
	esac
}

read_spans() { jq -c '{s: (.spans[0] // {}), a: (.spans[1] // {}), v: .vcpus}' "$PSPAT_INSN_OUT"; }
spans() { "$w" --mark; "$w" --mark; read_spans; }

# light-*: a datagram every 300 us (pspat_xmitbench gap_us), so that the
# arbiter's rounds carry one packet each: its fixed cost per round.
configs=(stock-pfifo_fast pspat-pfifo stock-hfsc pspat-hfsc stock-drr pspat-drr stock-fq pspat-fq
	light-pfifo)
# PSPAT_BENCH_INSN_CONFIGS: a subset (e.g. for a profile of one).
[ -n "${PSPAT_BENCH_INSN_CONFIGS:-}" ] && read -r -a configs <<<"$PSPAT_BENCH_INSN_CONFIGS"
for rep in $(seq 1 "$reps"); do
	for c in "${configs[@]}"; do
		ip netns add bi
		ip -n bi link add d0 type dummy
		ip -n bi link set d0 up
		setup "$c"
		gap=0
		[ "${c%%-*}" = light ] && gap=300
		echo $gap >/sys/module/pspat_xmitbench/parameters/gap_us
		xmit 1000
		before=$(spans)
		r0=$(arb rounds) p0=$(arb packets) s0=$(param sent) f0=$(param refused)
		"$w" --mark
		xmit "$n"
		# The arbiter's last packets: wait for pspat to be empty.
		wait_for 5 pspat_empty bi d0 || true
		"$w" --mark
		after=$(read_spans)
		jq -nc --arg c "$c" --argjson rep "$rep" --argjson n "$n" \
			--argjson a "$before" --argjson b "$after" \
			--argjson rounds $(($(arb rounds) - r0)) --argjson packets $(($(arb packets) - p0)) \
			--argjson sent $(($(param sent) - s0)) --argjson refused $(($(param refused) - f0)) '
			def d(f): ($b.s[f] // 0) - ($a.s[f] // 0);
			def arb(f): ($b.a[f] // 0) - ($a.a[f] // 0);
			def inner(f): ($b.a.inner[f] // 0) - ($a.a.inner[f] // 0);
			def v(i; f): ($b.v[i][f] // 0) - ($a.v[i][f] // 0);
			{config: $c, rep: $rep, n: $n, sent: $sent, refused: $refused,
			 spans: d("spans"), xmit_insns: d("insns"), xmit_lock_ops: d("lock_ops"),
			 xmit_module_insns: d("module_insns"), xmit_module_lock_ops: d("module_lock_ops"),
			 cpu0_insns: v(0; "insns"), cpu1_insns: v(1; "insns"), cpu1_lock_ops: v(1; "lock_ops"),
			 rounds: $rounds, packets: $packets,
			 arb_rounds: arb("spans"), arb_empty_rounds: arb("discarded"),
			 arb_insns: arb("insns"), arb_lock_ops: arb("lock_ops"),
			 arb_inner_insns: inner("insns"), arb_inner_lock_ops: inner("lock_ops")}' >>"$out/runs.jsonl"
		tail -n1 "$out/runs.jsonl"
		ip netns del bi
		sleep 0.2
	done
done
