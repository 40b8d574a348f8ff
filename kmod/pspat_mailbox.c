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
 * whose mailbox could not be allocated (GFP_ATOMIC failure, counted), that
 * found max_mailboxes thread mailboxes in use (counted: a limit on the
 * memory unprivileged senders can pin, docs/threat-model.md) or that is
 * exiting. Such a packet may overtake older packets of the same
 * thread still in its own mailbox.
 *
 * Lookup: a per-CPU cache of the last task -> mailbox, then an RCU hash
 * keyed by task. The mailbox holds a reference on its task, so the task
 * pointer cannot be reused while a cache entry or the hash refers to it.
 *
 * Ids: every mailbox has a 32-bit id, so that a fence (pspat_order.c) can
 * name a mailbox that may be reclaimed before the fence is looked at. The
 * id is erased before the mailbox is freed after RCU, so pspat_mb_by_id()
 * from a BH-disabled (RCU) section returns NULL or a live mailbox; ids are
 * handed out cyclically, so one is not reused for a long time.
 *
 * Reclaim: a probe on the sched_process_exit tracepoint queues the exiting
 * task's mailbox and kicks the arbiter. The arbiter (pspat_mb_gc(), the
 * consumer, so nothing races with its reads) frees it once the task is
 * dead (exit_state set: it can send no more) and the mailbox is empty and
 * unlisted: removed from the hash and the caches, then freed after an RCU
 * grace period together with the task reference.
 */
#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <trace/events/sched.h>

#include "pspat.h"

#define PSPAT_MB_HASH_BITS	10

struct pspat_mb_cache {
	struct task_struct	*task;
	struct pspat_mailbox	*mb;
};

struct pspat_mb_stats pspat_mb_stats;

static DEFINE_HASHTABLE(pspat_mb_hash, PSPAT_MB_HASH_BITS);
static DEFINE_XARRAY_FLAGS(pspat_mb_ids, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);
static u32 pspat_mb_next_id;
static DEFINE_SPINLOCK(pspat_reg_lock);		/* hash and pspat_mb_all */
static LIST_HEAD(pspat_mb_all);
static LLIST_HEAD(pspat_mb_exiting);		/* owner passed the exit probe */
static LIST_HEAD(pspat_mb_dying);		/* arbiter: waiting for exit_state */
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
	mb->cpu = -1;
	return mb;
}

