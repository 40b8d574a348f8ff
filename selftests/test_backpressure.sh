#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Backpressure: a driver queue that fills up and stops keeps the packets in
# pspat (no drop, no busy arbiter), each txq's stop on its own, and all of
# them leave once the queue wakes. The device is kmod/stopdev_test: txq =
# SO_PRIORITY % 2; a holding txq stops after 16 packets.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
stopdev_ns txqs=2 ring=16 hold_mask=1 || skip_all "no stopdev"
tc -n "$a" qdisc add dev pspatstop0 root handle 1: pspat
ktap_plan 10

blast() {
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.60.2 --dport 9 "$@"
}
tx() { link_stat "$a" pspatstop0 tx packets; }

# txq 0 stops after 16 packets; txq 1 keeps running meanwhile. pspat
# tells flows apart by a hash of the socket's address: the first sender
# keeps its socket open (--linger) while the second sends, so the second
# socket cannot reuse the first one's memory and count as its flow.
make_tmp
blast -n 120 --priority 0 --linger 3 >"$tmp/b0.json" &
b0=$!
wait_for 10 eval '[ $(($(tx) + $(qstat "$a" pspatstop0 1: qlen))) -ge 120 ]'
sent1=$(blast -n 80 --priority 1 --sport 41000 | jq .total.sent)
wait $b0
sent0=$(jq .total.sent "$tmp/b0.json")
check_eq "all 200 packets accepted by pspat (no ENOBUFS)" $((sent0 + sent1)) 200
wait_for 5 sh -c "[ \$(ip -n $a -s -j link show pspatstop0 | jq '.[0].stats64.tx.packets') -ge 96 ]"
check_eq "stopped txq 0 took 16, running txq 1 took all 80" "$(tx)" 96
check_eq "pspat holds the other 104 packets" "$(qstat "$a" pspatstop0 1: qlen)" 104
check_eq "pspat dropped nothing" "$(qstat "$a" pspatstop0 1: drops)" 0
check "pspat counted the stop as backpressure" \
	test "$(pspat_stat "qdisc dev pspatstop0" backpressure)" -gt 0

# Blocked, the arbiter must sleep, not spin.
pid=$(pgrep -x pspat-arb)
t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
s0=$(pspat_stat arbiter sleeps)
sleep 2
t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
ktap_info "arbiter CPU while blocked: $((t1 - t0)) ticks in 2 s"
check_range "arbiter uses under half a CPU while the txq is stopped" \
	$((t1 - t0)) 0 $(($(getconf CLK_TCK) - 1))
check_eq "arbiter slept at most once meanwhile (no wake-up storm)" \
	$(($(pspat_stat arbiter sleeps) - s0 <= 1)) 1

# Wake the queue: everything goes, in one burst or several.
echo 0 >/sys/module/pspat_stopdev/parameters/hold_mask
echo 1 >/sys/module/pspat_stopdev/parameters/drain
wait_for 10 sh -c "[ \$(ip -n $a -s -j link show pspatstop0 | jq '.[0].stats64.tx.packets') -ge 200 ]"
check_eq "all 200 packets reached the driver" "$(tx)" 200
check_eq "pspat sent 200" "$(qstat "$a" pspatstop0 1: packets)" 200
check_eq "nothing left in pspat" "$(qstat "$a" pspatstop0 1: qlen)" 0
ktap_finish
