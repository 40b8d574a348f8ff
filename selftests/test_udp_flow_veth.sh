#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A UDP flow through pspat on a veth between two netns: two sender threads,
# exact counts end to end (blast sent == pspat sent == sink received +
# socket drops), no loss, no reordering, no duplicates.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# Transmit from one CPU: veth delivers on the sending CPU's backlog, so an
# arbiter the scheduler moves mid-burst could reorder at the receiver,
# pspat or not (README: "Order").
pspat_load arbiter_cpu=1 dispatcher_cpu=1
pspat_veth
make_tmp
threads=2 n=3000
ktap_plan 8

bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 3 \
	--ready-file "$tmp/ready" >"$tmp/sink.json"
wait_for 10 test -e "$tmp/ready" || ktap_info "sink not ready"
ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 \
	-t $threads -n $n >"$tmp/blast.json"
wait "$sink"

sent=$(jq .total.sent "$tmp/blast.json")
check_eq "blast sent $threads x $n packets" "$sent" $((threads * n))
check_eq "no ENOBUFS or other send errors" \
	"$(jq '.total.enobufs + .total.errors' "$tmp/blast.json")" 0
check_eq "pspat counted every packet" "$(qstat "$a" va 1: packets)" "$sent"
check_eq "pspat dropped none" "$(qstat "$a" va 1: drops)" 0
check_eq "sink received + socket drops == sent" \
	"$(jq '([.flows[].unique] | add) + .socket_drops' "$tmp/sink.json")" "$sent"
check_eq "sink saw $threads flows" "$(jq '.flows | length' "$tmp/sink.json")" $threads
check_eq "no flow reordered" "$(jq '[.flows[].reordered] | add' "$tmp/sink.json")" 0
check_eq "no duplicates" "$(jq '[.flows[].duplicated] | add' "$tmp/sink.json")" 0
ktap_finish
