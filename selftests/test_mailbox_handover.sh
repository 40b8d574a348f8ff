#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A thread refused a mailbox sends through its CPU's mailbox; when it gets
# one of its own later, its first packet there must not overtake the ones
# still queued in the CPU mailbox (the handover fence, pspat_mailbox.c).
# max_mailboxes=1: a holder thread keeps the only mailbox busy for 3 s;
# a sender, started meanwhile, streams for 8 s and gets the mailbox once
# the holder's went idle (mailbox_idle_ms=100): its flow arrives in order.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# One transmitting CPU: no reordering by veth itself (README: "Order").
# The arbiter on CPU 1 shares it with two CPU hogs at nice -10 (it gets
# about 5 % of it) while the sender runs, and takes one packet per mailbox
# and round (arb_batch=1): the CPU mailbox has a backlog when the sender's
# own mailbox comes, which still comes (the reclaim needs the arbiter).
pspat_load max_mailboxes=1 mailbox_idle_ms=100 arb_batch=1 arbiter_cpu=1 \
	dispatcher_cpu=1
pspat_veth
silent_dst
make_tmp
tools_to_tmp
ktap_plan 7

mb() { pspat_stat mailboxes "$1"; }
created_gt() { [ "$(mb created)" -gt "$1" ]; }
created0=$(mb created) limited0=$(mb limited)

bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 3 \
	--ready-file "$tmp/ready" >"$tmp/sink.json"
wait_for 10 test -e "$tmp/ready" || ktap_info "sink not ready"
bg holder ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 \
	-t 1 -r 50 -n 150 --cpus 0 --linger 4 --sport 41000 >"$tmp/holder.json"
wait_for 10 created_gt "$created0" || ktap_info "the holder has no mailbox"
for i in 1 2; do
	bg hog nice -n -10 taskset -c 1 sh -c 'while :; do :; done'
done
ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 -t 1 -d 8 \
	--cpus 0 >"$tmp/sender.json"
wait "$sink"
wait "$holder"

sent=$(jq .total.sent "$tmp/sender.json")
ktap_info "sender: sent $sent, ENOBUFS $(jq .total.enobufs "$tmp/sender.json"); created +$(($(mb created) - created0)), limited +$(($(mb limited) - limited0))"
check_eq "holder: all 150 sent" "$(jq .total.sent "$tmp/holder.json")" 150
check "the sender sent" test "$sent" -gt 0
check_eq "the sender was refused a mailbox first" $(($(mb limited) - limited0)) 1
check_eq "and got the holder's later" $(($(mb created) - created0)) 2
check_eq "no send errors but ENOBUFS" "$(jq .total.errors "$tmp/sender.json")" 0
check_eq "received + socket drops == sent" \
	"$(jq '([.flows[].unique] | add) + .socket_drops' "$tmp/sink.json")" "$sent"
check_eq "the sender's flow arrived in order" "$(jq '[.flows[].reordered] | add' "$tmp/sink.json")" 0
ktap_finish
