// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel self-test of include/pspat/iffq.h, the same header the userspace
 * GoogleTest suite (tests/iffq) checks.
 *
 * On load it runs single-thread geometry/edge/batch/wrap-around tests and a
 * two-kthread stress with sequence-numbered items, prints KTAP lines
 * ("pspat_iffq_test: ok 1 - geometry") and fails the load with -EINVAL if
 * any test fails.  On success the module stays loaded; rmmod it.
 *
 *	insmod pspat_iffq_test.ko [items=N]
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "pspat/iffq.h"

static unsigned long items = 1000000;
module_param(items, ulong, 0444);
MODULE_PARM_DESC(items, "items pushed through the two-kthread stress test");

static unsigned int stress_timeout_s = 60;
module_param(stress_timeout_s, uint, 0444);
MODULE_PARM_DESC(stress_timeout_s, "stall timeout of the stress test (s)");

#define NUM_TESTS	7
#define MAX_ENTRIES	1024UL

/* Reports the first failed check of a test; the test then returns false. */
#define CHECK(cond, fmt, ...)						\
	do {								\
		if (unlikely(!(cond))) {				\
			pr_err("# %s:%d: %s: " fmt "\n", __func__,	\
			       __LINE__, #cond, ##__VA_ARGS__);		\
			return false;					\
		}							\
	} while (0)

static void *tok(unsigned long i)
{
	return (void *)((i + 1) << 4);
}

static struct iffq *q_new(unsigned long entries, unsigned long line)
{
	struct iffq *q = kvzalloc(iffq_size(entries, line), GFP_KERNEL);

	if (q && iffq_init(q, entries, line)) {
		kvfree(q);
		q = NULL;
	}
	return q;
}

/* Iterates over every valid geometry with at most MAX_ENTRIES slots. */
static bool next_geometry(unsigned long *entries, unsigned long *line)
{
	do {
		if (*entries == 0) {
			*entries = 1;
			*line = 1;
		} else if (*line < IFFQ_MAX_LINE) {
			*line <<= 1;
		} else {
			*entries <<= 1;
			*line = 1;
		}
		if (*entries > MAX_ENTRIES)
			return false;
	} while (iffq_check_geometry(*entries, *line));
	return true;
}

#define for_each_geometry(e, l) \
	for (e = 0, l = 0; next_geometry(&e, &l); )

static bool test_geometry(void)
{
	static const unsigned long bad[][2] = {
		{ 0, 64 }, { 1, 64 }, { 8, 64 }, { 12, 64 }, { 1000, 64 },
		{ 64, 0 }, { 64, 32 }, { 64, 96 }, { 16, 128 }, { 32, 256 },
		{ 1UL << 21, 64 }, { 1UL << 20, 8192 }, { ~0UL, 64 },
		{ 64, ~0UL },
	};
	unsigned long e, l, n = 0;
	struct iffq *q;
	unsigned int i;
	void *mem;
	int err;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK(iffq_check_geometry(bad[i][0], bad[i][1]) == -EINVAL,
		      "%lux%lu", bad[i][0], bad[i][1]);
		CHECK(iffq_size(bad[i][0], bad[i][1]) == 0, "%lux%lu",
		      bad[i][0], bad[i][1]);
	}
	for_each_geometry(e, l) {
		n++;
		q = q_new(e, l);
		CHECK(q, "%lux%lu", e, l);
		CHECK(((uintptr_t)q->slots & (l - 1)) == 0, "%lux%lu", e, l);
		CHECK(iffq_entries(q) == e && iffq_line_entries(q) ==
		      l / sizeof(void *), "%lux%lu", e, l);
		kvfree(q);
	}
	CHECK(n == 28, "%lu geometries", n);

	mem = kzalloc(4096, GFP_KERNEL);
	CHECK(mem, "alloc");
	err = iffq_init((struct iffq *)((char *)mem + 8), 64, 64);
	kfree(mem);
	CHECK(err == -EINVAL, "misaligned init returned %d", err);
	CHECK(iffq_init(NULL, 64, 64) == -EINVAL, "NULL");
	return true;
}

