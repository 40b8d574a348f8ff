/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IFFQ: Improved FastForward Queue, a single-producer single-consumer queue
 * of pointers.
 *
 * Maffione, Lettieri, Rizzo, "Cache-aware design of general-purpose
 * Single-Producer Single-Consumer queues", Software: Practice and Experience,
 * 2019.
 *
 * The queue is an array of 2^k slots.  A slot holds a pointer; NULL means
 * empty.  There is no shared index: producer and consumer only communicate
 * through the slots.
 *
 * - The producer writes at its private index prod_write.  It may write
 *   freely up to prod_check (a line boundary).  When it gets there it looks
 *   at the first slot of the line after the next one; if that slot is NULL
 *   the next line is known to be free and prod_check advances by one line,
 *   otherwise the queue is full.  So at least one free line always separates
 *   the producer from slots the consumer has yet to clear.
 * - The consumer reads at its private index cons_read (iffq_extract()); a
 *   NULL slot means the queue is empty.  Extraction does not free the slot:
 *   iffq_clear() later zeroes whole lines from cons_clear up to the start of
 *   the line holding cons_read.  An arbiter can thus extract a batch, work on
 *   it, and release the slots afterwards.
 *
 * In steady state the producer writes one line while the consumer reads or
 * clears another, so the only cache lines that move between the two CPUs
 * are the slot lines themselves, once per line, plus one read of a line
 * cleared by the consumer every line_entries insertions.  Producer fields,
 * consumer fields and the read-only geometry live on separate cache lines.
 *
 * Capacity: iffq_entries() - line_entries items when the consumer is at a
 * line boundary (as on a new queue), one less for every slot already
 * extracted from the current consumer line.
 *
 * Usage (kernel; userspace uses pspat::Iffq from iffq.hpp or the same calls):
 *
 *	q = kvzalloc(iffq_size(entries, line), GFP_KERNEL);
 *	err = iffq_init(q, entries, line);
 *	producer:	err = iffq_insert(q, skb);	   -ENOBUFS when full
 *	consumer:	while ((skb = iffq_extract(q))) ...; iffq_clear(q);
 *	teardown:	iffq_drain(q, free_fn, arg); kvfree(q);
 *
 * Exactly one thread may call the producer functions (iffq_insert()) and
 * exactly one the consumer functions (iffq_extract(), iffq_peek(),
 * iffq_peek_nth(), iffq_advance(), iffq_empty(), iffq_clear(), iffq_drain())
 * at any time.  iffq_approx_count()
 * and the geometry accessors may be called from anywhere.
 *
 * Memory ordering
 * ---------------
 * [A] Producer, iffq_insert(): smp_store_release() of the pointer into its
 *     slot.  Everything the producer wrote before (the skb and its cb, the
 *     object the pointer refers to) is visible to whoever observes the
 *     pointer with an acquire load.  This is the publication point.
 *
 * [B] Consumer, iffq_extract(), iffq_peek(), iffq_peek_nth():
 *     smp_load_acquire() of the slot pairs with [A]: once the consumer
 *     sees the non-NULL pointer it also sees the object's contents.
 *
 * [C] Consumer, iffq_clear(): the first slot of every line is cleared with
 *     smp_store_release(), the others with WRITE_ONCE(), in increasing
 *     order.  [D] Producer, iffq_insert(): the slot one line ahead is read
 *     with smp_load_acquire().  When [D] reads the NULL stored by [C] for
 *     the first slot of line X+1, the producer is about to overwrite line X.
 *     Release/acquire makes everything the consumer did before [C] happen
 *     before the producer's new stores: all its loads of the old pointers of
 *     line X (so it cannot see the new ones instead) and all its NULL stores
 *     to line X (so they cannot land after, and wipe out, the new pointers).
 *     Stores to slots after the first one of line X+1 are covered later, by
 *     the release of the first slot of line X+2, which the producer must
 *     read as NULL before it touches line X+1.  The NULL read by [D] can only
 *     come from [C] (or from iffq_init()): the producer's own earlier store
 *     of a pointer to that slot precedes it in coherence order.
 *     Is acquire more than needed?  The producer only *stores* after [D],
 *     and in the Linux kernel memory model READ_ONCE() followed by a
 *     dependent conditional store is already ordered (control dependency),
 *     so READ_ONCE() would do in the kernel.  C11/C++ has no control
 *     dependencies, so userspace needs acquire; it costs nothing on x86
 *     (plain mov) and one ldar per line on arm64, so we use it everywhere.
 *
 * [E] Indices need no ordering.  prod_write/prod_check are only written
 *     and read by the producer, cons_read/cons_clear only by the consumer;
 *     no decision of the other side depends on them.  They are updated with
 *     WRITE_ONCE() only so that iffq_approx_count() (tracing, stats) can read
 *     them with READ_ONCE() from any CPU without a data race; its result is
 *     a hint and is clamped to [0, entries].
 *
 * The geometry fields are written once in iffq_init(), before the queue is
 * handed to the producer and consumer threads; that hand-off (thread
 * creation, qdisc init, a lock) provides the ordering for them.
 *
 * This header compiles in the kernel and, through iffq_compat_user.h (which
 * maps the primitives above onto __atomic builtins), in C11 and C++20
 * userspace.
 */
