// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_mailbox.c - the mailboxes and their registry.
 *
 * Every sending thread gets its own mailbox, an IFFQ of skb pointers of
 * which it is the only producer and the arbiter the only consumer. So the
 * packets of one thread stay in order end to end, whatever CPU it runs on:
 * a thread that migrates keeps its mailbox. Packets sent from softirq or
 * irq context (forwarding, TCP timers) go to the mailbox of the CPU, whose
 * producer is that CPU's softirq context; so do the packets of a thread
 * that is exiting or that has no mailbox (below).
 *
 * Lookup: a per-CPU cache of the last task -> mailbox, then an RCU hash
 * keyed by task. The mailbox holds a reference on its task, so the task
 * pointer cannot be reused while a cache entry or the hash refers to it.
 * Only the thread itself looks itself up (its sends, its exit probe).
 *
 * Threads without a mailbox. Creating one can fail (GFP_ATOMIC) or be
 * refused (max_mailboxes thread mailboxes exist: a limit on the memory
 * unprivileged senders can pin, docs/threat-model.md). The thread then
 * gets a marker instead: an entry of the hash with no FIFO, which says
 * why and when to try again, so that its packets (through the CPU
 * mailbox) cost a lookup, not an allocation or an atomic each:
 *  - refused: it tries again once fewer than max_mailboxes exist (a read
 *    of the live count per packet, an atomic only when there is room);
 *  - failed: it tries again after a back-off, from 1 jiffy doubling to 1 s.
 * alloc_fail and limited count threads: once when a thread gets its
 * marker, and again only if it is refused for the other reason. When
 * even the marker cannot be allocated (counted in alloc_fail), the CPU
 * mailbox is cached for the thread for 100 ms (PSPAT_MB_CPU). The first
 * packet in the mailbox a thread finally gets carries a fence
 * (pspat_order.c) to the CPU mailbox of its last packet, so it overtakes
 * none of them. Before that, a thread whose CPU mailbox changes (it
 * migrated) may be reordered across the two, as may an exiting thread's
 * packets, which follow its own mailbox's into the CPU's.
 *
 * Ids: every mailbox has a 32-bit id, so that a fence (pspat_order.c) can
 * name a mailbox that may be reclaimed before the fence is looked at. The
 * id is erased before the mailbox is freed after RCU, so pspat_mb_by_id()
 * from a BH-disabled (RCU) section returns NULL or a live mailbox; ids are
 * handed out cyclically, so one is not reused for a long time.
 *
 * Reclaim after exit: a probe on the sched_process_exit tracepoint queues
 * the exiting task's mailbox (or marker) and kicks the arbiter. The
 * arbiter (pspat_mb_gc(), the consumer, so nothing races with its reads)
 * frees it once the task is dead (exit_state set: it can send no more)
 * and the mailbox is empty and unlisted: removed from the hash and the
 * caches, then freed after an RCU grace period with the task reference.
 *
 * Idle reclaim: a thread mailbox that has been empty and unlisted for
 * mailbox_idle_ms (up to an eighth more: pspat_mb_idle_scan()) is freed
 * although its thread lives, so that idle threads do not keep the
 * max_mailboxes places from threads that send now. Its thread may push
 * at any moment, without a lock, so the arbiter and the thread agree
 * through mb->state:
 *  1. the arbiter sets RETIRING and starts an RCU grace period;
 *  2. the producer reads state before each push (BH disabled: an RCU
 *     reader). LIVE: it pushes. RETIRING: it takes the mailbox back with
 *     cmpxchg(RETIRING -> LIVE), then pushes. DEAD: it gets a new one;
 *  3. once the grace period is over, every push of a producer that read
 *     LIVE before step 1 is complete and visible to the arbiter (RCU's
 *     guarantee), and every later producer goes through the cmpxchg. The
 *     arbiter then frees the mailbox only if it is empty and unlisted and
 *     its own cmpxchg(RETIRING -> DEAD) wins. One of the two cmpxchg()s
 *     fails: the mailbox is taken back with its packets, or it was empty
 *     when it died and the thread's next packet starts a new one. So no
 *     packet is left behind and none overtakes an older one.
 * The exiting flag, claimed with xchg() by the exit probe or by the
 * arbiter at step 3, says which of the two reclaim paths frees it.
 */
