// SPDX-License-Identifier: GPL-2.0
// Single-thread IFFQ tests: geometry, edges, batch semantics, wrap-around.
#include "test_iffq.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>

extern "C" int iffq_c11_smoke(void);

namespace iffq_test {
namespace {

using Q = pspat::Iffq<void>;

std::unique_ptr<Q> Make(const Geometry &g) {
  int err = 1;
  auto q = Q::create(g.entries, g.line, &err);
  EXPECT_EQ(err, 0) << Name(g);
  EXPECT_NE(q, nullptr) << Name(g);
  return q;
}

TEST(IffqGeometry, RejectsBad) {
  const std::pair<unsigned long, unsigned long> bad[] = {
      {0, 64},           {1, 64},
      {8, 64},  // less than two lines
      {12, 64},          {100, 64},
      {1000, 64},  // not powers of two
      {64, 0},           {64, 32},
      {64, 8},  // line below a cache line
      {64, 96},          {64, 100},
      {1024, 192},  // line not a power of two
      {16, 128},         {32, 256},
      {256, 2048},                         // less than two lines
      {1UL << 21, 64},   {1UL << 40, 64},  // too many entries
      {1UL << 20, 8192},                   // line too long
      {~0UL, 64},        {64, ~0UL},
      {1UL << 63, 64},
  };
  for (auto [e, l] : bad) {
    EXPECT_EQ(iffq_check_geometry(e, l), -EINVAL) << e << "x" << l;
    EXPECT_EQ(iffq_size(e, l), 0u) << e << "x" << l;
    int err = 0;
    EXPECT_EQ(Q::create(e, l, &err), nullptr) << e << "x" << l;
    EXPECT_EQ(err, -EINVAL);
    alignas(64) static unsigned char mem[4096];
    EXPECT_EQ(iffq_init(reinterpret_cast<struct iffq *>(mem), e, l), -EINVAL);
  }
}

TEST(IffqGeometry, AcceptsValid) {
  const std::pair<unsigned long, unsigned long> good[] = {
      {16, 64},          {32, 128}, {1024, 4096}, {1UL << 20, 64},
      {1UL << 20, 4096}, {256, 64}, {8192, 128}};
  for (auto [e, l] : good) {
    EXPECT_EQ(iffq_check_geometry(e, l), 0) << e << "x" << l;
    EXPECT_GE(iffq_size(e, l), sizeof(struct iffq) + e * sizeof(void *));
  }
  auto all = AllGeometries(1024);
  EXPECT_EQ(all.size(), 28u);
}

TEST(IffqGeometry, LayoutSeparatesProducerConsumer) {
  EXPECT_EQ(offsetof(struct iffq, prod_write) % 64, 0u);
  EXPECT_EQ(offsetof(struct iffq, cons_read) % 64, 0u);
  EXPECT_GE(offsetof(struct iffq, prod_write), 64u);
  EXPECT_GE(
      offsetof(struct iffq, cons_read) - offsetof(struct iffq, prod_write),
      64u);
  for (auto g : AllGeometries(1024)) {
    auto q = Make(g);
    auto *raw = q->raw();
    auto slots = reinterpret_cast<std::uintptr_t>(raw->slots);
    EXPECT_EQ(slots % g.line, 0u) << Name(g);
    EXPECT_GE(slots, reinterpret_cast<std::uintptr_t>(raw) + sizeof(*raw));
    EXPECT_LE(
        slots + g.entries * sizeof(void *),
        reinterpret_cast<std::uintptr_t>(raw) + iffq_size(g.entries, g.line));
    EXPECT_EQ(q->entries(), g.entries);
    EXPECT_EQ(q->line_entries(), g.line_entries());
  }
}

TEST(IffqInit, RejectsMisalignedOrNullMemory) {
  alignas(64) static unsigned char mem[8192];
  EXPECT_EQ(iffq_init(nullptr, 64, 64), -EINVAL);
  EXPECT_EQ(iffq_init(reinterpret_cast<struct iffq *>(mem + 8), 64, 64),
            -EINVAL);
  EXPECT_EQ(iffq_init(reinterpret_cast<struct iffq *>(mem + 32), 64, 64),
            -EINVAL);
  // Dirty memory is fine: init zeroes it.
  for (auto &b : mem) b = 0xa5;
  auto *q = reinterpret_cast<struct iffq *>(mem);
  ASSERT_EQ(iffq_init(q, 64, 64), 0);
  EXPECT_TRUE(iffq_empty(q));
  EXPECT_EQ(iffq_extract(q), nullptr);
}

TEST(IffqEdges, EmptyQueue) {
  for (auto g : AllGeometries(1024)) {
    auto q = Make(g);
    EXPECT_TRUE(q->empty());
    EXPECT_EQ(q->peek(), nullptr);
    EXPECT_EQ(q->extract(), nullptr);
    EXPECT_EQ(q->try_pop(), nullptr);
    q->clear();
    EXPECT_EQ(q->approx_size(), 0u);
    ASSERT_TRUE(q->try_push(Tok(1)));
    EXPECT_FALSE(q->empty());
    EXPECT_EQ(q->approx_size(), 1u);
    EXPECT_EQ(q->peek(), Tok(1));
    EXPECT_EQ(q->peek(), Tok(1));  // peek does not consume
    EXPECT_EQ(q->try_pop(), Tok(1));
    EXPECT_TRUE(q->empty());
    EXPECT_EQ(q->try_pop(), nullptr);
    EXPECT_EQ(q->approx_size(), 0u);
  }
}

TEST(IffqEdges, NullIsRejected) {
  auto q = Make({64, 64});
  EXPECT_EQ(iffq_insert(q->raw(), nullptr), -EINVAL);
  EXPECT_FALSE(q->try_push(nullptr));
  EXPECT_TRUE(q->empty());
}

// A new queue holds exactly entries - line_entries pointers.
TEST(IffqEdges, FullFromNew) {
  for (auto g : AllGeometries(1024)) {
    auto q = Make(g);
    const unsigned long cap = g.entries - g.line_entries();
    for (unsigned long i = 0; i < cap; i++)
      ASSERT_TRUE(q->try_push(Tok(i))) << Name(g) << " i=" << i;
    EXPECT_EQ(iffq_insert(q->raw(), Tok(cap)), -ENOBUFS) << Name(g);
    EXPECT_EQ(iffq_insert(q->raw(), Tok(cap)), -ENOBUFS) << Name(g);
    EXPECT_EQ(q->approx_size(), cap);
    for (unsigned long i = 0; i < cap; i++)
      ASSERT_EQ(q->try_pop(), Tok(i)) << Name(g);
    EXPECT_EQ(q->try_pop(), nullptr);
  }
}

// Extraction alone never frees a slot; clear() frees whole lines behind the
// consumer's current line.  Traced on 64 entries of 8 slots per line.
TEST(IffqBatch, ExtractThenClear) {
  auto q = Make({64, 64});
  for (int i = 0; i < 56; i++) ASSERT_TRUE(q->try_push(Tok(i)));
  ASSERT_FALSE(q->try_push(Tok(56)));

  for (int i = 0; i < 7; i++) ASSERT_EQ(q->extract(), Tok(i));
  EXPECT_FALSE(q->try_push(Tok(56)));  // extracted, not cleared
  q->clear();                          // consumer still in line 0
  EXPECT_FALSE(q->try_push(Tok(56)));

  ASSERT_EQ(q->extract(), Tok(7));  // now in line 1
  EXPECT_FALSE(q->try_push(Tok(56)));
  q->clear();  // releases line 0: exactly one more line fits
  for (int i = 56; i < 64; i++) ASSERT_TRUE(q->try_push(Tok(i))) << i;
  EXPECT_FALSE(q->try_push(Tok(64)));

  // A batch spanning several lines, released in one clear().
  for (int i = 8; i < 30; i++) ASSERT_EQ(q->extract(), Tok(i));
  EXPECT_FALSE(q->try_push(Tok(64)));
  q->clear();  // consumer at 30: lines 1 and 2 (slots 8..23) released
  for (int i = 64; i < 80; i++) ASSERT_TRUE(q->try_push(Tok(i))) << i;
  EXPECT_FALSE(q->try_push(Tok(80)));
  q->clear();  // idempotent
  EXPECT_FALSE(q->try_push(Tok(80)));

  unsigned long n =
      q->drain([next = 30](void *p) mutable { EXPECT_EQ(p, Tok(next++)); });
  EXPECT_EQ(n, 50u);
  EXPECT_TRUE(q->empty());
}

// Look-ahead over a batch (the arbiter's drain): peek_nth() stops at the
// first slot not published, also when slots extracted and not yet cleared
// lie behind it, and advance() takes exactly what was seen.
TEST(IffqBatch, PeekAheadStopsAtUnpublished) {
  for (Geometry g : AllGeometries(256)) {
    SCOPED_TRACE(Name(g));
    auto q = Make(g);
    std::uintptr_t next_in = 0, next_out = 0;
    for (int lap = 0; lap < 4 * static_cast<int>(g.entries) + 3; lap++) {
      // A different number each time, up to what fits.
      for (unsigned long k = 0; k < 1 + lap % (g.entries + 1); k++) {
        if (q->try_push(Tok(next_in))) next_in++;
      }
      const unsigned long want = 1 + lap % 7;
      unsigned long n = 0;
      while (n < want && q->peek_nth(n)) {
        ASSERT_EQ(q->peek_nth(n), Tok(next_out + n)) << "lap " << lap;
        n++;
      }
      ASSERT_EQ(n, std::min<unsigned long>(want, next_in - next_out))
          << "lap " << lap;
      q->advance(n);
      next_out += n;
      if (lap % 3 == 0) q->clear();  // sometimes leave lines uncleared
      if (n < want) {
        ASSERT_EQ(q->peek_nth(0), nullptr);
      }
    }
    q->clear();
    unsigned long rest =
        q->drain([&](void *p) { EXPECT_EQ(p, Tok(next_out++)); });
    EXPECT_EQ(next_out, next_in);
    (void)rest;
  }
}

TEST(IffqBatch, DrainCallsEachOnceAndEmpties) {
  auto q = Make({256, 128});
  for (int i = 0; i < 100; i++) ASSERT_TRUE(q->try_push(Tok(i)));
  unsigned long count = 0;
  EXPECT_EQ(iffq_drain(
                q->raw(),
                [](void *, void *arg) { ++*static_cast<unsigned long *>(arg); },
                &count),
            100u);
  EXPECT_EQ(count, 100u);
  EXPECT_EQ(iffq_drain(q->raw(), nullptr, nullptr), 0u);
  EXPECT_TRUE(q->empty());
  EXPECT_EQ(q->approx_size(), 0u);
}

// For every geometry up to 1024 entries: many laps, each filling the queue
// from a different offset.  After the consumer drained and cleared at
// position p, exactly entries - line_entries - (p % line_entries) pointers
// fit, and they come out in order.
TEST(IffqWrap, ExhaustiveSmallGeometries) {
  for (auto g : AllGeometries(1024)) {
    auto q = Make(g);
    const unsigned long L = g.line_entries(), N = g.entries;
    unsigned long seq_in = 0, seq_out = 0, pos = 0;
    const unsigned long rounds = 2 * L + 2 + 2 * (N / L);
    for (unsigned long r = 0; r < rounds; r++) {
      const unsigned long expect = N - L - (pos % L);
      unsigned long got = 0;
      while (q->try_push(Tok(seq_in))) {
        seq_in++;
        got++;
        ASSERT_LE(got, N) << Name(g);
      }
      ASSERT_EQ(got, expect) << Name(g) << " round " << r << " pos " << pos;
      // Drain in batches of varying size, clearing after each batch.
      unsigned long batch = 1 + r % (2 * L + 1);
      while (seq_out < seq_in) {
        for (unsigned long b = 0; b < batch && seq_out < seq_in; b++)
          ASSERT_EQ(q->extract(), Tok(seq_out++)) << Name(g);
        q->clear();
      }
      ASSERT_EQ(q->extract(), nullptr) << Name(g);
      pos += got;
      // Shift the phase by r % (L + 1) more single items.
      for (unsigned long k = 0; k < r % (L + 1); k++) {
        ASSERT_TRUE(q->try_push(Tok(seq_in++)));
        ASSERT_EQ(q->try_pop(), Tok(seq_out++));
        pos++;
      }
      q->clear();
    }
    ASSERT_GT(pos, 2 * N) << Name(g);  // wrapped at least twice
  }
}

// Random operations against an exact model.  Single-threaded, a push fails
// iff prod_write - cons_clear == entries - line_entries.
TEST(IffqWrap, RandomOpsMatchModel) {
  std::mt19937_64 rng(12345);
  for (auto g : AllGeometries(1024)) {
    auto q = Make(g);
    const unsigned long L = g.line_entries(), N = g.entries;
    unsigned long w = 0, r = 0, cc = 0;  // model indices
    const unsigned long ops = 40 * N + 4000;
    for (unsigned long i = 0; i < ops; i++) {
      // Alternate producer-heavy and consumer-heavy phases.
      const bool fill_phase = (i / (2 * N + 7)) % 2 == 0;
      const unsigned op = rng() % 16;
      if (op < (fill_phase ? 11u : 5u)) {
        const bool ok = q->try_push(Tok(w));
        ASSERT_EQ(ok, w - cc < N - L) << Name(g) << " op " << i;
        if (ok) w++;
      } else if (op < 15) {
        void *p = q->extract();
        if (r < w) {
          ASSERT_EQ(p, Tok(r)) << Name(g) << " op " << i;
          r++;
        } else {
          ASSERT_EQ(p, nullptr) << Name(g) << " op " << i;
        }
        ASSERT_EQ(q->empty(), r == w);
      } else {
        q->clear();
        cc = r & ~(L - 1);
      }
      ASSERT_EQ(q->approx_size(), w - r);
    }
    ASSERT_GT(w, 2 * N) << Name(g);
  }
}

TEST(IffqCompat, C11TranslationUnit) { EXPECT_EQ(iffq_c11_smoke(), 0); }

}  // namespace
}  // namespace iffq_test
