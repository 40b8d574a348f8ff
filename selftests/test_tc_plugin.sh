#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The tc plugin (tc-plugin/q_pspat.so): add pspat with options, show them as
# text and JSON, change each option and replace the qdisc while UDP traffic
# flows over a veth pair; every packet is accounted for (nothing dropped,
# nothing lost) and the extended statistics grow with the traffic.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
PLUGIN=$PSPAT_TOP/build/tc-plugin/q_pspat.so
[ -f "$PLUGIN" ] || skip_all "$PLUGIN not built (make tc-plugin)"
# Transmit from one CPU: veth delivers on the sending CPU's backlog, so a
# transmitter hopping CPUs (or a mode switch between an arbiter and a
# dispatcher on different CPUs) could reorder at the receiver, pspat or not.
pspat_load arbiter_cpu=1 dispatcher_cpu=1
make_tmp
tools_to_tmp
mkdir "$tmp/tc" && cp "$PLUGIN" "$tmp/tc/" || skip_all "cannot copy the plugin"
export TC_LIB_DIR=$tmp/tc
veth_ns
ktap_plan 31

# Every field of struct tc_pspat_xstats, and the derived average.
XSTATS_KEYS='pushed mailbox_full arbitrated child_drops stale_drops xmit_drops
backpressure dispatched held xmit_mode arb_rounds arb_packets arb_sleeps
arb_wakeups arb_throttle_sleeps disp_batches disp_packets mb_created
mb_reclaimed mb_alloc_fail mb_live mb_active mb_limited arb_avg_batch'

t() { tc -n "$a" "$@"; }
# opts: "xmit_mode batch held_limit" of the root, from the JSON options.
opts() {
	tc_json "$a" qdisc show dev va |
		jq -r '.[] | select(.kind == "pspat") | .options |
			"\(.xmit_mode) \(.batch) \(.held_limit)"'
}
q() { qstat "$a" va 1: "$1"; }
# flowing N: the root transmits N more packets (traffic still moves).
flowing() {
	local target
	target=$(($(q packets) + $1))
	wait_for 60 eval '[ "$(q packets)" -ge $target ]'
}

check "add with xmit_mode arbiter batch 64 held_limit 100" \
	t qdisc add dev va root handle 1: pspat xmit_mode arbiter batch 64 held_limit 100
check "text: the options as given" sh -c \
	"tc -n $a qdisc show dev va | grep -q 'qdisc pspat 1: root .*xmit_mode arbiter batch 64 held_limit 100 *\$'"