/* The mailbox goes: after this, no fence can find it (they are all passed). */
static void pspat_mb_free_id(struct pspat_mailbox *mb)
{
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

static struct pspat_mailbox *pspat_mb_lookup(struct task_struct *t)
{
	struct pspat_mailbox *mb;

	hash_for_each_possible_rcu(pspat_mb_hash, mb, hnode, (unsigned long)t)
		if (mb->task == t)
			return mb;
	return NULL;
}

/* Called by @t itself, BH disabled. NULL: use the CPU mailbox. */
static struct pspat_mailbox *pspat_mb_create(struct task_struct *t)
{
	struct pspat_mailbox *mb;
	int live, peak;

	/* The exit probe may have run: a new mailbox would never be reaped. */
	if (t->flags & PF_EXITING)
		return NULL;
	/* Reserve a place under max_mailboxes first: the bound is exact. */
	live = atomic_inc_return(&pspat_mb_stats.live);
	if (live > READ_ONCE(pspat_max_mailboxes)) {
		atomic_dec(&pspat_mb_stats.live);
		atomic64_inc(&pspat_mb_stats.limited);
		return NULL;
	}
	for (peak = atomic_read(&pspat_mb_stats.peak); live > peak;
	     peak = atomic_cmpxchg(&pspat_mb_stats.peak, peak, live))
		;
	mb = pspat_mb_alloc(GFP_ATOMIC);
	if (!mb) {
		atomic_dec(&pspat_mb_stats.live);
		atomic64_inc(&pspat_mb_stats.alloc_fail);
		return NULL;
	}
	get_task_struct(t);
	mb->task = t;
	spin_lock(&pspat_reg_lock);
	hash_add_rcu(pspat_mb_hash, &mb->hnode, (unsigned long)t);
	list_add_tail(&mb->all, &pspat_mb_all);
	spin_unlock(&pspat_reg_lock);
	atomic64_inc(&pspat_mb_stats.created);
	return mb;
}

/**
 * pspat_mb_get - the mailbox the current context must push into
 *
 * Called from the qdisc enqueue, with BH disabled (so neither preempted
 * nor interrupted by a softirq that could use the same CPU mailbox).
 * Return: never NULL while a pspat qdisc exists.
 */
struct pspat_mailbox *pspat_mb_get(void)
{
	struct pspat_mb_cache *c = this_cpu_ptr(&pspat_mb_cache);
	struct task_struct *t = current;
	struct pspat_mailbox *mb;

	if (!in_task())
		return __this_cpu_read(pspat_cpu_mb);
	if (likely(c->task == t))
		return c->mb;
	mb = pspat_mb_lookup(t);
	if (!mb)
		mb = pspat_mb_create(t);
	if (!mb)
		return __this_cpu_read(pspat_cpu_mb);
	c->task = t;
	c->mb = mb;
	return mb;
}

/*
 * sched_process_exit probe: runs in the exiting task, before it closes its
 * files (so it may still send). Queue its mailbox for the arbiter.
 */
static void pspat_mb_exit_probe(void *data, struct task_struct *t)
{
	struct pspat_mailbox *mb;

	rcu_read_lock();
	mb = pspat_mb_lookup(t);
	if (mb && !xchg(&mb->exiting, 1)) {
		llist_add(&mb->exit_node, &pspat_mb_exiting);
		pspat_arb_kick();
	}
	rcu_read_unlock();
}

/*
 * The probe is registered untyped (the tracepoint is found by name: it is
 * not exported), so check here, for each kernel we build for, that its
 * prototype is the tracepoint's: a drift would compile and then, under
 * kCFI, trap at run time.
 */
typedef void (*pspat_exit_probe_t)(void *data, struct task_struct *t);
static_assert(__same_type(&pspat_mb_exit_probe, pspat_exit_probe_t));
static_assert(__same_type(&register_trace_sched_process_exit,
			  int (*)(pspat_exit_probe_t, void *)),
	      "sched_process_exit's prototype changed: adapt pspat_mb_exit_probe() in compat.h");

bool pspat_mb_gc_pending(void)
{
	return !llist_empty(&pspat_mb_exiting) || !list_empty(&pspat_mb_dying);
}

static void pspat_mb_unpublish(struct pspat_mailbox *mb)
{
	int cpu;

	spin_lock_bh(&pspat_reg_lock);
	hash_del_rcu(&mb->hnode);
	list_del(&mb->all);
	spin_unlock_bh(&pspat_reg_lock);
	/* Only the owner (dead) ever stores its task in a cache entry. */
	for_each_possible_cpu(cpu) {
		struct pspat_mb_cache *c = per_cpu_ptr(&pspat_mb_cache, cpu);

		if (READ_ONCE(c->task) == mb->task)
			WRITE_ONCE(c->task, NULL);
	}
}

/**
 * pspat_mb_gc - reclaim the mailboxes of dead threads (arbiter context,
 * arbiter mutex held, so this is the consumer of every mailbox)
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
		if (READ_ONCE(mb->listed) || !iffq_empty(mb->fifo))
			continue;	/* the arbiter still serves it */
		list_del(&mb->dying);
		pspat_mb_unpublish(mb);
		pspat_mb_free_id(mb);
		atomic_dec(&pspat_mb_stats.live);
		atomic64_inc(&pspat_mb_stats.reclaimed);
		call_rcu(&mb->rcu, pspat_mb_free_rcu);
		progress = true;
	}
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
		WARN_ON_ONCE(!iffq_empty(mb->fifo));
		atomic_dec(&pspat_mb_stats.live);
		atomic64_inc(&pspat_mb_stats.reclaimed);
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
