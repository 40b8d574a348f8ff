#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Idle mailboxes of live threads are reclaimed, so that max_mailboxes does
# not stay taken by threads that stopped sending; alloc_fail and limited
# count threads, not packets. max_mailboxes=4, mailbox_idle_ms=100:
#  1. 32 threads start one after another (0.3 s apart), each sends 200
#     packets and stays alive to the end: more than 4 of them get a
#     mailbox (idle ones were reclaimed), never more than 4 at once;
#  2. 32 threads on CPU 0, 4 first, the other 28 0.1 s later; the first 4
#     stop while the others still send: the 28 are counted as limited once
#     each (not per packet; one whose mailbox went idle while the CPU was
#     busy with the others may be refused again), some of them get a
#     mailbox once the first 4 went idle (a handover from the CPU
#     mailbox), none is reordered.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# One transmitting CPU: no reordering by veth itself (README: "Order").
pspat_load max_mailboxes=4 mailbox_idle_ms=100 arbiter_cpu=1 \
	dispatcher_cpu=1
pspat_veth
silent_dst
make_tmp
tools_to_tmp
ktap_plan 16

sample_live() {
	while :; do
		pspat_stat mailboxes live
		sleep 0.05
	done >>"$tmp/live"
}

# run NAME BLAST_ARGS...: sink + blast to 198.18.0.2:9000; $tmp/NAME.{sink,blast}
run() {
	local name=$1
	shift
	rm -f "$tmp/ready"
	bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 3 \
		--ready-file "$tmp/ready" >"$tmp/$name.sink"
	wait_for 10 test -e "$tmp/ready" || ktap_info "sink not ready"
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 "$@" \
		>"$tmp/$name.blast"
	wait "$sink"
}

# in_order NAME N: every packet blast sent arrived once, in order.
in_order() {
	local sent
	sent=$(jq .total.sent "$tmp/$1.blast")
	check_eq "$1: all $2 packets sent" "$sent" "$2"
	check_eq "$1: received + socket drops == sent" \
		"$(jq '([.flows[].unique] | add) + .socket_drops' "$tmp/$1.sink")" "$sent"
	check_eq "$1: no flow reordered" "$(jq '[.flows[].reordered] | add' "$tmp/$1.sink")" 0
}

mb() { pspat_stat mailboxes "$1"; }
mb_is() { [ "$(mb "$1")" = "$2" ]; }

# --- 1. one sender at a time, all alive ------------------------------------
created0=$(mb created) idle0=$(mb idle_reclaimed) limited0=$(mb limited)
sample_live &
sampler=$!
defer kill "$sampler"
run staggered -t 32 -n 200 --stagger 0.3 --linger 10.5
kill "$sampler"
wait "$sampler" 2>/dev/null
in_order staggered 6400
created=$(($(mb created) - created0))
ktap_info "created $created, idle_reclaimed +$(($(mb idle_reclaimed) - idle0)), limited +$(($(mb limited) - limited0))"
check_range "at most 4 thread mailboxes at any sample" \
	"$(sort -n "$tmp/live" | tail -n 1)" 0 4
check_range "at most 4 at any time (the module's peak)" "$(mb peak)" 1 4
check_range "later senders got mailboxes: the idle ones were reclaimed" \
	"$created" 8 32
check "idle mailboxes of live threads were reclaimed" \
	test $(($(mb idle_reclaimed) - idle0)) -ge 4

# --- 2. 28 threads beyond the limit ------------------------------------------
wait_for 20 mb_is live 0 || ktap_info "mailboxes still live: $(mb live)"
created0=$(mb created) limited0=$(mb limited) fail0=$(mb alloc_fail)
# Flows 0-3 send for 1 s from t=0, flows 4-31 for 2 s from t=0.1 s (100
# packets/s each), all on CPU 0 (one CPU mailbox for the threads without
# one). With mailbox_idle_ms=300 the first 4 mailboxes go at about 1.3 s.
pspat_param mailbox_idle_ms 300
bg early ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 \
	-t 4 -r 100 -n 100 --cpus 0 --linger 2 --sport 41000 >"$tmp/early.blast"
sleep 0.1
run late -t 28 -r 100 -n 200 --cpus 0 --linger 0.5
wait "$early"
in_order late 5600
check_eq "early senders: all 400 sent" "$(jq .total.sent "$tmp/early.blast")" 400
limited=$(($(mb limited) - limited0))
ktap_info "limited +$limited, created +$(($(mb created) - created0)), fallback now $(mb fallback)"
check_range "limited counts threads (28 refused, a starved one again), not packets" "$limited" 1 32
check_eq "no allocation failed" $(($(mb alloc_fail) - fail0)) 0
check "some limited threads got a mailbox while sending" \
	test $(($(mb created) - created0)) -ge 5
wait_for 20 mb_is fallback 0
check_eq "no thread left on the fallback after exit" "$(mb fallback)" 0
check_eq "pspat sent all, dropped none" \
	"$(qstat "$a" va 1: packets)/$(qstat "$a" va 1: drops)" $((6400 + 400 + 5600))/0
ktap_finish
