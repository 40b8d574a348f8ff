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
 * Each packet keeps the txq chosen when it was sent (skb->queue_mapping;
 * one beyond the device's current queues is capped as the core does), and
 * each txq's stop is honoured on its own: a packet for a stopped (or
 * frozen) txq waits in the held list, while packets for other txqs go on,
 * except those of the same flow. A flow may use several txqs (XPS re-picks
 * the txq of an unconnected socket when its thread moves), and a stock
 * root qdisc, which stops for any stopped txq, keeps its order; so does
 * pspat: a packet whose flow has a packet held waits behind it, whatever
 * its own txq. Flows are told apart by bucket: a hash of the socket, or of
 * the packet's flow hash when it has no socket (forwarding); two flows in
 * one bucket wait for each other, as every flow does behind a stock root.
 * The held list is one list, in the order the child gave the packets.
 * Once the qdisc's held_limit packets are held, the arbiter dequeues
 * nothing more from the child, so the backlog stays in the child (no
 * drops, no busy loop). When the driver wakes the txq, the core
 * reschedules the root qdisc, whose dequeue hook kicks the arbiter, which
 * sends the held packets first; if the core found the seqlock taken by
 * us, we see its MISSED bit when we release it and kick the arbiter
 * ourselves, as qdisc_run_end() would.
 *
 * A packet leaves the backlog when the driver takes its last segment: then
 * it counts as sent (bytes, GSO segments). If validation drops it or the
 * device went down, it counts as dropped.
 */
#include <linux/netdevice.h>
#include <linux/slab.h>

#include <net/xfrm.h>

#include "pspat.h"
#include "pspat_trace.h"

/*
 * The packet's txq, capped (and fixed in the skb) as the core's
 * netdev_cap_txqueue() does, to 0, but without its warning: here it is
 * no driver bug, only a packet that was queued before the driver cut its
 * tx queues (ethtool -L).
 */
static unsigned int pspat_txq_index(struct net_device *dev, struct sk_buff *skb)
{
	u16 i = skb_get_queue_mapping(skb);

	if (unlikely(i >= dev->real_num_tx_queues)) {
		i = 0;
		skb_set_queue_mapping(skb, i);
	}
	return i;
}

/* The flow bucket of a packet (or of any segment of it: same result). */
static unsigned int pspat_bucket(struct sk_buff *skb)
{
	if (skb->sk)
		return hash_ptr(skb->sk, ilog2(PSPAT_HELD_BUCKETS));
	return skb_get_hash(skb) & (PSPAT_HELD_BUCKETS - 1);
}

int pspat_xmit_init(struct pspat_sched *q)
{
	q->ntx = pspat_dev(q)->num_tx_queues;
	q->held = kzalloc(sizeof(*q->held), GFP_KERNEL);
	if (!q->held)
		return -ENOMEM;
	q->held->partial = kcalloc(q->ntx, sizeof(*q->held->partial),
				   GFP_KERNEL);
	if (q->held->partial)
		return 0;
	kfree(q->held);
	q->held = NULL;
	return -ENOMEM;
}

void pspat_xmit_free(struct pspat_sched *q)
{
	if (q->held)
		kfree(q->held->partial);
	kfree(q->held);
	q->held = NULL;
}

/*
 * q->nheld counts the packets on the held list plus one for each txq with
 * a partial list; the arbiter reads it without the seqlock.
 */
static void pspat_nheld_add(struct pspat_sched *q, int n)
{
	WRITE_ONCE(q->nheld, q->nheld + n);
}

/* Append one not yet accounted packet of bucket @b to the held list. */
static void pspat_hold(struct pspat_sched *q, struct sk_buff *skb,
		       unsigned int b)
{
	struct pspat_held *h = q->held;

	skb->next = NULL;
	if (h->tail)
		h->tail->next = skb;
	else
		h->head = skb;
	h->tail = skb;
	h->flows[b]++;
	pspat_nheld_add(q, 1);
}

