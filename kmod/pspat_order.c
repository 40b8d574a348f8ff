// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_order.c - per-flow order across mailboxes.
 *
 * A mailbox is FIFO, so packets pushed into one mailbox leave pspat in the
 * order they were pushed. The arbiter serves many mailboxes, though, in
 * list order and a batch at a time, so two packets in two mailboxes can
 * leave in either order. That is harmless for two flows, and wrong for one
 * flow whose packets are pushed into two mailboxes one after the other:
 *
 *  - a TCP socket sends from process context (sendmsg(): the thread's
 *    mailbox) and from softirq (ACK clocking, the TSQ tasklet, timers: the
 *    CPU's mailbox), from any thread that holds the socket and on any CPU;
 *  - a thread without a mailbox of its own (allocation failure, beyond
 *    max_mailboxes) sends through the mailbox of whatever CPU it runs on.
 *
 * The ordering domain is the flow: for a local TCP socket, the socket
 * (every context that sends for it), which is what TCP needs; for anything
 * else, the sending thread (process context) or the receiving CPU
 * (softirq: forwarding), see README "Order".
 *
 * Design: fences. Each TCP socket that sends through pspat has a flow
 * entry, found by socket in an rhashtable, that records the id of the
 * mailbox its last packet went to. A packet pushed into another mailbox B
 * carries a fence in its cb: "first, mailbox A up to position p", where A
 * is the recorded mailbox and p the number of packets ever pushed into A
 * (its producer index, read now). The arbiter takes the packet only once
 * it has taken p packets from A (pspat_fence_passed()); until then B waits
 * at that packet and the arbiter serves the others, A among them. Every
 * packet the socket sent before is in A below p, or in a mailbox that A's
 * packets below p wait for, and so on: the socket's packets leave in the
 * order it sent them, whatever the arbiter's batch and list order.
 *
 * Why this and not the alternatives (docs/order.md has the numbers):
 *  - one mailbox per socket: a mailbox (4 KiB by default) for every TCP
 *    socket that sends, and single-producer only if every sender holds
 *    the socket lock, which packets reinjected by NFQUEUE, resumed after
 *    async crypto or replayed by ifb do not;
 *  - a timestamp on every packet, merged by the arbiter: needs a clock
 *    that is monotonic across CPUs and cheap (the TSC is neither
 *    everywhere), and a merge must still wait for late pushes;
 *  - a per-CPU log of mailbox switches (linux-pspat): orders one CPU's
 *    pushes, not a socket that sends from two CPUs.
 * A fence costs nothing while a socket stays in one mailbox: one lookup
 * and one compare per packet; a switch reads one line of the previous
 * mailbox and writes the entry. No lock, no atomic on the packet path.
 *
 * Single producer: fences change nothing about who pushes into a mailbox.
 * The entry is written by whoever sends for the socket, which TCP does
 * under the socket lock (owned by a user, or its spinlock in softirq);
 * pspat_flow_get() tracks a packet only while that lock is held. A packet
 * sent without it (reinjected later) is not tracked and cannot mislead
 * the entry; if it did anyway (the lock held by someone else at that
 * moment), the worst is a fence to a wrong position, which the arbiter
 * treats as passed once it is impossible (see pspat_fence_passed()): a
 * fence can reorder or delay, never lose or corrupt.
 *
 * Memory ordering. The previous sender published its packet into A
 * (iffq_insert(): store-release of the slot, then A's producer index),
 * then released the socket lock. The new sender took the lock (acquire),
 * so its READ_ONCE() of A's producer index in pspat_fence_set() sees that
 * index, and it publishes its own packet into B with a store-release. The
 * arbiter reads that packet with a load-acquire (iffq_peek()): release is
 * cumulative, so the arbiter then also sees A's slots below p and A's
 * producer index >= p (pspat_fence_passed()'s plausibility check). The
 * entry's mb_id itself is ordered by the socket lock (writer in
 * pspat_flow_pushed(), reader in pspat_fence_set()).
 *
 * Lifetime. An entry holds a reference on its socket (and, for a kernel
 * socket, on its netns), so the socket's address cannot name another
 * socket while the entry exists. The arbiter reclaims entries whose
 * socket nobody else references any more (pspat_order_gc(), every 100 ms):
 * such a socket is out of every table, timer and file, so it sends no
 * more. Entries are freed after RCU: lookups run with BH disabled.
 */
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "pspat.h"

/* Beyond this many entries, new TCP sockets are not tracked (counted). */
#define PSPAT_FLOWS_MAX		BIT(20)

struct pspat_flow {
	struct rhash_head	node;
	struct sock		*sk;		/* key; reference held */
	u32			mb_id;		/* mailbox of the last packet */
	struct llist_node	new_node;	/* pspat_flows_new */
	struct list_head	all;		/* arbiter: pspat_flows */
	struct rcu_head		rcu;
};

static const struct rhashtable_params pspat_flow_params = {
	.key_len		= sizeof(struct sock *),
	.key_offset		= offsetof(struct pspat_flow, sk),
	.head_offset		= offsetof(struct pspat_flow, node),
	.automatic_shrinking	= true,
};

struct pspat_order_pcpu {
	u64	untracked;
	u64	fences;
};

static struct rhashtable pspat_flow_table;
static LLIST_HEAD(pspat_flows_new);		/* created, not yet seen by gc */
static LIST_HEAD(pspat_flows);			/* arbiter: every entry */
static atomic_t pspat_flows_live;
static atomic64_t pspat_flows_created;
static u64 pspat_flows_reclaimed;		/* arbiter */
static u64 pspat_fence_waits;			/* arbiter */
static DEFINE_PER_CPU(struct pspat_order_pcpu, pspat_order_pcpu);

static void pspat_flow_untracked(void)
{
	this_cpu_inc(pspat_order_pcpu.untracked);
}

static struct pspat_flow *pspat_flow_create(struct sock *sk)
{
	struct pspat_flow *f, *old;
	struct net *net = NULL;

	if ((unsigned int)atomic_inc_return(&pspat_flows_live) > PSPAT_FLOWS_MAX)
		goto fail;
	f = kzalloc(sizeof(*f), GFP_ATOMIC | __GFP_NOWARN);
	if (!f)
		goto fail;
	/* A kernel socket does not pin its netns: the entry does. */
	if (!sk->sk_net_refcnt) {
		net = maybe_get_net(sock_net(sk));
		if (!net)
			goto fail_free;
	}
	if (!refcount_inc_not_zero(&sk->sk_refcnt))
		goto fail_net;
	f->sk = sk;
	old = rhashtable_lookup_get_insert_fast(&pspat_flow_table, &f->node,
						pspat_flow_params);
	if (unlikely(old)) {	/* lost a race, or the table is full */
		sock_put(sk);
		if (net)
			put_net(net);
		kfree(f);
		atomic_dec(&pspat_flows_live);
		if (IS_ERR(old)) {
			pspat_flow_untracked();
			return NULL;
		}
		return old;
	}
	llist_add(&f->new_node, &pspat_flows_new);
	atomic64_inc(&pspat_flows_created);
	return f;
fail_net:
	if (net)
		put_net(net);
fail_free:
	kfree(f);
fail:
	atomic_dec(&pspat_flows_live);
	pspat_flow_untracked();
	return NULL;
}

/**
 * pspat_flow_get - the flow entry of a packet's TCP socket, if tracked
 * @skb: the packet being enqueued (BH disabled)
 *
 * Return: the entry, or NULL for a packet that is not a TCP socket's own
 * transmission under its socket lock (not tracked: no fence).
 */
struct pspat_flow *pspat_flow_get(struct sk_buff *skb)
{
	struct sock *sk = skb->sk;
	struct pspat_flow *f;

	if (!sk || !sk_fullsock(sk) || sk->sk_protocol != IPPROTO_TCP ||
	    sk->sk_type != SOCK_STREAM || sk->sk_state == TCP_LISTEN)
		return NULL;
	/* Early demux lends a received packet's socket to the skb. */
	if (unlikely(skb->destructor == sock_edemux))
		return NULL;
	/* Held by anyone: a test, not an assertion (see the top). */
	if (unlikely(!sock_owned_by_user_nocheck(sk) &&
		     !spin_is_locked(&sk->sk_lock.slock))) {
		pspat_flow_untracked();
		return NULL;
	}
	f = rhashtable_lookup_fast(&pspat_flow_table, &sk, pspat_flow_params);
	if (likely(f))
		return f;
	return pspat_flow_create(sk);
}

/**
 * pspat_fence_set - write the fence of a tracked packet about to be pushed
 * @cb: the packet's pspat cb: fence_id 0, or its thread's handover fence
 *	(pspat_mb_handover()), which the flow's own fence replaces
 * @f: its flow entry
 * @mb: the mailbox it goes into
 */
void pspat_fence_set(struct pspat_skb_cb *cb, struct pspat_flow *f,
		     struct pspat_mailbox *mb)
{
	struct pspat_mailbox *prev;
	u32 id;

	id = READ_ONCE(f->mb_id);	/* ordered by the socket lock */
	if (likely(id == mb->id))
		return;
	prev = pspat_mb_by_id(id);
	if (!prev)	/* first packet, or that mailbox was reclaimed (empty) */
		return;
	cb->fence_id = id;
	/* Pairs with iffq_insert()'s index update in A: see the top. */
	cb->fence_seq = (u32)READ_ONCE(prev->fifo->prod_write);
	this_cpu_inc(pspat_order_pcpu.fences);
}

/* After a successful push of a tracked packet into @mb. */
void pspat_flow_pushed(struct pspat_flow *f, struct pspat_mailbox *mb)
{
	if (READ_ONCE(f->mb_id) != mb->id)
		WRITE_ONCE(f->mb_id, mb->id);
}

/**
 * pspat_fence_passed - may the arbiter take this packet now?
 * @cb: the cb of the packet at the head of its mailbox, fence_id != 0
 *
 * Arbiter only (the consumer of every mailbox), BH disabled. Positions are
 * compared in 32 bits, serial-number style: a mailbox never holds anywhere
 * near 2^31 packets.
 */
bool pspat_fence_passed(const struct pspat_skb_cb *cb)
{
	struct pspat_mailbox *prev = pspat_mb_by_id(cb->fence_id);
	u32 seq = cb->fence_seq;

	if (!prev)	/* reclaimed: it was empty, everything taken */
		return true;
	if ((s32)((u32)prev->fifo->cons_read - seq) >= 0)
		return true;
	/*
	 * A fence points at a position the mailbox has reached (see the
	 * top). One beyond its producer index can only come from an entry
	 * raced by a sender that did not hold the socket lock: do not wait
	 * for it.
	 */
	return (s32)(seq - (u32)READ_ONCE(prev->fifo->prod_write)) > 0;
}

void pspat_order_count_wait(void)
{
	pspat_fence_waits++;
}

bool pspat_order_gc_pending(void)
{
	return !list_empty(&pspat_flows) || !llist_empty(&pspat_flows_new);
}

static void pspat_flow_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct pspat_flow, rcu));
}

