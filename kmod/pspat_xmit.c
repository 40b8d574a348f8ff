// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_xmit.c - the transmit stage: from scheduled packets to the driver.
 *
 * Used by the arbiter (xmit_mode=arbiter) and by the dispatcher
 * (xmit_mode=dispatcher), always under the qdisc's seqlock, which is what
 * the core holds while a lockless qdisc runs: dev_deactivate() waits for
 * it (some_qdisc_is_busy()) and resets the qdisc under it, so nothing is
 * sent to a device being brought down, and whoever holds it owns the
 * held list. Like sch_direct_xmit() and dev_hard_start_xmit(): validate
 * (GSO segmentation, checksum) outside the txq lock, then hand the batch
 * to the driver under HARD_TX_LOCK with xmit_more set on all but the last.
 *
 * Each packet keeps the txq chosen when it was sent (skb->queue_mapping),
 * and each txq's stop is honoured on its own: a packet for a stopped (or
 * frozen) txq waits in that txq's held list, in order, and so does every
 * later packet for it, while packets for other txqs go on. Once the qdisc's
 * held_limit packets are held, the arbiter dequeues nothing more from
 * the child, so the backlog stays in the child (no drops, no busy loop).
 * When the driver wakes the txq, the core reschedules the root qdisc, whose
 * dequeue hook kicks the arbiter, which sends the held packets first; if
 * the core found the seqlock taken by us, we see its MISSED bit when we
 * release it and kick the arbiter ourselves, as qdisc_run_end() would.
 *
 * A packet leaves the backlog when the driver takes its last segment: then
 * it counts as sent (bytes, GSO segments). If validation drops it or the
 * device went down, it counts as dropped.
 */
#include <linux/netdevice.h>
#include <linux/slab.h>

#include "pspat.h"
#include "pspat_trace.h"

static unsigned int pspat_txq_index(struct net_device *dev,
				    const struct sk_buff *skb)
{
	u16 i = skb_get_queue_mapping(skb);

	/* The device may have fewer queues now than when it was picked. */
	return likely(i < dev->real_num_tx_queues) ? i : 0;
}

int pspat_xmit_init(struct pspat_sched *q)
{
	q->ntx = pspat_dev(q)->num_tx_queues;
	q->held = kcalloc(q->ntx, sizeof(*q->held), GFP_KERNEL);
	return q->held ? 0 : -ENOMEM;
}

void pspat_xmit_free(struct pspat_sched *q)
{
	kfree(q->held);
	q->held = NULL;
}

/*
 * q->nheld counts the held packets not yet validated, plus one for each
 * txq with a partial list; the arbiter reads it without the seqlock.
 */
static void pspat_nheld_add(struct pspat_sched *q, int n)
{
	WRITE_ONCE(q->nheld, q->nheld + n);
}

static void pspat_set_partial(struct pspat_sched *q, struct pspat_held *h,
			      struct sk_buff *partial)
{
	pspat_nheld_add(q, !!partial - !!h->partial);
	h->partial = partial;
}

/* Append one not yet accounted packet to txq @i's held list. */
static void pspat_hold(struct pspat_sched *q, unsigned int i,
		       struct sk_buff *skb)
{
	struct pspat_held *h = &q->held[i];

	skb->next = NULL;
	if (h->tail)
		h->tail->next = skb;
	else
		h->head = skb;
	h->tail = skb;
	pspat_nheld_add(q, 1);
}

/* Give validated segments @skb to the driver; return what it refused. */
static struct sk_buff *pspat_xmit_list(struct pspat_sched *q,
				       struct netdev_queue *txq,
				       struct sk_buff *skb, unsigned int *sent)
{
	struct net_device *dev = pspat_dev(q);
	struct Qdisc *sch = q->sch;

