// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_arbiter.c - the arbiter kthread "pspat-arb".
 *
 * One arbiter serves every pspat qdisc: it starts with the first one and
 * stops with the last. A round:
 *
 *  1. takes the mailboxes newly linked on each CPU's list (lock-free
 *     llists, in link order) onto its private active list;
 *  2. drains every active mailbox by up to arb_batch packets, round-robin,
 *     sorting them per qdisc; a mailbox that stays empty for
 *     PSPAT_UNLIST_DELAY leaves the list (pspat_mb_unlist(), see
 *     pspat_client.c for the protocol); a mailbox
 *     whose head packet has a fence that is not passed yet (its flow's
 *     older packets are still in another mailbox, pspat_order.c) stops
 *     there and is served again, in this round once others moved, or in
 *     the next;
 *  3. per qdisc, under its root lock: enqueues the drained packets into the
 *     child and dequeues from it, a chunk of its batch (tc option, else
 *     arb_batch) at a time, up to its batch or as many as it enqueued
 *     if more (so the child only grows when it throttles or the device
 *     pushes back), then hands them to the transmit stage
 *     (pspat_xmit.c) itself or to the dispatcher, as its xmit mode says.
 *
 * The arbiter mutex stands for the consumer role of every mailbox: the
 * arbiter holds it during a round, and teardown takes it to change what
 * the arbiter sees (a qdisc leaving the list).
 *
 * Sleeping: with nothing to do, the arbiter polls for idle_poll_us, then
 * sleeps until woken by a client (it pushed while pspat_bell.sleeping was
 * 1), by the qdisc's dequeue hook (a child's watchdog firing or a driver
 * waking a txq both reschedule the root qdisc, whose dequeue kicks a
 * sleeping arbiter), or by the dispatcher when the arbiter waits for it
 * (pspat_dispatcher.c). A throttled child (TBF, HFSC, FQ pacing) thus
 * costs no CPU until its own hrtimer fires. Going to sleep:
 *  1. sleeping = 1 and the barrier of pspat_arb_barrier(): every client
 *     push from before is visible, every later client reads 1 (the
 *     protocol is in pspat_client.c);
 *  2. one more round, which looks at everything: mailboxes, children
 *     (a watchdog that fired before 1. saw 0 and did not kick: its time
 *     has come for this round too), held packets (a txq woken before 1.
 *     cleared XOFF with a fully ordered RMW before the hook read 0);
 *  3. set_current_state() (a full barrier), then a last look at ->kicked,
 *     the CPU lists and the active mailboxes, then schedule(): a client
 *     that read sleeping == 1 during 2. or 3. calls wake_up_process(),
 *     whose own barrier makes it see our state or us its packet.
 * Kickers publish ->kicked, then (full barrier) read ->sleeping.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/rcupdate.h>
#include <linux/sched/clock.h>
#include <linux/sched/isolation.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "pspat.h"
#include "pspat_trace.h"

struct pspat_arb {
	struct mutex		lock;		/* consumer role; ->qdiscs */
	struct list_head	qdiscs;		/* struct pspat_sched.arb_node */
	struct list_head	active;		/* mailboxes being served */
	struct task_struct __rcu *task;
	int			applied_cpu;
	unsigned int		next_cpu;	/* first CPU list of a round */
	unsigned int		nr_qdiscs;	/* pspat_users_mutex */
	unsigned int		nr_active;
	bool			throttled;	/* a child waits for its timer */
	unsigned long		gc_next;	/* jiffies */
	unsigned long		flow_gc_next;	/* jiffies */
	unsigned int		gc_sleep_ms;	/* idle sleep while a gc waits */
	unsigned int		idle_ms;	/* mailbox_idle_ms of the last scan */
	unsigned long		idle_scan_next;	/* jiffies */
	unsigned long		unlist_gp;	/* RCU cookie of this round's unlists */
	bool			unlist_gp_set;	/* taken this round */
	unsigned int		sections;	/* BH-off sections begun */
	struct pspat_arb_stats	stats;
};

static struct pspat_arb pspat_arb = {
	.lock		= __MUTEX_INITIALIZER(pspat_arb.lock),
	.qdiscs		= LIST_HEAD_INIT(pspat_arb.qdiscs),
	.active		= LIST_HEAD_INIT(pspat_arb.active),
};

/* An idle arbiter's sleep while a dead thread's mailbox waits for it. */
#define PSPAT_GC_SLEEP_MIN_MS	10
#define PSPAT_GC_SLEEP_MAX_MS	1000

