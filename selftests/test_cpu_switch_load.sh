#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Moving the arbiter and the dispatcher between CPUs under traffic (and
# unpinning them) loses, duplicates and leaks nothing.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load || skip_all "cannot load sch_pspat"
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
cpus=(0 1 -1)
for ((switches = 0; switches < 16; switches++)); do
	sleep 0.2
	pspat_param xmit_mode ${modes[switches / 3 % 2]}
	pspat_param arbiter_cpu ${cpus[switches % 3]}
	pspat_param dispatcher_cpu ${cpus[(switches + 1) % 3]}
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
ktap_info "reordered at the receiver: $(jq .reordered "$tmp/sink.json")"
check_eq "no duplicates" "$(jq '.duplicated' "$tmp/sink.json")" 0
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
