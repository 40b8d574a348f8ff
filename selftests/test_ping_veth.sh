#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ping through pspat on a veth between two netns: every echo answered and
# pspat's counters show exactly the packets sent (neighbours are static and
# IPv6 is off, so nothing else crosses the qdisc).
. "$(dirname "$0")/lib.sh"
need_vm
pspat_load
ns_create a
ns_create b
veth_pair "$a" "$b"
tc -n "$a" qdisc add dev va root handle 1: pspat
ktap_plan 5

n=20
out=$(ip netns exec "$a" ping -n -q -c $n -i 0.05 -W 2 198.18.0.2)
check_eq "all $n echo requests answered" \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")" $n
check_eq "pspat sent exactly $n packets" "$(qstat "$a" va 1: packets)" $n
check_eq "pspat sent exactly $n x 98 bytes (ICMP echo, 56 data bytes)" "$(qstat "$a" va 1: bytes)" $((n * 98))
check_eq "pspat dropped nothing" "$(qstat "$a" va 1: drops)" 0
check_eq "pfifo child passed the same $n packets" \
	"$(tc -n "$a" -s -j qdisc show dev va invisible | jq '.[] | select(.parent == "1:1") | .packets')" $n
ktap_finish