#ifndef PSPAT_IFFQ_H
#define PSPAT_IFFQ_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/cache.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/barrier.h>
#else
#include "iffq_compat_user.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Geometry limits, checked by iffq_check_geometry(). */
#define IFFQ_MIN_LINE		64UL		/* bytes: one cache line */
#define IFFQ_MAX_LINE		4096UL		/* bytes */
#define IFFQ_MAX_ENTRIES	1048576UL	/* 2^20: 8 MiB of slots on 64-bit */
/*
 * Suggested line size: two cache lines.  x86 cores prefetch the adjacent
 * line of each pair, so with 64-byte lines producer and consumer still
 * disturb each other; bench/iffq measured ~1.6x the throughput with 128.
 */
#define IFFQ_DEFAULT_LINE	128UL

struct iffq {
	/* Geometry: written by iffq_init(), read-only afterwards. */
	unsigned long	entry_mask;	/* entries - 1 */
	unsigned long	line_entries;	/* slots per line */
	unsigned long	line_mask;	/* ~(line_entries - 1) */
	void		**slots;	/* line-aligned within the allocation */

	/* Producer-private. */
	unsigned long	prod_write ____cacheline_aligned_in_smp;
	unsigned long	prod_check;	/* may write up to here unchecked */

	/* Consumer-private. */
	unsigned long	cons_read ____cacheline_aligned_in_smp;
	unsigned long	cons_clear;	/* slots before this are NULL */
} ____cacheline_aligned_in_smp;

/* Required alignment of the memory handed to iffq_init(). */
#define IFFQ_ALIGN		__alignof__(struct iffq)

static inline bool iffq_is_pow2(unsigned long x)
{
	return x && !(x & (x - 1));
}

/**
 * iffq_check_geometry - validate a queue geometry
 * @entries: number of slots, a power of two, at most IFFQ_MAX_ENTRIES
 * @line_size: bytes per line, a power of two in [IFFQ_MIN_LINE, IFFQ_MAX_LINE]
 *
 * The slots must span at least two lines.
 * Return: 0 or -EINVAL.
 */
static inline int iffq_check_geometry(unsigned long entries,
				      unsigned long line_size)
{
	if (!iffq_is_pow2(entries) || entries > IFFQ_MAX_ENTRIES)
		return -EINVAL;
	if (!iffq_is_pow2(line_size) || line_size < IFFQ_MIN_LINE ||
	    line_size > IFFQ_MAX_LINE)
		return -EINVAL;
	if (entries * sizeof(void *) < 2 * line_size)
		return -EINVAL;
	return 0;
}

/* Offset of the slot array from the start of the queue memory. */
static inline size_t iffq_slots_offset(unsigned long line_size)
{
	return (sizeof(struct iffq) + line_size - 1) & ~(size_t)(line_size - 1);
}

