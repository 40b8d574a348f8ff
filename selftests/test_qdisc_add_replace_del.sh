#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tc add/replace/del of the pspat root, its class 1:1 and the default pfifo
# child (limit = the device's tx_queue_len), and grafting other children.
. "$(dirname "$0")/lib.sh"
need_vm
pspat_load
ns_create ns
dummy_dev "$ns" d0
ip -n "$ns" link set d0 txqueuelen 321
ktap_plan 11

t() { tc -n "$ns" "$@"; }
check "add pspat as root" t qdisc add dev d0 root handle 1: pspat
check_eq "root kind is pspat" "$(qkind "$ns" d0 root)" pspat
check_eq "default child in 1:1 is pfifo" "$(qkind "$ns" d0 1:1)" pfifo
check_eq "pfifo limit is tx_queue_len" \
	"$(t -j qdisc show dev d0 invisible | jq -r '.[] | select(.parent == "1:1") | .options.limit')" 321
check_eq "class 1:1 exists" "$(t class show dev d0)" "class pspat 1:1 parent 1: "
check_fails "an unknown option is refused" t qdisc change dev d0 root handle 1: pspat bogus 1
ok=0 h=10
for child in "hfsc default 1" "drr" "fq" "tbf rate 10mbit burst 10k latency 50ms" "sfq" "prio" "pfifo limit 10"; do
	# shellcheck disable=SC2086
	t qdisc replace dev d0 parent 1:1 handle $h: $child &&
		[ "$(qkind "$ns" d0 1:1)" = "${child%% *}" ] && ok=$((ok + 1))
	h=$((h + 1))
done
check_eq "graft hfsc, drr, fq, tbf, sfq, prio, pfifo under 1:1" "$ok" 7
check "replace root pspat by pfifo_fast" t qdisc replace dev d0 root handle 2: pfifo_fast
check "replace it back by pspat" t qdisc replace dev d0 root handle 1: pspat
check "delete pspat root" t qdisc del dev d0 root
check_fails "no pspat left on the device" sh -c "tc -n $ns qdisc show dev d0 | grep -q pspat"
ktap_finish
