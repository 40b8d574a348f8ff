#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# net.core.default_qdisc=pspat gives every new queueing device a working
# pspat: a single-queue device gets pspat as root, a multi-queue one mq
# with one pspat per txq (each that txq's root). Traffic on every txq
# goes through its pspat with exact counts. (veth and dummy are noqueue
# devices, which no default qdisc applies to: the stopdev test device is
# the queueing device here.)
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
old=$(sysctl -n net.core.default_qdisc)
sysctl -qw net.core.default_qdisc=pspat || skip_all "cannot set default_qdisc"
defer sysctl -qw net.core.default_qdisc="$old"
ktap_plan 6

# kinds: "root/parent kind" of each qdisc of pspatstop0, sorted.
kinds() {
	tc -n "$a" -j qdisc show dev pspatstop0 |
		jq -r '.[] | "\(if .root then "root" else "child" end) \(.kind)"' | sort | xargs
}
# through N: send N packets with priority i (stopdev's txq i % txqs) for
# each txq; then the packets each txq's driver queue took, and pspat's.
through() {
	local i
	for ((i = 0; i < $1; i++)); do
		ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.60.2 --dport 9 \
			--priority $i -n 500 >/dev/null
	done
	wait_for 10 eval '[ "$(tc -n "$a" -s -j qdisc show dev pspatstop0 |
		jq "[.[] | select(.kind == \"pspat\") | .qlen] | add")" = 0 ]'
	ktap_info "driver per txq: $(cat $P/txq_packets)"
}

stopdev_ns txqs=4 || skip_all "no stopdev"
check_eq "4 txqs: mq with a pspat per txq" "$(kinds)" \
	"child pspat child pspat child pspat child pspat root mq"
through 4
check_eq "4 txqs: each txq's driver queue took its 500" "$(cat $P/txq_packets)" \
	"500 500 500 500"
check_eq "4 txqs: each pspat sent 500" "$(tc -n "$a" -s -j qdisc show dev pspatstop0 |
	jq -r '[.[] | select(.kind == "pspat") | .packets] | map(tostring) | join(" ")')" \
	"500 500 500 500"
# Again with one txq: a new stopdev (the old one returns to the init
# netns with its netns, and goes with its module).
ip netns del "$a"
wait_for 10 rmmod pspat_stopdev

stopdev_ns txqs=1 || skip_all "no stopdev"
check_eq "1 txq: pspat as root" "$(kinds)" "root pspat"
through 1
check_eq "1 txq: the driver took 500" "$(cat $P/txq_packets)" 500
check_eq "1 txq: pspat sent 500" "$(tc -n "$a" -s -j qdisc show dev pspatstop0 |
	jq '.[] | select(.kind == "pspat") | .packets')" 500
ktap_finish