/* An empty mailbox stays listed this long before it is unlisted. */
#define PSPAT_UNLIST_DELAY	max(HZ / 100, 1)

struct pspat_bell pspat_bell;
struct cpumask pspat_client_cpus;
static struct cpumask pspat_ipi_cpus;		/* arbiter: a copy of it */

static DEFINE_MUTEX(pspat_users_mutex);		/* start/stop, nr_qdiscs */
/* Written by a client linking a mailbox and by the arbiter taking them. */
static DEFINE_PER_CPU_ALIGNED(struct llist_head, pspat_cpu_list);

/*
 * A client links its mailbox, then raises the hint (llist_add() is fully
 * ordered), so that a round scans the CPU lists only after a link: the
 * arbiter clears the hint with xchg() before it scans (pspat_arb_round()).
 */
void pspat_arb_cpu_list_add(struct pspat_mailbox *mb)
{
	llist_add(&mb->cpu_node, this_cpu_ptr(&pspat_cpu_list));
	if (!READ_ONCE(pspat_bell.linked))
		WRITE_ONCE(pspat_bell.linked, 1);
}

bool pspat_arb_lists_pending(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		if (!llist_empty(per_cpu_ptr(&pspat_cpu_list, cpu)))
			return true;
	return false;
}

/* The arbiter sleeps or is about to (pspat_bell.sleeping was 1): wake it. */
void pspat_arb_wake(void)
{
	struct task_struct *t;

	rcu_read_lock();
	t = rcu_dereference(pspat_arb.task);
	if (t)
		wake_up_process(t);
	rcu_read_unlock();
}

/*
 * Something the arbiter cannot see in its lists happened: run a round.
 * The complete pattern: publish ->kicked, full barrier, read ->sleeping;
 * pairs with pspat_arb_barrier() and set_current_state() in
 * pspat_arb_sleep(). What the caller did before (freed room, changed a
 * parameter) is ordered by the same barrier before the arbiter's next
 * look. The qdisc's dequeue hook calls this only while ->sleeping is 1:
 * an awake arbiter serves children and held packets every round.
 */
void pspat_arb_kick(void)
{
	WRITE_ONCE(pspat_bell.kicked, 1);
	smp_mb();	/* pairs with set_current_state() in pspat_arb_sleep() */
	if (pspat_arb_asleep())
		pspat_arb_wake();
}

void pspat_arb_params_changed(void)
{
	pspat_arb_kick();
	pspat_disp_kick();
}

static void pspat_arb_ipi_mb(void *unused)
{
	smp_mb();	/* the client's half: see pspat_arb_barrier() */
}

/*
 * The arbiter's half of the client's barrier (pspat_client.c): after
 * this, every push of a client that read the flags before them is
 * visible, and every client reads them afresh. As membarrier() does:
 * the IPI interrupts each client CPU between two instructions and runs
 * smp_mb() there. Before the copy of the mask, a full barrier: a CPU
 * whose bit we miss sees our flags (pspat_client_cpu_first()).
 */
static void pspat_arb_barrier(void)
{
	smp_mb();	/* pairs with pspat_client_cpu_first() */
	cpumask_copy(&pspat_ipi_cpus, &pspat_client_cpus);
	on_each_cpu_mask(&pspat_ipi_cpus, pspat_arb_ipi_mb, NULL, true);
}

/* One RCU grace period for all the mailboxes unlisted in a round. */
static unsigned long pspat_arb_unlist_gp(struct pspat_arb *arb)
{
	if (!arb->unlist_gp_set) {
		arb->unlist_gp = start_poll_synchronize_rcu();
		arb->unlist_gp_set = true;
	}
	return arb->unlist_gp;
}

/*
 * The mailbox looked empty. Once it has stayed empty PSPAT_UNLIST_DELAY,
 * clear ->listed; one RCU grace period later (pspat_client.c), every push
 * of a producer that still read 1 is visible: empty then, it leaves the
 * active list; otherwise it is listed again and kept. A producer that
 * reads 0 meanwhile links it onto a CPU list: the round's collection then
 * finds it still active and keeps it (->unlisting cleared); or it links
 * it just after our look, and the collection adds it back.
 */