#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <trace/events/sched.h>

#include "pspat.h"
#include "compat.h"

#define PSPAT_MB_HASH_BITS	10

struct pspat_mb_cache {
	struct task_struct	*task;
	struct pspat_mailbox	*mb;
	unsigned long		until;	/* jiffies, for a CPU mailbox */
};

/* A thread with no marker either uses the CPU mailbox this long. */
#define PSPAT_MB_NOMARKER_JIFFIES	(HZ / 10)
#define PSPAT_MB_BACKOFF_MAX		HZ

struct pspat_mb_stats pspat_mb_stats;

static DEFINE_HASHTABLE(pspat_mb_hash, PSPAT_MB_HASH_BITS);
static DEFINE_XARRAY_FLAGS(pspat_mb_ids, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);
static u32 pspat_mb_next_id;
static DEFINE_SPINLOCK(pspat_reg_lock);		/* hash and pspat_mb_all */
static LIST_HEAD(pspat_mb_all);
static LLIST_HEAD(pspat_mb_exiting);		/* owner passed the exit probe */
static LIST_HEAD(pspat_mb_dying);		/* arbiter: waiting for exit_state */
static LIST_HEAD(pspat_mb_retiring);		/* arbiter: idle, waiting for RCU */
static DEFINE_PER_CPU(struct pspat_mb_cache, pspat_mb_cache);
static DEFINE_PER_CPU(struct pspat_mailbox *, pspat_cpu_mb);
static struct tracepoint *pspat_exit_tp;
static bool pspat_mb_running;

static struct pspat_mailbox *pspat_mb_alloc(gfp_t gfp)
{
	unsigned long entries = READ_ONCE(pspat_mailbox_entries);
	unsigned long line = READ_ONCE(pspat_mailbox_line_size);
	struct pspat_mailbox *mb;
	size_t hdr, size;

	size = iffq_size(entries, line);
	if (!size)		/* the parameters are validated; be safe */
		return NULL;
	hdr = ALIGN(sizeof(*mb), line);
	/* kmalloc aligns to the size's power of two for these sizes. */
	mb = kzalloc(hdr + size, gfp | __GFP_NOWARN);
	if (!mb)
		return NULL;
	mb->fifo = (struct iffq *)((char *)mb + hdr);
	if (iffq_init(mb->fifo, entries, line) ||
	    xa_alloc_cyclic_bh(&pspat_mb_ids, &mb->id, mb, xa_limit_32b,
			       &pspat_mb_next_id, gfp) < 0) {
		kfree(mb);
		return NULL;
	}
	INIT_LIST_HEAD(&mb->active);
	INIT_LIST_HEAD(&mb->all);
	INIT_LIST_HEAD(&mb->retire);
	mb->cpu = -1;
	mb->idle_since = jiffies;
	return mb;
}

/* A marker: the hash entry of a thread refused a mailbox (no FIFO, no id). */
static struct pspat_mailbox *pspat_mb_alloc_marker(void)
{
	struct pspat_mailbox *m = kzalloc(sizeof(*m), GFP_ATOMIC | __GFP_NOWARN);

	if (!m)
		return NULL;
	m->state = PSPAT_MB_MARKER;
	INIT_LIST_HEAD(&m->active);
	INIT_LIST_HEAD(&m->all);
	INIT_LIST_HEAD(&m->retire);
	m->cpu = -1;
	return m;
}

/* The mailbox goes: after this, no fence can find it (they are all passed). */
static void pspat_mb_free_id(struct pspat_mailbox *mb)
{
	if (mb->id)
		xa_erase_bh(&pspat_mb_ids, mb->id);
}

/* BH disabled (an RCU reader): NULL once the mailbox is being reclaimed. */
struct pspat_mailbox *pspat_mb_by_id(u32 id)
{
	return id ? xa_load(&pspat_mb_ids, id) : NULL;
}

