#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DRR under pspat splits a 20 Mbit/s bottleneck by its quanta: pspat's
# child is tbf rate 20mbit, whose inner qdisc is DRR with classes 20:1
# (quantum 3000) and 20:2 (quantum 1500), each fed by two UDP flows of
# 1000-byte payloads; all four flows offer the same 1400 pps (2.3x the link
# in total; FIFO would share 1:1). Asserts received wire rates 13.3 / 6.7 /
# 20 Mbit/s within 10 % (2:1), both classes dropped excess, and every
# packet is accounted for: blast sent == sink unique + socket drops + pspat
# drops after enqueue (the child's drops), pspat sent == what reached the
# sink. The same tbf + DRR as root without pspat is measured for comparison.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
veth_ns
make_tmp
tools_to_tmp
ktap_plan 12

# drr_setup PARENT...: tbf 10: at 20mbit (a 64k bucket, 26 ms of tokens,
# rides out the TCG guest's stalls), DRR 20: inside it, classes 20:1
# (dports 9000-9001) and 20:2 (9002-9003) with short pfifos.
drr_setup() {
	tc -n "$a" -batch - <<-EOF
	qdisc add dev va $* handle 10: tbf rate 20mbit burst 64k latency 100ms
	qdisc add dev va parent 10:1 handle 20: drr
	class add dev va parent 20: classid 20:1 drr quantum 3000
	class add dev va parent 20: classid 20:2 drr quantum 1500
	qdisc add dev va parent 20:1 handle 21: pfifo limit 50
	qdisc add dev va parent 20:2 handle 22: pfifo limit 50
	filter add dev va parent 20: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9000 0xfffe flowid 20:1
	filter add dev va parent 20: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9002 0xfffe flowid 20:2
	EOF
}

. "$(dirname "$0")/lib_two_classes.sh"

tc -n "$a" qdisc add dev va root handle 1: pspat
drr_setup parent 1:1
traffic pspat
child_counts pspat
read -r hi lo sum secs < <(mbit pspat)
ktap_info "pspat: class 20:1 $hi, 20:2 $lo, total $sum Mbit/s over $secs s; sent $sent enobufs $enobufs unique $uniq socket_drops $sdrops pspat drops $drops"
check "classes received over half their share (4000, 2000 packets)" jq -e \
	'[.flows | group_by(.dport >= 9002)[] | map(.unique) | add] as [$h, $l] |
	 $h > 4000 and $l > 2000' "$tmp/pspat.sink"
check_range "all flows active together for 3 s or more (measured)" "$secs" 3 10
check "both classes were backlogged (dropped excess)" jq -e \
	'[.[] | select(.handle == "21:" or .handle == "22:") | .drops > 0] == [true, true]' \
	"$tmp/pspat.tc"
check_range "class 20:1 (quantum 3000) gets 13.3 Mbit/s" "$hi" 12 14.67
check_range "class 20:2 (quantum 1500) gets 6.7 Mbit/s" "$lo" 6 7.33
check_range "both together get tbf's 20 Mbit/s" "$sum" 18 22
child_accounting pspat 10:

tc -n "$a" qdisc del dev va root
drr_setup root
traffic stock
ktap_info "stock tbf + drr root: class 20:1, 20:2, total, seconds: $(mbit stock); tbf drops $(qs stock 10: .drops)"
ktap_finish
