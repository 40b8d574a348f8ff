#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Both transmit modes: in arbiter mode the arbiter calls the driver, in
# dispatcher mode pspat-snd does; either way 4 threads' packets all arrive,
# each thread's in order, with exact counts.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# Transmit from one CPU: veth delivers on the sending CPU's backlog, so a
# transmitter hopping CPUs could reorder at the receiver, pspat or not.
pspat_load arbiter_cpu=1 dispatcher_cpu=1
pspat_veth
make_tmp
ktap_plan 8

for mode in arbiter dispatcher; do
	pspat_param xmit_mode $mode
	d0=$(pspat_stat dispatcher packets)
	p0=$(qstat "$a" va 1: packets)
	rm -f "$tmp/ready"
	bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 2 \
		--ready-file "$tmp/ready" >"$tmp/sink.json"
	wait_for 10 test -e "$tmp/ready"
	sent=$(ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 \
		-t 4 -n 2500 | jq .total.sent)
	wait "$sink"
	through=$(($(qstat "$a" va 1: packets) - p0))
	check_eq "$mode: 4 x 2500 sent, all through pspat" "$sent $through" \
		"10000 10000"
	if [ "$through" != 10000 ]; then
		# Late (still in the backlog) or gone (dropped)?
		pspat_dump "$a" va
		sleep 3
		ktap_info "3 s later pspat had sent $(($(qstat "$a" va 1: packets) - p0))"
	fi
	check_eq "$mode: received + socket drops == sent" \
		"$(jq '.unique + .socket_drops' "$tmp/sink.json")" 10000
	check_eq "$mode: per-thread order kept, no duplicates" \
		"$(jq '.reordered + .duplicated' "$tmp/sink.json")" 0
	d=$(($(pspat_stat dispatcher packets) - d0))
	if [ $mode = arbiter ]; then
		check_eq "arbiter: the dispatcher sent nothing" $d 0
	else
		check_eq "dispatcher: the dispatcher sent every packet" $d 10000
	fi
done
ktap_finish