	HARD_TX_LOCK(dev, txq, smp_processor_id());
	while (skb) {
		struct sk_buff *next = skb->next;
		u32 len = pspat_cb(skb)->acct_len;
		u32 segs = pspat_cb(skb)->acct_segs;
		netdev_tx_t rc;

		if (unlikely(netif_xmit_frozen_or_stopped(txq)))
			break;
		skb_mark_not_on_list(skb);
		dev_queue_xmit_nit(skb, dev);	/* taps: tcpdump sees it */
		rc = netdev_start_xmit(skb, dev, txq, !!next);
		if (unlikely(!dev_xmit_complete(rc))) {
			skb->next = next;	/* NETDEV_TX_BUSY: keep it */
			break;
		}
		if (len) {	/* the packet's last segment */
			this_cpu_sub(sch->cpu_qstats->backlog, len);
			qdisc_qstats_cpu_qlen_dec(sch);
			_bstats_update(this_cpu_ptr(sch->cpu_bstats), len, segs);
			/* Only the address is recorded: @skb may be gone. */
			trace_pspat_xmit(dev, skb, len, txq - dev->_tx);
		}
		(*sent)++;
		skb = next;
	}
	HARD_TX_UNLOCK(dev, txq);
	return skb;
}

static void pspat_xmit_drop(struct pspat_sched *q, struct sk_buff *skb)
{
	q->xmit_drops++;
	pspat_account_drop(q->sch, skb);
	kfree_skb_reason(skb, SKB_DROP_REASON_QDISC_DROP);
}

/* Drop everything the transmit stage holds. seqlock held. */
void __pspat_xmit_purge(struct pspat_sched *q)
{
	struct sk_buff *skb, *next;
	unsigned int i;

	for (i = 0; q->held && i < q->ntx; i++) {
		struct pspat_held *h = &q->held[i];

		for (skb = h->partial; skb; skb = next) {
			next = skb->next;
			skb->next = NULL;
			if (pspat_cb(skb)->acct_len) {
				this_cpu_sub(q->sch->cpu_qstats->backlog,
					     pspat_cb(skb)->acct_len);
				qdisc_qstats_cpu_qlen_dec(q->sch);
				qdisc_qstats_cpu_drop(q->sch);
				q->xmit_drops++;
			}
			kfree_skb_reason(skb, SKB_DROP_REASON_QDISC_DROP);
		}
		for (skb = h->head; skb; skb = next) {
			next = skb->next;
			skb->next = NULL;
			pspat_xmit_drop(q, skb);
		}
		memset(h, 0, sizeof(*h));
	}
	WRITE_ONCE(q->nheld, 0);
}

void pspat_xmit_purge(struct pspat_sched *q)
{
	spin_lock_bh(&q->sch->seqlock);
	__pspat_xmit_purge(q);
	spin_unlock_bh(&q->sch->seqlock);
}

/*
 * Take the leading packets of @*skbs that use txq @i and validate them;
 * return the validated segments, the last one of each packet marked for
 * accounting. Stale packets (queued before a reset) are dropped.
 */
static struct sk_buff *pspat_validate_run(struct pspat_sched *q, unsigned int i,
					  struct sk_buff **skbs)
{
	struct net_device *dev = pspat_dev(q);
	struct sk_buff *segs = NULL, **tail = &segs;
	struct Qdisc *sch = q->sch;
	u16 gen = q->gen;

	while (*skbs && pspat_txq_index(dev, *skbs) == i) {
		struct sk_buff *skb = *skbs;
		unsigned int len = qdisc_pkt_len(skb);
		u32 nsegs = skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1;
		bool again = false;

		*skbs = skb->next;
		skb->next = NULL;
		if (unlikely(pspat_cb(skb)->gen != gen)) {
			pspat_xmit_drop(q, skb);
			continue;
		}
		skb = validate_xmit_skb_list(skb, dev, &again);
		if (unlikely(!skb)) {
			this_cpu_sub(sch->cpu_qstats->backlog, len);
			qdisc_qstats_cpu_qlen_dec(sch);
			if (again) {
				/* Taken by async (XFRM) offload: sent later. */
				_bstats_update(this_cpu_ptr(sch->cpu_bstats),
					       len, nsegs);
			} else {
				q->xmit_drops++;
				qdisc_qstats_cpu_drop(sch);
			}
			continue;
		}
		for (*tail = skb; skb; skb = skb->next) {
			pspat_cb(skb)->acct_len = skb->next ? 0 : len;
			pspat_cb(skb)->acct_segs = nsegs;
			tail = &skb->next;
		}
	}
	return segs;
}