static void pspat_mb_unlist(struct pspat_arb *arb, struct pspat_mailbox *mb)
{
	if (!mb->unlisting) {
		if (time_before(jiffies, mb->busy_at + PSPAT_UNLIST_DELAY))
			return;
		WRITE_ONCE(mb->listed, 0);
		mb->unlisting = true;
		mb->unlist_gp = pspat_arb_unlist_gp(arb);
		return;
	}
	if (!poll_state_synchronize_rcu(mb->unlist_gp))
		return;
	mb->unlisting = false;
	if (!iffq_empty(mb->fifo)) {
		/* If its producer linked it first, the collection keeps it. */
		xchg(&mb->listed, 1);
		return;
	}
	list_del_init(&mb->active);
	mb->on_active = false;
	arb->nr_active--;
	arb->stats.unlists++;
	mb->idle_since = jiffies;	/* pspat_mb_idle_scan() */
}

static void pspat_stale_drop(struct pspat_sched *q, struct sk_buff *skb)
{
	q->stale_drops++;
	pspat_account_drop(q->sch, skb);
	kfree_skb_reason(skb, SKB_DROP_REASON_QDISC_DROP);
}

/* A packet taken from mailbox @mb: queue it for its qdisc, or free it. */
static void pspat_arb_take(struct sk_buff *skb, struct pspat_mailbox *mb)
{
	struct pspat_sched *q = pspat_cb(skb)->q;

	if (unlikely(READ_ONCE(q->dead))) {
		pspat_stale_drop(q, skb);
		/* Last access to q: pspat_arb_detach() may free it after. */
		smp_store_release(&q->taken, q->taken + 1);
		return;
	}
	skb->next = NULL;
	pspat_cb(skb)->mb = mb;		/* the fence is passed: see pspat.h */
	if (q->inq_tail)
		q->inq_tail->next = skb;
	else
		q->inq_head = skb;
	q->inq_tail = skb;
	q->inq_n++;
	WRITE_ONCE(q->taken, q->taken + 1);
}

/* Root lock held: up to @max of the packets taken this round go into the child. */
static void pspat_arb_enqueue(struct pspat_sched *q, u16 gen, unsigned int max,
			      struct sk_buff **to_free)
{
	struct Qdisc *sch = q->sch;
	struct sk_buff *skb;

	for (; max && (skb = q->inq_head); max--) {
		unsigned int len = qdisc_pkt_len(skb);
		struct pspat_mailbox *mb = pspat_cb(skb)->mb;
		int ret;

		q->inq_head = skb->next;
		q->inq_n--;
		skb->next = NULL;
		if (unlikely(pspat_cb(skb)->gen != gen)) {
			pspat_stale_drop(q, skb);	/* queued before a reset */
			continue;
		}
		pspat_preset_drop_reason(skb);
		pspat_insn_inner();
		ret = qdisc_enqueue(skb, q->child, to_free);
		pspat_insn_inner();
		if (unlikely(ret != NET_XMIT_SUCCESS)) {
			this_cpu_sub(sch->cpu_qstats->backlog, len);
			qdisc_qstats_cpu_qlen_dec(sch);
			/*
			 * Taken by an action (mirred redirect, a STOLEN
			 * verdict): gone, but not dropped; upstream parents
			 * do not count it either (net_xmit_drop_count()).
			 */
			if (!net_xmit_drop_count(ret)) {
				q->stolen++;
				continue;
			}
			/*
			 * Dropped, or (NET_XMIT_CN) kept while another packet
			 * went: as for any parent, the child's own
			 * qdisc_tree_reduce_backlog() balances the latter
			 * (see pspat_fold_stats()).
			 */
			q->child_drops++;
			/* Its sender's next enqueue says NET_XMIT_CN. */
			if (!READ_ONCE(mb->congested))
				WRITE_ONCE(mb->congested, 1);
			qdisc_qstats_cpu_drop(sch);
		}
	}
	if (!q->inq_head)
		q->inq_tail = NULL;
}

/* Root lock held: move up to @budget packets out of the child. */
static unsigned int pspat_arb_dequeue(struct pspat_sched *q, u16 gen,
				      unsigned int budget, bool disp,
				      struct sk_buff ***tx_tail, bool *pushed)
{
	unsigned int n = 0;
	struct sk_buff *skb;

	if (disp && q->stash) {
		if (pspat_disp_push(q->stash))
			return 0;
		q->stash = NULL;
		q->to_disp++;
		*pushed = true;
	}
	while (n < budget) {
		pspat_insn_inner();
		skb = q->child->dequeue(q->child);
		pspat_insn_inner();
		if (!skb)
			break;
		pspat_cb(skb)->gen = gen;
		n++;
		if (!disp) {	/* the caller ends the list */
			**tx_tail = skb;
			*tx_tail = &skb->next;
			continue;
		}
		pspat_cb(skb)->q = q;
		skb->next = NULL;
		if (pspat_disp_push(skb)) {
			q->stash = skb;		/* dispatcher queue full */
			break;
		}
		q->to_disp++;
		*pushed = true;
	}
	q->arbitrated += n;
	return n;
}

