#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Local feedback: the child drops in the arbiter, after enqueue returned,
# so pspat cannot answer NET_XMIT_DROP for that packet as a stock root
# qdisc does. The mailbox the dropped packet came from is marked and its
# next enqueue returns NET_XMIT_CN (2). A kretprobe event on
# __dev_queue_xmit counts the return values while one UDP flow floods a
# pfifo child of 4 packets: some CNs, never more than the child's drops,
# and no NET_XMIT_DROP (1) but for full mailboxes (blast's ENOBUFS).
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
tracefs_need kprobe_events
pspat_veth
silent_dst
make_tmp
tools_to_tmp
tc -n "$a" qdisc replace dev va parent 1:1 handle 10: pfifo limit 4
ktap_plan 5

echo 'r:pspat_cn __dev_queue_xmit ret=$retval:s32' >>$T/kprobe_events ||
	skip_all "cannot add a kretprobe event"
defer sh -c "echo 0 >$T/events/kprobes/pspat_cn/enable; echo '-:pspat_cn' >>$T/kprobe_events"
echo 'ret == 2' >$T/events/kprobes/pspat_cn/filter
echo 1 >$T/events/kprobes/pspat_cn/enable
echo >$T/trace
ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 -d 2 >"$tmp/blast.json"
echo 0 >$T/events/kprobes/pspat_cn/enable
cn=$(grep -c 'pspat_cn:' $T/trace)
drops=$(qstat "$a" va 10: drops)
enobufs=$(jq .total.enobufs "$tmp/blast.json")
ktap_info "sent $(jq .total.sent "$tmp/blast.json"), ENOBUFS $enobufs, child drops $drops, NET_XMIT_CN returned $cn"
check "the child dropped (the scenario happened)" test "$drops" -gt 100
check "senders were told: NET_XMIT_CN returned" test "$cn" -gt 0
check "at most one CN per child drop" test "$cn" -le "$drops"
check_eq "pspat counts child drops and full mailboxes as its drops" \
	"$(qstat "$a" va 1: drops)" $((drops + enobufs))
wait_for 5 pspat_empty "$a" va
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
