// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-handoff: what a root qdisc's lock costs on this host when two
 * cores take turns, for the scaling model of docs/performance.md (run by
 * scripts/bench.sh on the host, not in the guest: TCG cannot show it).
 *
 *   pspat-handoff [--cpus A,B] [--lines K] [--ms MS]
 *
 * A stock root qdisc's critical section takes a spinlock and writes the
 * qdisc's hot cache lines (the lock's line, the Qdisc's queue length and
 * backlog, the child's class state, the running state...): K lines here,
 * default 4. Measured, each the median of 5 runs of MS ms (default 200):
 *
 *   cycle_ns       one dependent add (one core cycle)
 *   atomic_ns      one uncontended `lock xadd` on a line of one's own
 *   solo_ns        the critical section, one thread alone (lines cached)
 *   pingpong_ns    the critical section when two threads on CPUs A and B
 *                  strictly alternate: every section finds the lock and
 *                  the K lines in the other core's cache
 *   handoff_ns     pingpong_ns - solo_ns: the hand-off alone (h)
 *   contended_ns   wall time per section when both threads hammer the
 *                  lock as fast as they can (no turns)
 *
 * Prints one JSON object. The spinlock is a test-and-test-and-set on an
 * int (a queued spinlock's uncontended fast path is one cmpxchg too).
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kLine = 64;

struct alignas(kLine) Line {
  std::atomic<uint64_t> v{0};
};

struct Shared {
  Line lock;  // the spinlock (0 free, 1 taken)
  Line turn;  // ping-pong only: whose turn
  Line stop;
  std::vector<Line> lines;  // the qdisc's hot lines
  explicit Shared(unsigned k) : lines(k) {}
};

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
    std::fprintf(stderr, "pspat-handoff: cannot pin to CPU %d\n", cpu);
    std::exit(1);
  }
}

inline void cpu_relax() { __builtin_ia32_pause(); }

// The critical section: take the lock (acquire), write the K lines, let
// go (release). Relaxed stores inside: the lock orders them.
inline void section(Shared &s) {
  for (;;) {
    if (s.lock.v.load(std::memory_order_relaxed) == 0 &&
        s.lock.v.exchange(1, std::memory_order_acquire) == 0)
      break;
    cpu_relax();
  }
  for (auto &l : s.lines)
    l.v.store(l.v.load(std::memory_order_relaxed) + 1,
              std::memory_order_relaxed);
  s.lock.v.store(0, std::memory_order_release);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double cycle_ns(uint64_t ms) {
  const uint64_t iters = 1 << 20;  // x 16 adds
  uint64_t n = 0, x = 0, t0 = now_ns(), t;
  do {
    for (uint64_t i = 0; i < iters; i++)
      asm volatile(
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
          "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
          : "+r"(x));
    n += iters * 16;
    t = now_ns();
  } while (t - t0 < ms * 1000000);
  return static_cast<double>(t - t0) / static_cast<double>(n);
}

double atomic_ns(uint64_t ms) {
  Line l;
  const uint64_t iters = 1 << 16;
  uint64_t n = 0, t0 = now_ns(), t;
  do {
    for (uint64_t i = 0; i < iters; i++)
      l.v.fetch_add(1, std::memory_order_seq_cst);
    n += iters;
    t = now_ns();
  } while (t - t0 < ms * 1000000);
  return static_cast<double>(t - t0) / static_cast<double>(n);
}

double solo_ns(unsigned k, uint64_t ms) {
  Shared s(k);
  const uint64_t iters = 1 << 14;
  uint64_t n = 0, t0 = now_ns(), t;
  do {
    for (uint64_t i = 0; i < iters; i++) section(s);
    n += iters;
    t = now_ns();
  } while (t - t0 < ms * 1000000);
  return static_cast<double>(t - t0) / static_cast<double>(n);
}

// Two threads alternate: thread `me` waits for its turn, runs the
// section, passes the turn. Returns ns per section.
double pingpong_ns(unsigned k, uint64_t ms, int cpu_a, int cpu_b) {
  Shared s(k);
  std::atomic<uint64_t> done{0};
  auto body = [&](int me, int cpu) {
    pin(cpu);
    uint64_t n = 0;
    for (;;) {
      uint64_t t;
      while ((t = s.turn.v.load(std::memory_order_acquire)) % 2 !=
             static_cast<uint64_t>(me)) {
        if (s.stop.v.load(std::memory_order_relaxed)) {
          done.fetch_add(n);
          return;
        }
        cpu_relax();
      }
      section(s);
      n++;
      s.turn.v.store(t + 1, std::memory_order_release);
    }
  };
  std::thread a(body, 0, cpu_a), b(body, 1, cpu_b);
  uint64_t t0 = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  uint64_t turns = s.turn.v.load();
  uint64_t t1 = now_ns();
  s.stop.v.store(1);
  a.join();
  b.join();
  return static_cast<double>(t1 - t0) / static_cast<double>(turns ? turns : 1);
}

double contended_ns(unsigned k, uint64_t ms, int cpu_a, int cpu_b) {
  Shared s(k);
  std::atomic<uint64_t> total{0};
  auto body = [&](int cpu) {
    pin(cpu);
    uint64_t n = 0;
    while (!s.stop.v.load(std::memory_order_relaxed)) {
      section(s);
      n++;
    }
    total.fetch_add(n);
  };
  std::thread a(body, cpu_a), b(body, cpu_b);
  uint64_t t0 = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  s.stop.v.store(1);
  a.join();
  b.join();
  uint64_t t1 = now_ns();
  return static_cast<double>(t1 - t0) /
         static_cast<double>(total.load() ? total.load() : 1);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: pspat-handoff [--cpus A,B] [--lines K] [--ms MS]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char **argv) {
  int cpu_a = 0, cpu_b = 1;
  unsigned k = 4;
  uint64_t ms = 200;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--cpus") && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%d,%d", &cpu_a, &cpu_b) != 2 ||
          cpu_a == cpu_b)
        usage();
    } else if (!std::strcmp(argv[i], "--lines") && i + 1 < argc) {
      k = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 0));
      if (k < 1 || k > 64) usage();
    } else if (!std::strcmp(argv[i], "--ms") && i + 1 < argc) {
      ms = std::strtoull(argv[++i], nullptr, 0);
      if (ms < 1) usage();
    } else {
      usage();
    }
  }
  pin(cpu_a);
  std::vector<double> cyc, at, solo, pp, ct;
  for (int r = 0; r < 5; r++) {
    cyc.push_back(cycle_ns(ms));
    at.push_back(atomic_ns(ms));
    solo.push_back(solo_ns(k, ms));
    pp.push_back(pingpong_ns(k, ms, cpu_a, cpu_b));
    ct.push_back(contended_ns(k, ms, cpu_a, cpu_b));
  }
  double so = median(solo), p = median(pp);
  std::printf(
      "{\"cpus\":[%d,%d],\"lines\":%u,\"ms\":%llu,\"runs\":5,\"cycle_ns\":%.3f,"
      "\"atomic_ns\":%.2f,\"solo_ns\":%.2f,\"pingpong_ns\":%.2f,\"handoff_ns\":"
      "%.2f,"
      "\"contended_ns\":%.2f,\"pingpong_all_ns\":[%.1f,%.1f,%.1f,%.1f,%.1f]}\n",
      cpu_a, cpu_b, k, static_cast<unsigned long long>(ms), median(cyc),
      median(at), so, p, p - so, median(ct), pp[0], pp[1], pp[2], pp[3], pp[4]);
  return 0;
}
