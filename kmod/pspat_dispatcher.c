// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_dispatcher.c - the dispatcher kthread "pspat-snd"
 * (xmit_mode=dispatcher).
 *
 * The arbiter pushes the packets it dequeues into one IFFQ (arbiter:
 * producer, dispatcher: consumer) instead of calling the driver itself, so
 * the arbiter's cycles go to scheduling only. The dispatcher takes up to
 * dispatch_batch packets at a time and sends each qdisc's run of them
 * through the transmit stage (pspat_xmit.c): the same device path as the
 * core's after a qdisc (validation, txq lock, xmit_more), and the packets
 * never pass through pspat's enqueue or mailboxes again.
 *
 * Why not dev_queue_xmit(), as the original PSPAT patch did: for a qdisc
 * module it would run the device's egress hooks (tc clsact, netfilter
 * egress) a second time, pick the txq again from the dispatcher's CPU
 * (XPS) rather than keep the sender's, and land in pspat's own enqueue.
 *
 * A full queue makes the arbiter keep packets in the child (one dequeued
 * packet waits in a per-qdisc stash). The queue stays empty in arbiter
 * mode; switching back to arbiter mode waits until the dispatcher has
 * emptied it, so nothing is reordered.
 *
 * Wake-ups, both ways, each the complete pattern (publish, full barrier,
 * read the other side's flag; the sleeper sets its flag, full barrier,
 * then looks at what it would be woken for):
 * - arbiter -> dispatcher: pspat_disp_kick() after pushing, paired with
 *   set_current_state() in pspat_disp_thread(), which then looks at
 *   ->kicked and at the queue itself;
 * - dispatcher -> arbiter, only when the arbiter waits for it (a full
 *   queue, or back to arbiter mode with packets still queued): the
 *   arbiter sets ->arb_waits and looks again (pspat_disp_wait()); after a
 *   batch the dispatcher reads ->arb_waits and kicks. Kicking after every
 *   batch instead would cost the arbiter a wake-up (and idle_poll_us of
 *   polling) per batch at low load.
 */
#include <linux/kthread.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "pspat.h"
#include "pspat_trace.h"

#define PSPAT_DISP_ENTRIES	2048
#define PSPAT_DISP_LINE		128

static struct {
	struct iffq		*fifo;
	struct task_struct __rcu *task;
	int			sleeping;
	int			kicked;
	int			arb_waits;	/* the arbiter wants a kick */
	int			applied_cpu;
	struct pspat_disp_stats	stats;
} pspat_disp;

/*
 * Arbiter: it will wait for the dispatcher (room in the queue, or the
 * queue emptied); ask for a kick after the next batch. The caller looks
 * at what it waits for *after* this: the full barrier pairs with the one
 * in pspat_disp_thread() between a batch and reading ->arb_waits, so
 * either the arbiter sees what that batch did or the dispatcher sees the
 * request.
 */
void pspat_disp_wait(void)
{
	WRITE_ONCE(pspat_disp.arb_waits, 1);
	smp_mb();	/* pairs with smp_mb() after a batch, pspat_disp_thread() */
}

/* Arbiter only. 0, or -ENOBUFS when the queue is full. */
int pspat_disp_push(struct sk_buff *skb)
{
	if (likely(!iffq_insert(pspat_disp.fifo, skb)))
		return 0;
	/* Full: ask for a kick, then look again (see pspat_disp_wait()). */
	pspat_disp_wait();
	return iffq_insert(pspat_disp.fifo, skb);
}

/*
 * Arbiter: packets were pushed, or a parameter changed. Publish ->kicked
 * every time, then a full barrier, then read ->sleeping: pairs with
 * set_current_state() in pspat_disp_thread(). Skipping the barrier when
 * ->kicked is still 1 would let the read of ->sleeping pass pushes still
 * in our store buffer while the dispatcher clears ->kicked, finds the
 * queue empty and sleeps. A write per round, not per packet.
 */
void pspat_disp_kick(void)
{
	struct task_struct *t;

	WRITE_ONCE(pspat_disp.kicked, 1);
	smp_mb();	/* pairs with set_current_state() in pspat_disp_thread() */
	if (!READ_ONCE(pspat_disp.sleeping))
		return;
	rcu_read_lock();
	t = rcu_dereference(pspat_disp.task);
	if (t)
		wake_up_process(t);
	rcu_read_unlock();
}

