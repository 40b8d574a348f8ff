#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fq under pspat paces by earliest departure time (EDT), as Cilium's
# bandwidth manager uses fq at root: a clsact egress BPF program
# (selftests/bpf/edt_pace.bpf.c, built by make user) stamps skb->tstamp
# with each packet's departure time at 10 Mbit/s (skb->len bytes) and
# drops what would leave more than 50 ms ahead; fq, pspat's child, holds
# each packet until its time. One UDP flow from one CPU offers 2000 pps
# of 1042-byte frames (16.7 Mbit/s):
# - received at 10 Mbit/s within 10 % (the time stamp survived pspat's
#   mailbox and arbiter and fq honoured it), with fq holding packets
#   (its "throttled" counter) and the program dropping the excess;
# - exact counts: ENOBUFS == the program's drops + pspat's (mailbox
#   full), fq dropped nothing (the horizon keeps its queue short), every
#   packet sent was received, pspat sent == received.
# The same program with fq as root, without pspat: the rate for
# comparison only.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
obj=$PSPAT_USER_BIN/selftests/bpf/edt_pace.bpf.o
[ -f "$obj" ] || skip_all "no $obj: make user builds it (clang and libbpf-dev: make deps)"
pspat_load
veth_ns
make_tmp
tools_to_tmp
cp "$obj" "$tmp/" && obj=$tmp/${obj##*/}
ktap_plan 10

# edt_setup PARENT...: fq 20: at PARENT, and the program on va's egress.
edt_setup() {
	tc -n "$a" qdisc add dev va "$@" handle 20: fq &&
		tc -n "$a" qdisc add dev va clsact &&
		tc -n "$a" filter add dev va egress bpf direct-action obj "$obj" sec tc
}

# traffic NAME RUN_ID: one flow, 2000 pps of 1000 B for 5 s from CPU 0;
# $tmp/NAME.{blast,sink,iv,tc}: reports, 500 ms intervals, qdisc counters
# (with the clsact qdisc's drops: the program's).
traffic() {
	local sink
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 1 -d 40 --run-id "$2" \
		--interval 500 --interval-file "$tmp/$1.iv" \
		--ready-file "$tmp/ready" >"$tmp/$1.sink" &
	sink=$!
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 -d 5 -s 1000 \
		-r 2000 --cpus 0 --sndbuf 4000000 --run-id "$2" \
		--wait-ready "$tmp/ready" >"$tmp/$1.blast"
	wait $sink
	tc_json "$a" -s qdisc show dev va >"$tmp/$1.tc"
	tc -n "$a" -s qdisc show dev va >"$tmp/$1.txt"
}

# fq_throttled NAME: fq's count of packets it held for their time (the
# "throttled" of its "gc" line; the one in "flows" is a current count).
fq_throttled() {
	awk '/^qdisc / { f = ($2 == "fq") }
		f && /^ *gc / { for (i = 1; i < NF; i++) if ($i == "throttled") print $(i + 1) }' "$tmp/$1.txt"
}

tc -n "$a" qdisc add dev va root handle 1: pspat
edt_setup parent 1:1 || ktap_bail "cannot attach fq and $obj"
traffic pspat 1
child_counts pspat
shots=$(qs pspat ffff: .drops)
read -r -a r < <(iv_mbit pspat 1 .src)
ktap_info "pspat: ${r[0]} Mbit/s over ${r[2]} s; sent $sent enobufs $enobufs (program $shots) unique $uniq socket_drops $sdrops pspat drops $drops"
check_range "received at the program's 10 Mbit/s" "${r[0]}" 9 11
check_range "over 3 s or more (measured)" "${r[2]}" 3 10
check "fq held packets for their time (throttled > 0)" test "$(fq_throttled pspat)" -gt 0
check "the program dropped the excess beyond its horizon" test "$shots" -gt 0
check_eq "wire length is 1000 + 8 + 20 + 14 bytes" "$wire" 1042
check_eq "no send errors but ENOBUFS" "$errors" 0
check_eq "ENOBUFS == the program's drops + pspat's (mailbox full)" "$enobufs" $((shots + drops))
check_eq "fq dropped nothing" "$(qs pspat 20: .drops)" 0
check_eq "every packet sent was received (or dropped by the socket)" "$sent" $((uniq + sdrops))
check_eq "pspat sent == received" "$(qs pspat 1: .packets)" $((uniq + sdrops))

tc -n "$a" qdisc del dev va root
tc -n "$a" qdisc del dev va clsact
edt_setup root
traffic stock 2
ktap_info "stock fq root with the program: $(iv_mbit stock 1 .src) (Mbit/s, all, seconds)"
ktap_finish