static bool test_empty_full(void)
{
	unsigned long e, l, i, cap;
	struct iffq *q;
	bool ok = true;

	for_each_geometry(e, l) {
		q = q_new(e, l);
		CHECK(q, "alloc");
		cap = e - l / sizeof(void *);
		ok = iffq_empty(q) && !iffq_extract(q) && !iffq_peek(q) &&
		     iffq_approx_count(q) == 0 &&
		     iffq_insert(q, NULL) == -EINVAL;
		iffq_clear(q);
		for (i = 0; ok && i < cap; i++)
			ok = iffq_insert(q, tok(i)) == 0;
		ok = ok && iffq_insert(q, tok(cap)) == -ENOBUFS &&
		     iffq_approx_count(q) == cap && iffq_peek(q) == tok(0);
		for (i = 0; ok && i < cap; i++)
			ok = iffq_extract(q) == tok(i);
		ok = ok && iffq_empty(q) && !iffq_extract(q);
		kvfree(q);
		CHECK(ok, "%lux%lu", e, l);
	}
	return true;
}

/* Extraction alone frees nothing; clear() frees lines behind the reader. */
static bool test_batch(void)
{
	struct iffq *q = q_new(64, 64);
	bool ok = true;
	unsigned long i;

	CHECK(q, "alloc");
	for (i = 0; i < 56; i++)
		ok = ok && !iffq_insert(q, tok(i));
	ok = ok && iffq_insert(q, tok(56)) == -ENOBUFS;
	for (i = 0; i < 7; i++)
		ok = ok && iffq_extract(q) == tok(i);
	iffq_clear(q);
	ok = ok && iffq_insert(q, tok(56)) == -ENOBUFS;
	ok = ok && iffq_extract(q) == tok(7);
	ok = ok && iffq_insert(q, tok(56)) == -ENOBUFS;
	iffq_clear(q);
	for (i = 56; i < 64; i++)
		ok = ok && !iffq_insert(q, tok(i));
	ok = ok && iffq_insert(q, tok(64)) == -ENOBUFS;
	ok = ok && iffq_drain(q, NULL, NULL) == 56 && iffq_empty(q);
	kvfree(q);
	CHECK(ok, "batch trace");
	return true;
}

/*
 * Many laps of every geometry, filling from a different offset each time:
 * after draining and clearing at position p exactly
 * entries - line_entries - p % line_entries pointers fit, in order.
 */
static bool wrap_one(struct iffq *q, unsigned long e, unsigned long l)
{
	unsigned long L = l / sizeof(void *), in = 0, out = 0, pos = 0;
	unsigned long r, k, b, got, rounds = 2 * L + 2 + 2 * (e / L);

	for (r = 0; r < rounds; r++) {
		got = 0;
		while (!iffq_insert(q, tok(in))) {
			in++;
			got++;
			CHECK(got <= e, "%lux%lu overfill", e, l);
		}
		CHECK(got == e - L - pos % L, "%lux%lu round %lu got %lu",
		      e, l, r, got);
		while (out < in) {
			for (b = 0; b < 1 + r % (2 * L + 1) && out < in; b++)
				CHECK(iffq_extract(q) == tok(out++),
				      "%lux%lu order", e, l);
			iffq_clear(q);
		}
		CHECK(!iffq_extract(q), "%lux%lu extra", e, l);
		pos += got;
		for (k = 0; k < r % (L + 1); k++) {
			CHECK(!iffq_insert(q, tok(in++)), "%lux%lu", e, l);
			CHECK(iffq_extract(q) == tok(out++), "%lux%lu", e, l);
			iffq_clear(q);
			pos++;
		}
	}
	CHECK(pos > 2 * e, "%lux%lu did not wrap", e, l);
	return true;
}

static bool test_wraparound(void)
{
	unsigned long e, l;
	struct iffq *q;
	bool ok;

	for_each_geometry(e, l) {
		q = q_new(e, l);
		CHECK(q, "alloc");
		ok = wrap_one(q, e, l);
		kvfree(q);
		if (!ok)
			return false;
		cond_resched();
	}
	return true;
}

