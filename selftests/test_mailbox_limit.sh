#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# max_mailboxes bounds the memory unprivileged senders can pin in thread
# mailboxes: with a limit of 4 and 32 threads alive at a time, never more
# than 4 thread mailboxes exist, the other threads share their CPU's
# mailbox (counted as "limited"), and every packet still arrives. With 0,
# no thread mailbox is made at all.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load max_mailboxes=4
pspat_veth
silent_dst
ktap_plan 9
churn="${PSPAT_BLAST%/*}/pspat-churn"
make_tmp

# Sample the live count while the threads run.
sample_live() {
	while :; do
		pspat_stat mailboxes live
		sleep 0.05
	done >>"$tmp/live"
}
sample_live &
sampler=$!
defer kill "$sampler"
limited0=$(pspat_stat mailboxes limited)
rx0=$(link_stat "$b" vb rx packets)
out=$(ip netns exec "$a" "$churn" --dst 198.18.0.3 --dport 9 -T 1000 -c 32 -n 4)
kill "$sampler"; wait "$sampler" 2>/dev/null
sent=$(jq .sent <<<"$out")
check_eq "1000 threads sent 4 packets each" "$sent" 4000
ktap_info "$(wc -l <"$tmp/live") samples of the live mailbox count"
check_range "at most 4 thread mailboxes at any sample" \
	"$(sort -n "$tmp/live" | tail -n 1)" 0 4
check_eq "at most 4 at any time (the module's peak)" "$(pspat_stat mailboxes peak)" 4
check_range "threads beyond the limit were counted" \
	$(($(pspat_stat mailboxes limited) - limited0)) 1 4000
check_eq "every packet arrived" $(($(link_stat "$b" vb rx packets) - rx0)) "$sent"
check_eq "pspat sent them all" "$(qstat "$a" va 1: packets)" "$sent"

check "max_mailboxes=0 is accepted" pspat_param max_mailboxes 0
wait_for 20 sh -c "[ \$(awk '/^mailboxes:/ { print \$3 }' /sys/kernel/debug/sch_pspat/stats) -eq 0 ]"
created0=$(pspat_stat mailboxes created)
rx0=$(link_stat "$b" vb rx packets)
out=$(ip netns exec "$a" "$churn" --dst 198.18.0.3 --dport 9 -T 50 -c 8 -n 4)
check_eq "with 0, no thread mailbox is created" \
	$(($(pspat_stat mailboxes created) - created0)) 0
check_eq "and every packet arrives" $(($(link_stat "$b" vb rx packets) - rx0)) \
	"$(jq .sent <<<"$out")"
ktap_finish