static void pspat_mb_free_rcu(struct rcu_head *rcu)
{
	struct pspat_mailbox *mb = container_of(rcu, struct pspat_mailbox, rcu);

	if (mb->task)
		put_task_struct(mb->task);
	kfree(mb);
}

/* @t's mailbox or marker; a dead mailbox is as good as none. */
static struct pspat_mailbox *pspat_mb_lookup(struct task_struct *t)
{
	struct pspat_mailbox *mb;

	hash_for_each_possible_rcu(pspat_mb_hash, mb, hnode, (unsigned long)t)
		if (mb->task == t && READ_ONCE(mb->state) != PSPAT_MB_DEAD)
			return mb;
	return NULL;
}

static void pspat_mb_publish(struct pspat_mailbox *mb, struct task_struct *t)
{
	get_task_struct(t);
	mb->task = t;
	spin_lock(&pspat_reg_lock);
	hash_add_rcu(pspat_mb_hash, &mb->hnode, (unsigned long)t);
	list_add_tail(&mb->all, &pspat_mb_all);
	spin_unlock(&pspat_reg_lock);
}

/*
 * Out of the hash and of every cache entry; freed after RCU by the caller.
 * Only @mb's own thread stores @mb in a cache entry, and not any more: it
 * is dead, @mb is DEAD, or (a marker) the thread itself is here.
 */
static void pspat_mb_unpublish(struct pspat_mailbox *mb)
{
	int cpu;

	spin_lock_bh(&pspat_reg_lock);
	hash_del_rcu(&mb->hnode);
	list_del(&mb->all);
	spin_unlock_bh(&pspat_reg_lock);
	for_each_possible_cpu(cpu) {
		struct pspat_mb_cache *c = per_cpu_ptr(&pspat_mb_cache, cpu);

		/* A racing store of another entry there is just a miss. */
		if (READ_ONCE(c->mb) == mb)
			WRITE_ONCE(c->task, NULL);
	}
}

/* Unpublish and free after RCU (the arbiter, or a marker's own thread). */
static void pspat_mb_reclaim(struct pspat_mailbox *mb)
{
	pspat_mb_unpublish(mb);
	if (mb->fifo) {
		pspat_mb_free_id(mb);
		atomic_dec(&pspat_mb_stats.live);
		atomic64_inc(&pspat_mb_stats.reclaimed);
	} else {
		atomic_dec(&pspat_mb_stats.fallback);
	}
	call_rcu(&mb->rcu, pspat_mb_free_rcu);
}

/*
 * Called by @t itself, BH disabled: a place under max_mailboxes and a new
 * mailbox, or NULL and in @why the reason.
 */
static struct pspat_mailbox *pspat_mb_create(struct task_struct *t, u8 *why)
{
	struct pspat_mailbox *mb;
	int live, peak;

	/* Reserve a place under max_mailboxes first: the bound is exact. */
	live = atomic_inc_return(&pspat_mb_stats.live);
	if (live > READ_ONCE(pspat_max_mailboxes)) {
		atomic_dec(&pspat_mb_stats.live);
		*why = PSPAT_MB_LIMITED;
		return NULL;
	}
	for (peak = atomic_read(&pspat_mb_stats.peak); live > peak;
	     peak = atomic_cmpxchg(&pspat_mb_stats.peak, peak, live))
		;
	mb = pspat_mb_alloc(GFP_ATOMIC);
	if (!mb) {
		atomic_dec(&pspat_mb_stats.live);
		*why = PSPAT_MB_FAILED;
		return NULL;
	}
	pspat_mb_publish(mb, t);
	atomic64_inc(&pspat_mb_stats.created);
	return mb;
}

/* A thread was refused a mailbox for @why: count it if that is news. */
static void pspat_mb_refused(struct pspat_mailbox *m, u8 why)
{
	if (m->why != why) {
		m->why = why;
		m->backoff = 1;
		atomic64_inc(why == PSPAT_MB_LIMITED ? &pspat_mb_stats.limited :
			     &pspat_mb_stats.alloc_fail);
	}
	if (why == PSPAT_MB_FAILED) {
		m->retry_at = jiffies + m->backoff;
		m->backoff = min_t(unsigned int, 2 * m->backoff,
				   PSPAT_MB_BACKOFF_MAX);
	}
}

