#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A full mailbox drops the packet at once (the client never waits for the
# arbiter): the sender sees ENOBUFS, and the drops are counted in the
# qdisc's drops and in the mailbox-full counter, exactly. The arbiter is
# starved by a SCHED_FIFO loop on its CPU (RT throttling still leaves it
# 5%) while one thread sends into a mailbox of 8 usable slots.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load mailbox_line_size=64 mailbox_entries=16 arbiter_cpu=1 \
	dispatcher_cpu=1
pspat_veth
silent_dst
ktap_plan 6

rx0=$(link_stat "$b" vb rx packets)
make_tmp
taskset -c 1 chrt -f 50 bash -c "touch $tmp/hog; end=\$((SECONDS + 4)); while ((SECONDS < end)); do :; done" &
hog=$!
wait_for 20 test -e "$tmp/hog"
out=$(ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 -t 1 \
	-n 20000 --cpus 0)
wait $hog
sent=$(jq .total.sent <<<"$out")
enobufs=$(jq .total.enobufs <<<"$out")
ktap_info "sent $sent, ENOBUFS $enobufs"
check "the full mailbox refused packets (ENOBUFS)" test "$enobufs" -gt 0
check_eq "no other error" "$(jq .total.errors <<<"$out")" 0
check_eq "qdisc drops == ENOBUFS" "$(qstat "$a" va 1: drops)" "$enobufs"
check_eq "mailbox-full counter == ENOBUFS" \
	"$(pspat_stat "qdisc dev va" mb_full)" "$enobufs"
wait_for 10 sh -c "[ \$(tc -n $a -s -j qdisc show dev va | jq '.[0].qlen') = 0 ]"
check_eq "every accepted packet arrived" \
	$(($(link_stat "$b" vb rx packets) - rx0)) "$sent"
check_eq "pspat sent == accepted" "$(qstat "$a" va 1: packets)" "$sent"
ktap_finish