/* Run one qdisc's child: enqueue what was taken, dequeue, transmit. */
static unsigned long pspat_arb_serve(struct pspat_arb *arb,
				     struct pspat_sched *q, unsigned int batch)
{
	bool disp = pspat_q_dispatcher(q);
	struct sk_buff *tx = NULL, **tx_tail = &tx, *to_free = NULL;
	struct Qdisc *sch = q->sch;
	unsigned int chunk = READ_ONCE(q->batch) ?: batch;
	unsigned int budget, n = 0, want = 0, got = 0;
	unsigned long moved = 0;
	bool blocked, pushed = false;
	u16 gen;

	/*
	 * At least as many out as came in this round: with several mailboxes
	 * feeding one child, a fixed budget would let the child grow (and
	 * drop at its limit) for no reason but the arbiter's own imbalance.
	 */
	budget = max(chunk, q->inq_n);

	/* Packets held by a stopped txq go first, once it runs again. */
	if (READ_ONCE(q->nheld))
		moved += pspat_xmit(q, NULL);
	blocked = READ_ONCE(q->nheld) >= READ_ONCE(q->held_limit);
	/*
	 * Back to arbiter mode: let the dispatcher finish what it has, and
	 * kick us when it did (ask, then look again: pspat_disp_wait()).
	 */
	if (!disp && q->to_disp != smp_load_acquire(&q->from_disp)) {
		pspat_disp_wait();
		/* Acquire: pairs with the release in pspat_disp_flush(). */
		if (q->to_disp != smp_load_acquire(&q->from_disp)) {
			blocked = true;
			pspat_disp_kick();
		}
	}
	if (!q->inq_head && !q->stash && (blocked || !q->child_qlen))
		return moved;

	spin_lock(qdisc_lock(sch));
	gen = q->gen;
	if (q->stash && pspat_cb(q->stash)->gen != gen) {
		pspat_stale_drop(q, q->stash);
		q->stash = NULL;
	}
	if (!blocked && !disp && q->stash) {	/* older than the child's */
		*tx_tail = q->stash;
		tx_tail = &q->stash->next;
		q->stash = NULL;
	}
	/*
	 * In chunks, enqueue then dequeue, as long as the child gives what
	 * is asked: a child with a small limit (sfq: 127 packets) then sees
	 * one chunk at a time, not the whole round at once.
	 */
	do {
		pspat_arb_enqueue(q, gen, chunk, &to_free);
		if (blocked || n >= budget || want > got)
			continue;
		want = min(chunk, budget - n);
		got = pspat_arb_dequeue(q, gen, want, disp, &tx_tail, &pushed);
		n += got;
	} while (q->inq_head);
	*tx_tail = NULL;
	pspat_fold_stats(sch);
	q->child_qlen = qdisc_qlen_sum(q->child);
	/* The child had packets and gave fewer than asked: it waits. */
	q->throttled = want > got && q->child_qlen && !(disp && q->stash);
	spin_unlock(qdisc_lock(sch));

	if (unlikely(to_free))
		kfree_skb_list_reason(to_free, pspat_drop_reason(to_free));
	if (tx)
		pspat_xmit(q, tx);
	if (pushed)
		pspat_disp_kick();
	arb->throttled |= q->throttled;
	return moved + n;
}

/*
 * Busy rounds in a row under one hold of the arbiter mutex (and one pass
 * of the bookkeeping between rounds: CPU pinning, garbage collection),
 * unless the scheduler wants the CPU.
 */
#define PSPAT_ARB_BURST		16

/* Extra passes over fenced mailboxes in a round, at most. */
#define PSPAT_ARB_FENCE_PASSES	4

/*
 * The arbiter's work with BH off comes in bounded sections. Draining the
 * mailboxes is one: it takes at most this many packets (or one arb_batch,
 * if that is more), and the next round starts with the mailbox where it
 * stopped. Each qdisc is then served in a section of its own: what that
 * drain took for it into its child, at most max(batch, that) out, plus
 * what its stopped txqs held; the first qdisc shares the drain's section
 * when the drain took at most arb_batch (a light round, the common case,
 * then costs one section). Between sections, softirqs run and the
 * arbiter yields if it should. With 1000 busy threads, draining every one
 * by arb_batch in one go was 64k packets with softirqs (and RCU-bh) held
 * off on the arbiter's CPU.
 */
