#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Teardown under traffic: deleting the qdisc, deleting the device, and
# rmmod (refused while a qdisc exists, then done), each while senders blast
# in both xmit modes. Afterwards: the kthreads are gone, no mailbox is left,
# no skb leaked (skbuff_head_cache back near where it was), and the
# runner's dmesg scan finds no warning.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
pspat_load
ns_create a
ns_create b
ktap_plan 9

skbs() { awk '/^skbuff_head_cache / { print $2 }' /proc/slabinfo; }
kthreads() { pgrep -c -x 'pspat-(arb|snd)' || true; }
setup() {	# a fresh veth pair with pspat on va, mode $1
	ip -n "$a" link del va 2>/dev/null
	veth_pair "$a" "$b"
	pspat_param xmit_mode "$1"
	tc -n "$a" qdisc add dev va root handle 1: pspat
}
loaded=0	# teardowns that happened with traffic flowing through pspat
blast_bg() {	# until killed; returns once packets flow through pspat
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9 -t 3 \
		-d 0 >/dev/null 2>&1 &
	blast=$!
	if wait_for 30 pspat_passed 1000; then
		loaded=$((loaded + 1))
	else
		ktap_info "traffic did not start"
	fi
}
stop_blast() { kill -TERM $blast; wait $blast 2>/dev/null; }
skb0=$(skbs)

for mode in arbiter dispatcher; do
	setup $mode
	blast_bg
	tc -n "$a" qdisc del dev va root
	stop_blast
	check_eq "$mode: qdisc deleted under load, kthreads stopped" "$(kthreads)" 0

	setup $mode
	blast_bg
	ip -n "$a" link del va
	stop_blast
	check_eq "$mode: device deleted under load, kthreads stopped" "$(kthreads)" 0
done

setup arbiter
blast_bg
check_fails "rmmod refused while pspat is attached, under load" rmmod sch_pspat
tc -n "$a" qdisc del dev va root
stop_blast
check_eq "each of the 5 teardowns had traffic flowing" "$loaded" 5
# Read while the module is still there (after rmmod nothing can be read).
check_eq "no mailbox left behind" "$(wait_for 10 eval '[ "$(pspat_stat mailboxes live)" = 0 ]'; pspat_stat mailboxes live)" 0
check "rmmod once the qdisc is gone" rmmod sch_pspat
sleep 1
# A KASAN kernel keeps freed skbs in its quarantine, counted as active
# until the cache is shrunk (which drains the cache's quarantine).
echo 1 >/sys/kernel/slab/skbuff_head_cache/shrink 2>/dev/null || :
skb1=$(skbs)
ktap_info "skbuff_head_cache active objects: $skb0 before, $skb1 after"
if [[ "$skb0" =~ ^[0-9]+$ && "$skb1" =~ ^[0-9]+$ ]]; then
	check_range "no skb leaked" $((skb1 - skb0)) -1000000 256
else
	ktap_fail "no skb leaked"
	ktap_info "no skbuff_head_cache line in /proc/slabinfo ('$skb0', '$skb1')"
fi
ktap_finish