/* May the thread of marker @m try to get a mailbox again? */
static bool pspat_mb_retry_due(const struct pspat_mailbox *m)
{
	if (m->why == PSPAT_MB_LIMITED)	/* a read: no atomic while full */
		return atomic_read(&pspat_mb_stats.live) <
		       (int)READ_ONCE(pspat_max_mailboxes);
	return time_after_eq(jiffies, m->retry_at);
}

static struct pspat_mailbox *pspat_mb_cache_set(struct pspat_mb_cache *c,
						struct task_struct *t,
						struct pspat_mailbox *mb)
{
	c->task = t;
	c->mb = mb;
	return mb;
}

/*
 * The thread of marker @m has its first mailbox @mb: its first packet
 * there waits for the CPU mailbox its last packet went to. The thread
 * itself pushed that packet (program order, or a migration's full
 * barrier), so the producer index read here is at or past it; the
 * arbiter's side is pspat_fence_passed(), the ordering pspat_order.c's.
 * A TCP packet's own flow fence (pspat_fence_set()) replaces this one.
 */
static void pspat_mb_handover(const struct pspat_mailbox *m,
			      struct pspat_skb_cb *cb)
{
	struct pspat_mailbox *prev = per_cpu(pspat_cpu_mb, m->fb_cpu);

	cb->fence_id = prev->id;
	cb->fence_seq = (u32)READ_ONCE(prev->fifo->prod_write);
}

/* @t has marker @m: a mailbox if it may try again and succeeds. */
static struct pspat_mailbox *pspat_mb_fallback(struct pspat_mb_cache *c,
					       struct task_struct *t,
					       struct pspat_mailbox *m,
					       struct pspat_skb_cb *cb)
{
	struct pspat_mailbox *mb;
	u8 why;

	if (!(t->flags & PF_EXITING) && pspat_mb_retry_due(m)) {
		mb = pspat_mb_create(t, &why);
		if (mb) {
			pspat_mb_handover(m, cb);
			pspat_mb_reclaim(m);
			return pspat_mb_cache_set(c, t, mb);
		}
		pspat_mb_refused(m, why);
	}
	m->fb_cpu = smp_processor_id();
	pspat_mb_cache_set(c, t, m);
	return __this_cpu_read(pspat_cpu_mb);
}

/* @t has neither mailbox nor marker: make one of them. */
static struct pspat_mailbox *pspat_mb_first(struct pspat_mb_cache *c,
					    struct task_struct *t)
{
	struct pspat_mailbox *cpu_mb = __this_cpu_read(pspat_cpu_mb);
	struct pspat_mailbox *mb;
	u8 why;

	/* The exit probe may have run: a new one would never be reaped. */
	if (t->flags & PF_EXITING)
		return cpu_mb;
	mb = pspat_mb_create(t, &why);
	if (mb)
		return pspat_mb_cache_set(c, t, mb);
	mb = pspat_mb_alloc_marker();
	if (!mb) {
		atomic64_inc(&pspat_mb_stats.alloc_fail);
		c->until = jiffies + PSPAT_MB_NOMARKER_JIFFIES;
		return pspat_mb_cache_set(c, t, cpu_mb);
	}
	pspat_mb_refused(mb, why);
	mb->fb_cpu = smp_processor_id();
	atomic_inc(&pspat_mb_stats.fallback);
	pspat_mb_publish(mb, t);
	pspat_mb_cache_set(c, t, mb);
	return cpu_mb;
}

/* A RETIRING mailbox of ours: take it back, unless the arbiter won. */
static bool pspat_mb_keep(struct pspat_mailbox *mb)
{
	int s = READ_ONCE(mb->state);

	if (s == PSPAT_MB_RETIRING &&
	    cmpxchg(&mb->state, PSPAT_MB_RETIRING, PSPAT_MB_LIVE) ==
	    PSPAT_MB_RETIRING)	/* pairs with pspat_mb_retire_done() */
		return true;
	return s == PSPAT_MB_LIVE;
}

