// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_qdisc.c - the "pspat" root qdisc and its single class 1:1.
 *
 * The tc interface of sch_pspat (see pspat.h for the data path). Class 1:1
 * holds the child scheduler, a pfifo with the device's tx_queue_len by
 * default; graft any other with `tc qdisc replace dev X parent 1:1 ...`.
 *
 * The qdisc is TCQ_F_NOLOCK with per-CPU stats: enqueue (pspat_client.c)
 * never takes the root lock. Only the arbiter runs the child, under the
 * root lock, which is also the lock tc takes to change the child and its
 * classes (sch_tree_lock()). Dequeue never returns a packet: the core calls
 * it (under the seqlock) after every enqueue, when a child's watchdog
 * fires and when a driver wakes a txq; it is the arbiter's doorbell.
 *
 * Options (include/pspat/pspat_uapi.h) are per qdisc: its xmit mode, its
 * batch and its held limit. Everything the qdiscs share (the arbiter,
 * the dispatcher, the mailboxes) is set by module parameters. A change
 * takes effect at the arbiter's next round; packets in flight are neither
 * lost nor reordered (a switch to arbiter mode waits for the dispatcher).
 */
#include <linux/module.h>
#include <linux/skbuff.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#include "compat.h"
#include "pspat.h"

#define PSPAT_CHILD_MINOR	1

/* Types and lengths; the ranges are checked below to name the option. */
static const struct nla_policy pspat_policy[TCA_PSPAT_MAX + 1] = {
	[TCA_PSPAT_XMIT_MODE]	= { .type = NLA_U8 },
	[TCA_PSPAT_BATCH]	= { .type = NLA_U32 },
	[TCA_PSPAT_HELD_LIMIT]	= { .type = NLA_U32 },
};

/*
 * Parse and check every option first, then apply them all: a bad option
 * leaves the qdisc as it was. Absent options keep their value.
 */
static int pspat_change(struct Qdisc *sch, struct nlattr *opt,
			struct netlink_ext_ack *extack)
{
	struct pspat_sched *q = qdisc_priv(sch);
	struct nlattr *tb[TCA_PSPAT_MAX + 1];
	int err;

	if (!opt)
		return 0;
	err = nla_parse_nested(tb, TCA_PSPAT_MAX, opt, pspat_policy, extack);
	if (err < 0)
		return err;
	if (tb[TCA_PSPAT_XMIT_MODE] &&
	    nla_get_u8(tb[TCA_PSPAT_XMIT_MODE]) >= __TC_PSPAT_XMIT_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_PSPAT_XMIT_MODE],
				    "pspat: xmit_mode must be default (0), arbiter (1) or dispatcher (2)");
		return -EINVAL;
	}
	if (tb[TCA_PSPAT_BATCH] &&
	    nla_get_u32(tb[TCA_PSPAT_BATCH]) > TC_PSPAT_BATCH_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, tb[TCA_PSPAT_BATCH],
				    "pspat: batch must be 0 (the module's arb_batch) to 4096 packets");
		return -EINVAL;
	}
	if (tb[TCA_PSPAT_HELD_LIMIT]) {
		u32 v = nla_get_u32(tb[TCA_PSPAT_HELD_LIMIT]);

		if (v < TC_PSPAT_HELD_LIMIT_MIN || v > TC_PSPAT_HELD_LIMIT_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, tb[TCA_PSPAT_HELD_LIMIT],
					    "pspat: held_limit must be 1 to 65536 packets");
			return -EINVAL;
		}
	}

	if (tb[TCA_PSPAT_XMIT_MODE])
		WRITE_ONCE(q->xmit_mode, nla_get_u8(tb[TCA_PSPAT_XMIT_MODE]));
	if (tb[TCA_PSPAT_BATCH])
		WRITE_ONCE(q->batch, nla_get_u32(tb[TCA_PSPAT_BATCH]));
	if (tb[TCA_PSPAT_HELD_LIMIT])
		WRITE_ONCE(q->held_limit, nla_get_u32(tb[TCA_PSPAT_HELD_LIMIT]));
	/* Held or throttled packets may be free to go now. */
	if (q->attached)
		pspat_arb_params_changed();
	return 0;
}