/* Random operations against an exact single-thread model. */
static bool model_one(struct iffq *q, unsigned long e, unsigned long l)
{
	unsigned long L = l / sizeof(void *), w = 0, r = 0, cc = 0, i;
	u32 x = 2463534242u;	/* xorshift32 */
	void *p;
	bool ok;

	for (i = 0; i < 40 * e + 4000; i++) {
		bool fill = (i / (2 * e + 7)) % 2 == 0;
		unsigned int op;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		op = x % 16;
		if (op < (fill ? 11 : 5)) {
			ok = !iffq_insert(q, tok(w));
			CHECK(ok == (w - cc < e - L), "%lux%lu op %lu", e, l, i);
			if (ok)
				w++;
		} else if (op < 15) {
			p = iffq_extract(q);
			CHECK(p == (r < w ? tok(r) : NULL), "%lux%lu op %lu",
			      e, l, i);
			if (p)
				r++;
		} else {
			iffq_clear(q);
			cc = r & ~(L - 1);
		}
		CHECK(iffq_approx_count(q) == w - r, "%lux%lu", e, l);
	}
	CHECK(w > 2 * e, "%lux%lu did not wrap", e, l);
	return true;
}

static bool test_model(void)
{
	unsigned long e, l;
	struct iffq *q;
	bool ok;

	for_each_geometry(e, l) {
		q = q_new(e, l);
		CHECK(q, "alloc");
		ok = model_one(q, e, l);
		kvfree(q);
		if (!ok)
			return false;
	}
	return true;
}

static bool test_drain(void)
{
	struct iffq *q = q_new(256, 128);
	unsigned long i, n = 0;
	bool ok = true;

	CHECK(q, "alloc");
	for (i = 0; i < 100; i++)
		ok = ok && !iffq_insert(q, tok(i));
	ok = ok && iffq_drain(q, NULL, NULL) == 100 && iffq_empty(q) &&
	     iffq_approx_count(q) == 0 && iffq_drain(q, NULL, NULL) == 0;
	for (i = 0; i < 10; i++)
		ok = ok && !iffq_insert(q, tok(i));
	while (iffq_extract(q))
		n++;
	kvfree(q);
	CHECK(ok && n == 10, "drain");
	return true;
}

/* Two-kthread stress. */

struct stress_item {
	u64 seq;
	u64 check;
};

struct stress_ctx {
	struct iffq *q;
	struct stress_item *pool;
	unsigned long pool_size;
	unsigned long items;
	unsigned long received;
	unsigned long bad;
	unsigned long first_bad;
	unsigned long timeout;
	int abort;
	struct completion done[2];
};

