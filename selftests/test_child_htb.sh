#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# HTB grafted under pspat, a 3-level tree: root class 10:1 (20mbit), inner
# class 10:2 (20mbit), leaves 10:21 (rate 15mbit, ceil 18mbit, dports
# 9000-9001) and 10:22 (rate 5mbit, ceil 20mbit, dports 9002-9003), each
# fed by two UDP flows of 1000-byte payloads at 1400 pps (11.7 Mbit/s a
# flow). Both leaves backlogged get their rates, 3:1, 20 Mbit/s together;
# 10:21 alone borrows up to its ceil (18, not the parent's 20); packets no
# filter classifies (no `default`) take HTB's direct queue, counted exactly;
# `htb offload` is refused by HTB itself (it must be root). Exact counts as
# for every child (child_accounting).
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
veth_ns
make_tmp
tools_to_tmp
ktap_plan 23

# htb_setup PARENT...: the HTB tree as 10: at PARENT. Bursts of 64 KB:
# HTB's defaults (a rate's worth of one tick) assume timers that fire on
# time, and a TCG guest's fire late.
htb_setup() {
	tc -n "$a" -batch - <<-EOF
	qdisc add dev va $* handle 10: htb direct_qlen 100
	class add dev va parent 10: classid 10:1 htb rate 20mbit ceil 20mbit burst 64k cburst 64k
	class add dev va parent 10:1 classid 10:2 htb rate 20mbit ceil 20mbit burst 64k cburst 64k
	class add dev va parent 10:2 classid 10:21 htb rate 15mbit ceil 18mbit burst 64k cburst 64k
	class add dev va parent 10:2 classid 10:22 htb rate 5mbit ceil 20mbit burst 64k cburst 64k
	qdisc add dev va parent 10:21 handle 21: pfifo limit 50
	qdisc add dev va parent 10:22 handle 22: pfifo limit 50
	filter add dev va parent 10: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9000 0xfffe flowid 10:21
	filter add dev va parent 10: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9002 0xfffe flowid 10:22
	EOF
}

# pspat_htb: a fresh pspat root with the HTB tree under it (counters at 0).
pspat_htb() {
	tc -n "$a" qdisc del dev va root 2>/dev/null
	tc -n "$a" qdisc add dev va root handle 1: pspat && htb_setup parent 1:1
}

pspat_htb
check_eq "HTB under pspat with direct_qlen 100" "$(qkind "$a" va 1:1) $(tc_json "$a" qdisc show dev va |
	jq -r '.[] | select(.handle == "10:") | .options.direct_qlen')" "htb 100"

. "$(dirname "$0")/lib_two_classes.sh"

traffic both
child_counts both
read -r hi lo sum secs < <(mbit both)
ktap_info "both: 10:21 $hi, 10:22 $lo, total $sum Mbit/s over $secs s; sent $sent unique $uniq pspat drops $drops"
check_range "both: all flows active together for 3 s or more (measured)" "$secs" 3 10
check_range "both: 10:21 (rate 15mbit) gets 15 Mbit/s" "$hi" 13.5 16.5
check_range "both: 10:22 (rate 5mbit) gets 5 Mbit/s" "$lo" 4.5 5.5
check_range "both: together the parents' 20 Mbit/s" "$sum" 18 22
child_accounting both 10:

pspat_htb
traffic alone 2
child_counts alone
read -r hi sum secs < <(mbit alone 2)
ktap_info "alone: 10:21 $hi Mbit/s over $secs s; sent $sent unique $uniq pspat drops $drops"
check_range "alone: both flows active for 3 s or more (measured)" "$secs" 3 10
check_range "alone: 10:21 borrows up to its ceil, 18 Mbit/s" "$hi" 16.2 19.8
child_accounting alone 10:

# Unclassified: no filter matches dport 9100 and there is no default
# (to 198.18.0.3, which b drops without an ICMP error).
pspat_htb
d0=$(tc_json "$a" -s qdisc show dev va | jq '.[] | select(.handle == "10:") | .options.direct_packets_stat')
p0=$(qstat "$a" va 1: packets)
silent_dst
sent=$(ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9100 -n 300 -r 1000 | jq .total.sent)
wait_for 5 pspat_empty "$a" va
check_eq "unclassified: 300 sent, all through HTB's direct queue and pspat" \
	"$sent $(($(tc_json "$a" -s qdisc show dev va |
		jq '.[] | select(.handle == "10:") | .options.direct_packets_stat') - d0)) $(($(qstat "$a" va 1: packets) - p0))" \
	"300 300 300"

# A new qdisc (handle 30:), so that HTB's init sees the option.
out=$(tc -n "$a" qdisc replace dev va parent 1:1 handle 30: htb offload 2>&1)
check_eq "htb offload under pspat: refused" "$?" 2
check_eq "htb offload: HTB's message says why" "$out" \
	"Error: HTB must be the root qdisc to use offload."
check_eq "htb offload refused: the HTB child stays" "$(qkind "$a" va 1:1)" htb

tc -n "$a" qdisc del dev va root
htb_setup root
traffic stock
ktap_info "stock htb root: 10:21, 10:22, total, seconds: $(mbit stock)"
ktap_finish