static void pspat_flow_release(struct pspat_flow *f)
{
	struct sock *sk = f->sk;
	struct net *net = sk->sk_net_refcnt ? NULL : sock_net(sk);

	rhashtable_remove_fast(&pspat_flow_table, &f->node, pspat_flow_params);
	list_del(&f->all);
	atomic_dec(&pspat_flows_live);
	call_rcu(&f->rcu, pspat_flow_free_rcu);
	sock_put(sk);
	if (net)
		put_net(net);
}

static void pspat_flows_collect(void)
{
	struct llist_node *n = llist_del_all(&pspat_flows_new);
	struct pspat_flow *f, *tmp;

	llist_for_each_entry_safe(f, tmp, n, new_node)
		list_add_tail(&f->all, &pspat_flows);
}

/**
 * pspat_order_gc - reclaim the entries of sockets that are gone
 *
 * Arbiter context, arbiter mutex held (the only one that walks and frees
 * entries). A socket only the entry still references is closed and out of
 * every table and timer: it sends no more.
 */
void pspat_order_gc(void)
{
	struct pspat_flow *f, *tmp;

	pspat_flows_collect();
	list_for_each_entry_safe(f, tmp, &pspat_flows, all) {
		if (refcount_read(&f->sk->sk_refcnt) != 1)
			continue;
		pspat_flow_release(f);
		pspat_flows_reclaimed++;
	}
}

