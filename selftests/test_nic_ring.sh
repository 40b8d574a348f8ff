#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Small rings on a real driver: igb with 8 tx queues (ethtool -L combined
# 8) of 64 descriptors (ethtool -G tx 64), sending to e1000e. In both xmit
# modes, 128 paced UDP flows use every txq, then TCP (16 flows) fills the
# rings so that igb stops its queues (its tx_queue_N_restart counters
# grow): pspat meets the stops (backpressure), keeps the packets and drops
# none, and igb's tx packets since attach equal pspat's sent.
# (A stop held for long, and the arbiter asleep meanwhile: backpressure,
# on kmod/stopdev_test, whose queues stop on demand.)
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$SELFTESTS_DIR/lib_nic.sh"
need_vm
need_tools
pspat_load
make_tmp
tools_to_tmp
nic_ns igb e1000e
# The tests after this one get igb as it was.
defer ip netns exec "$a" ethtool -L na combined "$(nic_now channels)"
defer ip netns exec "$a" ethtool -G na tx "$(nic_now ring)"
ip netns exec "$a" ethtool -L na combined 8 || ktap_bail "ethtool -L na combined 8"
ip netns exec "$a" ethtool -G na tx 64 || ktap_bail "ethtool -G na tx 64"
# Both reset the NIC: wait for its carrier again.
nic_carrier "$a" na || ktap_bail "no carrier on na after ethtool -L/-G"
ktap_plan 12

# txq_stats FILE: igb's per-txq packets and restarts, "N packets restarts".
txq_stats() {
	ip netns exec "$a" ethtool -S na | awk '
		match($1, /^tx_queue_[0-9]+_(packets|restart):$/) {
			split($1, f, "_"); q = f[3]
			if ($1 ~ /packets/) p[q] = $2; else r[q] = $2; n[q] = 1 }
		END { for (q in n) print q, p[q] + 0, r[q] + 0 }' | sort -n >"$1"
}

# UDP to 198.18.70.3, dropped in b without an ICMP error (paced, to
# stay below the child's limit).
nic_silent_dst

check_eq "igb has 8 tx queues of 64 descriptors" \
	"$(ip netns exec "$a" sh -c 'ls -d /sys/class/net/na/queues/tx-*' | wc -l) $(nic_now ring)" "8 64"

for mode in arbiter dispatcher; do
	pspat_param xmit_mode $mode
	txq_stats "$tmp/q0"
	tx0=$(link_stat "$a" na tx packets)
	tc -n "$a" qdisc add dev na root handle 1: pspat
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.70.3 --dport 9000 -t 128 -n 20 -r 50 \
		>"$tmp/blast.json"
	iperf_server 198.18.70.2
	timeout 60 ip netns exec "$a" iperf3 -c 198.18.70.2 -t 4 -P 16 -J >"$tmp/tcp.json"
	wait
	wait_for 10 pspat_empty "$a" na
	sent=$(qstat "$a" na 1: packets)
	wait_for 5 nic_tx_since "$tx0" "$sent"
	txq_stats "$tmp/q1"
	used=$(join "$tmp/q0" "$tmp/q1" | awk '$4 > $2 { n++ } END { print n + 0 }')
	restarts=$(join "$tmp/q0" "$tmp/q1" | awk '{ n += $5 - $3 } END { print n + 0 }')
	bp=$(pspat_stat "qdisc dev na" backpressure)
	ktap_info "$mode: $used txqs used, $restarts queue restarts, backpressure $bp;" \
		"pspat sent $sent, igb tx $(($(link_stat "$a" na tx packets) - tx0));" \
		"TCP $(jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$tmp/tcp.json") Mbit/s"
	check_eq "$mode: 128 UDP flows x 20 sent, every one of 8 txqs used" \
		"$(jq .total.sent "$tmp/blast.json") $used" "2560 8"
	check "$mode: igb stopped queues (ring full) and restarted them" test "$restarts" -gt 0
	check "$mode: pspat met the stops (backpressure)" test "$bp" -gt 0
	check_eq "$mode: pspat dropped nothing, holds nothing" \
		"$(qstat "$a" na 1: drops)/$(qstat "$a" na 1: qlen)" 0/0
	check_eq "$mode: igb tx packets since attach == pspat sent" \
		$(($(link_stat "$a" na tx packets) - tx0)) "$sent"
	tc -n "$a" qdisc del dev na root
done
check "module unloads after the stops" pspat_unload
ktap_finish
