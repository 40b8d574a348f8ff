/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pspat.h - shared state of sch_pspat.
 *
 * PSPAT moves packet scheduling off the sending CPUs (Rizzo, Valente,
 * Lettieri, Maffione, "PSPAT: software packet scheduling at hardware
 * speed", Computer Communications 2018). The data path, one file per role:
 *
 *  pspat_client.c     enqueue (any thread, TCQ_F_NOLOCK: no root lock): push
 *                     the skb into the caller's mailbox, link the mailbox
 *                     into this CPU's list, wake the arbiter if it sleeps.
 *  pspat_mailbox.c    the mailboxes: an IFFQ (include/pspat/iffq.h) per
 *                     sending thread, created on demand and found through a
 *                     per-CPU cache and an RCU hash keyed by task; one per
 *                     CPU for softirq (forwarded) traffic; reclaimed after
 *                     their thread exits.
 *  pspat_order.c      per-flow order across mailboxes: a TCP socket sends
 *                     from its threads and from softirq, so its packets
 *                     land in several mailboxes; a packet that follows its
 *                     socket's previous one into another mailbox carries a
 *                     fence the arbiter honours.
 *  pspat_arbiter.c    the "pspat-arb" kthread: drains the per-CPU lists and
 *                     the mailboxes in bounded batches, runs the child qdisc
 *                     (enqueue + dequeue under the root lock, which only it
 *                     takes on the data path), hands packets to transmit.
 *  pspat_xmit.c       transmission under the qdisc's seqlock, as the core
 *                     does for lockless qdiscs: validate, txq lock, driver;
 *                     a stopped txq keeps its packets in a held list.
 *  pspat_dispatcher.c the "pspat-snd" kthread (xmit_mode=dispatcher): takes
 *                     batches from the arbiter over an IFFQ and transmits.
 *  pspat_params.c     module parameters, validated.
 *  pspat_qdisc.c      the qdisc and its class 1:1, tc options and xstats
 *                     (include/pspat/pspat_uapi.h).
 *  pspat_debugfs.c    counters in /sys/kernel/debug/sch_pspat/.
 *  pspat_trace.h      tracepoints (system "sch_pspat").
 *
 * Accounting, per qdisc, in its per-CPU stats: a packet is in the backlog
 * (qlen/backlog) from the moment a client pushes it until it is handed to
 * the driver (then "sent") or freed (then "dropped"). So at all times
 * enqueued == sent + dropped + backlog, with the mailboxes, the child, the
 * dispatcher queue and the held list all inside the backlog.
 */
#ifndef _PSPAT_H
#define _PSPAT_H

#include <linux/llist.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#include <pspat/iffq.h>
#include <pspat/pspat_uapi.h>

/*
 * Markers of the instruction counter (tools/qemu-insn, docs/insn-count.md),
 * compiled in only by PSPAT_INSN_MARKS=y (make bench-insn's own build):
 * each arbiter round is a span of its vCPU, discarded if it moved nothing,
 * with the child's enqueue/dequeue, the core's validation
 * (validate_xmit_skb_list()) and the driver's transmit as its inner part:
 * what a stock root qdisc's sender runs too. Each is an xchg of a
 * register with itself: a no-op.
 */
/* Open or close the span. */
static __always_inline void pspat_insn_span(void)
{
#ifdef PSPAT_INSN_MARKS
	asm volatile(".byte 0x48, 0x87, 0xc9" ::: "memory");
#endif
}

static __always_inline void pspat_insn_discard(void)
{
#ifdef PSPAT_INSN_MARKS
	asm volatile(".byte 0x48, 0x87, 0xd2" ::: "memory");
#endif
}

/* Enter or leave the inner part. */
static __always_inline void pspat_insn_inner(void)
{
#ifdef PSPAT_INSN_MARKS
	asm volatile(".byte 0x48, 0x87, 0xf6" ::: "memory");
#endif
}

/* ---- module parameters (pspat_params.c) ------------------------------ */

enum pspat_xmit_mode {
	PSPAT_XMIT_ARBITER,
	PSPAT_XMIT_DISPATCHER,
};

extern int pspat_xmit_mode;
extern unsigned int pspat_arb_batch;
extern unsigned int pspat_dispatch_batch;
extern unsigned int pspat_mailbox_entries;
extern unsigned int pspat_mailbox_line_size;
extern int pspat_arbiter_cpu;
extern int pspat_dispatcher_cpu;
extern unsigned int pspat_idle_poll_us;
extern unsigned int pspat_max_mailboxes;
extern unsigned int pspat_mailbox_idle_ms;
int pspat_params_check(void);

/* ---- per-packet state -------------------------------------------------- */

/*
 * While an skb is in a mailbox, the dispatcher queue or the held list, it
 * carries its qdisc and the qdisc's reset generation in the private part of
 * the qdisc cb. The child qdisc may overwrite it; the arbiter writes it
 * again when it dequeues the skb from the child. The rest depends on where
 * the packet is:
 *  - in a mailbox: its fence (pspat_order.c), fence_id 0 for none;
 *  - taken by the arbiter, until the child has it: the mailbox it came
 *    from, which learns of a drop by the child (pspat_client.c);
 *  - validated: the last segment of each packet carries what to account
 *    when the driver takes it.
 */
struct pspat_skb_cb {
	struct pspat_sched	*q;
	union {
		struct {
			u32	fence_id;	/* a mailbox's id, or 0 */
			u32	fence_seq;	/* low bits of its position */
		};
		struct pspat_mailbox *mb;
		struct {
			u32	acct_len;	/* bytes of the packet, or 0 */
			u16	acct_segs;	/* GSO segments of the packet */
			u8	bucket;		/* see pspat_xmit.c */
			u8	held;		/* counted in held->flows */
		};
	};
	u16			gen;		/* low bits of q->gen */
} __packed;	/* 18 bytes: the cb has 20; each field naturally aligned */

static inline struct pspat_skb_cb *pspat_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct pspat_skb_cb) > QDISC_CB_PRIV_LEN);
	return (struct pspat_skb_cb *)qdisc_skb_cb(skb)->data;
}