static u64 mix(u64 x)
{
	return (x ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
}

/*
 * Called while the queue is full (producer) or empty (consumer).  Spins,
 * then sleeps briefly so that the peer can run even on one CPU.  Returns
 * true if the test must stop: the peer aborted or nothing moved for
 * stress_timeout_s.
 */
static bool stress_wait(struct stress_ctx *c, unsigned long *spins,
			unsigned long *since)
{
	if (!*spins)
		*since = jiffies;
	++*spins;
	cpu_relax();
	if (*spins % 256)
		return false;
	if (READ_ONCE(c->abort))
		return true;
	if (time_after(jiffies, *since + c->timeout)) {
		WRITE_ONCE(c->abort, 1);
		return true;
	}
	usleep_range(5, 20);
	return false;
}

static int stress_producer(void *arg)
{
	struct stress_ctx *c = arg;
	unsigned long i, spins, since = 0;

	for (i = 0; i < c->items; i++) {
		struct stress_item *it = &c->pool[i % c->pool_size];

		it->seq = i;
		it->check = mix(i);
		spins = 0;
		while (iffq_insert(c->q, it))
			if (stress_wait(c, &spins, &since))
				goto out;
		if (!(i & 4095))
			cond_resched();
	}
out:
	kthread_complete_and_exit(&c->done[0], 0);
}

static int stress_consumer(void *arg)
{
	struct stress_ctx *c = arg;
	unsigned long expect = 0, b, max, spins = 0, since = 0;
	struct stress_item *it;

	while (expect < c->items) {
		/* Arbiter style: extract a batch, then release it. */
		max = 1 + expect % 97;
		for (b = 0; b < max; b++) {
			it = iffq_extract(c->q);
			if (!it)
				break;
			if (it->seq != expect || it->check != mix(expect)) {
				if (!c->bad++)
					c->first_bad = expect;
			}
			expect++;
		}
		iffq_clear(c->q);
		if (b) {
			spins = 0;
			if (!(expect & 4095))
				cond_resched();
		} else if (stress_wait(c, &spins, &since)) {
			break;
		}
	}
	c->received = expect;
	kthread_complete_and_exit(&c->done[1], 0);
}

static bool stress_run(unsigned long entries, unsigned long line,
		       unsigned long n)
{
	struct stress_ctx *c;
	struct task_struct *t[2];
	bool two_cpus = num_online_cpus() >= 2;
	ktime_t t0;
	bool ok;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	CHECK(c, "alloc");
	c->items = n;
	c->timeout = stress_timeout_s * HZ;
	/* See tests/iffq/test_iffq_stress.cpp: no item reuse while in use. */
	c->pool_size = 2 * entries;
	c->pool = kvcalloc(c->pool_size, sizeof(*c->pool), GFP_KERNEL);
	c->q = q_new(entries, line);
	init_completion(&c->done[0]);
	init_completion(&c->done[1]);
	ok = c->pool && c->q;
	if (!ok)
		goto out;

	t[1] = kthread_create(stress_consumer, c, "iffq_test_cons");
	if (IS_ERR(t[1])) {
		ok = false;
		goto out;
	}
	t[0] = kthread_create(stress_producer, c, "iffq_test_prod");
	if (IS_ERR(t[0])) {
		/* Let the consumer give up on its own. */
		WRITE_ONCE(c->abort, 1);
		wake_up_process(t[1]);
		wait_for_completion(&c->done[1]);
		ok = false;
		goto out;
	}
	if (two_cpus) {
		kthread_bind(t[0], cpumask_first(cpu_online_mask));
		kthread_bind(t[1], cpumask_next(cpumask_first(cpu_online_mask),
						cpu_online_mask));
	}
	t0 = ktime_get();
	wake_up_process(t[1]);
	wake_up_process(t[0]);
	wait_for_completion(&c->done[0]);
	wait_for_completion(&c->done[1]);
	pr_info("# stress %lux%lu: %lu of %lu items in %lld ms, %lu bad, %s\n",
		entries, line, c->received, n,
		ktime_ms_delta(ktime_get(), t0), c->bad,
		two_cpus ? "2 cpus" : "1 cpu");
	ok = !c->abort && c->received == n && !c->bad &&
	     !iffq_extract(c->q);
	if (c->bad)
		pr_err("# first bad item: expected seq %lu\n", c->first_bad);
out:
	kvfree(c->q);
	kvfree(c->pool);
	kfree(c);
	CHECK(ok, "stress %lux%lu", entries, line);
	return true;
}

static bool test_stress(void)
{
	bool ok = stress_run(1024, 64, items);

	/* Tiny queue: producer and consumer meet at full and empty. */
	return stress_run(16, 64, items / 20 + 1) && ok;
}

static int failed;
static int num;

static void run(bool (*fn)(void), const char *name)
{
	bool ok = fn();

	num++;
	if (!ok)
		failed++;
	pr_info("%sok %d - %s\n", ok ? "" : "not ", num, name);
}

static int __init pspat_iffq_test_init(void)
{
	pr_info("KTAP version 1\n");
	pr_info("1..%d\n", NUM_TESTS);
	run(test_geometry, "geometry");
	run(test_empty_full, "empty_full");
	run(test_batch, "batch_extract_clear");
	run(test_drain, "drain");
	run(test_wraparound, "wraparound");
	run(test_model, "random_ops_model");
	run(test_stress, "two_kthread_stress");
	pr_info("# totals: pass:%d fail:%d\n", num - failed, failed);
	return failed ? -EINVAL : 0;
}

static void __exit pspat_iffq_test_exit(void)
{
}

module_init(pspat_iffq_test_init);
module_exit(pspat_iffq_test_exit);

MODULE_DESCRIPTION("PSPAT IFFQ mailbox self-test");
MODULE_AUTHOR("sch_pspat developers");
MODULE_LICENSE("GPL");
