#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cake grafted under pspat: `bandwidth 20mbit diffserv4`, the tin chosen by
# each packet's DSCP. Four UDP flows of 1000-byte payloads, one a tin:
# CS1 (Bulk), CS0 (Best Effort), AF41 (Video), EF (Voice).
# - Classification, exact: 100 paced packets a flow (no congestion) land
#   100 in each tin's sent_packets (counted at enqueue), in tc's order Bulk,
#   Best Effort, Video, Voice. (Cake may still drop one now and then: a
#   TCG guest stalls, the queue's sojourn passes COBALT's target.)
# - Shares: every flow offers more than its tin's threshold (Bulk 1/16 of
#   the rate, Video 1/2, Voice 1/4, Best Effort all of it), 33 Mbit/s in
#   all. Shaped, cake serves the highest tin still under its threshold
#   (tins[] index order: Voice, Video, Bulk, Best Effort), so each tin but
#   Best Effort gets its threshold and Best Effort the rest:
#   Voice 5, Video 10, Bulk 1.25, Best Effort 3.75, 20 Mbit/s in all.
# - Exact counts as for every child (child_accounting), and the tins'
#   sent_packets (counted at enqueue) add up to what pspat gave cake.
# 20mbit rather than 40: the same headroom the other child_* tests leave
# a TCG guest (it carries well over 40 Mbit/s of UDP, not twice that).
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
veth_ns
make_tmp
tools_to_tmp
ktap_plan 22

# tin order of tc's output, DSCP << 2 (TOS byte) and dport of each flow.
names=(Bulk "Best Effort" Video Voice)
tos=(0x20 0x00 0x88 0xb8)
ports=(9000 9001 9002 9003)

# pspat_cake: a fresh pspat root with cake under it (counters at 0).
pspat_cake() {
	tc -n "$a" qdisc del dev va root 2>/dev/null
	tc -n "$a" qdisc add dev va root handle 1: pspat &&
		tc -n "$a" qdisc add dev va parent 1:1 handle 10: cake bandwidth 20mbit diffserv4
}

# flows NAME PPS... [-- BLAST_ARGS...]: one pspat-blast a tin at PPS each
# into pspat-sink (intervals of 500 ms in $tmp/NAME.iv), all with one run
# id (pspat-sink takes the packets of one run); then the qdisc counters in
# $tmp/NAME.tc.
flows() {
	local name=$1 i pids=() pps=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pps+=("$1"); shift; done
	shift
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --ports 9000-9003 --idle 1 -d 40 \
		--interval 500 --interval-file "$tmp/$name.iv" \
		--ready-file "$tmp/ready" >"$tmp/$name.sink" &
	local sink=$!
	for i in 0 1 2 3; do
		ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport "${ports[i]}" \
			--sport $((41000 + i)) --run-id $$ --tos "${tos[i]}" -t 1 -r "${pps[i]}" -s 1000 --sndbuf 4000000 \
			--wait-ready "$tmp/ready" "$@" >"$tmp/$name.blast.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	wait "$sink"
	tc_json "$a" -s qdisc show dev va invisible >"$tmp/$name.tc"
}

# tins NAME FIELD: FIELD of each tin of cake 10:, in tc's order.
tins() { qs "$1" 10: "[.tins[].$2] | join(\" \")"; }

pspat_cake
check_eq "cake diffserv4 under pspat: 4 tins" \
	"$(tc_json "$a" -s qdisc show dev va | jq -r '.[] | select(.handle == "10:") | "\(.kind) \(.tins | length)"')" \
	"cake 4"

flows classify 200 200 200 200 -- -n 100
child_counts classify
check_eq "classify: 100 packets in each tin (Bulk, Best Effort, Video, Voice)" \
	"$(tins classify sent_packets)" "100 100 100 100"
check_eq "classify: the tins' drops add up to cake's" \
	"$(qs classify 10: '[.tins[].drops] | add')" "$(qs classify 10: .drops)"
child_accounting classify 10:

# Offered (wire Mbit/s): Bulk 3.3, Best Effort 8.3, Video 13.3, Voice 8.3.
pspat_cake
flows shares 400 1000 1600 1000 -- -d 6
child_counts shares
# Wire Mbit/s of each flow (by dport: tc's tin order), all, seconds measured.
read -r bulk be video voice sum secs < <(iv_mbit shares 4 .dport)
ktap_info "shares: Bulk $bulk, Best Effort $be, Video $video, Voice $voice, total $sum Mbit/s over $secs s; sent $sent unique $uniq pspat drops $drops"
check_range "shares: all flows active together for 3 s or more (measured)" "$secs" 3 10
check_range "shares: Voice (EF) gets its threshold, 5 Mbit/s" "$voice" 4.25 5.75
check_range "shares: Video (AF41) gets its threshold, 10 Mbit/s" "$video" 8.5 11.5
check_range "shares: Bulk (CS1) gets its threshold, 1.25 Mbit/s" "$bulk" 0.9 1.6
check_range "shares: Best Effort gets the rest, 3.75 Mbit/s" "$be" 2.5 5
check_range "shares: together cake's 20 Mbit/s" "$sum" 18 22
check_eq "shares: the tins' sent_packets (cake counts them at enqueue) add up to pspat's sent + cake's drops" \
	"$(qs shares 10: '[.tins[].sent_packets] | add')" $(($(qs shares 1: .packets) + $(qs shares 10: .drops)))
child_accounting shares 10:
ktap_finish
