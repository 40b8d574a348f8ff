/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pspat_uapi.h - the netlink interface of the "pspat" qdisc, shared by the
 * module (kmod/pspat_qdisc.c) and tc (tc-plugin/q_pspat.cpp).
 *
 * Per qdisc (tc, TCA_OPTIONS nest): what one pspat root may want unlike the
 * others on the same machine. Global (module parameters, see
 * kmod/pspat_params.c): the one arbiter and dispatcher, and the mailboxes,
 * which every pspat qdisc shares. A per-qdisc value of 0 ("default")
 * follows the matching module parameter. `tc qdisc change` applies from
 * the arbiter's next round; no packet is lost or reordered by it.
 */
#ifndef _PSPAT_UAPI_H
#define _PSPAT_UAPI_H

#include <linux/types.h>

enum {
	TCA_PSPAT_UNSPEC,
	TCA_PSPAT_XMIT_MODE,	/* u8: enum tc_pspat_xmit_mode */
	TCA_PSPAT_BATCH,	/* u32: packets out of the child per round */
	TCA_PSPAT_HELD_LIMIT,	/* u32: packets held for stopped txqs */
	__TCA_PSPAT_MAX
};

#define TCA_PSPAT_MAX	(__TCA_PSPAT_MAX - 1)

/* Who hands this qdisc's packets to the driver. */
enum tc_pspat_xmit_mode {
	TC_PSPAT_XMIT_DEFAULT,		/* the module parameter xmit_mode */
	TC_PSPAT_XMIT_ARBITER,
	TC_PSPAT_XMIT_DISPATCHER,
	__TC_PSPAT_XMIT_MAX
};

/* TCA_PSPAT_BATCH: 0 (the module parameter arb_batch) .. this. */
#define TC_PSPAT_BATCH_MAX		4096U

/*
 * TCA_PSPAT_HELD_LIMIT: while this many packets wait for stopped txqs, the
 * arbiter leaves the rest in the child (backpressure, nothing dropped).
 */
#define TC_PSPAT_HELD_LIMIT_MIN		1U
#define TC_PSPAT_HELD_LIMIT_MAX		65536U
#define TC_PSPAT_HELD_LIMIT_DEFAULT	256U

/*
 * TCA_STATS_APP of a pspat qdisc (`tc -s qdisc show`). Counters only grow;
 * the fields marked "now" are gauges. The global part is the same for
 * every pspat qdisc. Userspace must accept a longer struct (new fields are
 * appended) and treat a shorter one as missing its tail.
 */
struct tc_pspat_xstats {
	/* This qdisc. */
	__u64	pushed;		/* packets clients put into mailboxes */
	__u64	mailbox_full;	/* dropped: the sender's mailbox was full */
	__u64	arbitrated;	/* dequeued from the child by the arbiter */
	__u64	child_drops;	/* refused by the child */
	__u64	stale_drops;	/* queued before a reset (device down) */
	__u64	xmit_drops;	/* device gone or packet invalid at transmit */
	__u64	backpressure;	/* packets a stopped txq made wait */
	__u64	dispatched;	/* handed to the dispatcher */
	__u32	held;		/* now: packets waiting for stopped txqs */
	__u32	xmit_mode;	/* now: enum tc_pspat_xmit_mode in effect */

	/* The arbiter (global). */
	__u64	arb_rounds;	/* rounds that moved packets */
	__u64	arb_packets;	/* taken from mailboxes: / rounds = batch */
	__u64	arb_sleeps;
	__u64	arb_wakeups;	/* woken by a client or a doorbell */
	__u64	arb_throttle_sleeps;	/* slept while a child was throttled */

	/* The dispatcher (global). */
	__u64	disp_batches;
	__u64	disp_packets;

	/* Mailboxes (global). */
	__u64	mb_created;
	__u64	mb_reclaimed;	/* freed after their thread exited */
	__u64	mb_alloc_fail;	/* creation failed: used the CPU mailbox */
	__u32	mb_live;	/* now: thread mailboxes */
	__u32	mb_active;	/* now: mailboxes the arbiter is serving */
	__u64	mb_limited;	/* max_mailboxes reached: used the CPU mailbox */
};

#endif /* _PSPAT_UAPI_H */