/*
 * Changes the child makes to its parent's counters through
 * qdisc_tree_reduce_backlog() (drops inside the child, a purged class, a
 * replaced child) land in the root's plain fields, which a per-CPU stats
 * qdisc does not report: move them into this CPU's counters. Root lock
 * held, BH disabled.
 */
void pspat_fold_stats(struct Qdisc *sch)
{
	struct gnet_stats_queue *qs;

	if (likely(!sch->q.qlen && !sch->qstats.backlog && !sch->qstats.drops))
		return;
	qs = this_cpu_ptr(sch->cpu_qstats);
	qs->qlen += sch->q.qlen;
	qs->backlog += sch->qstats.backlog;
	qs->drops += sch->qstats.drops;
	sch->q.qlen = 0;
	sch->qstats.backlog = 0;
	sch->qstats.drops = 0;
}

static struct sk_buff *pspat_dequeue(struct Qdisc *sch)
{
	/*
	 * We never return a packet, so no one else would clear MISSED and
	 * qdisc_run_end() would reschedule us forever.
	 */
	if (test_bit(__QDISC_STATE_MISSED, &sch->state))
		clear_bit(__QDISC_STATE_MISSED, &sch->state);
	/* A read per client packet: an awake arbiter needs no kick. */
	if (unlikely(pspat_arb_asleep()))
		pspat_arb_kick();
	return NULL;
}

static struct sk_buff *pspat_peek(struct Qdisc *sch)
{
	return NULL;
}

/*
 * Root only: below a class, a dequeue that never returns a packet would
 * starve the parent. One exception: as net.core.default_qdisc on a
 * multi-queue device, the kernel makes mq the root and mq creates a
 * default qdisc for every txq, with no options and parent 0:N, while the
 * device has no root yet. Each of those is its txq's own root (the stack
 * transmits to it directly), and pspat serves it as it serves a root:
 * one pspat per txq, as fq_codel would be. Refusing would leave the
 * device with noqueue.
 */
static bool pspat_txq_default(struct Qdisc *sch, struct nlattr *opt)
{
	return !opt && !TC_H_MAJ(sch->parent) &&
	       rtnl_dereference(qdisc_dev(sch)->qdisc) == &noop_qdisc;
}

static int pspat_init(struct Qdisc *sch, struct nlattr *opt,
		      struct netlink_ext_ack *extack)
{
	struct pspat_sched *q = qdisc_priv(sch);
	int err;

	q->sch = sch;
	if (sch->parent != TC_H_ROOT && !pspat_txq_default(sch, opt)) {
		NL_SET_ERR_MSG(extack, "pspat must be the root qdisc: use 'root', not 'parent'");
		return -EOPNOTSUPP;
	}
	q->held_limit = TC_PSPAT_HELD_LIMIT_DEFAULT;
	err = pspat_change(sch, opt, extack);
	if (err)
		return err;
	q->pcpu = alloc_percpu(struct pspat_sched_pcpu);
	if (!q->pcpu || pspat_xmit_init(q)) {
		NL_SET_ERR_MSG(extack, "pspat: no memory for counters or held lists");
		return -ENOMEM;
	}
	/* pfifo with no options uses the device's tx_queue_len as limit. */
	q->child = qdisc_create_dflt(sch->dev_queue, &pfifo_qdisc_ops,
				     TC_H_MAKE(sch->handle, PSPAT_CHILD_MINOR),
				     extack);
	if (!q->child) {
		NL_SET_ERR_MSG(extack, "pspat: cannot create the default pfifo child");
		return -ENOMEM;
	}
	/* Like other default children (prio, tbf): `tc qdisc show invisible`. */
	qdisc_hash_add(q->child, true);
	err = pspat_arb_attach(q);
	if (err)
		NL_SET_ERR_MSG(extack, "pspat: cannot start the arbiter or dispatcher");
	return err;
}

/*
 * The device goes down (dev_deactivate() -> dev_reset_queue(): seqlock and
 * root lock held, no client inside the enqueue any more), or the driver
 * cuts its tx queues (qdisc_reset_all_tx_gt(): root lock only, clients
 * and the transmit stage running). Drop what the child holds; packets
 * still in mailboxes, on their way to the dispatcher or held carry the
 * old generation and are dropped where found. All of it is counted as
 * dropped, so the accounting still adds up.
 */
