#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TBF under pspat holds its rate: child tbf rate 10mbit burst 64k latency
# 200ms, two UDP flows of 1000-byte payloads offering 2x that for 5 s (the
# 64k bucket, 52 ms of tokens, rides out the TCG guest's stalls, which
# would cost a smaller bucket tokens, under pspat or not).
# Asserts the received wire rate (all flows, first to last packet, less
# the initial burst) is 10 Mbit/s within 10 %, tbf dropped the excess, and
# every packet is accounted for: blast sent == sink unique + socket drops
# + pspat drops after enqueue (tbf's drops), pspat sent == what reached
# the sink. The same tbf as root without pspat is measured for comparison.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
veth_ns
make_tmp
tools_to_tmp
tbf=(tbf rate 10mbit burst 64k latency 200ms)
ktap_plan 9

# traffic NAME: 2 flows x 1200 pps x 1000 B for 5 s to port 9000, with
# send buffers large enough that the sockets do not throttle the senders
# before tbf's limit; $tmp/NAME.{blast,sink,tc}: reports and counters.
traffic() {
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 1 -d 40 \
		--ready-file "$tmp/ready" >"$tmp/$1.sink" &
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 \
		-t 2 -r 1200 -d 5 -s 1000 --sndbuf 4000000 \
		--wait-ready "$tmp/ready" >"$tmp/$1.blast"
	wait $!
	tc_json "$a" -s qdisc show dev va invisible >"$tmp/$1.tc"
}

# mbit NAME: wire Mbit/s ($wire bytes a packet) from the first to the last
# packet received, less the initial 64k burst.
mbit() {
	jq -r --argjson w "$wire" '(([.flows[].unique] | add) * $w - 65536) * 8 /
		(([.flows[].last_rx_s] | max) - ([.flows[].first_rx_s] | min)) / 1e6 |
		. * 100 | round / 100' "$tmp/$1.sink"
}

tc -n "$a" qdisc add dev va root handle 1: pspat
tc -n "$a" qdisc add dev va parent 1:1 handle 10: "${tbf[@]}"
traffic pspat
child_counts pspat
rate=$(mbit pspat)
ktap_info "pspat: $rate Mbit/s; sent $sent enobufs $enobufs unique $uniq socket_drops $sdrops pspat drops $drops"
check "received over 3000 packets (half of 5 s at 10 Mbit/s)" test "$uniq" -gt 3000
check "tbf dropped excess (offered 2x)" jq -e '.[] | select(.handle == "10:") | .drops > 1000' "$tmp/pspat.tc"
check_range "received rate is tbf's 10 Mbit/s" "$rate" 9 11
child_accounting pspat 10:

tc -n "$a" qdisc del dev va root
tc -n "$a" qdisc add dev va root handle 10: "${tbf[@]}"
traffic stock
ktap_info "stock tbf root: $(mbit stock) Mbit/s; enobufs $(jq .total.enobufs "$tmp/stock.blast") tbf drops $(qs stock 10: .drops)"
ktap_finish
