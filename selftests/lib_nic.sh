# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# pspat on a real NIC driver, for the nic_* selftests (sourced after lib.sh,
# with pspat_load, make_tmp, tools_to_tmp and nic_ns done: the sender's NIC
# is na in $a, the receiver's nb in $b, on one QEMU hub).
#
# What the counters mean on the emulated NICs (checked on 6.1 and 6.12):
# - pspat's Sent packets are segments, as every qdisc's (a GSO packet adds
#   its gso_segs); its xstats `pushed` counts skbs.
# - igb and virtio-net count tx packets as they leave the driver: segments.
#   e1000e reports the hardware's GPTC, which QEMU's e1000e increments once
#   per packet handed to it: a TSO packet counts once ($nic_tso_once=1).
# - The emulated link loses frames when the sender outruns the receiver
#   (no counter of either driver sees them: QEMU's queue between the two
#   overflows), as a real link to a slow receiver would. So the receiver's
#   count is compared with the sender's only for paced UDP; TCP (which
#   retransmits what was lost) is counted at the sender.

# bql_sample: in the background, the largest BQL inflight any tx queue of
# na shows until $tmp/bql.stop exists, into $tmp/bql.max. Bash's read, no
# fork: it samples often enough to catch a completion pending.
bql_sample() {
	ip netns exec "$a" bash -c 'm=0
		while [ ! -e "$1" ]; do
			for f in /sys/class/net/na/queues/tx-*/byte_queue_limits/inflight; do
				read -r v <"$f"; [ "$v" -gt "$m" ] && m=$v
			done
		done
		echo "$m"' _ "$tmp/bql.stop" >"$tmp/bql.max" &
}

# nic_now ring|channels|rx-usecs: na's current tx ring size (ethtool -g),
# combined channels (-l) or rx-usecs (-c), to check a setting or restore
# it at exit.
nic_now() {
	case $1 in
	ring) ip netns exec "$a" ethtool -g na | awk '/^Current/ { c = 1 } c && /^TX:/ { print $2 }' ;;
	channels) ip netns exec "$a" ethtool -l na | awk '/^Current/ { c = 1 } c && /^Combined:/ { print $2 }' ;;
	rx-usecs) ip netns exec "$a" ethtool -c na | awk '/^rx-usecs:/ { print $2 }' ;;
	esac
}

# nic_silent_dst: 198.18.70.3 resolves to nb but is not b's address, so
# what na sends there is dropped in b without an ICMP error.
nic_silent_dst() {
	ip -n "$a" neigh replace 198.18.70.3 dev na nud permanent \
		lladdr "$(ip -n "$b" -j link show nb | jq -r '.[0].address')"
}

# nic_tx_since N0 WANT: na's tx packets since N0 are WANT.
nic_tx_since() { [ $(($(link_stat "$a" na tx packets) - $1)) = "$2" ]; }

# nic_accounting MODE TSO: pspat as root of na, xmit_mode MODE, TSO and GSO
# of na set to TSO (on, off, or "-": as the driver has them). First 2 x 1000
# UDP datagrams paced at 2 x 1000 pps, then 2 s of TCP (2 flows, BQL's
# inflight sampled meanwhile); pspat deleted at the end. 6 KTAP results:
# paced UDP: every datagram arrived, per thread in order, and pspat's sent
# == na's tx == nb's rx; after TCP: pspat dropped nothing and holds nothing,
# na's tx packets since attach == pspat's (segments; skbs where the NIC
# counts a TSO packet once); the dispatcher sent every skb in dispatcher
# mode and none in arbiter mode; BQL had bytes in flight on na
# ($nic_bql=1; otherwise a skip).
nic_accounting() {
	local mode=$1 tso=$2 tag="$1, tso $2" tx0 rx0 d0 p1 tx1 rx1 sent pushed tx want
	pspat_param xmit_mode "$mode"
	if [ "$tso" != - ]; then
		ip netns exec "$a" ethtool -K na tso "$tso" gso "$tso" ||
			ktap_bail "ethtool -K na tso $tso gso $tso"
	fi
	tx0=$(link_stat "$a" na tx packets)
	rx0=$(link_stat "$b" nb rx packets)
	d0=$(pspat_stat dispatcher packets)
	tc -n "$a" qdisc add dev na root handle 1: pspat || ktap_bail "tc qdisc add pspat on na"

	rm -f "$tmp/ready"
	bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 1 \
		--ready-file "$tmp/ready" >"$tmp/sink.json"
	wait_for 10 test -e "$tmp/ready"
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.70.2 --dport 9000 -t 2 -n 1000 \
		-r 1000 >"$tmp/blast.json"
	wait "$sink"
	p1=$(qstat "$a" na 1: packets)
	wait_for 5 nic_tx_since "$tx0" "$p1"
	tx1=$(($(link_stat "$a" na tx packets) - tx0))
	rx1=$(($(link_stat "$b" nb rx packets) - rx0))

	rm -f "$tmp/bql.stop"
	bql_sample
	iperf_server 198.18.70.2
	timeout 60 ip netns exec "$a" iperf3 -c 198.18.70.2 -t 2 -P 2 -J >"$tmp/tcp.json"
	: >"$tmp/bql.stop"
	wait

	wait_for 10 pspat_empty "$a" na
	sent=$(qstat "$a" na 1: packets)
	pushed=$(pspat_stat "qdisc dev na" pushed)
	want=$sent
	[ "${nic_tso_once:-0}" = 1 ] && [ "$tso" = on ] && want=$pushed
	# e1000e reads its hardware counters on demand; the last completions
	# may still be on their way.
	wait_for 5 nic_tx_since "$tx0" "$want"
	tx=$(($(link_stat "$a" na tx packets) - tx0))
	ktap_info "$tag: UDP pspat $p1 na $tx1 nb $rx1; all: pspat $sent segments" \
		"$pushed skbs, na tx $tx;" \
		"TCP $(jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$tmp/tcp.json") Mbit/s," \
		"$(jq -r '.end.sum_sent.retransmits' "$tmp/tcp.json") retransmits;" \
		"BQL inflight max $(cat "$tmp/bql.max")" \
		"$(ip netns exec "$a" ethtool -k na | awk '/^tcp-segmentation-offload:/ { print "(TSO " $2 ")" }')"

	check_eq "$tag: paced UDP: all 2 x 1000 arrived, per thread in order" \
		"$(jq -r '"\(.unique + .socket_drops) \(.reordered + .duplicated)"' "$tmp/sink.json")" "2000 0"
	check_eq "$tag: paced UDP: pspat sent == na tx == nb rx" "$p1 $tx1 $rx1" "2000 2000 2000"
	check_eq "$tag: pspat dropped nothing, holds nothing" \
		"$(qstat "$a" na 1: drops)/$(qstat "$a" na 1: qlen)" 0/0
	check_eq "$tag: UDP and TCP: na tx packets == pspat's" "$tx" "$want"
	[ "$tx" = "$want" ] || pspat_dump "$a" na
	if [ "$mode" = dispatcher ]; then
		check_eq "$tag: the dispatcher sent every skb" \
			$(($(pspat_stat dispatcher packets) - d0)) "$pushed"
	else
		check_eq "$tag: the dispatcher sent nothing" $(($(pspat_stat dispatcher packets) - d0)) 0
	fi
	if [ "${nic_bql:-0}" = 1 ]; then
		check "$tag: BQL had bytes in flight on na" test "$(cat "$tmp/bql.max")" -gt 0
	else
		ktap_skip "$tag: BQL had bytes in flight on na" "driver without BQL"
	fi
	tc -n "$a" qdisc del dev na root
}
