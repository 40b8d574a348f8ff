#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Wake-ups with nothing to hide them: idle_poll_us=0, so the arbiter (and
# in dispatcher mode the dispatcher) sleeps between isolated packets. One
# UDP packet at a time, the next only after the echo of the previous one:
# a wake-up lost between pushing and sleeping leaves a packet queued with
# nothing to push it out, and shows as a timeout. In dispatcher mode the
# dispatcher kicks the arbiter only when the arbiter waits for it, not
# after every batch. (How often the arbiter sleeps per packet is not
# asserted: under TCG it ranges from 1 to 1.7 with the same code.)
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# Each kthread on its own CPU, so each sleeps while the other works.
pspat_load idle_poll_us=0 arbiter_cpu=0 dispatcher_cpu=1
pspat_veth
make_tmp
pp=$tmp/pspat-pingpong
cp "$PSPAT_USER_BIN/tools/pspat-pingpong" "$pp" ||
	skip_all "pspat-pingpong not built (make user)"
bg echo_pid ip netns exec "$b" "$pp" --echo --port 9100
n=2000
ktap_plan 7

for mode in arbiter dispatcher; do
	pspat_param xmit_mode $mode
	s0=$(pspat_stat arbiter sleeps)
	k0=$(pspat_stat dispatcher arb_kicks)
	p0=$(qstat "$a" va 1: packets)
	out=$(ip netns exec "$a" "$pp" --dst 198.18.0.2 --port 9100 -n $n \
		--timeout-ms 2000)
	sleeps=$(($(pspat_stat arbiter sleeps) - s0))
	ktap_info "$mode: $out; arbiter sleeps $sleeps"
	check_eq "$mode: every packet answered, none left waiting" \
		"$(jq -r '"\(.answered) \(.timeouts)"' <<<"$out")" "$n 0"
	check_eq "$mode: pspat sent each packet once" \
		$(($(qstat "$a" va 1: packets) - p0)) $n
	check "$mode: the arbiter slept between packets (the scenario happened)" \
		test "$sleeps" -ge $((n / 2))
done
# The arbiter never waited for the dispatcher here: no kick from it (it
# used to kick after every batch, one wake-up more per packet).
check_eq "dispatcher: no kick of an arbiter that did not wait" \
	$(($(pspat_stat dispatcher arb_kicks) - k0)) 0
ktap_finish