/* ---- mailboxes (pspat_mailbox.c) -------------------------------------- */

struct pspat_mailbox {
	/* Producer: the owner thread, or the CPU (softirq) for a CPU mailbox. */
	struct iffq		*fifo;
	u64			drops;		/* pushes refused: full */
	struct llist_node	cpu_node;	/* on a CPU list while listed */
	u32			id;		/* pspat_mb_ids; read-only */
	/*
	 * Set by the arbiter when the child dropped a packet of this mailbox,
	 * cleared by the producer, whose next enqueue says NET_XMIT_CN.
	 */
	int			congested;

	/*
	 * 1 while the producer need not link the mailbox: it is on a CPU
	 * list or on the arbiter's active list, and not being unlisted. Set
	 * 0 -> 1 with xchg() by whoever links it (producer or arbiter),
	 * cleared by the arbiter when the mailbox has stayed empty; read by
	 * the producer after each push. See pspat_client.c.
	 */
	unsigned long		listed ____cacheline_aligned_in_smp;
	/*
	 * PSPAT_MB_LIVE, or see pspat_mailbox.c ("Idle reclaim"): read by
	 * the producer before each push, changed by the arbiter when it
	 * retires an idle mailbox and by the producer (cmpxchg) when it
	 * takes a retiring one back. PSPAT_MB_MARKER for ever in a marker.
	 */
	int			state;

	/* Arbiter. */
	struct list_head	active;		/* on arb->active */
	bool			on_active;	/* it is */
	bool			unlisting;	/* listed is 0, waiting for unlist_gp */
	bool			fenced;		/* head waits for another mailbox */
	unsigned long		busy_at;	/* jiffies: last packet taken */
	unsigned long		unlist_gp;	/* RCU cookie, see pspat_mb_unlist() */
	unsigned long		idle_since;	/* jiffies: unlisted, empty */
	unsigned long		gp;		/* retiring: RCU grace period */
	struct list_head	retire;		/* on pspat_mb_retiring */