#define PSPAT_ARB_SECTION	1024

/*
 * Drain the active mailboxes (only those a fence stopped, if @fenced_only)
 * by up to @batch packets each, while *@moved is below @cap; add what was
 * taken to *@moved. Return the number of mailboxes that stopped at a
 * fence. Stopped by @cap, it rotates the list so that the next drain
 * starts where this one stopped.
 */
static unsigned int pspat_arb_drain(struct pspat_arb *arb, unsigned int batch,
				    bool fenced_only, unsigned long *moved,
				    unsigned long cap)
{
	struct pspat_mailbox *mb, *tmp;
	unsigned int fenced = 0;

	list_for_each_entry_safe(mb, tmp, &arb->active, active) {
		struct iffq *fifo = mb->fifo;
		unsigned int n = 0, want;
		struct sk_buff *skb;

		if (*moved >= cap) {
			list_rotate_to_front(&mb->active, &arb->active);
			break;
		}
		if (fenced_only && !mb->fenced)
			continue;
		mb->fenced = false;
		want = min_t(unsigned long, batch, cap - *moved);
		/* A look-ahead batch: one store of cons_read for all of it. */
		while (n < want && (skb = iffq_peek_nth(fifo, n))) {
			if (unlikely(pspat_cb(skb)->fence_id) &&
			    !pspat_fence_passed(pspat_cb(skb))) {
				mb->fenced = true;
				pspat_order_count_wait();
				break;
			}
			pspat_arb_take(skb, mb);
			n++;
		}
		iffq_advance(fifo, n);
		iffq_clear(fifo);
		if (n) {
			mb->busy_at = jiffies;
			trace_pspat_mailbox_drain(mb, n, mb->cpu);
		}
		if (mb->fenced)
			fenced++;
		else if (n < want)
			pspat_mb_unlist(arb, mb);
		*moved += n;
	}
	return fenced;
}

/*
 * The cost of the work (busy_ns), without the idle polling (empty rounds)
 * and the softirqs that run when BH comes back on (a veth's receiver): the
 * benchmark's ns per packet. Sampled: one section in PSPAT_BUSY_SAMPLE
 * reads the clock, at its start and its end. Two clock reads were ~190
 * instructions and 2 LOCK ops per round in a guest without a stable TSC
 * (sched_clock_cpu()'s cmpxchg; ktime_get() on HPET costs the same), a
 * fifth of a light round's own work.
 */
#define PSPAT_BUSY_SAMPLE	8

/* Open a BH-off section; return its start time, or 0 if not sampled. */
static u64 pspat_arb_section_begin(struct pspat_arb *arb)
{
	local_bh_disable();
	/* local_clock(): the section stays on one CPU (BH off). */
	return ++arb->sections % PSPAT_BUSY_SAMPLE ? 0 : local_clock();
}

/* Close a BH-off section of @n packets: its cost, its size, softirqs. */
static void pspat_arb_section_end(struct pspat_arb *arb, u64 t0,
				  unsigned long n)
{
	if (n) {
		if (t0) {
			arb->stats.busy_ns += local_clock() - t0;
			arb->stats.busy_packets += n;
		}
		if (n > arb->stats.max_section)
			arb->stats.max_section = n;
	}
	local_bh_enable();
}

/* Take the mailboxes linked on each CPU list, from a different CPU each time. */
static void pspat_arb_collect(struct pspat_arb *arb)
{
	struct pspat_mailbox *mb, *tmp;
	unsigned int i;

	for (i = 0; i < nr_cpu_ids; i++) {
		unsigned int cpu = (arb->next_cpu + i) % nr_cpu_ids;
		struct llist_head *head;
		struct llist_node *n;

		if (!cpu_possible(cpu))
			continue;
		head = per_cpu_ptr(&pspat_cpu_list, cpu);
		if (llist_empty(head))
			continue;
		n = llist_reverse_order(llist_del_all(head));
		llist_for_each_entry_safe(mb, tmp, n, cpu_node) {
			arb->stats.links++;
			if (mb->on_active) {	/* linked again while unlisting */
				mb->unlisting = false;
				continue;
			}
			mb->on_active = true;
			mb->busy_at = jiffies;
			list_add_tail(&mb->active, &arb->active);
			arb->nr_active++;
		}
	}
	arb->next_cpu = (arb->next_cpu + 1) % nr_cpu_ids;
}

