#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The device's number of tx queues changes under traffic (ethtool -L on a
# 4-queue veth, 4 -> 1 -> 4 ...): pspat maps packets of a txq that went
# away to one that exists (as the core does), nothing warns, and the
# counts are exact: what blast sent is what pspat sent or dropped (the
# kernel resets a root qdisc when queues go away, for stock ones too),
# and what pspat sent is what the driver sent.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
ns_create a && ns_create b && veth_pair "$a" "$b" 0 4 ||
	skip_all "no multi-queue veth"
tc -n "$a" qdisc add dev va root handle 1: pspat
make_tmp
ktap_plan 6

check_eq "4 tx queues to start with" "$(ip netns exec "$a" sh -c 'ls -d /sys/class/net/va/queues/tx-*' | wc -l)" 4
sink_and_blast 4 2000
ok=0
for n in 1 4 2 4 1 3 1 4; do
	ip netns exec "$a" ethtool -L va tx $n && ok=$((ok + 1))
	sleep 0.3
done
check_eq "8 changes of the tx queue count taken" $ok 8
kill -INT $blast
wait $blast
wait "$sink"
wait_for 10 pspat_empty "$a" va
sent=$(jq .total.sent "$tmp/blast.json")
out=$(qstat "$a" va 1: packets)
dropped=$(qstat "$a" va 1: drops)
ktap_info "blast sent $sent; pspat sent $out, dropped $dropped; driver sent $(link_stat "$a" va tx packets)"
check_eq "blast sent == pspat sent + dropped" $((out + dropped)) "$sent"
check_eq "pspat sent == the driver sent" "$(link_stat "$a" va tx packets)" "$out"
check_eq "pspat sent == received + socket drops" \
	"$(jq '.unique + .socket_drops' "$tmp/sink.json")" "$out"
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