	/* Registry (pspat_reg_lock) and reclaim. */
	struct hlist_node	hnode;		/* pspat_mb_hash, by task */
	struct list_head	all;		/* pspat_mb_all */
	struct llist_node	exit_node;	/* on pspat_mb_exiting */
	struct list_head	dying;		/* arbiter: waiting for exit_state */
	struct task_struct	*task;		/* owner (reference held), or NULL */
	int			cpu;		/* CPU mailbox: its CPU, else -1 */
	int			exiting;	/* owner passed sched_process_exit */
	struct rcu_head		rcu;

	/* Marker only, written by its thread: see pspat_mb_fallback(). */
	unsigned long		retry_at;	/* jiffies: next allocation try */
	unsigned int		backoff;	/* jiffies, doubling */
	u8			why;		/* PSPAT_MB_LIMITED, _FAILED */
	int			fb_cpu;		/* CPU mailbox of the last packet */
};

/*
 * Arbiter only: the arbiter serves @mb (it is on the active list, maybe
 * being unlisted) or will (it is on a CPU list).
 */
static inline bool pspat_mb_listed(const struct pspat_mailbox *mb)
{
	return READ_ONCE(mb->listed) || mb->on_active;
}

/* pspat_mailbox.state */
enum {
	PSPAT_MB_LIVE,		/* the owner pushes into it */
	PSPAT_MB_RETIRING,	/* idle: the arbiter waits for a grace period */
	PSPAT_MB_DEAD,		/* reclaimed: no push any more */
	PSPAT_MB_MARKER,	/* no FIFO: the thread has no mailbox */
	PSPAT_MB_CPU,		/* a CPU mailbox: cached for a thread briefly */
};

/* pspat_mailbox.why: a marker's reason */
enum {
	PSPAT_MB_LIMITED = 1,	/* max_mailboxes reached */
	PSPAT_MB_FAILED,	/* GFP_ATOMIC allocation failed */
};

int pspat_mb_init(void);
void pspat_mb_exit(void);
int pspat_mb_start(void);
void pspat_mb_quiesce(void);
void pspat_mb_stop(void);
struct pspat_mailbox *pspat_mb_get(struct pspat_skb_cb *cb);
struct pspat_mailbox *pspat_mb_by_id(u32 id);
bool pspat_mb_gc(void);
bool pspat_mb_gc_pending(void);
unsigned long pspat_mb_idle_scan(unsigned int ms);

/* Counters of the mailbox layer, for debugfs. */
struct pspat_mb_stats {
	atomic_t	live;		/* thread mailboxes in the registry */
	atomic_t	peak;		/* most live at once */
	atomic64_t	created;
	atomic64_t	reclaimed;
	atomic64_t	idle_reclaimed;	/* of those, idle ones of live threads */
	/* Threads, not packets: each time one is refused a mailbox. */
	atomic64_t	alloc_fail;	/* GFP_ATOMIC failed: CPU mailbox */
	atomic64_t	limited;	/* likewise: max_mailboxes reached */
	atomic_t	fallback;	/* threads on the CPU mailbox (markers) */
};

extern struct pspat_mb_stats pspat_mb_stats;

/* ---- per-flow order (pspat_order.c) ------------------------------------ */

struct pspat_flow;

int pspat_order_init(void);
void pspat_order_exit(void);
void pspat_order_stop(void);
struct pspat_flow *pspat_flow_get(struct sk_buff *skb);
void pspat_fence_set(struct pspat_skb_cb *cb, struct pspat_flow *f,
		     struct pspat_mailbox *mb);
void pspat_flow_pushed(struct pspat_flow *f, struct pspat_mailbox *mb);
bool pspat_fence_passed(const struct pspat_skb_cb *cb);
void pspat_order_gc(void);
bool pspat_order_gc_pending(void);

