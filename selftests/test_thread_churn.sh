#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 10,000 short-lived sending threads: each gets its own mailbox, every
# packet arrives, and once they have exited every mailbox is reclaimed and
# the memory comes back (kmalloc slabs within a small margin of before).
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
pspat_veth
silent_dst
threads=${PSPAT_CHURN_THREADS:-10000}
ktap_plan 8

live0=$(pspat_stat mailboxes live)
created0=$(pspat_stat mailboxes created)
reclaimed0=$(pspat_stat mailboxes reclaimed)
slab0=$(slab_objs kmalloc-8k) slab4_0=$(slab_objs kmalloc-4k)
rx0=$(link_stat "$b" vb rx packets)

out=$(ip netns exec "$a" "${PSPAT_BLAST%/*}/pspat-churn" --dst 198.18.0.3 \
	--dport 9 -T "$threads" -c 32 -n 2)
ktap_info "$out"
sent=$(jq .sent <<<"$out")
check_eq "$threads threads sent 2 packets each" "$sent" $((threads * 2))
check_eq "every packet arrived" $(($(link_stat "$b" vb rx packets) - rx0)) "$sent"
check_eq "pspat sent them all" "$(qstat "$a" va 1: packets)" "$sent"
check_eq "one mailbox per thread" \
	$(($(pspat_stat mailboxes created) - created0)) "$threads"
wait_for 20 sh -c "[ \$(awk '/^mailboxes:/ { print \$3 }' /sys/kernel/debug/sch_pspat/stats) -le $live0 ]"
check_eq "no live mailbox left" "$(pspat_stat mailboxes live)" "$live0"
check_eq "every one reclaimed" \
	$(($(pspat_stat mailboxes reclaimed) - reclaimed0)) "$threads"
# slab_objs shrinks the caches first, so the count is exact. A mailbox is
# one kmalloc object, of kmalloc-8k with the default geometry (as in
# churn_soak), so a leaked mailbox is one kmalloc-8k object more. call_rcu()
# frees the reclaimed mailboxes after a grace period: equal before and
# after within 1 s in every run here, but CI once read 20 still pending
# after 1 s, so the count is polled (up to 20 s) until it is back. The
# margin is for an allocation elsewhere in flight at the moment of a read.
# kmalloc-4k is only reported: the two caches together ended 11 and 15
# objects up in two full-suite runs of 2026-12-07, with every mailbox
# reclaimed and none live (which cache, those runs did not say), and
# kmalloc-4k is where a module load puts its sysfs and BTF copies (a 6.12
# guest's slub_debug alloc_traces), the mailboxes being in kmalloc-8k.
geom="$(pspat_param mailbox_entries) $(pspat_param mailbox_line_size)"
check_eq "the default mailbox geometry (entries line_size), whose mailboxes are kmalloc-8k objects" "$geom" "512 128"
mb_slab_back() { [ $(($(slab_objs kmalloc-8k) - slab0)) -le 4 ]; }
wait_for 20 mb_slab_back
slab1=$(slab_objs kmalloc-8k)
ktap_info "kmalloc-8k active objects: $slab0 before, $slab1 after (kmalloc-4k: $slab4_0 before, $(slab_objs kmalloc-4k) after)"
check_range "mailbox memory returned: kmalloc-8k back to the baseline (+4 at most)" $((slab1 - slab0)) -1000000 4
ktap_finish
