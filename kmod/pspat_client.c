// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_client.c - the client side: what a sending thread does.
 *
 * The qdisc is TCQ_F_NOLOCK, so dev_queue_xmit() calls this without the
 * root lock, from any number of CPUs at once (BH disabled). A client never
 * touches the scheduler and never waits for the arbiter:
 *
 *  1. account the packet in the qdisc's per-CPU backlog;
 *  2. push it into its mailbox (pspat_mailbox.c); a full mailbox drops it,
 *     counted in the qdisc's drops and in the mailbox;
 *  3. if the mailbox is not listed yet, link it into this CPU's list and
 *     wake the arbiter if it sleeps.
 *
 * A packet of a TCP socket that follows the socket's previous packet into
 * another mailbox carries a fence (pspat_order.c), so the socket's packets
 * leave in the order it sent them; so does the first packet of a thread
 * that had to use the CPU mailbox until now (pspat_mailbox.c).
 *
 * Local feedback: the child runs later, in the arbiter, so enqueue cannot
 * say NET_XMIT_DROP for a packet the child will drop, as a stock root
 * qdisc does. Instead the arbiter marks the mailbox the dropped packet
 * came from, and the next enqueue from that mailbox says NET_XMIT_CN (the
 * packet itself is queued): TCP then reduces its window (tcp_enter_cwr()),
 * as for a stock qdisc's NET_XMIT_CN; UDP treats CN as success. The mark
 * is a hint: written by the arbiter on a drop only, read by the producer
 * with its first line.
 *
 * Listing protocol (with pspat_arbiter.c:pspat_mb_unlist()). The producer
 * publishes the skb, then reads mb->listed; the arbiter clears listed,
 * then looks at the mailbox. A full barrier on both sides (store buffering)
 * guarantees that one of them sees the other's store: either the producer
 * sees listed == 0 and links the mailbox, or the arbiter sees the packet
 * and keeps it. xchg() on listed decides which one owns the link when both
 * do, so a mailbox is never on two lists.
 */
#include "pspat.h"
#include "pspat_trace.h"

int pspat_client_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			 struct sk_buff **to_free)
{
	struct pspat_sched *q = qdisc_priv(sch);
	struct pspat_sched_pcpu *pc = this_cpu_ptr(q->pcpu);
	struct pspat_skb_cb *cb = pspat_cb(skb);
	struct pspat_mailbox *mb;
	struct pspat_flow *flow;

	cb->fence_id = 0;
	mb = pspat_mb_get(cb);
	flow = pspat_flow_get(skb);
	cb->q = q;
	cb->gen = READ_ONCE(q->gen);
	if (flow)
		pspat_fence_set(cb, flow, mb);
	/* Counted before the arbiter can see it, so no sum goes negative. */
	qdisc_qstats_cpu_qlen_inc(sch);
	qdisc_qstats_cpu_backlog_inc(sch, skb);
	pc->pushed++;
	/* Before the push: after it, the arbiter may free the skb any time. */
	trace_pspat_enqueue(sch, skb, mb->fifo);
	if (unlikely(iffq_insert(mb->fifo, skb))) {
		pc->pushed--;
		pc->mb_full++;
		mb->drops++;
		trace_pspat_mailbox_drop(sch, skb, mb->fifo);
		qdisc_qstats_cpu_backlog_dec(sch, skb);
		qdisc_qstats_cpu_qlen_dec(sch);
		return qdisc_drop_cpu(skb, sch, to_free);
	}
	/* @skb may be gone from here on. */
	if (flow)
		pspat_flow_pushed(flow, mb);

	/* Pairs with the barrier in pspat_mb_unlist(): see above. */
	smp_mb();
	if (!READ_ONCE(mb->listed) && !xchg(&mb->listed, 1)) {
		/* Fully ordered: the arbiter's pre-sleep check sees the list. */
		pspat_arb_cpu_list_add(mb);
		pspat_arb_wake_if_sleeping();
	}
	if (unlikely(READ_ONCE(mb->congested))) {
		WRITE_ONCE(mb->congested, 0);
		return NET_XMIT_CN;
	}
	return NET_XMIT_SUCCESS;
}
