#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Per-flow order for TCP: a socket sends from process context (the
# thread's mailbox) and from softirq, when ACKs clock it out (this CPU's
# mailbox); pspat must deliver its segments in the order TCP sent them.
# Every other cause of reordering is controlled (tcp_controlled, all
# transmits on CPU 1): stock pfifo_fast shows no out-of-order segment
# there, and pspat may show none either, in both xmit modes, with one
# packet per mailbox and round, and with every thread beyond
# max_mailboxes. Retransmits: no more than stock's in the same boot.
# timeout: 900
. "$(dirname "$0")/lib.sh"
need_vm
pspat_load arbiter_cpu=1 dispatcher_cpu=1
veth_ns
tcp_controlled
make_tmp
ktap_plan 10

tc -n "$a" qdisc add dev va root handle 1: pfifo_fast
tcp_run stock 1
stock_retrans=$retrans
check_eq "stock pfifo_fast, all on CPU 1: no segment out of order" "$ofo" 0
tc -n "$a" qdisc del dev va root

# pspat_tcp NAME DESC: a run with the client on CPU 0, against stock.
pspat_tcp() {
	tc -n "$a" qdisc add dev va root handle 1: pspat
	tcp_run "$1" 0
	check_eq "$2: no segment out of order" "$ofo" 0
	tc -n "$a" qdisc del dev va root
}
pspat_tcp arbiter "arbiter mode"
pspat_tcp_retrans=$retrans
ktap_info "$(grep '^order:' /sys/kernel/debug/sch_pspat/stats)"
check "the sockets' packets changed mailbox (fences), so order was at stake" \
	test "$(pspat_stat order fences)" -gt 100
pspat_param xmit_mode dispatcher
pspat_tcp dispatcher "dispatcher mode"
check "dispatcher mode: retransmits ($retrans) <= stock's ($stock_retrans)" \
	test "$retrans" -le "$stock_retrans"
pspat_param xmit_mode arbiter
check "arbiter mode: retransmits ($pspat_tcp_retrans) <= stock's ($stock_retrans)" \
	test "$pspat_tcp_retrans" -le "$stock_retrans"
pspat_param arb_batch 1
pspat_tcp batch1 "arb_batch=1"
check "arb_batch=1: retransmits ($retrans) <= stock's ($stock_retrans)" \
	test "$retrans" -le "$stock_retrans"
pspat_param arb_batch 64
# Beyond max_mailboxes, a thread sends into its CPU's mailbox.
pspat_param max_mailboxes 0
pspat_tcp nomailbox "every thread beyond max_mailboxes (0)"
check "max_mailboxes=0: retransmits ($retrans) <= stock's ($stock_retrans)" \
	test "$retrans" -le "$stock_retrans"
pspat_param max_mailboxes 1024
ktap_finish
