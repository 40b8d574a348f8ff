#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Switching xmit_mode, arb_batch and dispatch_batch under traffic, several
# times a second, loses, reorders, duplicates and leaks nothing.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# One transmitting CPU, see test_xmit_modes.sh (CPU changes: test_cpu_switch_load).
pspat_load arbiter_cpu=1 dispatcher_cpu=1 || skip_all "cannot load sch_pspat"
pspat_veth
make_tmp
ktap_plan 6

bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 3 \
	--ready-file "$tmp/ready" >"$tmp/sink.json"
wait_for 10 test -e "$tmp/ready"
ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 -t 4 \
	-r 2500 -d 0 >"$tmp/blast.json" &
blast=$!
wait_for 30 sh -c "[ \$(tc -n $a -s -j qdisc show dev va | jq '.[0].packets') -gt 1000 ]"
modes=(arbiter dispatcher)
batches=(1 7 64 512)
for ((switches = 0; switches < 16; switches++)); do
	sleep 0.2
	pspat_param xmit_mode ${modes[switches % 2]}
	pspat_param arb_batch ${batches[switches % 4]}
	pspat_param dispatch_batch ${batches[(switches + 1) % 4]}
done
kill -INT $blast
wait $blast
wait "$sink"
sent=$(jq .total.sent "$tmp/blast.json")
ktap_info "$switches switches; sent $sent; dispatcher packets $(pspat_stat dispatcher packets)"
check "blast ran through all the switches" test "$sent" -gt 1000
check "both modes carried traffic" test "$(pspat_stat dispatcher packets)" -gt 0
check_eq "sent == received + socket drops + pspat drops" \
	"$(jq '.unique + .socket_drops' "$tmp/sink.json")" \
	$((sent - $(qstat "$a" va 1: drops)))
check_eq "pspat dropped nothing" "$(qstat "$a" va 1: drops)" 0
check_eq "no reordering, no duplicates" \
	"$(jq '.reordered + .duplicated' "$tmp/sink.json")" 0
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
