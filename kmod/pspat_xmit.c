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
 * Each packet keeps the txq chosen when it was sent (skb->queue_mapping).
 * A stopped (or frozen) txq stops the batch: the packet and everything
 * after it wait in the held list, in order, and the arbiter dequeues
 * nothing more from the child meanwhile, so the backlog stays in the child
 * (no drops, no busy loop). When the driver wakes the txq, the core
 * reschedules the root qdisc, whose dequeue hook kicks the arbiter, which
 * sends the held packets first.
 *
 * A packet leaves the backlog when it is validated and committed to the
 * driver: counted as sent (bytes, GSO segments) or, if validation drops
 * it or the device went down, as dropped.
 */
#include <linux/netdevice.h>

#include "pspat.h"

static struct netdev_queue *pspat_txq(struct net_device *dev,
				      const struct sk_buff *skb)
{
	u16 i = skb_get_queue_mapping(skb);

	/* The device may have fewer queues now than when it was picked. */
	if (unlikely(i >= dev->real_num_tx_queues))
		i = 0;
	return netdev_get_tx_queue(dev, i);
}

static void pspat_set_blocked(struct pspat_sched *q, struct sk_buff *head)
{
	int i = -1;

	if (head)
		i = pspat_txq(pspat_dev(q), head) - netdev_get_tx_queue(pspat_dev(q), 0);
	WRITE_ONCE(q->blocked_txq, i);
}

/* Lockless hint for the arbiter: are the held packets still stuck? */
bool pspat_xmit_blocked(struct pspat_sched *q)
{
	int i = READ_ONCE(q->blocked_txq);

	return i >= 0 &&
	       netif_xmit_frozen_or_stopped(netdev_get_tx_queue(pspat_dev(q), i));
}

/* Put @skbs (not yet accounted) at the end of the held list. */
static void pspat_hold(struct pspat_sched *q, struct sk_buff *skbs)
{
	struct sk_buff *tail;

	if (!skbs)
		return;
	for (tail = skbs; tail->next; tail = tail->next)
		;
	if (q->held_tail)
		q->held_tail->next = skbs;
	else
		q->held_head = skbs;
	q->held_tail = tail;
}

/* Under HARD_TX_LOCK: give @skb (validated) to the driver. */
static struct sk_buff *pspat_xmit_list(struct net_device *dev,
				       struct netdev_queue *txq,
				       struct sk_buff *skb, unsigned int *sent)
{
	HARD_TX_LOCK(dev, txq, smp_processor_id());
	while (skb) {
		struct sk_buff *next = skb->next;
		netdev_tx_t rc;

		if (unlikely(netif_xmit_frozen_or_stopped(txq)))
			break;
		skb_mark_not_on_list(skb);
		dev_queue_xmit_nit(skb, dev);	/* taps: tcpdump sees it */
		rc = netdev_start_xmit(skb, dev, txq, next != NULL);
		if (unlikely(!dev_xmit_complete(rc))) {
			skb->next = next;	/* NETDEV_TX_BUSY: keep it */
			break;
		}
		(*sent)++;
		skb = next;
	}
	HARD_TX_UNLOCK(dev, txq);
	return skb;
}

/* Drop everything the transmit stage holds. seqlock held. */
void __pspat_xmit_purge(struct pspat_sched *q)
{
	struct Qdisc *sch = q->sch;
	struct sk_buff *skb, *next;

	/* Already accounted as sent when validated. */
	kfree_skb_list_reason(q->partial, SKB_DROP_REASON_QDISC_DROP);
	q->partial = NULL;
	for (skb = q->held_head; skb; skb = next) {
		next = skb->next;
		skb->next = NULL;
		q->xmit_drops++;
		pspat_account_drop(sch, skb);
		kfree_skb_reason(skb, SKB_DROP_REASON_QDISC_DROP);
	}
	q->held_head = NULL;
	q->held_tail = NULL;
	WRITE_ONCE(q->blocked_txq, -1);
}

void pspat_xmit_purge(struct pspat_sched *q)
{
	spin_lock_bh(&q->sch->seqlock);
	__pspat_xmit_purge(q);
	spin_unlock_bh(&q->sch->seqlock);
}

/*
 * Validate the leading run of @*skbs that uses @txq and account it; return
 * the validated segments. Stale packets (queued before a reset) are freed.
 */
static struct sk_buff *pspat_validate_run(struct pspat_sched *q,
					  struct netdev_queue *txq,
					  struct sk_buff **skbs)
{
	struct net_device *dev = pspat_dev(q);
	struct sk_buff *segs = NULL, **tail = &segs;
	struct Qdisc *sch = q->sch;
	u32 gen = q->gen;

	while (*skbs && pspat_txq(dev, *skbs) == txq) {
		struct sk_buff *skb = *skbs;
		unsigned int len = qdisc_pkt_len(skb);
		u32 nsegs = skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1;
		bool again = false;

		*skbs = skb->next;
		skb->next = NULL;
		if (unlikely(pspat_cb(skb)->gen != gen)) {
			q->xmit_drops++;
			pspat_account_drop(sch, skb);
			kfree_skb_reason(skb, SKB_DROP_REASON_QDISC_DROP);
			continue;
		}
		this_cpu_sub(sch->cpu_qstats->backlog, len);
		qdisc_qstats_cpu_qlen_dec(sch);
		skb = validate_xmit_skb_list(skb, dev, &again);
		if (unlikely(!skb)) {
			if (!again) {
				q->xmit_drops++;
				qdisc_qstats_cpu_drop(sch);
				continue;
			}
			/* Taken by async (XFRM) offload: it will be sent. */
		}
		_bstats_update(this_cpu_ptr(sch->cpu_bstats), len, nsegs);
		*tail = skb;
		while (*tail)
			tail = &(*tail)->next;
	}
	return segs;
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
	unsigned int sent = 0;

	spin_lock(&sch->seqlock);
	if (unlikely(test_bit(__QDISC_STATE_DEACTIVATED, &sch->state) ||
		     READ_ONCE(q->dead))) {
		pspat_hold(q, skbs);
		__pspat_xmit_purge(q);
		goto out;
	}
	if (q->partial) {
		q->partial = pspat_xmit_list(dev, pspat_txq(dev, q->partial),
					     q->partial, &sent);
		if (q->partial) {
			pspat_hold(q, skbs);
			goto out;
		}
	}
	if (q->held_head) {
		pspat_hold(q, skbs);
		skbs = q->held_head;
		q->held_head = NULL;
		q->held_tail = NULL;
	}
	while (skbs) {
		struct netdev_queue *txq = pspat_txq(dev, skbs);
		struct sk_buff *segs;

		if (netif_xmit_frozen_or_stopped(txq)) {
			q->backpressure++;
			pspat_hold(q, skbs);
			break;
		}
		segs = pspat_validate_run(q, txq, &skbs);
		if (segs)
			q->partial = pspat_xmit_list(dev, txq, segs, &sent);
		if (q->partial) {
			q->backpressure++;
			pspat_hold(q, skbs);
			break;
		}
	}
out:
	pspat_set_blocked(q, q->partial ?: q->held_head);
	spin_unlock(&sch->seqlock);
	return sent;
}