static void pspat_reset(struct Qdisc *sch)
{
	struct pspat_sched *q = qdisc_priv(sch);
	struct gnet_stats_queue *qs;
	unsigned int qlen, backlog;

	/*
	 * __qdisc_destroy() also calls us, with no lock and the refcount at
	 * zero, before pspat_destroy(): the arbiter may still be running the
	 * child then. pspat_destroy() detaches from the arbiter first and
	 * frees everything itself.
	 */
	if (!refcount_read(&sch->refcnt) || !q->child)
		return;
	WRITE_ONCE(q->gen, q->gen + 1);
	qlen = qdisc_qlen_sum(q->child);
	backlog = q->child->qstats.backlog;
	if (qdisc_is_percpu_stats(q->child)) {
		struct gnet_stats_queue sum = {};
		int cpu;

		for_each_possible_cpu(cpu)
			sum.backlog += per_cpu_ptr(q->child->cpu_qstats, cpu)->backlog;
		backlog = sum.backlog;
	}
	qdisc_reset(q->child);
	qs = this_cpu_ptr(sch->cpu_qstats);
	qs->qlen -= qlen;
	qs->backlog -= backlog;
	qs->drops += qlen;
	pspat_fold_stats(sch);
	/*
	 * The held lists belong to the transmit stage, under the seqlock.
	 * dev_reset_queue() holds it, after dev_deactivate() unhooked us
	 * from the txqs: purge. qdisc_reset_all_tx_gt() (a driver cutting
	 * its tx queues, e.g. ethtool -L) holds only the root lock while we
	 * are live: leave them, the new generation makes the transmit stage
	 * drop them, counted, the next time it looks at them.
	 */
	if (rcu_access_pointer(sch->dev_queue->qdisc) != sch)
		__pspat_xmit_purge(q);
	q->child_qlen = 0;
}

static void pspat_destroy(struct Qdisc *sch)
{
	struct pspat_sched *q = qdisc_priv(sch);

	/* init may have failed at any step. */
	if (q->attached)
		pspat_arb_detach(q);
	if (q->child)
		qdisc_put(q->child);
	pspat_xmit_free(q);
	free_percpu(q->pcpu);
}

static int pspat_dump(struct Qdisc *sch, struct sk_buff *skb)
{
	struct pspat_sched *q = qdisc_priv(sch);
	struct nlattr *opts;

	spin_lock_bh(qdisc_lock(sch));
	pspat_fold_stats(sch);
	spin_unlock_bh(qdisc_lock(sch));
	opts = nla_nest_start(skb, TCA_OPTIONS);
	if (!opts ||
	    nla_put_u8(skb, TCA_PSPAT_XMIT_MODE, READ_ONCE(q->xmit_mode)) ||
	    nla_put_u32(skb, TCA_PSPAT_BATCH, READ_ONCE(q->batch)) ||
	    nla_put_u32(skb, TCA_PSPAT_HELD_LIMIT, READ_ONCE(q->held_limit))) {
		nla_nest_cancel(skb, opts);
		return -EMSGSIZE;
	}
	return nla_nest_end(skb, opts);
}

/* struct tc_pspat_xstats: this qdisc, then what all pspat qdiscs share. */
static int pspat_dump_stats(struct Qdisc *sch, struct gnet_dump *d)
{
	struct pspat_sched *q = qdisc_priv(sch);
	struct tc_pspat_xstats st = {};
	struct pspat_arb_stats a;
	struct pspat_disp_stats ds;
	unsigned int active, qdiscs;
	bool running;
	int cpu;

	for_each_possible_cpu(cpu) {
		st.pushed += per_cpu_ptr(q->pcpu, cpu)->pushed;
		st.mailbox_full += per_cpu_ptr(q->pcpu, cpu)->mb_full;
	}
	st.arbitrated = READ_ONCE(q->arbitrated);
	st.child_drops = READ_ONCE(q->child_drops);
	st.stale_drops = READ_ONCE(q->stale_drops);
	st.xmit_drops = READ_ONCE(q->xmit_drops);
	st.backpressure = READ_ONCE(q->backpressure);
	st.dispatched = READ_ONCE(q->to_disp);
	st.held = READ_ONCE(q->nheld);
	st.xmit_mode = pspat_q_dispatcher(q) ? TC_PSPAT_XMIT_DISPATCHER :
					       TC_PSPAT_XMIT_ARBITER;

	pspat_arb_snapshot(&a, &running, &active, &qdiscs);
	st.arb_rounds = a.rounds;
	st.arb_packets = a.packets;
	st.arb_sleeps = a.sleeps;
	st.arb_wakeups = a.wakeups;
	st.arb_throttle_sleeps = a.throttle_sleeps;
	st.mb_active = active;

	pspat_disp_snapshot(&ds, &running);
	st.disp_batches = ds.batches;
	st.disp_packets = ds.packets;

	st.mb_created = atomic64_read(&pspat_mb_stats.created);
	st.mb_reclaimed = atomic64_read(&pspat_mb_stats.reclaimed);
	st.mb_alloc_fail = atomic64_read(&pspat_mb_stats.alloc_fail);
	st.mb_live = atomic_read(&pspat_mb_stats.live);
	st.mb_limited = atomic64_read(&pspat_mb_stats.limited);

	return gnet_stats_copy_app(d, &st, sizeof(st));
}

