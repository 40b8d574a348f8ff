#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Forwarded traffic: packets routed through a netns whose egress has pspat
# are enqueued from softirq context, so they use the per-CPU mailboxes (no
# thread mailbox is created). Every packet the router takes in is sent or
# counted as dropped by pspat and arrives; a flow received on one CPU keeps
# its order.
#   c (vc 198.18.1.2) -> (vr 198.18.1.1) r [ip_forward] (va, pspat) -> (vb) b
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# One transmitting CPU: see test_xmit_modes.sh.
pspat_load arbiter_cpu=1 dispatcher_cpu=1
ns_create r
ns_create b
ns_create c
veth_pair "$r" "$b" 0
ip link add vr netns "$r" type veth peer name vc netns "$c"
ip -n "$r" addr add 198.18.1.1/24 dev vr
ip -n "$c" addr add 198.18.1.2/24 dev vc
ip -n "$r" link set vr up
ip -n "$c" link set vc up
# Static neighbours on this link too: no ARP in the counts.
ip -n "$c" neigh replace 198.18.1.1 dev vc nud permanent \
	lladdr "$(ip -n "$r" -j link show vr | jq -r '.[0].address')"
ip -n "$r" neigh replace 198.18.1.2 dev vr nud permanent \
	lladdr "$(ip -n "$c" -j link show vc | jq -r '.[0].address')"
ip -n "$c" route add 198.18.0.0/24 via 198.18.1.1
ip -n "$b" route add 198.18.1.0/24 via 198.18.0.1
ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
tc -n "$r" qdisc add dev va root handle 1: pspat
tmp=$(mktemp -d)
defer rm -rf "$tmp"
ktap_plan 6

created0=$(pspat_stat mailboxes created)
bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 2 \
	--ready-file "$tmp/ready" >"$tmp/sink.json"
wait_for 10 test -e "$tmp/ready"
# The first packets resolve neighbours on the way: warm up, then measure.
ip netns exec "$c" ping -q -c 2 -i 0.2 198.18.0.2 >/dev/null
p0=$(qstat "$r" va 1: packets)
in0=$(link_stat "$r" vr rx packets)
# Paced, so that the router's own input backlog does not overflow.
sent=$(ip netns exec "$c" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 -t 2 \
	-r 1500 -n 3000 --cpus 0 | jq .total.sent)
wait "$sink"
fwd=$(($(qstat "$r" va 1: packets) - p0))
in=$(($(link_stat "$r" vr rx packets) - in0))
# need_vm makes the receive backlog deep (100000): the router's input
# cannot drop 6000 packets, so it takes in every one sent.
ktap_info "sent $sent, router input $in, pspat sent $fwd"
check_eq "the router took in every packet sent" "$in" "$sent"
check_eq "pspat sent + dropped == router input" \
	$((fwd + $(qstat "$r" va 1: drops))) "$in"
check_eq "pspat dropped none" "$(qstat "$r" va 1: drops)" 0
check_eq "received + socket drops == pspat sent" \
	"$(jq '.unique + .socket_drops' "$tmp/sink.json")" "$fwd"
check_eq "each flow in order" "$(jq '.reordered + .duplicated' "$tmp/sink.json")" 0
check_eq "softirq traffic created no thread mailbox" \
	$(($(pspat_stat mailboxes created) - created0)) 0
ktap_finish