/* Send one qdisc's run, then release it (last access to @q). */
static void pspat_disp_flush(struct pspat_sched *q, struct sk_buff *head,
			     unsigned int n)
{
	pspat_xmit(q, head);
	/* Release: pspat_arb_detach() may free @q once it sees this. */
	smp_store_release(&q->from_disp, q->from_disp + n);
}

static unsigned int pspat_disp_batch(void)
{
	unsigned int budget = READ_ONCE(pspat_dispatch_batch);
	struct sk_buff *head = NULL, *tail = NULL, *skb;
	struct pspat_sched *q = NULL;
	unsigned int n = 0, run = 0;

	while (n < budget && (skb = iffq_extract(pspat_disp.fifo))) {
		struct pspat_sched *sq = pspat_cb(skb)->q;

		if (sq != q && head) {
			pspat_disp_flush(q, head, run);
			head = NULL;
			run = 0;
		}
		q = sq;
		skb->next = NULL;
		if (head)
			tail->next = skb;
		else
			head = skb;
		tail = skb;
		run++;
		n++;
	}
	if (head)
		pspat_disp_flush(q, head, run);
	iffq_clear(pspat_disp.fifo);
	return n;
}

static int pspat_disp_thread(void *unused)
{
	while (!kthread_should_stop()) {
		unsigned int n;
		u64 t0;

		pspat_apply_cpu(&pspat_disp.applied_cpu,
				READ_ONCE(pspat_dispatcher_cpu));
		xchg(&pspat_disp.kicked, 0);
		local_bh_disable();
		t0 = local_clock();	/* busy_ns: as the arbiter's */
		n = pspat_disp_batch();
		if (n)
			pspat_disp.stats.busy_ns += local_clock() - t0;
		local_bh_enable();
		if (n) {
			trace_pspat_dispatch_batch(n);
			pspat_disp.stats.batches++;
			pspat_disp.stats.packets += n;
			/* Pairs with smp_mb() in pspat_disp_wait(). */
			smp_mb();
			if (READ_ONCE(pspat_disp.arb_waits)) {
				/*
				 * A request that lands between the read and
				 * this write is not lost: the kick makes the
				 * arbiter look again, and one that still
				 * waits asks again.
				 */
				WRITE_ONCE(pspat_disp.arb_waits, 0);
				pspat_disp.stats.arb_kicks++;
				pspat_arb_kick();
			}
			cond_resched();
			continue;
		}
		WRITE_ONCE(pspat_disp.sleeping, 1);
		set_current_state(TASK_INTERRUPTIBLE);	/* full barrier */
		if (READ_ONCE(pspat_disp.kicked) ||
		    !iffq_empty(pspat_disp.fifo) || kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
		} else {
			pspat_disp.stats.sleeps++;
			schedule();
		}
		WRITE_ONCE(pspat_disp.sleeping, 0);
	}
	return 0;
}

int pspat_disp_start(void)
{
	size_t size = iffq_size(PSPAT_DISP_ENTRIES, PSPAT_DISP_LINE);
	struct task_struct *t;
	int err;

	pspat_disp.fifo = kvzalloc(size, GFP_KERNEL);
	if (!pspat_disp.fifo)
		return -ENOMEM;
	err = iffq_init(pspat_disp.fifo, PSPAT_DISP_ENTRIES, PSPAT_DISP_LINE);
	if (err)
		goto fail;
	pspat_disp.kicked = 0;
	pspat_disp.arb_waits = 0;
	pspat_disp.sleeping = 0;
	pspat_disp.applied_cpu = INT_MIN;
	t = kthread_create(pspat_disp_thread, NULL, "pspat-snd");
	if (IS_ERR(t)) {
		err = PTR_ERR(t);
		goto fail;
	}
	rcu_assign_pointer(pspat_disp.task, t);
	wake_up_process(t);
	return 0;
fail:
	kvfree(pspat_disp.fifo);
	pspat_disp.fifo = NULL;
	return err;
}

/* After the last qdisc: its packets have all left the queue. */
void pspat_disp_stop(void)
{
	struct task_struct *t = rcu_dereference_protected(pspat_disp.task, 1);

	if (!t)
		return;
	RCU_INIT_POINTER(pspat_disp.task, NULL);
	synchronize_rcu();
	kthread_stop(t);
	WARN_ON_ONCE(!iffq_empty(pspat_disp.fifo));
	kvfree(pspat_disp.fifo);
	pspat_disp.fifo = NULL;
}

void pspat_disp_snapshot(struct pspat_disp_stats *s, bool *running)
{
	*s = pspat_disp.stats;
	*running = !!rcu_access_pointer(pspat_disp.task);
}