/* Arbiter mutex held; called and returns with BH enabled. */
static unsigned long pspat_arb_round(struct pspat_arb *arb)
{
	unsigned int batch = READ_ONCE(pspat_arb_batch);
	unsigned long cap = max_t(unsigned long, PSPAT_ARB_SECTION, batch);
	unsigned long moved = 0, taken, n, sec;
	unsigned int i, served, fenced;
	struct pspat_sched *q;
	bool shared;
	u64 t0;

	t0 = pspat_arb_section_begin(arb);

	/*
	 * 1. Newly linked mailboxes, only after a client raised the hint
	 * (pspat_arb_cpu_list_add()); the xchg() orders the scan after it.
	 */
	if (READ_ONCE(pspat_bell.linked) && xchg(&pspat_bell.linked, 0))
		pspat_arb_collect(arb);
	arb->unlist_gp_set = false;

	/* 2. Drain each active mailbox by up to @batch packets. */
	served = arb->nr_active;
	fenced = pspat_arb_drain(arb, batch, false, &moved, cap);
	/* Mailboxes a fence stopped: again, while the others make progress. */
	for (i = 0; fenced && i < PSPAT_ARB_FENCE_PASSES; i++) {
		unsigned long more = moved;

		fenced = pspat_arb_drain(arb, batch, true, &more, cap);
		if (more == moved)
			break;
		moved = more;
	}
	arb->stats.packets += moved;
	taken = moved;

	/*
	 * 3. Every qdisc's child, each in a BH-off section of its own; the
	 * first one shares the drain's when that took at most a batch, so
	 * that a light round (the common one) costs one section: the bound
	 * is then 2 * arb_batch packets.
	 */
	arb->throttled = false;
	sec = moved;
	shared = moved <= batch;
	list_for_each_entry(q, &arb->qdiscs, arb_node) {
		if (!shared) {
			pspat_arb_section_end(arb, t0, sec);
			cond_resched();
			t0 = pspat_arb_section_begin(arb);
			sec = 0;
		}
		shared = false;
		n = pspat_arb_serve(arb, q, batch);
		sec += n;
		moved += n;
	}
	pspat_arb_section_end(arb, t0, sec);
	if (moved) {
		arb->stats.rounds++;
		trace_pspat_arb_round(taken, moved, served);
	}
	return moved;
}

/**
 * pspat_apply_cpu - keep the calling kthread where arbiter_cpu or
 * dispatcher_cpu says
 * @applied: what was last applied (INT_MIN: nothing)
 * @want: a CPU, or -1: unpinned, i.e. the housekeeping CPUs, where the
 *	kernel puts unbound kthreads
 *
 * Recorded only once it took. A pinned CPU that goes offline makes the
 * scheduler move us and widen our mask: we pin again as soon as the CPU
 * is back. Called every round; while pinned it reads only our own task.
 */
void pspat_apply_cpu(int *applied, int want)
{
	const struct cpumask *mask;

	if (want < 0) {
		if (*applied == want)
			return;
		mask = housekeeping_cpumask(HK_TYPE_KTHREAD);
	} else {
		if (*applied == want && current->nr_cpus_allowed == 1 &&
		    cpumask_test_cpu(want, current->cpus_ptr))
			return;
		*applied = INT_MIN;
		if (!cpu_online(want))
			return;		/* again next round */
		mask = cpumask_of(want);
	}
	*applied = set_cpus_allowed_ptr(current, mask) ? INT_MIN : want;
}

/* A packet in an active mailbox (the arbiter thread, outside a round). */
static bool pspat_arb_active_pending(struct pspat_arb *arb)
{
	struct pspat_mailbox *mb;

	list_for_each_entry(mb, &arb->active, active)
		if (!iffq_empty(mb->fifo))
			return true;
	return false;
}

