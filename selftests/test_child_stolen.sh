#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A child whose filter redirects every packet elsewhere (prio + matchall
# mirred egress redirect to a dummy): the child's action takes them
# (STOLEN). Like any parent, pspat counts them neither as sent nor as
# dropped, but as stolen (debugfs), and the accounting holds:
# enqueued == sent + dropped + stolen + backlog.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
pspat_veth
dummy_dev "$a" d0
tc -n "$a" qdisc add dev va parent 1:1 handle 10: prio
tc -n "$a" filter add dev va parent 10: matchall \
	action mirred egress redirect dev d0 || skip_all "no mirred"
ktap_plan 5

st0=$(pspat_stat qdisc stolen)
sent=$(ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 -n 1000 |
	jq .total.sent)
wait_for 10 pspat_empty "$a" va
stolen=$(($(pspat_stat qdisc stolen) - st0))
ktap_info "sent $sent; d0 sent $(link_stat "$a" d0 tx packets); stolen $stolen"
check_eq "every packet went out through the redirect" \
	"$sent $(link_stat "$a" d0 tx packets)" "1000 1000"
check_eq "pspat counted them as stolen" "$stolen" 1000
check_eq "not as dropped" "$(qstat "$a" va 1: drops)" 0
check_eq "nor as sent" "$(qstat "$a" va 1: packets)" 0
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