static struct pspat_mailbox *pspat_mb_get_slow(struct pspat_mb_cache *c,
					       struct task_struct *t,
					       struct pspat_skb_cb *cb)
{
	struct pspat_mailbox *cpu_mb = __this_cpu_read(pspat_cpu_mb);
	struct pspat_mailbox *mb;

	if (c->task == t && c->mb == cpu_mb && time_before(jiffies, c->until))
		return cpu_mb;
	mb = pspat_mb_lookup(t);
	if (mb && !mb->fifo)
		return pspat_mb_fallback(c, t, mb, cb);
	if (mb && pspat_mb_keep(mb))
		return pspat_mb_cache_set(c, t, mb);
	return pspat_mb_first(c, t);
}

/**
 * pspat_mb_get - the mailbox the current context must push into
 * @cb: the packet's cb, fence_id 0: may get a fence (pspat_mb_handover())
 *
 * Called from the qdisc enqueue, with BH disabled (so neither preempted
 * nor interrupted by a softirq that could use the same CPU mailbox, and
 * an RCU reader: see "Idle reclaim" above).
 * Return: never NULL while a pspat qdisc exists.
 */
struct pspat_mailbox *pspat_mb_get(struct pspat_skb_cb *cb)
{
	struct pspat_mb_cache *c = this_cpu_ptr(&pspat_mb_cache);
	struct task_struct *t = current;
	struct pspat_mailbox *mb;

	if (!in_task())
		return __this_cpu_read(pspat_cpu_mb);
	if (likely(c->task == t)) {
		mb = c->mb;
		/* Markers and CPU mailboxes are never LIVE: see the slow path. */
		if (likely(READ_ONCE(mb->state) == PSPAT_MB_LIVE))
			return mb;
	}
	return pspat_mb_get_slow(c, t, cb);
}

/*
 * sched_process_exit probe: runs in the exiting task, before it closes its
 * files (so it may still send). Queue its mailbox for the arbiter.
 */
static void pspat_mb_task_exit(struct task_struct *t)
{
	struct pspat_mailbox *mb;

	rcu_read_lock();
	mb = pspat_mb_lookup(t);
	/* Pairs with the xchg() in pspat_mb_retire_done(). */
	if (mb && !xchg(&mb->exiting, 1)) {
		llist_add(&mb->exit_node, &pspat_mb_exiting);
		pspat_arb_kick();
	}
	rcu_read_unlock();
}

/* The two prototypes of the tracepoint (compat.h); one is registered. */
static void pspat_mb_exit_probe1(void *data, struct task_struct *t)
{
	pspat_mb_task_exit(t);
}

static void pspat_mb_exit_probe2(void *data, struct task_struct *t,
				 bool group_dead)
{
	pspat_mb_task_exit(t);
}

#define pspat_mb_exit_probe \
	pspat_exit_probe_pick(pspat_mb_exit_probe1, pspat_mb_exit_probe2)

/*
 * The probe is registered untyped (the tracepoint is found by name: it is
 * not exported), so check here, for each kernel we build for, that its
 * prototype is the tracepoint's: a drift would compile and then, under
 * kCFI, trap at run time.
 */
static_assert(pspat_exit_probe_ok(pspat_mb_exit_probe),
	      "sched_process_exit's prototype changed: adapt pspat_mb_exit_probe() in compat.h");

bool pspat_mb_gc_pending(void)
{
	return !llist_empty(&pspat_mb_exiting) || !list_empty(&pspat_mb_dying) ||
	       !list_empty(&pspat_mb_retiring);
}

/**
 * pspat_mb_idle_scan - retire the thread mailboxes idle for @ms
 * @ms: mailbox_idle_ms, not 0
 *
 * Arbiter context, arbiter mutex held. Step 1 of "Idle reclaim" above;
 * pspat_mb_gc() does step 3.
 * Return: jiffies until the next scan is worth it, at least an eighth of
 * @ms (the scan walks every mailbox with BH off).
 */