/* Step 3 of "Sleeping" above; steps 1 and 2 are pspat_arb_thread()'s. */
static void pspat_arb_sleep(struct pspat_arb *arb)
{
	/*
	 * Waiting for an exiting thread to be dead: look again soon, then
	 * less and less often while it stays on its way out (a task can
	 * hang closing its files, e.g. a lingering TCP close: that must not
	 * cost a wake-up every 10 ms); flow entries of closed sockets: at
	 * the next collection.
	 */
	bool gc = pspat_mb_gc_pending();
	long timeout = gc ? msecs_to_jiffies(arb->gc_sleep_ms) :
		       pspat_order_gc_pending() ? HZ : MAX_SCHEDULE_TIMEOUT;

	/* Thread mailboxes exist: wake up to reclaim them once idle. */
	if (arb->idle_ms && atomic_read(&pspat_mb_stats.live) > 0)
		timeout = min(timeout, max(1L, (long)(arb->idle_scan_next - jiffies)));
	/* Empty mailboxes still listed: back soon to unlist them. */
	if (arb->nr_active)
		timeout = min_t(long, timeout, PSPAT_UNLIST_DELAY);

	set_current_state(TASK_INTERRUPTIBLE);	/* full barrier */
	if (READ_ONCE(pspat_bell.kicked) || pspat_arb_lists_pending() ||
	    pspat_arb_active_pending(arb) || kthread_should_stop()) {
		__set_current_state(TASK_RUNNING);
		return;		/* still "sleeping": the next round decides */
	}
	arb->stats.sleeps++;
	if (arb->throttled)
		arb->stats.throttle_sleeps++;
	trace_pspat_arb_sleep(arb->throttled);
	/* Not woken: the garbage collector's timeout expired. */
	if (schedule_timeout(timeout))
		arb->stats.wakeups++;
	else if (gc)
		arb->gc_sleep_ms = min(2 * arb->gc_sleep_ms,
				       PSPAT_GC_SLEEP_MAX_MS);
	WRITE_ONCE(pspat_bell.sleeping, 0);
}

/* Retire idle thread mailboxes (pspat_mailbox.c), when it is time to look. */
static void pspat_arb_idle_scan(struct pspat_arb *arb)
{
	unsigned int ms = READ_ONCE(pspat_mailbox_idle_ms);

	if (ms == arb->idle_ms &&
	    (!ms || time_before(jiffies, arb->idle_scan_next)))
		return;
	arb->idle_ms = ms;
	if (ms)
		arb->idle_scan_next = jiffies + pspat_mb_idle_scan(ms);
}

static int pspat_arb_thread(void *unused)
{
	struct pspat_arb *arb = &pspat_arb;
	u64 idle_since = 0;

	while (!kthread_should_stop()) {
		unsigned int burst;
		unsigned long moved;

		pspat_apply_cpu(&arb->applied_cpu, READ_ONCE(pspat_arbiter_cpu));
		/* No write while not kicked: clients read the line. */
		if (READ_ONCE(pspat_bell.kicked))
			xchg(&pspat_bell.kicked, 0);	/* before the round's looks */
		mutex_lock(&arb->lock);
		/* While busy, up to PSPAT_ARB_BURST rounds under one lock. */
		for (burst = 1; ; burst++) {
			pspat_insn_span();
			moved = pspat_arb_round(arb);
			if (moved)
				pspat_insn_span();
			else
				pspat_insn_discard();
			if (!moved || burst == PSPAT_ARB_BURST || need_resched())
				break;
			if (READ_ONCE(pspat_bell.kicked))
				xchg(&pspat_bell.kicked, 0);
		}
		if (pspat_mb_gc_pending() &&
		    (!moved || time_after_eq(jiffies, arb->gc_next))) {
			if (pspat_mb_gc())
				arb->gc_sleep_ms = PSPAT_GC_SLEEP_MIN_MS;
			arb->stats.gc_runs++;
			arb->gc_next = jiffies + HZ / 10;
		}
		pspat_arb_idle_scan(arb);
		if (time_after_eq(jiffies, arb->flow_gc_next)) {
			pspat_order_gc();
			arb->flow_gc_next = jiffies + HZ / 10;
		}
		mutex_unlock(&arb->lock);

		if (moved) {
			if (pspat_arb_asleep())	/* woken during step 2 */
				WRITE_ONCE(pspat_bell.sleeping, 0);
			idle_since = 0;
			cond_resched();
			continue;
		}
		if (!idle_since)
			idle_since = ktime_get_ns();
		if (ktime_get_ns() - idle_since <
		    READ_ONCE(pspat_idle_poll_us) * NSEC_PER_USEC) {
			cond_resched();
			cpu_relax();
			continue;
		}
		/* "Sleeping", step 1; the next round is step 2. */
		if (!pspat_arb_asleep()) {
			WRITE_ONCE(pspat_bell.sleeping, 1);
			pspat_arb_barrier();
			continue;
		}
		pspat_arb_sleep(arb);
		idle_since = 0;
	}
	return 0;
}