/* Send what txq @i holds, if it runs. */
static unsigned int pspat_xmit_held(struct pspat_sched *q, unsigned int i)
{
	struct net_device *dev = pspat_dev(q);
	struct netdev_queue *txq = netdev_get_tx_queue(dev, i);
	struct pspat_held *h = &q->held[i];
	unsigned int sent = 0, n = 0;
	struct sk_buff *skbs, *skb, *segs;

	if (netif_xmit_frozen_or_stopped(txq))
		return 0;
	if (h->partial) {
		pspat_set_partial(q, h, pspat_xmit_list(q, txq, h->partial,
							&sent));
		if (h->partial)
			return sent;
	}
	skbs = h->head;
	for (skb = skbs; skb; skb = skb->next)
		n++;
	h->head = NULL;
	h->tail = NULL;
	pspat_nheld_add(q, -n);
	/* Everything held here maps to @i (or did: re-hold the rest). */
	while (skbs) {
		unsigned int j = pspat_txq_index(dev, skbs);

		if (j != i) {
			skb = skbs;
			skbs = skb->next;
			pspat_hold(q, j, skb);
			continue;
		}
		segs = pspat_validate_run(q, i, &skbs);
		pspat_set_partial(q, h, pspat_xmit_list(q, txq, segs, &sent));
		if (h->partial) {
			while ((skb = skbs)) {
				skbs = skb->next;
				pspat_hold(q, pspat_txq_index(dev, skb), skb);
			}
		}
	}
	return sent;
}

/**
 * pspat_xmit - send @skbs (a list, may be NULL) after what is held
 * @q: the qdisc
 * @skbs: packets dequeued from the child, in order, still in the backlog
 *
 * Called with BH disabled. Return: packets handed to the driver.
 */
unsigned int pspat_xmit(struct pspat_sched *q, struct sk_buff *skbs)
{
	struct net_device *dev = pspat_dev(q);
	struct Qdisc *sch = q->sch;
	unsigned int sent = 0, i;

	spin_lock(&sch->seqlock);
	if (unlikely(test_bit(__QDISC_STATE_DEACTIVATED, &sch->state) ||
		     READ_ONCE(q->dead))) {
		struct sk_buff *skb;

		while ((skb = skbs)) {
			skbs = skb->next;
			skb->next = NULL;
			pspat_xmit_drop(q, skb);
		}
		__pspat_xmit_purge(q);
		goto out;
	}
	/* Older packets first: what stopped txqs held, if they run again. */
	for (i = 0; q->nheld && i < q->ntx; i++)
		if (q->held[i].head || q->held[i].partial)
			sent += pspat_xmit_held(q, i);

	while (skbs) {
		struct pspat_held *h;
		struct sk_buff *segs;

		i = pspat_txq_index(dev, skbs);
		h = &q->held[i];
		if (h->head || h->partial ||
		    netif_xmit_frozen_or_stopped(netdev_get_tx_queue(dev, i))) {
			struct sk_buff *skb = skbs;

			skbs = skb->next;
			q->backpressure++;
			pspat_hold(q, i, skb);
			trace_pspat_backpressure(dev, i, q->nheld);
			continue;
		}
		segs = pspat_validate_run(q, i, &skbs);
		segs = pspat_xmit_list(q, netdev_get_tx_queue(dev, i), segs,
				       &sent);
		pspat_set_partial(q, h, segs);
		if (h->partial) {
			q->backpressure++;
			trace_pspat_backpressure(dev, i, q->nheld);
		}
	}
out:
	spin_unlock(&sch->seqlock);
	/*
	 * As qdisc_run_end(): whoever found the seqlock taken meanwhile (a
	 * driver waking a txq, a child's watchdog, both via net_tx_action())
	 * set MISSED and left, counting on us. Our dequeue hook would only
	 * kick the arbiter: do that. Full barrier: the unlock is a release,
	 * and the MISSED read must not pass it (store-load, as in the core).
	 */
	smp_mb();
	if (unlikely(test_bit(__QDISC_STATE_MISSED, &sch->state))) {
		clear_bit(__QDISC_STATE_MISSED, &sch->state);
		pspat_arb_kick();
	}
	return sent;
}
