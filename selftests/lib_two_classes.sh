# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Two classes sharing a bottleneck, for the child_* selftests (sourced after
# lib.sh, with make_tmp, veth_ns and tools_to_tmp done): four UDP flows, two
# per class (dports 9000-9001 and 9002-9003), and the wire rate each class
# received.

# traffic NAME [FLOWS]: FLOWS (default 4) flows x 1400 pps x 1000 B for 5 s
# to dports 9000-9003 (2 flows: 9000-9001, the first class alone);
# $tmp/NAME.{blast,sink,iv,tc}: reports, 500 ms intervals, qdisc counters.
traffic() {
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --ports 9000-9003 --idle 1 -d 40 \
		--interval 500 --interval-file "$tmp/$1.iv" \
		--ready-file "$tmp/ready" >"$tmp/$1.sink" &
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 \
		--dport-per-thread -t "${2:-4}" -r 1400 -d 5 -s 1000 --sndbuf 4000000 \
		--wait-ready "$tmp/ready" >"$tmp/$1.blast"
	wait $!
	tc_json "$a" -s qdisc show dev va invisible >"$tmp/$1.tc"
}

# mbit NAME [FLOWS]: wire Mbit/s ($wire bytes a packet) of dports
# 9000-9001, of 9002-9003 (not with 2 flows) and of both, and the seconds
# measured: the sink's intervals in which all FLOWS (default 4) flows
# received, less the first and last (partial) ones.
mbit() { iv_mbit "$1" "${2:-4}" '.dport >= 9002'; }