/* Counters of the ordering layer, for debugfs. */
struct pspat_order_stats {
	u64	flows_live;
	u64	flows_created;
	u64	flows_reclaimed;
	u64	untracked;	/* TCP packets sent without a flow entry */
	u64	fences;		/* packets that followed their flow elsewhere */
	u64	fence_waits;	/* times the arbiter found a fence closed */
};

void pspat_order_snapshot(struct pspat_order_stats *s);
void pspat_order_count_wait(void);

/* ---- one pspat qdisc (pspat_qdisc.c) ------------------------------------ */

struct pspat_sched_pcpu {
	u64	pushed;		/* packets pushed into mailboxes */
	u64	mb_full;	/* dropped: mailbox full */
};

/* Flow buckets of the transmit stage (pspat_xmit.c). */
#define PSPAT_HELD_BUCKETS	256

/*
 * The transmit stage's state (pspat_xmit.c), under the qdisc's seqlock:
 * the held list (packets not yet validated, in order), and per txq the
 * validated segments its driver refused (@partial).
 */
struct pspat_held {
	struct sk_buff		*head;
	struct sk_buff		*tail;
	struct sk_buff		**partial;		/* per txq */
	u16			flows[PSPAT_HELD_BUCKETS]; /* packets held */
};

struct pspat_sched {
	/* Read-mostly: clients, arbiter, dispatcher. */
	struct Qdisc		*sch;
	struct Qdisc		*child;		/* class 1:1; root lock */
	struct pspat_sched_pcpu __percpu *pcpu;	/* written by clients */
	u16			gen;		/* reset count; root lock + seqlock */
	bool			dead;		/* destroyed; set under arb mutex */
	bool			attached;	/* on the arbiter's list */

	/* tc options (pspat_qdisc.c), read by the arbiter each round. */
	u8			xmit_mode;	/* enum tc_pspat_xmit_mode */
	u32			batch;		/* 0: module's arb_batch */
	u32			held_limit;	/* see pspat_xmit.c */

	/* Arbiter only, under the arbiter mutex. */
	struct list_head	arb_node ____cacheline_aligned_in_smp;
	struct sk_buff		*inq_head;	/* taken from mailboxes this round */
	struct sk_buff		*inq_tail;
	unsigned int		inq_n;		/* how many */
	struct sk_buff		*stash;		/* dequeued, dispatcher queue full */
	u64			taken;		/* mailbox packets accounted for */
	u64			to_disp;	/* pushed to the dispatcher */
	unsigned int		child_qlen;	/* hint: child backlog after dequeue */
	bool			throttled;	/* child had packets, gave none */
	u64			arbitrated;	/* dequeued from the child */
	u64			child_drops;	/* refused by the child */
	u64			stolen;		/* taken by the child's actions */
	u64			stale_drops;	/* from before a reset or destroy */

	/* Transmit stage, under sch->seqlock. */
	struct pspat_held	*held ____cacheline_aligned_in_smp;
	unsigned int		ntx;		/* txqs: entries of held->partial */
	unsigned int		nheld;		/* see pspat_nheld_add() */
	u64			backpressure;	/* packets held by a stopped txq */
	u64			xmit_drops;	/* deactivated device, validation */

	/* Dispatcher only. */
	u64			from_disp ____cacheline_aligned_in_smp;
};

static inline struct net_device *pspat_dev(const struct pspat_sched *q)
{
	return qdisc_dev(q->sch);
}

/* Drop accounting from the arbiter, dispatcher or transmit paths. */
static inline void pspat_account_drop(struct Qdisc *sch, struct sk_buff *skb)
{
	qdisc_qstats_cpu_backlog_dec(sch, skb);
	qdisc_qstats_cpu_qlen_dec(sch);
	qdisc_qstats_cpu_drop(sch);
}

/* ---- arbiter (pspat_arbiter.c) ----------------------------------------- */

/*
 * The arbiter's doorbell, alone on its cache line: every client packet
 * reads @sleeping; it is written only when the arbiter goes to sleep and
 * wakes up, @kicked only by kicks, @linked when a client links a mailbox
 * (none of them per client packet). See
 * pspat_arbiter.c, "Sleeping".
 */