check_eq "JSON: the options as given" "$(opts)" "arbiter 64 100"
missing=$(tc_json "$a" -s qdisc show dev va | jq -r --arg k "$XSTATS_KEYS" \
	'(map(select(.kind == "pspat")) | .[0] // error("no pspat qdisc")) as $q |
		[$k | split("\\s+"; null)[] | select(. != "") as $key |
			select($q | has($key) | not)] | join(" ")') ||
	missing="(jq failed)"
check_eq "JSON: every xstats key is there" "$missing" ""
check "text: xstats of the qdisc, arbiter, dispatcher and mailboxes" sh -c \
	"tc -n $a -s qdisc show dev va | grep -q '^  qdisc: pushed [0-9]* mailbox_full [0-9]* arbitrated [0-9]* dispatched [0-9]*\$' &&
	 tc -n $a -s qdisc show dev va | grep -q '^  arbiter (global): arb_rounds [0-9]* arb_packets [0-9]* (avg batch [0-9.]*)' &&
	 tc -n $a -s qdisc show dev va | grep -q '^  dispatcher (global): disp_batches [0-9]* disp_packets [0-9]*' &&
	 tc -n $a -s qdisc show dev va | grep -q '^  mailboxes (global): mb_created [0-9]* .* mb_active [0-9]*'"

p0=$(q pushed) r0=$(q arbitrated)
rm -f "$tmp/ready"
bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 3 \
	--ready-file "$tmp/ready" >"$tmp/sink.json"
wait_for 10 test -e "$tmp/ready"
# Paced, so that the arbiter and the changes below get CPU time too.
bg blast ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 \
	-t 2 -r 1000 -d 0 >"$tmp/blast.json"
check "traffic flows" flowing 200

check "change batch 8" t qdisc change dev va root handle 1: pspat batch 8
check_eq "batch is 8, the others kept" "$(opts)" "arbiter 8 100"
check "traffic flows after it" flowing 200
check "change held_limit 1000" t qdisc change dev va root handle 1: pspat held_limit 1000
check_eq "held_limit is 1000, the others kept" "$(opts)" "arbiter 8 1000"
check "change xmit_mode dispatcher" t qdisc change dev va root handle 1: pspat xmit_mode dispatcher
check_eq "xmit_mode is dispatcher, the others kept" "$(opts)" "dispatcher 8 1000"
check "in effect: xstats xmit_mode dispatcher" wait_for 10 eval '[ "$(q xmit_mode)" = dispatcher ]'
check "traffic flows after it" flowing 200
check "change with no option" t qdisc change dev va root handle 1: pspat
check_eq "nothing changed" "$(opts)" "dispatcher 8 1000"
check "change all three to default" \
	t qdisc change dev va root handle 1: pspat xmit_mode default batch default held_limit default
check_eq "default 0 256" "$(opts)" "default 0 256"
check "text: batch 0 shows as default" sh -c \
	"tc -n $a qdisc show dev va | grep -q 'xmit_mode default batch default held_limit 256'"
check "replace with xmit_mode arbiter batch 32 held_limit 512" \
	t qdisc replace dev va root handle 1: pspat xmit_mode arbiter batch 32 held_limit 512
check_eq "replaced: arbiter 32 512" "$(opts)" "arbiter 32 512"
check "in effect: xstats xmit_mode arbiter" wait_for 10 eval '[ "$(q xmit_mode)" = arbiter ]'
check "traffic flows after it" flowing 200

kill -INT "$blast"
wait "$blast"
wait "$sink"
# Everything pushed leaves the qdisc: wait until nothing is queued or held.
wait_for 30 eval '[ "$(q qlen)" = 0 ] && [ "$(q held)" = 0 ]'
attempts=$(jq .total.attempts "$tmp/blast.json")
sent=$(jq .total.sent "$tmp/blast.json")
pushed=$(($(q pushed) - p0))
ktap_info "blast: $attempts attempts, $sent sent; pushed $pushed," \
	"arbitrated $(($(q arbitrated) - r0)), avg batch $(q arb_avg_batch)"
check_eq "every attempt was sent (no ENOBUFS)" "$sent" "$attempts"
check_eq "pushed == sent by the sender" "$pushed" "$sent"
check_eq "sent + dropped + backlog == pushed, no drops" \
	"$(($(q packets) + $(q drops) + $(q qlen))) $(q drops)" "$(q pushed) 0"
check_range "arbitrated grew by at least what was sent" \
	$(($(q arbitrated) - r0)) "$sent" 1e18
check_eq "the sink got every packet, in order" \
	"$(jq '.unique + .socket_drops' "$tmp/sink.json") $(jq .reordered "$tmp/sink.json")" "$sent 0"
# The plugin's arbiter figures against debugfs read just before and after
# the dump (the same kernel counters through another interface) and what
# the sender sent; the average from the figures it prints.
dr0=$(pspat_stat arbiter rounds) da0=$(pspat_stat arbiter packets)
tc_json "$a" -s qdisc show dev va >"$tmp/xstats.json"
dr1=$(pspat_stat arbiter rounds) da1=$(pspat_stat arbiter packets)
check "xstats arbiter rounds and packets match debugfs, packets >= sent, avg batch" \
	jq -e --argjson r0 "$dr0" --argjson r1 "$dr1" --argjson a0 "$da0" \
		--argjson a1 "$da1" --argjson s "$sent" '.[] | select(.kind == "pspat") |
		.arb_rounds >= $r0 and .arb_rounds <= $r1 and
		.arb_packets >= $a0 and .arb_packets <= $a1 and .arb_packets >= $s and
		((.arb_avg_batch - .arb_packets / .arb_rounds) | fabs) < 0.05' \
	"$tmp/xstats.json"
check "delete" t qdisc del dev va root
ktap_finish
