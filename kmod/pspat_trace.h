/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pspat_trace.h - tracepoints of sch_pspat (system "sch_pspat"), for perf,
 * ftrace and bpftrace (scripts/bpftrace/, docs/observability.md). Off, each
 * costs a patched-out branch; the per-packet ones (enqueue, xmit) pay for
 * their fields only while enabled.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM sch_pspat

#if !defined(_PSPAT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PSPAT_TRACE_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/tracepoint.h>
#include <net/sch_generic.h>

#include <pspat/iffq.h>

/* A client's packet, at its mailbox. */
DECLARE_EVENT_CLASS(pspat_client_pkt,
	TP_PROTO(const struct Qdisc *sch, const struct sk_buff *skb,
		 const struct iffq *fifo),
	TP_ARGS(sch, skb, fifo),
	TP_STRUCT__entry(
		__field(const void *,	skbaddr)
		__field(unsigned int,	len)
		__field(int,		ifindex)
		__field(u32,		handle)
		__field(unsigned int,	occupancy)
		__field(unsigned int,	entries)
	),
	TP_fast_assign(
		__entry->skbaddr = skb;
		__entry->len = qdisc_pkt_len(skb);
		__entry->ifindex = qdisc_dev(sch)->ifindex;
		__entry->handle = sch->handle;
		__entry->occupancy = iffq_occupancy(fifo);
		__entry->entries = iffq_entries(fifo);
	),
	TP_printk("skbaddr=%p len=%u ifindex=%d handle=%x: occupancy=%u/%u",
		  __entry->skbaddr, __entry->len, __entry->ifindex,
		  __entry->handle >> 16, __entry->occupancy, __entry->entries)
);

/*
 * A client pushes a packet into its mailbox (@occupancy: before the push).
 * Fired first: pspat_mailbox_drop follows if the mailbox was full.
 */
DEFINE_EVENT(pspat_client_pkt, pspat_enqueue,
	TP_PROTO(const struct Qdisc *sch, const struct sk_buff *skb,
		 const struct iffq *fifo),
	TP_ARGS(sch, skb, fifo));

/* A client's mailbox was full: the packet is dropped. */
DEFINE_EVENT(pspat_client_pkt, pspat_mailbox_drop,
	TP_PROTO(const struct Qdisc *sch, const struct sk_buff *skb,
		 const struct iffq *fifo),
	TP_ARGS(sch, skb, fifo));

/* The arbiter took @n packets from one mailbox in a round. */
TRACE_EVENT(pspat_mailbox_drain,
	TP_PROTO(const void *mailbox, unsigned int n, int cpu),
	TP_ARGS(mailbox, n, cpu),
	TP_STRUCT__entry(
		__field(const void *,	mailbox)
		__field(unsigned int,	n)
		__field(int,		cpu)
	),
	TP_fast_assign(
		__entry->mailbox = mailbox;
		__entry->n = n;
		__entry->cpu = cpu;
	),
	TP_printk("mailbox=%p n=%u cpu=%d", __entry->mailbox, __entry->n,
		  __entry->cpu)
);

/* An arbiter round that moved packets; @active: mailboxes it served. */
TRACE_EVENT(pspat_arb_round,
	TP_PROTO(unsigned int taken, unsigned int moved, unsigned int active),
	TP_ARGS(taken, moved, active),
	TP_STRUCT__entry(
		__field(unsigned int,	taken)
		__field(unsigned int,	moved)
		__field(unsigned int,	active)
	),
	TP_fast_assign(
		__entry->taken = taken;
		__entry->moved = moved;
		__entry->active = active;
	),
	TP_printk("taken=%u moved=%u active=%u", __entry->taken,
		  __entry->moved, __entry->active)
);

/* The arbiter goes to sleep. */
TRACE_EVENT(pspat_arb_sleep,
	TP_PROTO(int throttled),
	TP_ARGS(throttled),
	TP_STRUCT__entry(
		__field(int,	throttled)
	),
	TP_fast_assign(
		__entry->throttled = throttled;
	),
	TP_printk("throttled=%d", __entry->throttled)
);

/* One dispatcher batch. */
TRACE_EVENT(pspat_dispatch_batch,
	TP_PROTO(unsigned int n),
	TP_ARGS(n),
	TP_STRUCT__entry(
		__field(unsigned int,	n)
	),
	TP_fast_assign(
		__entry->n = n;
	),
	TP_printk("n=%u", __entry->n)
);

/* A stopped txq made packets wait. */
TRACE_EVENT(pspat_backpressure,
	TP_PROTO(const struct net_device *dev, unsigned int txq,
		 unsigned int held),
	TP_ARGS(dev, txq, held),
	TP_STRUCT__entry(
		__field(int,		ifindex)
		__field(unsigned int,	txq)
		__field(unsigned int,	held)
	),
	TP_fast_assign(
		__entry->ifindex = dev->ifindex;
		__entry->txq = txq;
		__entry->held = held;
	),
	TP_printk("ifindex=%d txq=%u held=%u", __entry->ifindex,
		  __entry->txq, __entry->held)
);

/*
 * The driver accepted a packet (its last segment). The driver may have
 * freed it already: the skb is passed as a plain address, so that a BTF
 * program attached to the raw tracepoint cannot take it for a live skb.
 */
TRACE_EVENT(pspat_xmit,
	TP_PROTO(const struct net_device *dev, const void *skbaddr,
		 unsigned int len, unsigned int txq),
	TP_ARGS(dev, skbaddr, len, txq),
	TP_STRUCT__entry(
		__field(const void *,	skbaddr)
		__field(unsigned int,	len)
		__field(int,		ifindex)
		__field(unsigned int,	txq)
	),
	TP_fast_assign(
		__entry->skbaddr = skbaddr;
		__entry->len = len;
		__entry->ifindex = dev->ifindex;
		__entry->txq = txq;
	),
	TP_printk("skbaddr=%p len=%u ifindex=%d txq=%u", __entry->skbaddr,
		  __entry->len, __entry->ifindex, __entry->txq)
);

#endif /* _PSPAT_TRACE_H */

/* This part must be outside the header guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE pspat_trace
#include <trace/define_trace.h>