/* Make @segs, refused by txq @i's driver, its partial list. */
static void pspat_set_partial(struct pspat_sched *q, unsigned int i,
			      struct sk_buff *segs)
{
	struct sk_buff *skb;

	/* Each packet's last segment counts for its flow while held. */
	for (skb = segs; skb; skb = skb->next) {
		struct pspat_skb_cb *cb = pspat_cb(skb);

		if (cb->acct_len && !cb->held) {
			cb->bucket = pspat_bucket(skb);
			cb->held = 1;
			q->held->flows[cb->bucket]++;
		}
	}
	pspat_nheld_add(q, !!segs - !!q->held->partial[i]);
	q->held->partial[i] = segs;
}

/*
 * Give validated segments @skb to the driver; return what it refused.
 * The packets sent leave the backlog and count as sent once, after the
 * list (the per-CPU counters are ours alone: BH off, seqlock held), and
 * the taps are looked up once per list, as a list is one arbiter batch.
 */
static struct sk_buff *pspat_xmit_list(struct pspat_sched *q,
				       struct netdev_queue *txq,
				       struct sk_buff *skb, unsigned int *sent)
{
	struct net_device *dev = pspat_dev(q);
	bool nit = dev_nit_active(dev);	/* taps: tcpdump sees them */
	struct Qdisc *sch = q->sch;
	unsigned int pkts = 0, n = 0;
	u32 bytes = 0, gsegs = 0;

	HARD_TX_LOCK(dev, txq, smp_processor_id());
	while (skb) {
		struct sk_buff *next = skb->next;
		struct pspat_skb_cb *cb = pspat_cb(skb);
		u32 len = cb->acct_len;
		u32 segs = cb->acct_segs;
		unsigned int bucket = cb->bucket;
		bool held = cb->held;
		netdev_tx_t rc;

		if (unlikely(netif_xmit_frozen_or_stopped(txq)))
			break;
		skb_mark_not_on_list(skb);
		if (unlikely(nit))
			dev_queue_xmit_nit(skb, dev);
		pspat_insn_inner();
		rc = netdev_start_xmit(skb, dev, txq, !!next);
		pspat_insn_inner();
		if (unlikely(!dev_xmit_complete(rc))) {
			skb->next = next;	/* NETDEV_TX_BUSY: keep it */
			break;
		}
		if (len) {	/* the packet's last segment */
			bytes += len;
			gsegs += segs;
			pkts++;
			if (unlikely(held))
				q->held->flows[bucket]--;
			/* @skb may be gone: pass its address, not the skb. */
			trace_pspat_xmit(dev, skb, len, txq - dev->_tx);
		}
		n++;
		skb = next;
	}
	HARD_TX_UNLOCK(dev, txq);
	if (pkts) {
		this_cpu_sub(sch->cpu_qstats->backlog, bytes);
		this_cpu_sub(sch->cpu_qstats->qlen, pkts);
		_bstats_update(this_cpu_ptr(sch->cpu_bstats), bytes, gsegs);
	}
	*sent += n;
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
	struct pspat_held *h = q->held;
	struct sk_buff *skb, *next;
	unsigned int i;

	if (!h)
		return;
	for (i = 0; i < q->ntx; i++) {
		for (skb = h->partial[i]; skb; skb = next) {
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
		h->partial[i] = NULL;
	}
	for (skb = h->head; skb; skb = next) {
		next = skb->next;
		skb->next = NULL;
		pspat_xmit_drop(q, skb);
	}
	h->head = NULL;
	h->tail = NULL;
	memset(h->flows, 0, sizeof(h->flows));
	WRITE_ONCE(q->nheld, 0);
}

void pspat_xmit_purge(struct pspat_sched *q)
{
	spin_lock_bh(&q->sch->seqlock);
	__pspat_xmit_purge(q);
	spin_unlock_bh(&q->sch->seqlock);
}

/*
 * Validate one packet: return its segments, the last one marked for
 * accounting, or NULL if it is gone (stale: queued before a reset; or
 * dropped by validation, or taken by async XFRM offload). Inlined: it
 * runs per packet, and a call with its frame was ~20 of the arbiter's
 * own instructions per packet (make bench-insn's profile).
 */
static __always_inline struct sk_buff *pspat_validate(struct pspat_sched *q,
						      struct sk_buff *skb)
{
	unsigned int len = qdisc_pkt_len(skb);
	u32 nsegs = skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1;
	struct Qdisc *sch = q->sch;
	bool again = false, xo;
	struct sk_buff *seg;

