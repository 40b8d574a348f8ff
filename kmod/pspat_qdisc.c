// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_qdisc.c - the "pspat" root qdisc and its single class 1:1.
 *
 * PSPAT moves packet scheduling off the sending CPUs: clients push packets
 * into per-thread mailboxes and one arbiter thread runs the real scheduler,
 * the child qdisc grafted under class 1:1 (pfifo by default, any classful or
 * classless qdisc by `tc qdisc replace dev X parent 1:1 ...`).
 *
 * This file is the qdisc and class interface only. In this first stage the
 * data path is a pass-through: enqueue hands the packet to the child and
 * dequeue takes it back, under the root lock, exactly like a one-class
 * classful qdisc (cf. sch_tbf.c's class ops).
 */
#include <linux/module.h>
#include <linux/skbuff.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#include "compat.h"

#define PSPAT_CHILD_MINOR	1

struct pspat_sched_data {
	struct Qdisc	*child;		/* class 1:1; noop_qdisc when deleted */
};

static int pspat_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			 struct sk_buff **to_free)
{
	struct pspat_sched_data *q = qdisc_priv(sch);
	unsigned int len = qdisc_pkt_len(skb);
	int ret;

	ret = qdisc_enqueue(skb, q->child, to_free);
	if (unlikely(ret != NET_XMIT_SUCCESS)) {
		if (net_xmit_drop_count(ret))
			qdisc_qstats_drop(sch);
		return ret;
	}
	sch->qstats.backlog += len;
	sch->q.qlen++;
	return NET_XMIT_SUCCESS;
}

static struct sk_buff *pspat_dequeue(struct Qdisc *sch)
{
	struct pspat_sched_data *q = qdisc_priv(sch);
	struct sk_buff *skb;

	skb = qdisc_dequeue_peeked(q->child);
	if (!skb)
		return NULL;
	qdisc_qstats_backlog_dec(sch, skb);
	qdisc_bstats_update(sch, skb);
	sch->q.qlen--;
	return skb;
}

static struct sk_buff *pspat_peek(struct Qdisc *sch)
{
	struct pspat_sched_data *q = qdisc_priv(sch);

	return q->child->ops->peek(q->child);
}

static int pspat_init(struct Qdisc *sch, struct nlattr *opt,
		      struct netlink_ext_ack *extack)
{
	struct pspat_sched_data *q = qdisc_priv(sch);

	if (opt && nla_len(opt)) {
		NL_SET_ERR_MSG(extack, "pspat takes no options yet");
		return -EINVAL;
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
	return 0;
}

static void pspat_reset(struct Qdisc *sch)
{
	struct pspat_sched_data *q = qdisc_priv(sch);

	/* The core zeroes our own qlen and backlog after this. */
	qdisc_reset(q->child);
}

static void pspat_destroy(struct Qdisc *sch)
{
	struct pspat_sched_data *q = qdisc_priv(sch);

	/* init may have failed before the child existed. */
	if (q->child)
		qdisc_put(q->child);
}

static int pspat_dump(struct Qdisc *sch, struct sk_buff *skb)
{
	struct nlattr *opts;

	opts = nla_nest_start_noflag(skb, TCA_OPTIONS);
	if (!opts)
		return -EMSGSIZE;
	return nla_nest_end(skb, opts);
}

/* The single class 1:1 that holds the child scheduler. */

static int pspat_graft(struct Qdisc *sch, unsigned long arg, struct Qdisc *new,
		       struct Qdisc **old, struct netlink_ext_ack *extack)
{
	struct pspat_sched_data *q = qdisc_priv(sch);

	if (!new)
		new = &noop_qdisc;
	*old = qdisc_replace(sch, new, &q->child);
	return 0;
}

static struct Qdisc *pspat_leaf(struct Qdisc *sch, unsigned long arg)
{
	struct pspat_sched_data *q = qdisc_priv(sch);

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
	struct pspat_sched_data *q = qdisc_priv(sch);

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
	.priv_size	= sizeof(struct pspat_sched_data),
	.enqueue	= pspat_enqueue,
	.dequeue	= pspat_dequeue,
	.peek		= pspat_peek,
	.init		= pspat_init,
	.reset		= pspat_reset,
	.destroy	= pspat_destroy,
	.dump		= pspat_dump,
	.owner		= THIS_MODULE,
};

static int __init pspat_module_init(void)
{
	return register_qdisc(&pspat_qdisc_ops);
}

static void __exit pspat_module_exit(void)
{
	unregister_qdisc(&pspat_qdisc_ops);
}

module_init(pspat_module_init);
module_exit(pspat_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("PSPAT: packet scheduling off the sending CPUs");
MODULE_ALIAS_NET_SCH("pspat");
