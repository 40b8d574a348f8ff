#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Exact counts through pspat with each child kind grafted at 1:1: qfq and
# drr (one class, a catch-all filter), hfsc (one default class), fq_codel,
# sfq, prio, pfifo, bfifo. Per kind, on a fresh pspat root, 2 UDP flows x
# 1000 packets of 200 bytes at a rate far below what the guest carries: one
# KTAP line asserting blast sent == sink unique == pspat packets == child
# packets == 2000, pspat bytes == 2000 x 242 (wire length), no drop and an
# empty backlog. (No stock-root runs here: they would double the run time
# for counts that only repeat these.)
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
veth_ns
make_tmp
tools_to_tmp
kinds=(qfq drr hfsc fq_codel sfq prio pfifo bfifo)
n=2000 wire=242
ktap_plan ${#kinds[@]}

# graft KIND PARENT...: KIND with handle 10: at PARENT, one class if it
# has classes.
graft() {
	local k=$1 t="tc -n $a"
	shift
	case $k in
	hfsc) $t qdisc add dev va "$@" handle 10: hfsc default 1
	      $t class add dev va parent 10: classid 10:1 hfsc sc rate 100mbit ul rate 100mbit ;;
	qfq|drr) $t qdisc add dev va "$@" handle 10: "$k"
	      $t class add dev va parent 10: classid 10:1 "$k"
	      $t filter add dev va parent 10: protocol all prio 1 u32 match u32 0 0 flowid 10:1 ;;
	*) $t qdisc add dev va "$@" handle 10: "$k" ;;
	esac
}

# traffic NAME: 2 flows x n/2 packets at 2000 pps each to port 9000.
traffic() {
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --port 9000 -n $n --idle 2 -d 30 \
		--ready-file "$tmp/ready" >"$tmp/$1.sink" &
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 \
		-t 2 -n $((n / 2)) -r 2000 -s 200 --wait-ready "$tmp/ready" >"$tmp/$1.blast"
	wait $!
}

# counts NAME: blast sent, sink unique, pspat packets, child packets, pspat
# bytes, pspat drops, pspat backlog, child drops, with one jq: the guest
# is slow to start processes.
counts() {
	{ cat "$tmp/$1.blast" "$tmp/$1.sink"; tc_json "$a" -s qdisc show dev va invisible; } |
		jq -rs '(.[2][] | select(.handle == "1:")) as $p |
			(.[2][] | select(.handle == "10:")) as $c |
			[.[0].total.sent, .[1].unique, $p.packets, $c.packets, $p.bytes,
			 $p.drops, $p.backlog, $c.drops] | join(" ")'
}

for k in "${kinds[@]}"; do
	tc -n "$a" qdisc del dev va root 2>/dev/null
	tc -n "$a" qdisc add dev va root handle 1: pspat
	graft "$k" parent 1:1
	traffic "$k"
	check_eq "$k: sent, unique, pspat & child packets, pspat bytes, drops, backlog, child drops" \
		"$(counts "$k")" "$n $n $n $n $((n * wire)) 0 0 0"
done
ktap_finish
