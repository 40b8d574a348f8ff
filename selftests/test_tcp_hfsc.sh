#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TCP through pspat with a shaping child: HFSC shares a 40 Mbit/s link
# 30:10 between two link-sharing classes, one TCP flow each (dports 5201
# and 5202), measured on the wire by the classes' byte counters while
# both flows run. Shares and rates must come out within 10 %, and
# TCP must retransmit no more than under the same HFSC as stock root in
# the same boot (tcp_controlled: no loss probes, receive on CPU 1).
. "$(dirname "$0")/lib.sh"
need_vm
pspat_load arbiter_cpu=1 dispatcher_cpu=1
veth_ns
tcp_controlled
make_tmp
ktap_plan 7

# hfsc_setup PARENT...: HFSC 10: with a 40mbit root class, leaves 10:11
# (ls 30mbit, dport 5201) and 10:12 (ls 10mbit, dport 5202).
hfsc_setup() {
	tc -n "$a" -batch - <<-EOF
	qdisc add dev va $* handle 10: hfsc default 12
	class add dev va parent 10: classid 10:1 hfsc sc rate 40mbit ul rate 40mbit
	class add dev va parent 10:1 classid 10:11 hfsc ls rate 30mbit ul rate 40mbit
	class add dev va parent 10:1 classid 10:12 hfsc ls rate 10mbit ul rate 40mbit
	filter add dev va parent 10: protocol ip prio 1 u32 match ip protocol 6 0xff match ip dport 5201 0xffff flowid 10:11
	filter add dev va parent 10: protocol ip prio 1 u32 match ip protocol 6 0xff match ip dport 5202 0xffff flowid 10:12
	EOF
}

# class_bytes: "bytes of 10:11, bytes of 10:12, nanoseconds now" (text:
# iproute2 6.1 prints hfsc classes as invalid JSON).
class_bytes() {
	local c
	for c in 10:11 10:12; do
		tc -n "$a" -s class show dev va classid $c | awk '$1 == "Sent" { printf "%s ", $2 }'
	done
	date +%s%N
}

# two_flows NAME CPU: one iperf3 flow per class for 9 s, the clients on
# CPU; the classes' wire rates from their byte counters over 5 s while
# both flows run: sets hi and lo (Mbit/s), share (of 10:11), retrans.
two_flows() {
	local p h0 l0 t0 h1 l1 t1
	iperf_server 198.18.0.2 5201
	iperf_server 198.18.0.2 5202
	nstat_reset "$a"
	for p in 5201 5202; do
		timeout 60 ip netns exec "$a" taskset -c "$2" iperf3 -c 198.18.0.2 \
			-p $p -t 9 -J >"$tmp/$1.$p" &
	done
	sleep 3
	read -r h0 l0 t0 < <(class_bytes)
	sleep 5
	read -r h1 l1 t1 < <(class_bytes)
	wait
	retrans=$(nstat_get "$a" TcpRetransSegs)
	read -r hi lo share < <(awk -v h=$((h1 - h0)) -v l=$((l1 - l0)) -v t=$((t1 - t0)) \
		'BEGIN { printf "%.2f %.2f %.3f", h * 8e3 / t, l * 8e3 / t, h / (h + l) }')
	ktap_info "$1: 10:11 $hi, 10:12 $lo Mbit/s on the wire, share $share, retransmits $retrans"
}

hfsc_setup root
two_flows stock 1
stock_retrans=$retrans
stock_share=$share
tc -n "$a" qdisc del dev va root

tc -n "$a" qdisc add dev va root handle 1: pspat
hfsc_setup parent 1:1
two_flows pspat 0
check_range "stock HFSC: 10:11 gets its 75 % (reference)" "$stock_share" 0.675 0.825
check_range "pspat+HFSC: 10:11 gets its 75 %" "$share" 0.675 0.825
check_range "pspat+HFSC: 10:11 gets 30 Mbit/s (within 10 %)" "$hi" 27 33
check_range "pspat+HFSC: 10:12 gets 10 Mbit/s (within 10 %)" "$lo" 9 11
check "pspat+HFSC: retransmits ($retrans) <= stock HFSC's ($stock_retrans)" \
	test "$retrans" -le "$stock_retrans"
check_eq "pspat dropped nothing" "$(qstat "$a" va 1: drops)" 0
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