	skb->next = NULL;
	if (unlikely(pspat_cb(skb)->gen != q->gen)) {
		pspat_xmit_drop(q, skb);
		return NULL;
	}
	/*
	 * XFRM offload (validate_xmit_xfrm()): NULL without @again means
	 * the packet went to async crypto (-EINPROGRESS: xfrm_dev_resume()
	 * sends it later) or failed there (counted in the XFRM MIB); the
	 * core's qdisc counts it as sent either way, and so do we.
	 *
	 * @again with the packet returned: validate_xmit_xfrm() found the
	 * CPU's xfrm_backlog (packets whose async crypto finished, resent
	 * by xfrm_dev_backlog() from net_tx_action()) not empty and left
	 * the packet, GSO-segmented or not, unencrypted. The core, in
	 * sch_direct_xmit():
	 *
	 *	if (unlikely(again)) {
	 *		if (root_lock)
	 *			spin_lock(root_lock);
	 *		dev_requeue_skb(skb, q);
	 *		return false;
	 *	}
	 *
	 * puts the list back in q->gso_skb, reschedules the qdisc, and
	 * dequeue_skb() validates those skbs again (xfrm_offload() set), so
	 * the packet follows the backlog. The returned packet has not been
	 * through its ESP transform (x->type_offload->xmit()): sent as it
	 * is, the driver would get a packet it cannot encrypt right. pspat
	 * does not requeue: it drops the packet, counted in xmit_drops (TCP
	 * sends it again). Requeueing means holding a list of segments as
	 * one packet and validating each segment again, and that cannot be
	 * tested here: no device QEMU emulates (virtio-net, e1000e, igb)
	 * offloads ESP, and Debian's kernels have no netdevsim. Only ESP
	 * hardware offload (ip xfrm state ... offload dev DEV) with async
	 * crypto meets this.
	 */
	xo = xfrm_offload(skb);
	pspat_insn_inner();	/* the core's work, as in sch_direct_xmit() */
	skb = validate_xmit_skb_list(skb, pspat_dev(q), &again);
	pspat_insn_inner();
	if (unlikely(again && skb)) {
		kfree_skb_list_reason(skb, SKB_DROP_REASON_QDISC_DROP);
		skb = NULL;
		xo = false;	/* a drop, not a packet in async crypto */
	}
	if (unlikely(!skb)) {
		this_cpu_sub(sch->cpu_qstats->backlog, len);
		qdisc_qstats_cpu_qlen_dec(sch);
		if (xo) {
			_bstats_update(this_cpu_ptr(sch->cpu_bstats), len, nsegs);
		} else {
			q->xmit_drops++;
			qdisc_qstats_cpu_drop(sch);
		}
		return NULL;
	}
	for (seg = skb; seg; seg = seg->next) {
		pspat_cb(seg)->acct_len = seg->next ? 0 : len;
		pspat_cb(seg)->acct_segs = nsegs;
		pspat_cb(seg)->held = 0;
	}
	return skb;
}

/*
 * Take the leading packets of @*skbs that use txq @i and validate them;
 * return their segments, in order.
 */
static struct sk_buff *pspat_validate_run(struct pspat_sched *q, unsigned int i,
					  struct sk_buff **skbs)
{
	struct net_device *dev = pspat_dev(q);
	struct sk_buff *segs = NULL, **tail = &segs;