static int pspat_arb_start(void)
{
	struct task_struct *t;
	int cpu, err;

	for_each_possible_cpu(cpu)
		init_llist_head(per_cpu_ptr(&pspat_cpu_list, cpu));
	INIT_LIST_HEAD(&pspat_arb.active);
	pspat_arb.nr_active = 0;
	pspat_bell.kicked = 0;
	pspat_bell.sleeping = 0;
	pspat_bell.linked = 0;
	pspat_arb.applied_cpu = INT_MIN;
	pspat_arb.gc_sleep_ms = PSPAT_GC_SLEEP_MIN_MS;
	pspat_arb.idle_ms = 0;

	err = pspat_mb_start();
	if (err)
		return err;
	err = pspat_disp_start();
	if (err)
		goto fail_mb;
	t = kthread_create(pspat_arb_thread, NULL, "pspat-arb");
	if (IS_ERR(t)) {
		err = PTR_ERR(t);
		goto fail_disp;
	}
	rcu_assign_pointer(pspat_arb.task, t);
	wake_up_process(t);
	return 0;
fail_disp:
	pspat_disp_stop();
fail_mb:
	pspat_mb_quiesce();
	pspat_mb_stop();
	return err;
}

static void pspat_arb_stop(void)
{
	struct task_struct *t = rcu_dereference_protected(pspat_arb.task, 1);

	pspat_mb_quiesce();	/* no exit probe kicks from now on */
	RCU_INIT_POINTER(pspat_arb.task, NULL);
	synchronize_rcu();	/* nor any other kick (they hold RCU) */
	kthread_stop(t);
	pspat_disp_stop();
	INIT_LIST_HEAD(&pspat_arb.active);
	pspat_order_stop();
	pspat_mb_stop();
}

int pspat_arb_attach(struct pspat_sched *q)
{
	int err = 0;

	mutex_lock(&pspat_users_mutex);
	if (!pspat_arb.nr_qdiscs) {
		err = pspat_arb_start();
		if (err)
			goto out;
	}
	mutex_lock(&pspat_arb.lock);
	list_add_tail(&q->arb_node, &pspat_arb.qdiscs);
	q->attached = true;
	mutex_unlock(&pspat_arb.lock);
	pspat_arb.nr_qdiscs++;
out:
	mutex_unlock(&pspat_users_mutex);
	return err;
}

/* Packets of @q still in mailboxes or in the dispatcher queue. */
static u64 pspat_q_pending(struct pspat_sched *q)
{
	u64 pushed = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		pushed += per_cpu_ptr(q->pcpu, cpu)->pushed;
	/* Acquire: pairs with the release after the last access to @q. */
	pushed -= smp_load_acquire(&q->taken);
	/* Likewise for the dispatcher. */
	return pushed + q->to_disp - smp_load_acquire(&q->from_disp);
}

/*
 * The qdisc is going (no client can reach it any more: the core detached
 * it and waited for an RCU grace period). Take it off the arbiter's list;
 * packets of it that are still in mailboxes or in the dispatcher queue are
 * freed by whoever finds them; wait for that, then purge the held list.
 */
void pspat_arb_detach(struct pspat_sched *q)
{
	mutex_lock(&pspat_users_mutex);
	mutex_lock(&pspat_arb.lock);
	list_del(&q->arb_node);
	WRITE_ONCE(q->dead, true);
	if (q->stash) {
		local_bh_disable();
		pspat_stale_drop(q, q->stash);
		local_bh_enable();
		q->stash = NULL;
	}
	mutex_unlock(&pspat_arb.lock);

	while (pspat_q_pending(q)) {
		pspat_arb_kick();
		pspat_disp_kick();
		usleep_range(200, 1000);
	}
	pspat_xmit_purge(q);
	q->attached = false;
	if (!--pspat_arb.nr_qdiscs)
		pspat_arb_stop();
	mutex_unlock(&pspat_users_mutex);
}

void pspat_arb_snapshot(struct pspat_arb_stats *s, bool *running,
			unsigned int *active, unsigned int *qdiscs)
{
	*s = pspat_arb.stats;
	*running = !!rcu_access_pointer(pspat_arb.task);
	*active = READ_ONCE(pspat_arb.nr_active);
	*qdiscs = READ_ONCE(pspat_arb.nr_qdiscs);
}

/* For debugfs: walk the qdiscs under the arbiter mutex. */
void pspat_arb_walk_qdiscs(pspat_qdisc_fn fn, void *arg)
{
	struct pspat_sched *q;

	mutex_lock(&pspat_arb.lock);
	list_for_each_entry(q, &pspat_arb.qdiscs, arb_node)
		fn(q, arg);
	mutex_unlock(&pspat_arb.lock);
}
