#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# netem grafted under pspat: `delay 50ms` gives every ping an RTT of at
# least 50 ms (a lower bound holds under TCG); `loss 10%` drops about a
# tenth of 4000 paced UDP datagrams, each counted by netem and pspat and
# missing at the receiver; `reorder` reorders at the receiver, while the
# same netem delay without it keeps every flow in order: the reordering is
# netem's, not pspat's.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
pspat_veth
make_tmp
tools_to_tmp
ktap_plan 9

# udp NAME: 2 flows x 2000 datagrams at 1000 pps each to the sink;
# $tmp/NAME.{blast,sink}, sent in $sent.
udp() {
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 2 \
		--ready-file "$tmp/ready" >"$tmp/$1.sink" &
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 -t 2 -n 2000 \
		-r 1000 --wait-ready "$tmp/ready" >"$tmp/$1.blast"
	wait $!
	sent=$(jq .total.sent "$tmp/$1.blast")
}

tc -n "$a" qdisc add dev va parent 1:1 handle 10: netem delay 50ms
min=$(ip netns exec "$a" ping -c 10 -i 0.2 -q 198.18.0.2 | awk -F'[/ ]' '/^rtt/ { print $7 }')
ktap_info "delay 50ms: min RTT $min ms"
check "delay 50ms: every RTT >= 50 ms (min $min)" awk -v m="${min:-0}" 'BEGIN { exit !(m >= 50) }'
check_eq "delay 50ms: 10 pings through pspat and netem" \
	"$(qstat "$a" va 1: packets) $(qstat "$a" va 10: packets)" "10 10"

tc -n "$a" qdisc replace dev va parent 1:1 handle 10: netem loss 10%
d0=$(qstat "$a" va 1: drops)
udp loss
lost=$(($(qstat "$a" va 1: drops) - d0))
ktap_info "loss 10%: $lost of $sent dropped by netem"
check_range "loss 10%: about a tenth dropped (of 4000)" "$lost" 280 520
check_eq "loss 10%: netem's drops are pspat's" "$(qstat "$a" va 10: drops)" "$lost"
check_eq "loss 10%: the receiver got the rest" \
	"$(jq '.unique + .socket_drops' "$tmp/loss.sink")" $((sent - lost))

tc -n "$a" qdisc replace dev va parent 1:1 handle 10: netem delay 10ms
udp inorder
check_eq "delay 10ms: all arrived, none reordered" \
	"$(jq -r '"\(.unique + .socket_drops) \(.reordered)"' "$tmp/inorder.sink")" "$sent 0"
tc -n "$a" qdisc replace dev va parent 1:1 handle 10: netem delay 10ms reorder 25% 50%
udp reorder
ktap_info "reorder 25% 50%: $(jq .reordered "$tmp/reorder.sink") datagrams reordered"
check "reorder 25% 50%: netem reorders" jq -e '.reordered > 0' "$tmp/reorder.sink"
check_eq "reorder: all arrived, none lost or duplicated" \
	"$(jq -r '"\(.unique + .socket_drops) \(.duplicated)"' "$tmp/reorder.sink")" "$sent 0"
check_eq "pspat dropped no more than netem, holds nothing" \
	"$(qstat "$a" va 1: drops)/$(qstat "$a" va 1: qlen)" "$lost/0"
ktap_finish