/**
 * iffq_size - bytes of memory needed for a queue
 * @entries: number of slots
 * @line_size: line size in bytes
 *
 * The memory must be aligned to IFFQ_ALIGN; aligning it to @line_size
 * (kmalloc of these sizes and vmalloc both do) also aligns the slot lines.
 * Return: the size, or 0 if the geometry is invalid.
 */
static inline size_t iffq_size(unsigned long entries, unsigned long line_size)
{
	if (iffq_check_geometry(entries, line_size))
		return 0;
	return iffq_slots_offset(line_size) + entries * sizeof(void *);
}

/**
 * iffq_init - initialize a queue in caller-provided memory
 * @q: at least iffq_size(@entries, @line_size) bytes, aligned to IFFQ_ALIGN;
 *     need not be zeroed
 * @entries: number of slots
 * @line_size: line size in bytes
 *
 * Return: 0, or -EINVAL for a bad geometry or misaligned memory.
 */
static inline int iffq_init(struct iffq *q, unsigned long entries,
			    unsigned long line_size)
{
	int err = iffq_check_geometry(entries, line_size);

	if (err)
		return err;
	if (!q || ((uintptr_t)q & (IFFQ_ALIGN - 1)))
		return -EINVAL;
	memset((void *)q, 0, iffq_size(entries, line_size));
	q->entry_mask = entries - 1;
	q->line_entries = line_size / sizeof(void *);
	q->line_mask = ~(q->line_entries - 1);
	q->slots = (void **)((char *)q + iffq_slots_offset(line_size));
	q->prod_write = 0;
	q->prod_check = q->line_entries;
	q->cons_read = 0;
	q->cons_clear = 0;
	return 0;
}

static inline unsigned long iffq_entries(const struct iffq *q)
{
	return q->entry_mask + 1;
}

static inline unsigned long iffq_line_entries(const struct iffq *q)
{
	return q->line_entries;
}

/*
 * Diagnostics only (tracepoints): entries inserted and not yet extracted,
 * as seen from anywhere. Both indices are read without ordering, so the
 * value may be stale by a few entries; reading the consumer's index costs
 * the producer a cache miss, which is why the data path never calls this.
 */
static inline unsigned long iffq_occupancy(const struct iffq *q)
{
	unsigned long n = READ_ONCE(q->prod_write) - READ_ONCE(q->cons_read);

	return n > q->entry_mask + 1 ? 0 : n;
}

/**
 * iffq_insert - producer: append a pointer
 * @q: the queue
 * @v: the pointer, not NULL
 *
 * Return: 0, -ENOBUFS if the queue is full, -EINVAL if @v is NULL.
 */
static inline int iffq_insert(struct iffq *q, void *v)
{
	unsigned long w = q->prod_write;

	if (unlikely(!v))
		return -EINVAL;
	if (unlikely(w == q->prod_check)) {
		/* [D]: is the line after the next one cleared? */
		if (smp_load_acquire(&q->slots[(w + q->line_entries) &
					       q->entry_mask]))
			return -ENOBUFS;
		q->prod_check = w + q->line_entries;
	}
	/* [A]: publish *v together with the pointer. */
	smp_store_release(&q->slots[w & q->entry_mask], v);
	WRITE_ONCE(q->prod_write, w + 1);	/* [E] */
	return 0;
}

/**
 * iffq_extract - consumer: take the next pointer, leaving its slot in use
 * @q: the queue
 *
 * The slot is released by a later iffq_clear().
 * Return: the pointer, or NULL if the queue is empty.
 */
static inline void *iffq_extract(struct iffq *q)
{
	unsigned long r = q->cons_read;
	/* [B]: pairs with [A]. */
	void *v = smp_load_acquire(&q->slots[r & q->entry_mask]);

	if (v)
		WRITE_ONCE(q->cons_read, r + 1);	/* [E] */
	return v;
}

/**
 * iffq_peek - consumer: return the next pointer without extracting it
 * @q: the queue
 *
 * Return: the pointer, or NULL if the queue is empty.
 */