unsigned long pspat_mb_idle_scan(unsigned int ms)
{
	unsigned long idle = msecs_to_jiffies(ms), now = jiffies, gp;
	unsigned long next = idle, floor = idle / 8 + 1;
	struct pspat_mailbox *mb, *tmp;
	LIST_HEAD(batch);

	spin_lock_bh(&pspat_reg_lock);
	list_for_each_entry(mb, &pspat_mb_all, all) {
		long left;

		if (!mb->fifo || READ_ONCE(mb->state) != PSPAT_MB_LIVE ||
		    pspat_mb_listed(mb) || READ_ONCE(mb->exiting) ||
		    !list_empty(&mb->retire))
			continue;
		left = (long)(mb->idle_since + idle - now);
		if (left > 0) {
			next = min_t(unsigned long, next, left);
			continue;
		}
		WRITE_ONCE(mb->state, PSPAT_MB_RETIRING);
		list_add_tail(&mb->retire, &batch);
	}
	spin_unlock_bh(&pspat_reg_lock);
	if (!list_empty(&batch)) {
		/* After the stores of RETIRING: readers that missed them end first. */
		gp = start_poll_synchronize_rcu();
		list_for_each_entry_safe(mb, tmp, &batch, retire)
			mb->gp = gp;
		list_splice_tail(&batch, &pspat_mb_retiring);
	}
	return max(next, floor);
}

/* Step 3 of "Idle reclaim": true if @mb was freed. */
static bool pspat_mb_retire_done(struct pspat_mailbox *mb)
{
	if (READ_ONCE(mb->state) != PSPAT_MB_RETIRING) {
		list_del_init(&mb->retire);	/* taken back by its thread */
		return false;
	}
	if (!poll_state_synchronize_rcu(mb->gp))
		return false;
	/* Pushed meanwhile by a producer that read LIVE: served first. */
	if (pspat_mb_listed(mb) || !iffq_empty(mb->fifo))
		return false;
	/* Pairs with pspat_mb_keep(): one of the two wins. */
	if (cmpxchg(&mb->state, PSPAT_MB_RETIRING, PSPAT_MB_DEAD) !=
	    PSPAT_MB_RETIRING) {
		list_del_init(&mb->retire);
		return false;
	}
	list_del_init(&mb->retire);
	/* Exiting: pspat_mb_gc()'s dying list frees it. */
	if (xchg(&mb->exiting, 1))
		return false;
	pspat_mb_reclaim(mb);
	atomic64_inc(&pspat_mb_stats.idle_reclaimed);
	return true;
}

/**
 * pspat_mb_gc - reclaim the mailboxes of dead threads and retired idle ones
 * (arbiter context, arbiter mutex held, so this is the consumer of every
 * mailbox)
 *
 * Return: true if it got anywhere (took newly exiting threads or freed a
 * mailbox), false if every one it waits for is still on its way out.
 */
bool pspat_mb_gc(void)
{
	struct llist_node *n = llist_del_all(&pspat_mb_exiting);
	struct pspat_mailbox *mb, *tmp;
	bool progress = n;

	llist_for_each_entry_safe(mb, tmp, n, exit_node)
		list_add_tail(&mb->dying, &pspat_mb_dying);

	list_for_each_entry_safe(mb, tmp, &pspat_mb_dying, dying) {
		/*
		 * exit_state is set after the task closed its files: it will
		 * not push again. Its pushes happened before (its own program
		 * order, then the release of exit_notify()'s locks).
		 */
		if (!READ_ONCE(mb->task->exit_state))
			continue;
		/* Order the exit_state read before the mailbox reads. */
		smp_rmb();
		if (pspat_mb_listed(mb) || (mb->fifo && !iffq_empty(mb->fifo)))
			continue;	/* the arbiter still serves it */
		list_del(&mb->dying);
		list_del_init(&mb->retire);
		pspat_mb_reclaim(mb);
		progress = true;
	}

	list_for_each_entry_safe(mb, tmp, &pspat_mb_retiring, retire)
		progress |= pspat_mb_retire_done(mb);
	return progress;
}

