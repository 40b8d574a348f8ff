#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# FQ under pspat shares a 20 Mbit/s bottleneck fairly: pspat's child is
# tbf rate 20mbit, whose inner qdisc is fq (flow_limit 50). Four UDP flows
# (one socket each, same destination port) of 1000-byte payloads offer
# 900, 900, 1800 and 1800 pps: 1.5x and 3x their fair share (FIFO would
# share 1:1:2:2). Asserts each flow's received wire rate is 5 Mbit/s and
# the total 20 Mbit/s, within 10 %, fq dropped excess, and every packet is
# accounted for: blast sent == sink unique + socket drops + pspat drops
# after enqueue (the child's drops), pspat sent == what reached the sink.
# The same tbf + fq as root without pspat is measured for comparison only.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
veth_ns
make_tmp
tools_to_tmp
ktap_plan 12

# fq_setup PARENT...: tbf 10: at 20mbit (a 64k bucket, 26 ms of tokens,
# rides out the TCG guest's stalls), fq 20: inside it.
fq_setup() {
	tc -n "$a" -batch - <<-EOF
	qdisc add dev va $* handle 10: tbf rate 20mbit burst 64k latency 100ms
	qdisc add dev va parent 10:1 handle 20: fq flow_limit 50
	EOF
}

# traffic NAME RUN_ID: 4 flows of 1000 B for 5 s to port 9000, two at
# 900 pps (sports 40000-1), two at 1800 pps (40002-3), one run id;
# $tmp/NAME.{blast1,blast2,sink,iv,tc}: reports, 500 ms intervals, qdisc
# counters.
traffic() {
	local sink slow
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 1 -d 40 --run-id "$2" \
		--interval 500 --interval-file "$tmp/$1.iv" \
		--ready-file "$tmp/ready" >"$tmp/$1.sink" &
	sink=$!
	set -- "$1" --dst 198.18.0.2 --dport 9000 -t 2 -d 5 -s 1000 --sndbuf 4000000 \
		--run-id "$2" --wait-ready "$tmp/ready"
	ip netns exec "$a" "$PSPAT_BLAST" "${@:2}" -r 900 >"$tmp/$1.blast1" &
	slow=$!
	ip netns exec "$a" "$PSPAT_BLAST" "${@:2}" -r 1800 --sport 40002 >"$tmp/$1.blast2"
	wait $slow $sink
	tc_json "$a" -s qdisc show dev va invisible >"$tmp/$1.tc"
}

# mbit NAME: each flow's wire Mbit/s ($wire bytes a packet), by source
# port, then all four, then the seconds measured (lib.sh iv_mbit).
mbit() { iv_mbit "$1" 4 .src; }

tc -n "$a" qdisc add dev va root handle 1: pspat
fq_setup parent 1:1
traffic pspat 1
child_counts pspat
read -r -a r < <(mbit pspat)
rates=${r[*]:0:4} secs=${r[5]}
ktap_info "pspat: flows $rates Mbit/s over $secs s; sent $sent enobufs $enobufs unique $uniq socket_drops $sdrops pspat drops $drops"
check "4 flows, each received over 1500 packets (half its share)" jq -e \
	'(.flows | length) == 4 and all(.flows[]; .unique > 1500)' "$tmp/pspat.sink"
check_range "all flows active together for 3 s or more (measured)" "$secs" 3 10
check "fq dropped excess (flows were backlogged)" jq -e '.[] | select(.handle == "20:") | .drops > 0' "$tmp/pspat.tc"
check_range "slowest flow gets 5 Mbit/s" "$(tr ' ' '\n' <<<"$rates" | sort -n | head -1)" 4.5 5.5
check_range "fastest flow gets 5 Mbit/s" "$(tr ' ' '\n' <<<"$rates" | sort -n | tail -1)" 4.5 5.5
check_range "all together get tbf's 20 Mbit/s" "$(awk '{ print $1 + $2 + $3 + $4 }' <<<"$rates")" 18 22
child_accounting pspat 10:

tc -n "$a" qdisc del dev va root
fq_setup root
traffic stock 2
ktap_info "stock tbf + fq root: flows, all (Mbit/s), seconds: $(mbit stock); tbf drops $(qs stock 10: .drops)"
ktap_finish