/* The last pspat qdisc is gone: no client can look an entry up any more. */
void pspat_order_stop(void)
{
	struct pspat_flow *f, *tmp;

	pspat_flows_collect();
	list_for_each_entry_safe(f, tmp, &pspat_flows, all) {
		pspat_flow_release(f);
		pspat_flows_reclaimed++;
	}
}

void pspat_order_snapshot(struct pspat_order_stats *s)
{
	int cpu;

	memset(s, 0, sizeof(*s));
	for_each_possible_cpu(cpu) {
		s->untracked += per_cpu_ptr(&pspat_order_pcpu, cpu)->untracked;
		s->fences += per_cpu_ptr(&pspat_order_pcpu, cpu)->fences;
	}
	s->flows_live = atomic_read(&pspat_flows_live);
	s->flows_created = atomic64_read(&pspat_flows_created);
	s->flows_reclaimed = READ_ONCE(pspat_flows_reclaimed);
	s->fence_waits = READ_ONCE(pspat_fence_waits);
}

int pspat_order_init(void)
{
	return rhashtable_init(&pspat_flow_table, &pspat_flow_params);
}

void pspat_order_exit(void)
{
	rhashtable_destroy(&pspat_flow_table);
	rcu_barrier();	/* pending pspat_flow_free_rcu() */
}
