#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A real driver's queue stopped for milliseconds at a time: e1000e with a
# 64-descriptor tx ring and its interrupts throttled to 100 a second
# (ethtool -C rx-usecs 10000: QEMU's e1000e honours the throttle), so the
# driver frees its ring only every 10 ms and stops its queue in between.
# One UDP flow sends a burst of 100 datagrams every 40 ms (2500 pps: the
# ring passes 32 to 64 a 10 ms, so a burst meets two or three stops and
# the queue is stopped much of the time). In both xmit modes: e1000e
# stopped and restarted its queue, pspat met the stops (backpressure),
# dropped nothing, sent every datagram, and e1000e transmitted what pspat
# sent; and pspat's kthreads slept while the queue was stopped instead of
# spinning on it: under a quarter of a CPU together over the run (a
# spinning arbiter would take most of one).
# (The same on a device that stops on demand, for seconds: backpressure.)
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$SELFTESTS_DIR/lib_nic.sh"
need_vm
need_tools
pspat_load
make_tmp
tools_to_tmp
nic_ns e1000e igb
# The tests after this one get e1000e as it was.
defer ip netns exec "$a" ethtool -C na rx-usecs "$(nic_now rx-usecs)"
defer ip netns exec "$a" ethtool -G na tx "$(nic_now ring)"
ip netns exec "$a" ethtool -G na tx 64 || ktap_bail "ethtool -G na tx 64"
ip netns exec "$a" ethtool -C na rx-usecs 10000 || ktap_bail "ethtool -C na rx-usecs 10000"
nic_carrier "$a" na || ktap_bail "no carrier on na after ethtool -G"
ktap_plan 12

# Datagrams to 198.18.70.3, dropped in b without an ICMP error.
nic_silent_dst
restarts() { ip netns exec "$a" ethtool -S na | awk '$1 == "tx_restart_queue:" { print $2 }'; }
# kticks: CPU ticks (user + system) of pspat's kthreads, arbiter and
# dispatcher, so far.
kticks() {
	local p n=0
	for p in $(pgrep -x 'pspat-arb|pspat-snd'); do
		n=$((n + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo $n
}

check_eq "e1000e: a 64-descriptor ring, 100 interrupts a second" \
	"$(nic_now ring) $(nic_now rx-usecs)" "64 10000"
for mode in arbiter dispatcher; do
	pspat_param xmit_mode $mode
	tc -n "$a" qdisc add dev na root handle 1: pspat
	tx0=$(link_stat "$a" na tx packets) r0=$(restarts) s0=$(pspat_stat arbiter sleeps)
	k0=$(kticks) t0=$(date +%s%N)
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.70.3 --dport 9000 -s 200 \
		-d 4 -r 2500 --pace-us 40000 >"$tmp/blast.json"
	wait_for 10 pspat_empty "$a" na
	k1=$(kticks) t1=$(date +%s%N)
	sent=$(qstat "$a" na 1: packets)
	wait_for 5 nic_tx_since "$tx0" "$sent"
	hz=$(getconf CLK_TCK)
	ms=$(((t1 - t0) / 1000000))
	ktap_info "$mode: sent $sent, e1000e restarts $(($(restarts) - r0)), backpressure" \
		"$(pspat_stat "qdisc dev na" backpressure), arbiter sleeps $(($(pspat_stat arbiter sleeps) - s0));" \
		"kthreads $((k1 - k0)) ticks ($hz/s) in $ms ms"
	check "$mode: e1000e stopped its queue and restarted it" test $(($(restarts) - r0)) -gt 0
	check "$mode: pspat met the stops (backpressure)" test "$(pspat_stat "qdisc dev na" backpressure)" -gt 0
	check_eq "$mode: every datagram sent, pspat dropped none, holds none" \
		"$(jq '.total | "\(.sent) \(.enobufs) \(.errors)"' -r "$tmp/blast.json") $(qstat "$a" na 1: drops) $(qstat "$a" na 1: qlen)" \
		"$sent 0 0 0 0"
	check_eq "$mode: e1000e tx packets since attach == pspat sent" \
		$(($(link_stat "$a" na tx packets) - tx0)) "$sent"
	check_range "$mode: pspat's kthreads under a quarter of a CPU meanwhile (ms)" \
		$(((k1 - k0) * 1000 / hz)) 0 $((ms / 4))
	tc -n "$a" qdisc del dev na root
done
check "module unloads after the stops" pspat_unload
ktap_finish
