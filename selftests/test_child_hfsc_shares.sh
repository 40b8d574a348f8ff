#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# HFSC grafted under pspat shares a 20 Mbit/s upper limit 3:1 between two
# link-sharing classes (ls 15mbit / 5mbit), each fed by two UDP flows of
# 1000-byte payloads; all four flows offer the same 1400 pps (2.3x the link
# in total; FIFO would share 1:1). Asserts received wire rates 15 / 5 / 20
# Mbit/s within 10 %, both leaves dropped excess, and every packet is
# accounted for: blast sent == sink unique + socket drops + pspat drops
# after enqueue (the child's drops), pspat sent == what reached the sink.
# The same HFSC as root without pspat is measured for comparison only.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
veth_ns
make_tmp
tools_to_tmp
ktap_plan 12

# hfsc_setup PARENT...: HFSC 10: with a 20mbit root class 10:1, leaves
# 10:11 (dports 9000-9001) and 10:12 (9002-9003) with short pfifos.
hfsc_setup() {
	tc -n "$a" -batch - <<-EOF
	qdisc add dev va $* handle 10: hfsc default 12
	class add dev va parent 10: classid 10:1 hfsc sc rate 20mbit ul rate 20mbit
	class add dev va parent 10:1 classid 10:11 hfsc ls rate 15mbit ul rate 20mbit
	class add dev va parent 10:1 classid 10:12 hfsc ls rate 5mbit ul rate 20mbit
	qdisc add dev va parent 10:11 handle 11: pfifo limit 50
	qdisc add dev va parent 10:12 handle 12: pfifo limit 50
	filter add dev va parent 10: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9000 0xfffe flowid 10:11
	filter add dev va parent 10: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9002 0xfffe flowid 10:12
	EOF
}

. "$(dirname "$0")/lib_two_classes.sh"

tc -n "$a" qdisc add dev va root handle 1: pspat
hfsc_setup parent 1:1
traffic pspat
child_counts pspat
read -r hi lo sum secs < <(mbit pspat)
ktap_info "pspat: class 10:11 $hi, 10:12 $lo, total $sum Mbit/s over $secs s; sent $sent enobufs $enobufs unique $uniq socket_drops $sdrops pspat drops $drops"
check "classes received over half their share (4500, 1500 packets)" jq -e \
	'[.flows | group_by(.dport >= 9002)[] | map(.unique) | add] as [$h, $l] |
	 $h > 4500 and $l > 1500' "$tmp/pspat.sink"
check_range "all flows active together for 3 s or more (measured)" "$secs" 3 10
check "both leaves were backlogged (dropped excess)" jq -e \
	'[.[] | select(.handle == "11:" or .handle == "12:") | .drops > 0] == [true, true]' \
	"$tmp/pspat.tc"
check_range "class 10:11 (ls 15mbit) gets 15 Mbit/s" "$hi" 13.5 16.5
check_range "class 10:12 (ls 5mbit) gets 5 Mbit/s" "$lo" 4.5 5.5
check_range "both together get the 20 Mbit/s upper limit" "$sum" 18 22
child_accounting pspat 10:

tc -n "$a" qdisc del dev va root
hfsc_setup root
traffic stock
ktap_info "stock hfsc root: class 10:11, 10:12, total, seconds: $(mbit stock); hfsc drops $(qs stock 10: .drops)"
ktap_finish
