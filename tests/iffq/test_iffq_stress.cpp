// SPDX-License-Identifier: GPL-2.0
// Two-thread IFFQ stress: one producer, one consumer, sequence-numbered items.
// Checks no loss, no duplication, FIFO order, and (under TSan) that the
// item contents written by the producer are published by the queue.
//
// PSPAT_STRESS_ITEMS overrides the item count of the main test (default
// 10^7); the other stress tests use a fraction of it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "test_iffq.h"

namespace iffq_test {
namespace {

// Plain (non-atomic) payload: if the queue failed to publish it, TSan
// reports a race between the producer's stores and the consumer's loads.
struct Item {
  std::uint64_t seq;
  std::uint64_t check;
};

constexpr std::uint64_t Mix(std::uint64_t x) {
  return (x ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
}

enum class Mode { kBatch, kTryPop, kPeekAhead };

class Backoff {
 public:
  void operator()() {
    if (++n_ < 64) return;
    n_ = 0;
    std::this_thread::yield();
  }
  void reset() { n_ = 0; }

 private:
  unsigned n_ = 0;
};

struct Result {
  std::uint64_t received = 0;
  std::uint64_t bad = 0;
  std::uint64_t first_bad_seq = 0, first_bad_got = 0;
  bool timed_out = false;
  double seconds = 0;
};

using Clock = std::chrono::steady_clock;

Result RunStress(const Geometry &g, std::uint64_t items, Mode mode) {
  int err = 0;
  auto q = pspat::Iffq<Item>::create(g.entries, g.line, &err);
  EXPECT_EQ(err, 0);
  if (!q) return {};
  // The producer rewrites pool[i % P] for item i.  P = 2 * entries keeps an
  // item from being rewritten before the consumer has read it, even with
  // try_pop(), which releases a slot before the caller reads the item: the
  // producer can only reach item i + P after the consumer cleared slot
  // i + P - entries + line_entries, i.e. well after it read item i.
  std::vector<Item> pool(2 * g.entries);
  std::atomic<bool> abort{false};
  const auto stall = std::chrono::seconds(30);
  Result res;

  auto producer = [&] {
    Backoff backoff;
    auto last = Clock::now();
    for (std::uint64_t i = 0; i < items; i++) {
      Item *it = &pool[i % pool.size()];
      it->seq = i;
      it->check = Mix(i);
      unsigned spins = 0;
      while (!q->try_push(it)) {
        backoff();
        if (++spins % 4096 == 0) {
          if (abort.load(std::memory_order_relaxed)) return;
          if (Clock::now() - last > stall) {
            abort = true;
            return;
          }
        }
      }
      if (spins) last = Clock::now();
    }
  };

  auto consumer = [&] {
    Backoff backoff;
    std::uint64_t expect = 0;
    unsigned spins = 0;
    auto last = Clock::now();
    auto check = [&](Item *it) {
      if (it->seq != expect || it->check != Mix(expect)) {
        if (!res.bad++) {
          res.first_bad_seq = expect;
          res.first_bad_got = it->seq;
        }
      }
      expect++;
    };
    while (expect < items) {
      bool got = false;
      if (mode == Mode::kBatch) {
        // Arbiter style: take a batch of varying size, then release it.
        const std::uint64_t max = 1 + expect % 97;
        for (std::uint64_t b = 0; b < max; b++) {
          Item *it = q->extract();
          if (!it) break;
          check(it);
          got = true;
        }
        q->clear();
      } else if (mode == Mode::kPeekAhead) {
        // The arbiter's drain: look ahead over a batch, take it at once.
        const std::uint64_t max = 1 + expect % 97;
        std::uint64_t b = 0;
        while (b < max) {
          Item *it = q->peek_nth(b);
          if (!it) break;
          check(it);
          b++;
        }
        q->advance(b);
        q->clear();
        got = b > 0;
      } else if (Item *it = q->try_pop()) {
        check(it);
        got = true;
      }
      if (got) {
        backoff.reset();
        if (spins) {
          spins = 0;
          last = Clock::now();
        }
        continue;
      }
      backoff();
      if (++spins % 4096 == 0) {
        if (abort.load(std::memory_order_relaxed) ||
            Clock::now() - last > stall) {
          abort = true;
          res.timed_out = true;
          break;
        }
      }
    }
    res.received = expect;
  };

  const auto t0 = Clock::now();
  std::thread c(consumer);
  std::thread p(producer);
  p.join();
  c.join();
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // Nothing may be left over (no duplicates beyond `items`).
  EXPECT_EQ(q->extract(), nullptr);
  std::printf("[ stress   ] %s %s: %llu items in %.2f s (%.1f Mitems/s)\n",
              Name(g).c_str(),
              mode == Mode::kBatch       ? "batch"
              : mode == Mode::kPeekAhead ? "peek-ahead"
                                         : "try_pop",
              static_cast<unsigned long long>(res.received), res.seconds,
              res.received / res.seconds / 1e6);
  return res;
}

void ExpectClean(const Result &r, std::uint64_t items) {
  EXPECT_FALSE(r.timed_out) << "stalled: lost item? received " << r.received;
  EXPECT_EQ(r.received, items);
  EXPECT_EQ(r.bad, 0u) << "first bad: expected seq " << r.first_bad_seq
                       << ", got " << r.first_bad_got;
}

std::uint64_t MainItems() { return EnvOr("PSPAT_STRESS_ITEMS", 10'000'000); }

TEST(IffqStress, TwoThreadsBatch) {
  const std::uint64_t n = MainItems();
  ExpectClean(RunStress({1024, 64}, n, Mode::kBatch), n);
}

TEST(IffqStress, TwoThreadsPeekAhead) {
  const std::uint64_t n = MainItems() / 2 + 1;
  ExpectClean(RunStress({1024, 64}, n, Mode::kPeekAhead), n);
}

TEST(IffqStress, TwoThreadsTryPop) {
  const std::uint64_t n = MainItems() / 5 + 1;
  ExpectClean(RunStress({256, 128}, n, Mode::kTryPop), n);
}

// Tiny queues: producer and consumer keep meeting at full and empty.
TEST(IffqStress, SmallGeometries) {
  const std::uint64_t n = MainItems() / 50 + 1;
  for (Geometry g : {Geometry{16, 64}, Geometry{32, 128}, Geometry{64, 64},
                     Geometry{64, 256}, Geometry{128, 512}}) {
    ExpectClean(RunStress(g, n, Mode::kBatch), n);
    ExpectClean(RunStress(g, n, Mode::kTryPop), n);
    ExpectClean(RunStress(g, n, Mode::kPeekAhead), n);
  }
}

}  // namespace
}  // namespace iffq_test