struct pspat_bell {
	int	sleeping;
	int	kicked;
	int	linked;		/* a client linked a mailbox: scan the lists */
} ____cacheline_aligned_in_smp;

extern struct pspat_bell pspat_bell;
/* CPUs that ever pushed into a mailbox: the arbiter's barrier IPIs them. */
extern struct cpumask pspat_client_cpus;

static inline bool pspat_arb_asleep(void)
{
	return READ_ONCE(pspat_bell.sleeping);
}

struct pspat_arb_stats {
	u64	rounds;		/* rounds that moved packets */
	u64	packets;	/* taken from mailboxes */
	u64	sleeps;
	u64	wakeups;		/* woken by a client or a kick */
	u64	links;		/* mailboxes linked on a CPU list by a client */
	u64	unlists;	/* mailboxes that left the active list */
	u64	throttle_sleeps;	/* slept with a throttled child */
	u64	gc_runs;
	/*
	 * Sampled: the BH-off sections that moved packets, one in
	 * PSPAT_BUSY_SAMPLE of them timed; busy_ns / busy_packets is the
	 * cost per packet.
	 */
	u64	busy_ns;
	u64	busy_packets;
	u64	max_section;	/* most packets moved with BH off at once */
};

int pspat_arb_attach(struct pspat_sched *q);
void pspat_arb_detach(struct pspat_sched *q);
void pspat_arb_kick(void);
void pspat_apply_cpu(int *applied, int want);
void pspat_arb_wake(void);
void pspat_arb_params_changed(void);
void pspat_arb_snapshot(struct pspat_arb_stats *s, bool *running,
			unsigned int *active, unsigned int *qdiscs);
bool pspat_arb_lists_pending(void);
void pspat_arb_cpu_list_add(struct pspat_mailbox *mb);
typedef void (*pspat_qdisc_fn)(struct pspat_sched *q, void *arg);
void pspat_arb_walk_qdiscs(pspat_qdisc_fn fn, void *arg);

/* ---- qdisc (pspat_qdisc.c) ---------------------------------------------- */

/* The transmit mode in effect for @q: its tc option, else the module's. */
static inline bool pspat_q_dispatcher(const struct pspat_sched *q)
{
	u8 mode = READ_ONCE(q->xmit_mode);

	if (mode == TC_PSPAT_XMIT_DEFAULT)
		return READ_ONCE(pspat_xmit_mode) == PSPAT_XMIT_DISPATCHER;
	return mode == TC_PSPAT_XMIT_DISPATCHER;
}

int pspat_client_enqueue(struct sk_buff *skb, struct Qdisc *sch,
			 struct sk_buff **to_free);
void pspat_fold_stats(struct Qdisc *sch);

/* ---- transmit (pspat_xmit.c) ------------------------------------------- */

int pspat_xmit_init(struct pspat_sched *q);
void pspat_xmit_free(struct pspat_sched *q);
unsigned int pspat_xmit(struct pspat_sched *q, struct sk_buff *skbs);
void pspat_xmit_purge(struct pspat_sched *q);
void __pspat_xmit_purge(struct pspat_sched *q);

/* ---- dispatcher (pspat_dispatcher.c) ----------------------------------- */

struct pspat_disp_stats {
	u64	batches;
	u64	packets;
	u64	sleeps;
	u64	arb_kicks;	/* the arbiter waited for a batch */
	u64	busy_ns;	/* in batches that sent packets, BH off */
};

int pspat_disp_start(void);
void pspat_disp_stop(void);
int pspat_disp_push(struct sk_buff *skb);
void pspat_disp_wait(void);
void pspat_disp_kick(void);
void pspat_disp_snapshot(struct pspat_disp_stats *s, bool *running);

/* ---- debugfs (pspat_debugfs.c) ----------------------------------------- */

void pspat_debugfs_init(void);
void pspat_debugfs_exit(void);

#endif /* _PSPAT_H */
