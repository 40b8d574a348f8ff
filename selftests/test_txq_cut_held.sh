#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The driver cuts and restores its tx queues while pspat holds packets for
# stopped ones (stopdev, 4 txqs that each stop after 16 packets until
# drained, flows spread by hash). The reset that comes with a cut
# (qdisc_reset_all_tx_gt(), root lock only) runs next to the transmit
# stage, which owns the held lists: no warning, nothing lost or left,
# exact counts, and packets queued for a cut txq go to txq 0 quietly.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
stopdev_ns txqs=4 ring=16 hold_mask=15 xps=1 || skip_all "no stopdev"
tc -n "$a" qdisc add dev pspatstop0 root handle 1: pspat
make_tmp
ktap_plan 7

# Unconnected: the stack picks each packet's txq afresh (a connected
# socket would stay on txq 0 after the first cut to one queue).
ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.60.2 --dport 9 -t 4 -r 2000 \
	--unconnected -d 0 >"$tmp/blast.json" &
blast=$!
defer kill $blast
held0=$(pspat_stat qdisc backpressure)
ok=0
for ((i = 0; i < 40; i++)); do
	echo 1 >$P/drain
	sleep 0.05
	echo $((i % 4 + 1)) >$P/real_txqs && ok=$((ok + 1))
	sleep 0.05
done
# Senders may block on a full socket buffer: let everything go first.
echo 4 >$P/real_txqs
echo 0 >$P/hold_mask
echo 1 >$P/drain
kill -INT $blast
wait $blast
wait_for 10 pspat_empty "$a" pspatstop0
sent=$(jq .total.sent "$tmp/blast.json")
out=$(qstat "$a" pspatstop0 1: packets)
dropped=$(qstat "$a" pspatstop0 1: drops)
held=$(($(pspat_stat qdisc backpressure) - held0))
ktap_info "blast sent $sent; pspat sent $out, dropped $dropped, held $held times"
check_eq "40 cuts and restores taken" $ok 40
check "pspat held packets (the scenario happened)" test "$held" -gt 0
check_eq "blast sent == pspat sent + dropped" $((out + dropped)) "$sent"
check_eq "pspat sent == the driver accepted" \
	"$(link_stat "$a" pspatstop0 tx packets)" "$out"
check_eq "nothing left in pspat" "$(qstat "$a" pspatstop0 1: qlen)" 0
check_eq "nothing held" "$(pspat_stat qdisc nheld)" 0
# Packets queued for a txq that was cut go to txq 0, as in the core, but
# without its "selects TX queue N, but real number of TX queues is M"
# (that is for drivers that pick a bad queue).
check_fails "no 'selects TX queue' warning" grep -q "selects TX queue" <(dmesg)
ktap_info "driver per txq: $(cat $P/txq_packets)"
ktap_finish