static inline void *iffq_peek(const struct iffq *q)
{
	/* [B]: pairs with [A]. */
	return smp_load_acquire(&q->slots[q->cons_read & q->entry_mask]);
}

/**
 * iffq_peek_nth - consumer: look ahead, @i pointers past the next one
 * @q: the queue
 * @i: 0 for the next pointer (iffq_peek()), 1 for the one after it, ...
 *
 * For a scan that extracts a batch at once: peek at 0, 1, 2, ... while the
 * result is not NULL, then iffq_advance() by the number taken. Only in
 * that order: the pointers are published in order, and the first slot not
 * yet published is NULL (the producer writes only into lines the consumer
 * cleared), so a scan from cons_read stops there and never wraps into the
 * slots it extracted and has not cleared yet.
 * Return: the pointer, or NULL if fewer than @i + 1 are published.
 */
static inline void *iffq_peek_nth(const struct iffq *q, unsigned long i)
{
	/* [B]: pairs with [A]. */
	return smp_load_acquire(&q->slots[(q->cons_read + i) & q->entry_mask]);
}

/**
 * iffq_advance - consumer: extract the @n pointers iffq_peek_nth() saw
 * @q: the queue
 * @n: how many, from the next one; each seen non-NULL by iffq_peek_nth()
 *
 * One store for the batch instead of one per pointer (iffq_extract()).
 */
static inline void iffq_advance(struct iffq *q, unsigned long n)
{
	WRITE_ONCE(q->cons_read, q->cons_read + n);	/* [E] */
}

/* Consumer: true if there is nothing to extract. */
static inline bool iffq_empty(const struct iffq *q)
{
	return !READ_ONCE(q->slots[q->cons_read & q->entry_mask]);
}

/**
 * iffq_clear - consumer: release the slots of extracted pointers
 * @q: the queue
 *
 * Zeroes whole lines from cons_clear up to the start of the line holding
 * cons_read: slots extracted from the current line stay in use until the
 * consumer moves past it.  Cheap (one compare) when there is nothing to do.
 */
static inline void iffq_clear(struct iffq *q)
{
	unsigned long c = q->cons_clear;
	unsigned long s = q->cons_read & q->line_mask;
	unsigned long n, mask, i;
	void **slots;

	if (likely(c == s))
		return;
	/* Local copies, so they are not reloaded after every store. */
	n = q->line_entries;
	mask = q->entry_mask;
	slots = q->slots;
	for (; c != s; c += n) {
		void **line = &slots[c & mask];

		/* [C]: orders all earlier loads and clears, pairs with [D]. */
		smp_store_release(&line[0], NULL);
		for (i = 1; i < n; i++)
			WRITE_ONCE(line[i], NULL);
	}
	q->cons_clear = c;
}

/**
 * iffq_approx_count - number of queued pointers, from any context
 * @q: the queue
 *
 * Racy by design (for tracing and statistics): the two indices are read at
 * slightly different times.  Never more than iffq_entries().
 */
static inline unsigned long iffq_approx_count(const struct iffq *q)
{
	unsigned long r = READ_ONCE(q->cons_read);
	unsigned long w = READ_ONCE(q->prod_write);
	unsigned long n = w - r;

	if ((long)n < 0)
		return 0;
	return n > q->entry_mask + 1 ? q->entry_mask + 1 : n;
}

/**
 * iffq_drain - consumer: extract everything left, e.g. before freeing
 * @q: the queue
 * @fn: called on each pointer (e.g. to free it), may be NULL
 * @arg: passed to @fn
 *
 * Call it once the producer is quiesced; afterwards the queue is empty and
 * its memory can be freed by whoever allocated it.
 * Return: the number of pointers extracted.
 */
static inline unsigned long iffq_drain(struct iffq *q,
				       void (*fn)(void *item, void *arg),
				       void *arg)
{
	unsigned long n = 0;
	void *v;

	while ((v = iffq_extract(q)) != NULL) {
		if (fn)
			fn(v, arg);
		n++;
	}
	iffq_clear(q);
	return n;
}

#ifdef __cplusplus
}
#endif

#endif /* PSPAT_IFFQ_H */
