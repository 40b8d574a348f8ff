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
 * Listing protocol, with pspat_arbiter.c (pspat_mb_unlist() and "Sleeping").
 * The paper's client: no locked instruction and no write to a line the
 * arbiter writes, per packet, in steady state. After the push, the
 * producer reads two things, with no barrier:
 *  - mb->listed: 1 while the arbiter serves the mailbox. The arbiter keeps
 *    a mailbox listed while it has packets and for a while after (it does
 *    not unlist it on every empty look, as it once did), so an active
 *    producer finds 1. Found 0, it links the mailbox with xchg() (one of
 *    the producer and the arbiter owns the link) onto this CPU's list.
 *  - pspat_bell.sleeping: 1 while the arbiter sleeps or is about to; the
 *    producer wakes it (wake_up_process(): a full barrier, then the
 *    task's state).
 * A push followed by a plain load is store buffering: either side can
 * miss the other's store. The arbiter alone pays for the barrier, when it
 * changes one of the two flags:
 *  - unlisting: listed = 0, then an RCU grace period, then a look at the
 *    mailbox. Our enqueue runs with BH disabled, an RCU reader: a push
 *    whose producer read listed == 1 is complete and visible when the
 *    grace period ends; a producer that reads 0 links the mailbox again;
 *  - sleeping: sleeping = 1, then smp_mb() and an IPI to every CPU in
 *    pspat_client_cpus whose handler runs smp_mb() (as membarrier() does
 *    for user space), then a last round: a push that read sleeping == 0
 *    happened before the IPI, so the round sees it; a later one reads 1.
 * A CPU enters pspat_client_cpus with a fully ordered set_bit() before its
 * first push, so that the arbiter sees the bit or the client sees
 * sleeping == 1 (store buffering again, with barriers on both sides).
 */
#include "pspat.h"
#include "pspat_trace.h"

/* This CPU's first push: the arbiter's pre-sleep IPI must reach it. */
static noinline void pspat_client_cpu_first(void)
{
	cpumask_set_cpu(smp_processor_id(), &pspat_client_cpus);
	/* Before the push; pairs with the smp_mb() in pspat_arb_barrier(). */
	smp_mb__after_atomic();
}

/* The mailbox was unlisted: link it (unless the arbiter just did). */
static noinline void pspat_client_link(struct pspat_mailbox *mb)
{
	/* Fully ordered: the push before it, the read of sleeping after. */
	if (!xchg(&mb->listed, 1))
		pspat_arb_cpu_list_add(mb);
	if (pspat_arb_asleep())
		pspat_arb_wake();
}

int pspat_client_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			 struct sk_buff **to_free)
{
	struct pspat_sched *q = qdisc_priv(sch);
	struct pspat_sched_pcpu *pc = this_cpu_ptr(q->pcpu);
	struct pspat_skb_cb *cb = pspat_cb(skb);
	struct pspat_mailbox *mb;
	struct pspat_flow *flow;

	if (unlikely(!cpumask_test_cpu(smp_processor_id(), &pspat_client_cpus)))
		pspat_client_cpu_first();
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

	/* No barrier: the arbiter's side has it (see above). */
	if (unlikely(!READ_ONCE(mb->listed)))
		pspat_client_link(mb);
	else if (unlikely(pspat_arb_asleep()))
		pspat_arb_wake();
	if (unlikely(READ_ONCE(mb->congested))) {
		WRITE_ONCE(mb->congested, 0);
		return NET_XMIT_CN;
	}
	return NET_XMIT_SUCCESS;
}