	while (*skbs && pspat_txq_index(dev, *skbs) == i) {
		struct sk_buff *skb = *skbs;

		*skbs = skb->next;
		for (*tail = pspat_validate(q, skb); *tail; tail = &(*tail)->next)
			;
	}
	return segs;
}

/* May txq @i take packets now? */
static bool pspat_txq_runs(struct pspat_sched *q, unsigned int i)
{
	return !q->held->partial[i] &&
	       !netif_xmit_frozen_or_stopped(netdev_get_tx_queue(pspat_dev(q), i));
}

/* Send run @segs on txq @i; keep what its driver refused. Return true if all went. */
static bool pspat_send(struct pspat_sched *q, unsigned int i,
		       struct sk_buff *segs, unsigned int *sent)
{
	struct netdev_queue *txq = netdev_get_tx_queue(pspat_dev(q), i);

	segs = pspat_xmit_list(q, txq, segs, sent);
	if (likely(!segs))
		return true;
	q->backpressure++;
	pspat_set_partial(q, i, segs);
	trace_pspat_backpressure(pspat_dev(q), i, q->nheld);
	return false;
}

/*
 * Held packets, older than anything new: first the partial lists of the
 * txqs that run again, then the held list in order. A held packet goes
 * when its txq runs and no older packet of its flow stays (@blocked, the
 * buckets that stay, starts with those of the partial lists).
 */
static void pspat_xmit_held(struct pspat_sched *q, unsigned int *sent)
{
	DECLARE_BITMAP(blocked, PSPAT_HELD_BUCKETS);
	struct net_device *dev = pspat_dev(q);
	struct pspat_held *h = q->held;
	struct sk_buff *skb, *next, *segs;
	bool any = false;
	unsigned int i;

	bitmap_zero(blocked, PSPAT_HELD_BUCKETS);
	for (i = 0; i < q->ntx; i++) {
		struct netdev_queue *txq = netdev_get_tx_queue(dev, i);

		if (h->partial[i] && !netif_xmit_frozen_or_stopped(txq))
			pspat_set_partial(q, i, pspat_xmit_list(q, txq,
								h->partial[i], sent));
		for (skb = h->partial[i]; skb; skb = skb->next)
			if (pspat_cb(skb)->held)
				__set_bit(pspat_cb(skb)->bucket, blocked);
		any |= pspat_txq_runs(q, i);
	}
	/* No txq runs: nothing held can go (the common case while stopped). */
	if (!h->head || !any)
		return;

	skb = h->head;
	h->head = NULL;
	h->tail = NULL;
	for (; skb; skb = next) {
		unsigned int b = pspat_bucket(skb);

		next = skb->next;
		i = pspat_txq_index(dev, skb);
		h->flows[b]--;
		pspat_nheld_add(q, -1);
		if (test_bit(b, blocked) || !pspat_txq_runs(q, i)) {
			__set_bit(b, blocked);
			pspat_hold(q, skb, b);
			continue;
		}
		segs = pspat_validate(q, skb);
		if (segs && !pspat_send(q, i, segs, sent))
			__set_bit(b, blocked);
	}
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
	struct pspat_held *h = q->held;
	unsigned int sent = 0, i, b;

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
	if (q->nheld)
		pspat_xmit_held(q, &sent);

	while (skbs) {
		struct sk_buff *skb = skbs;

		i = pspat_txq_index(dev, skb);
		/* Nothing held: runs of packets for one txq, with xmit_more. */
		if (likely(!q->nheld) && pspat_txq_runs(q, i)) {
			pspat_send(q, i, pspat_validate_run(q, i, &skbs), &sent);
			continue;
		}
		skbs = skb->next;
		b = pspat_bucket(skb);
		if (h->flows[b] || !pspat_txq_runs(q, i)) {
			q->backpressure++;
			pspat_hold(q, skb, b);
			trace_pspat_backpressure(dev, i, q->nheld);
			continue;
		}
		skb = pspat_validate(q, skb);
		if (skb)
			pspat_send(q, i, skb, &sent);
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
