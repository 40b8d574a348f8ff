#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A packet the child drops is freed with the drop reason a stock root
# qdisc's packet gets (skb:kfree_skb), compared in the same boot: from 6.8
# the reason the child's classifier set (here TC_RECLASSIFY_LOOP: a
# matchall filter whose action is "reclassify", 16 times over), before it
# QDISC_DROP for every qdisc drop (compat.h).
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
tracefs_need events/skb/kfree_skb
veth_ns
silent_dst
make_tmp
tools_to_tmp
n=40
ktap_plan 6
case $(uname -r) in
6.1.*) want=QDISC_DROP ;;
*) want=TC_RECLASSIFY_LOOP ;;
esac
ktap_info "kernel $(uname -r): expecting reason $want"

stop_trace() { echo 0 >$T/events/skb/kfree_skb/enable; }
defer stop_trace

# drops NAME PARENT: prio at PARENT of va with a looping filter; send $n
# packets; the kfree_skb reasons of the drops in $tmp/NAME.reasons, the
# prio's drops in $tmp/NAME.drops.
drops() {
	# shellcheck disable=SC2086 # $2 is "root" or "parent 1:1"
	tc -n "$a" qdisc replace dev va $2 handle 2: prio
	tc -n "$a" filter add dev va parent 2: protocol ip prio 1 matchall \
		action reclassify
	echo >$T/trace
	echo 1 >$T/events/skb/kfree_skb/enable
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 -n $n \
		>"$tmp/$1.blast"
	[ "$2" = root ] || wait_for 10 pspat_empty "$a" va
	stop_trace
	grep -o 'reason: [A-Z_]*' $T/trace | sort | uniq -c | sed 's/^ *//' \
		>"$tmp/$1.reasons"
	qstat "$a" va 2: drops >"$tmp/$1.drops"
	ktap_info "$1: $(tr '\n' ',' <"$tmp/$1.reasons")"
}
# reason_count NAME REASON
reason_count() { awk -v r="reason: $2" '$2 " " $3 == r { print $1 }' "$tmp/$1.reasons"; }

drops stock root
tc -n "$a" qdisc del dev va root
tc -n "$a" qdisc add dev va root handle 1: pspat
drops pspat "parent 1:1"

check_eq "stock prio dropped all $n" "$(cat "$tmp/stock.drops")" $n
check_eq "prio under pspat dropped all $n" "$(cat "$tmp/pspat.drops")" $n
check_eq "stock: $n freed with reason $want" "$(reason_count stock $want)" $n
check_eq "pspat: $n freed with reason $want" "$(reason_count pspat $want)" $n
check_eq "pspat counted them as drops" "$(qstat "$a" va 1: drops)" $n
check_eq "pspat sent none" "$(qstat "$a" va 1: packets)" 0
ktap_finish
