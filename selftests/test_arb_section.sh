#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 256 sending threads keep 256 mailboxes busy: the arbiter still moves at
# most 1024 packets (PSPAT_ARB_SECTION, with arb_batch 64) per BH-off
# section, where draining every mailbox by arb_batch in one section would
# be up to 16k; every packet is accounted for.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
pspat_veth
silent_dst
ktap_plan 4

out=$(ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 -t 256 -n 200)
wait_for 10 pspat_empty "$a" va
read -r sent enobufs < <(jq -r '"\(.total.sent) \(.total.enobufs)"' <<<"$out")
peak=$(pspat_stat mailboxes peak)
max=$(pspat_stat arbiter max_section)
ktap_info "sent $sent, ENOBUFS $enobufs; mailboxes peak $peak; largest BH-off section $max packets"
check "256 thread mailboxes at once (the scenario happened)" test "$peak" -ge 256
check "largest BH-off section within 1024 packets" test "$max" -le 1024
check_eq "every attempt is sent or dropped by pspat" \
	$(($(qstat "$a" va 1: packets) + $(qstat "$a" va 1: drops))) $((sent + enobufs))
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