static void pspat_mb_find_exit_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_exit"))
		pspat_exit_tp = tp;
}

/* Start of the first pspat qdisc: CPU mailboxes and the exit probe. */
int pspat_mb_start(void)
{
	struct pspat_mailbox *mb;
	int cpu, err;

	for_each_possible_cpu(cpu) {
		mb = pspat_mb_alloc(GFP_KERNEL);

		if (!mb) {
			err = -ENOMEM;
			goto fail;
		}
		mb->cpu = cpu;
		mb->state = PSPAT_MB_CPU;
		per_cpu(pspat_cpu_mb, cpu) = mb;
	}
	if (pspat_exit_tp) {
		err = tracepoint_probe_register(pspat_exit_tp,
						pspat_mb_exit_probe, NULL);
		if (err)
			goto fail;
	}
	pspat_mb_running = true;
	return 0;
fail:
	for_each_possible_cpu(cpu) {
		mb = per_cpu(pspat_cpu_mb, cpu);
		if (mb) {
			pspat_mb_free_id(mb);
			kfree(mb);
		}
		per_cpu(pspat_cpu_mb, cpu) = NULL;
	}
	return err;
}

/* Stop the exit probe (before the arbiter it kicks goes away). */
void pspat_mb_quiesce(void)
{
	if (pspat_exit_tp && pspat_mb_running) {
		tracepoint_probe_unregister(pspat_exit_tp, pspat_mb_exit_probe,
					    NULL);
		tracepoint_synchronize_unregister();
	}
}

/*
 * Last pspat qdisc gone, arbiter stopped: every mailbox is empty (each
 * qdisc waited for its packets to leave them). Free them all.
 */
void pspat_mb_stop(void)
{
	struct pspat_mailbox *mb, *tmp;
	LIST_HEAD(all);
	int cpu;

	if (!pspat_mb_running)
		return;
	llist_del_all(&pspat_mb_exiting);
	INIT_LIST_HEAD(&pspat_mb_dying);
	INIT_LIST_HEAD(&pspat_mb_retiring);

	spin_lock_bh(&pspat_reg_lock);
	list_splice_init(&pspat_mb_all, &all);
	list_for_each_entry(mb, &all, all)
		hash_del_rcu(&mb->hnode);
	spin_unlock_bh(&pspat_reg_lock);
	list_for_each_entry(mb, &all, all)
		pspat_mb_free_id(mb);
	for_each_possible_cpu(cpu)
		if (per_cpu(pspat_cpu_mb, cpu))
			pspat_mb_free_id(per_cpu(pspat_cpu_mb, cpu));
	for_each_possible_cpu(cpu) {
		struct pspat_mb_cache *c = per_cpu_ptr(&pspat_mb_cache, cpu);

		c->task = NULL;
		c->mb = NULL;
	}
	synchronize_rcu();
	list_for_each_entry_safe(mb, tmp, &all, all) {
		if (mb->fifo) {
			WARN_ON_ONCE(!iffq_empty(mb->fifo));
			atomic_dec(&pspat_mb_stats.live);
			atomic64_inc(&pspat_mb_stats.reclaimed);
		} else {
			atomic_dec(&pspat_mb_stats.fallback);
		}
		pspat_mb_free_rcu(&mb->rcu);
	}
	for_each_possible_cpu(cpu) {
		mb = per_cpu(pspat_cpu_mb, cpu);
		WARN_ON_ONCE(mb && !iffq_empty(mb->fifo));
		kfree(mb);
		per_cpu(pspat_cpu_mb, cpu) = NULL;
	}
	pspat_mb_running = false;
}

int pspat_mb_init(void)
{
	for_each_kernel_tracepoint(pspat_mb_find_exit_tp, NULL);
	if (!pspat_exit_tp)
		pr_warn("sch_pspat: no sched_process_exit tracepoint: mailboxes of exited threads are kept until the last pspat qdisc goes\n");
	return 0;
}

void pspat_mb_exit(void)
{
	rcu_barrier();	/* pending pspat_mb_free_rcu() callbacks */
}
