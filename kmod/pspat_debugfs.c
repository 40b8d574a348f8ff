// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_debugfs.c - /sys/kernel/debug/sch_pspat/stats: the arbiter, the
 * dispatcher, the mailboxes and every pspat qdisc, one "key value" list
 * per line, for tests and for people. Counters are read without locks.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "pspat.h"

static struct dentry *pspat_debugfs_dir;

static void pspat_show_qdisc(struct pspat_sched *q, void *arg)
{
	struct seq_file *m = arg;
	u64 pushed = 0, mb_full = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		pushed += per_cpu_ptr(q->pcpu, cpu)->pushed;
		mb_full += per_cpu_ptr(q->pcpu, cpu)->mb_full;
	}
	seq_printf(m, "qdisc dev %s handle %x: pushed %llu mb_full %llu arbitrated %llu child_drops %llu stolen %llu stale_drops %llu backpressure %llu xmit_drops %llu to_disp %llu from_disp %llu nheld %u\n",
		   pspat_dev(q)->name, q->sch->handle >> 16, pushed, mb_full,
		   q->arbitrated, q->child_drops, q->stolen, q->stale_drops,
		   q->backpressure, q->xmit_drops, q->to_disp,
		   READ_ONCE(q->from_disp), READ_ONCE(q->nheld));
}

static int pspat_stats_show(struct seq_file *m, void *v)
{
	struct pspat_arb_stats a;
	struct pspat_disp_stats d;
	struct pspat_order_stats o;
	unsigned int active, qdiscs;
	bool arb_running, disp_running;

	pspat_arb_snapshot(&a, &arb_running, &active, &qdiscs);
	pspat_disp_snapshot(&d, &disp_running);
	seq_printf(m, "arbiter: running %d qdiscs %u active_mailboxes %u rounds %llu packets %llu sleeps %llu wakeups %llu throttle_sleeps %llu gc_runs %llu busy_ns %llu busy_packets %llu max_section %llu links %llu unlists %llu\n",
		   arb_running, qdiscs, active, a.rounds, a.packets, a.sleeps,
		   a.wakeups, a.throttle_sleeps, a.gc_runs, a.busy_ns,
		   a.busy_packets, a.max_section, a.links, a.unlists);
	seq_printf(m, "dispatcher: running %d batches %llu packets %llu sleeps %llu arb_kicks %llu busy_ns %llu\n",
		   disp_running, d.batches, d.packets, d.sleeps, d.arb_kicks,
		   d.busy_ns);
	seq_printf(m, "mailboxes: live %d peak %d created %lld reclaimed %lld alloc_fail %lld limited %lld idle_reclaimed %lld fallback %d\n",
		   atomic_read(&pspat_mb_stats.live),
		   atomic_read(&pspat_mb_stats.peak),
		   atomic64_read(&pspat_mb_stats.created),
		   atomic64_read(&pspat_mb_stats.reclaimed),
		   atomic64_read(&pspat_mb_stats.alloc_fail),
		   atomic64_read(&pspat_mb_stats.limited),
		   atomic64_read(&pspat_mb_stats.idle_reclaimed),
		   atomic_read(&pspat_mb_stats.fallback));
	pspat_order_snapshot(&o);
	seq_printf(m, "order: flows_live %llu flows_created %llu flows_reclaimed %llu untracked %llu fences %llu fence_waits %llu\n",
		   o.flows_live, o.flows_created, o.flows_reclaimed,
		   o.untracked, o.fences, o.fence_waits);
	pspat_arb_walk_qdiscs(pspat_show_qdisc, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pspat_stats);

void pspat_debugfs_init(void)
{
	pspat_debugfs_dir = debugfs_create_dir("sch_pspat", NULL);
	debugfs_create_file("stats", 0444, pspat_debugfs_dir, NULL,
			    &pspat_stats_fops);
}

void pspat_debugfs_exit(void)
{
	debugfs_remove_recursive(pspat_debugfs_dir);
}
