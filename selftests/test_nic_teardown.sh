#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Teardown under TCP load on a real driver (e1000e sending to igb), in both
# xmit modes: the qdisc deleted, the link set down (pspat empties, counts
# agree, traffic flows again once it is up), and the e1000e driver unbound
# from the NIC while pspat holds packets (the qdisc goes with the device).
# The NIC is bound again at the end; then no pspat qdisc is left, the
# module unloads, and run.sh's kernel-log scan sees no "NETDEV WATCHDOG"
# or "Tx Unit Hang".
# timeout: 600
. "$(dirname "$0")/lib.sh"
need_vm
pspat_load
make_tmp
nic_ns e1000e igb
pci=$(basename "$(ip netns exec "$a" readlink -f /sys/class/net/na/device)")
drv=/sys/bus/pci/drivers/e1000e
# However the test ends, the NIC is bound again for the tests after it.
defer sh -c "[ -e $drv/$pci ] || echo $pci >$drv/bind"
ktap_plan 14

# tcp_bg SECONDS: iperf3 from $a to $b in the background, pid in $tcp,
# its server's in $srv (iperf_server). A server whose client died behind
# a link that is down waits for its idle timeout, 2 minutes: kill both.
tcp_bg() {
	iperf_server 198.18.70.2
	timeout 60 ip netns exec "$a" iperf3 -c 198.18.70.2 -t "$1" -P 4 >"$tmp/iperf.out" 2>&1 &
	tcp=$!
}

no_qdisc() { [ "$(pspat_stat arbiter qdiscs)" = 0 ]; }
passed() { [ "$(qstat "$a" na 1: packets)" -gt "$1" ]; }

for mode in arbiter dispatcher; do
	pspat_param xmit_mode $mode
	tc -n "$a" qdisc add dev na root handle 1: pspat
	tcp_bg 3
	wait_for 20 passed 2000
	check "$mode: qdisc deleted under load" tc -n "$a" qdisc del dev na root
	rc=0
	wait "$tcp" || rc=$?
	check_eq "$mode: TCP goes on without pspat, to its end" "$rc" 0
	[ $rc = 0 ] || sed 's/^/# /' "$tmp/iperf.out" | tail -n 5
	wait

	tc -n "$a" qdisc add dev na root handle 1: pspat
	tcp_bg 4
	wait_for 20 passed 2000
	ip -n "$a" link set na down
	check "$mode: link down under load: pspat empties" wait_for 5 pspat_empty "$a" na
	kill "$tcp" "$srv" 2>/dev/null
	wait
	ip -n "$a" link set na up
	nic_carrier "$a" na
	p0=$(qstat "$a" na 1: packets)
	check "$mode: link up again: 5 pings answered through pspat" \
		ip netns exec "$a" ping -c 5 -i 0.2 -W 2 -q 198.18.70.2
	check "$mode: and pspat sent them" passed $((p0 + 4))
	tc -n "$a" qdisc del dev na root
done

# The driver unbound while pspat holds packets; the device goes away.
tc -n "$a" qdisc add dev na root handle 1: pspat
tcp_bg 10
wait_for 20 passed 2000
ktap_info "unbinding e1000e from $pci with $(qstat "$a" na 1: qlen) packets in pspat"
check "e1000e unbound from the NIC under load" sh -c "echo $pci >$drv/unbind"
kill "$tcp" "$srv" 2>/dev/null
wait
check "the device went, pspat's qdisc with it" wait_for 10 no_qdisc
echo "$pci" >"$drv/bind"
check "e1000e bound again: its device is back" wait_for 10 nic_find e1000e
check "module unloads" pspat_unload
ktap_finish
