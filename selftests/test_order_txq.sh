#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Per-flow order across txqs: an unconnected UDP socket's packets take the
# txq XPS maps the sending CPU to, so a thread that moves between CPUs
# spreads one flow over two txqs. While txq 0 is stopped (its packets
# held in pspat), the flow's packets for the running txq 1 must wait
# behind them, as behind a stock root qdisc, which stops for any stopped
# txq. The device (kmod/stopdev_test, xps=1) checks each flow's sequence
# numbers as the driver takes the packets; stock pfifo_fast as root is
# the reference in the same boot.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
stopdev_ns txqs=2 ring=16 xps=1 || skip_all "no stopdev"
ip netns exec "$a" sh -c 'echo 1 >/sys/class/net/pspatstop0/queues/tx-0/xps_cpus
	echo 2 >/sys/class/net/pspatstop0/queues/tx-1/xps_cpus'
make_tmp
ktap_plan 9

# moving_flow NAME: one unconnected flow, 3000 packets at 1000 pps, its
# thread moved between CPUs 0 and 1 every 100 ms; txq 0 holds (stops after
# 16 packets) for the first 0.8 s, then wakes. The socket buffer takes
# what waits meanwhile, so the sender does not block. Sets sent, order
# (reordered packets seen by the driver in this run) and txqs (packets
# per txq).
moving_flow() {
	local r0 t0 t1 blast waker i=0
	r0=$(cat $P/reordered)
	read -r -a t0 <$P/txq_packets
	echo 1 >$P/hold_mask
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.60.2 --dport 9 \
		--unconnected -r 1000 -n 3000 -d 10 --sndbuf 8000000 >"$tmp/$1.blast" &
	blast=$!
	# The wake-up runs on its own: the migration loop below can take far
	# longer than 0.1 s a turn on a slow (debug) kernel, and a hold much
	# longer than 0.8 s would overflow held_limit and the child.
	(sleep 0.8; echo 0 >$P/hold_mask; echo 1 >$P/drain) &
	waker=$!
	while kill -0 $blast 2>/dev/null; do
		for t in /proc/$blast/task/*; do
			taskset -p -c $((i % 2)) "${t##*/}" >/dev/null 2>&1
		done
		i=$((i + 1))
		sleep 0.1
	done
	wait $blast
	wait $waker
	echo 0 >$P/hold_mask
	echo 1 >$P/drain
	sent=$(jq .total.sent "$tmp/$1.blast")
	order=$(($(cat $P/reordered) - r0))
	read -r -a t1 <$P/txq_packets
	txqs="$((t1[0] - t0[0])) $((t1[1] - t0[1]))"
	ktap_info "$1: sent $sent, per txq $txqs, reordered $order"
}

tc -n "$a" qdisc add dev pspatstop0 root handle 1: pfifo_fast
moving_flow stock
check_eq "stock pfifo_fast root keeps the flow in order" "$order" 0
tc -n "$a" qdisc del dev pspatstop0 root
tc -n "$a" qdisc add dev pspatstop0 root handle 1: pspat
moving_flow pspat
wait_for 5 pspat_empty "$a" pspatstop0
check "the flow used both txqs" awk -v a="${txqs% *}" -v b="${txqs#* }" \
	'BEGIN { exit !(a > 50 && b > 50) }'
check "pspat held packets for the stopped txq" \
	test "$(pspat_stat "qdisc dev pspatstop0" backpressure)" -gt 0
check_eq "pspat: the flow reached the driver in order" "$order" 0
check_eq "pspat dropped nothing" "$(qstat "$a" pspatstop0 1: drops)" 0
check_eq "pspat sent every packet" "$(qstat "$a" pspatstop0 1: packets)" "$sent"
check_eq "the driver took every packet" $((${txqs% *} + ${txqs#* })) "$sent"
check_eq "nothing left in pspat" "$(qstat "$a" pspatstop0 1: qlen)" 0
check_eq "the sender never blocked or failed: sent all 3000" "$sent" 3000
ktap_finish