/* The single class 1:1 that holds the child scheduler. */

static int pspat_graft(struct Qdisc *sch, unsigned long arg, struct Qdisc *new,
		       struct Qdisc **old, struct netlink_ext_ack *extack)
{
	struct pspat_sched *q = qdisc_priv(sch);

	if (!new)
		new = &noop_qdisc;
	*old = qdisc_replace(sch, new, &q->child);
	return 0;
}

static struct Qdisc *pspat_leaf(struct Qdisc *sch, unsigned long arg)
{
	struct pspat_sched *q = qdisc_priv(sch);

	return q->child;
}

static unsigned long pspat_find(struct Qdisc *sch, u32 classid)
{
	return TC_H_MIN(classid) == PSPAT_CHILD_MINOR ? PSPAT_CHILD_MINOR : 0;
}

static void pspat_walk(struct Qdisc *sch, struct qdisc_walker *walker)
{
	if (!walker->stop)
		tc_qdisc_stats_dump(sch, PSPAT_CHILD_MINOR, walker);
}

static int pspat_dump_class(struct Qdisc *sch, unsigned long cl,
			    struct sk_buff *skb, struct tcmsg *tcm)
{
	struct pspat_sched *q = qdisc_priv(sch);

	tcm->tcm_handle |= TC_H_MIN(PSPAT_CHILD_MINOR);
	tcm->tcm_info = q->child->handle;
	return 0;
}

static const struct Qdisc_class_ops pspat_class_ops = {
	.graft		= pspat_graft,
	.leaf		= pspat_leaf,
	.find		= pspat_find,
	.walk		= pspat_walk,
	.dump		= pspat_dump_class,
};

static struct Qdisc_ops pspat_qdisc_ops __read_mostly = {
	.cl_ops		= &pspat_class_ops,
	.id		= "pspat",
	.priv_size	= sizeof(struct pspat_sched),
	.static_flags	= TCQ_F_NOLOCK | TCQ_F_CPUSTATS,
	.enqueue	= pspat_client_enqueue,
	.dequeue	= pspat_dequeue,
	.peek		= pspat_peek,
	.init		= pspat_init,
	.reset		= pspat_reset,
	.destroy	= pspat_destroy,
	.change		= pspat_change,
	.dump		= pspat_dump,
	.dump_stats	= pspat_dump_stats,
	.owner		= THIS_MODULE,
};

static int __init pspat_module_init(void)
{
	int err = pspat_params_check();

	if (err)
		return err;
	err = pspat_mb_init();
	if (err)
		return err;
	err = pspat_order_init();
	if (err)
		goto fail_mb;
	pspat_debugfs_init();
	err = register_qdisc(&pspat_qdisc_ops);
	if (err)
		goto fail_debugfs;
	return 0;
fail_debugfs:
	pspat_debugfs_exit();
	pspat_order_exit();
fail_mb:
	pspat_mb_exit();
	return err;
}

/* No pspat qdisc is left (each holds a module reference). */
static void __exit pspat_module_exit(void)
{
	unregister_qdisc(&pspat_qdisc_ops);
	pspat_debugfs_exit();
	pspat_order_exit();
	pspat_mb_exit();
}

module_init(pspat_module_init);
module_exit(pspat_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("PSPAT: packet scheduling off the sending CPUs");
MODULE_ALIAS_NET_SCH("pspat");
MODULE_VERSION(PSPAT_VERSION);
