// SPDX-License-Identifier: GPL-2.0
// IFFQ vs other SPSC queues: producer->consumer throughput and round-trip
// latency on two pinned threads (producer/ping on CPU 0, consumer/pong on
// CPU 1).
//
// Every queue moves the same payload (one pointer) one item per operation:
// push() spins until it succeeds, pop() spins until it gets an item.  IFFQ's
// consumer uses try_pop() (extract + lazy clear).  Capacities: IFFQ holds
// entries - line/8 pointers, the others hold `entries`.
//
//   throughput/<queue>/<entries>/<line>: 2^18 items per iteration; an
//       iteration ends when the consumer has received them all.
//   rtt/<queue>/<entries>/<line>: 2^12 ping-pongs per iteration over two
//       queues (one item in flight).
//
// After the Google Benchmark output it prints a summary table (medians over
// repetitions) and the throughput ratios; the last line is
// "iffq/boost throughput ratio: X.XX".  Ratios are geometric means over
// the queue sizes of IFFQ with IFFQ_DEFAULT_LINE (128-byte lines) over the
// baseline at the same size; for boost the faster of its run-time and
// compile-time capacity variants is used at each size.  The same ratios for
// 64-byte IFFQ lines are printed just before, for reference.
//
// Defaults (overridable on the command line): --benchmark_repetitions=3
// --benchmark_display_aggregates_only=true.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <readerwriterqueue/readerwriterqueue.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lamport.h"
#include "pspat/iffq.hpp"

namespace {

using pspat_bench::LamportCachedRing;
using pspat_bench::LamportRing;

constexpr std::int64_t kThroughputItems = 1 << 18;
constexpr std::int64_t kRttRounds = 1 << 12;
constexpr long kRatioLine = IFFQ_DEFAULT_LINE;  // 128
const long kSizes[] = {256, 1024, 8192};

// ---- queue adapters: bool push(void*), bool pop(void*&) -----------------

struct IffqQ {
  static constexpr const char *kName = "iffq";
  std::unique_ptr<pspat::Iffq<void>> q;
  IffqQ(long entries, long line) : q(pspat::Iffq<void>::create(entries, line)) {
    if (!q) std::abort();
  }
  bool push(void *p) noexcept { return q->try_push(p); }
  bool pop(void *&p) noexcept { return (p = q->try_pop()) != nullptr; }
};

struct LamportQ {
  static constexpr const char *kName = "lamport";
  LamportRing q;
  LamportQ(long entries, long) : q(entries) {}
  bool push(void *p) noexcept { return q.push(p); }
  bool pop(void *&p) noexcept { return q.pop(p); }
};

struct LamportCachedQ {
  static constexpr const char *kName = "lamport_cached";
  LamportCachedRing q;
  LamportCachedQ(long entries, long) : q(entries) {}
  bool push(void *p) noexcept { return q.push(p); }
  bool pop(void *&p) noexcept { return q.pop(p); }
};

struct BoostQ {
  static constexpr const char *kName = "boost_spsc";
  boost::lockfree::spsc_queue<void *> q;  // run-time capacity
  BoostQ(long entries, long) : q(entries) {}
  bool push(void *p) noexcept { return q.push(p); }
  bool pop(void *&p) noexcept { return q.pop(p); }
};

// Same queue with the capacity fixed at compile time: the ring is stored
// inline and its size is a constant.  The run-time-sized variant above keeps
// the ring pointer and size next to the consumer's index, so every push reads
// a line the consumer keeps writing; this one does not, and is much faster.
// Both are measured; the iffq/boost ratio uses the faster one per size.
template <long N>
struct BoostCtQ {
  static constexpr const char *kName = "boost_spsc_ct";
  boost::lockfree::spsc_queue<void *, boost::lockfree::capacity<N>> q;
  BoostCtQ(long entries, long) {
    if (entries != N) std::abort();
  }
  bool push(void *p) noexcept { return q.push(p); }
  bool pop(void *&p) noexcept { return q.pop(p); }
};

struct MoodyQ {
  static constexpr const char *kName = "moodycamel";
  moodycamel::ReaderWriterQueue<void *> q;
  MoodyQ(long entries, long) : q(entries) {}
  bool push(void *p) noexcept { return q.try_enqueue(p); }  // never allocates
  bool pop(void *&p) noexcept { return q.try_dequeue(p); }
};

// ---- threads --------------------------------------------------------------

int g_cpu_prod = 0, g_cpu_cons = 1;

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

inline void Relax() {}

inline void *Token(std::uint64_t i) {
  return reinterpret_cast<void *>(static_cast<std::uintptr_t>(i) * 8 + 8);
}

// Control flags shared by the two threads, each on its own cache line and
// away from the queue (which is heap-allocated too), so that only the queue
// itself moves cache lines between the CPUs.
struct alignas(64) Control {
  alignas(64) std::atomic<std::int64_t> batches_done{0};
  alignas(64) std::atomic<bool> stop{false};
  std::atomic<std::int64_t> pop_fails{0};  // written once, at the end
};

template <class Q>
void BM_Throughput(benchmark::State &state) {
  auto q = std::make_unique<Q>(state.range(0), state.range(1));
  auto ctl = std::make_unique<Control>();
  std::thread consumer([q = q.get(), ctl = ctl.get()] {
    Pin(g_cpu_cons);
    std::int64_t n = 0, fails = 0;
    std::uintptr_t sum = 0;
    void *p;
    for (;;) {
      if (q->pop(p)) {
        sum += reinterpret_cast<std::uintptr_t>(p);
        if (++n == kThroughputItems) {
          n = 0;
          ctl->batches_done.fetch_add(1, std::memory_order_release);
        }
      } else if (ctl->stop.load(std::memory_order_relaxed)) {
        break;
      } else {
        fails++;
        Relax();
      }
    }
    ctl->pop_fails.store(fails);
    benchmark::DoNotOptimize(sum);
  });

  std::int64_t batches = 0, push_fails = 0;
  std::uint64_t seq = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < kThroughputItems; i++) {
      void *p = Token(seq++);
      while (!q->push(p)) {
        push_fails++;
        Relax();
      }
    }
    ++batches;
    while (ctl->batches_done.load(std::memory_order_acquire) != batches)
      Relax();
  }
  ctl->stop.store(true);
  consumer.join();
  const double items =
      static_cast<double>(state.iterations() * kThroughputItems);
  state.SetItemsProcessed(state.iterations() * kThroughputItems);
  // Failed attempts per item: which side waits (queue mostly full or empty).
  // pop_fail also counts the consumer's idle spins between iterations.
  state.counters["push_fail"] = push_fails / items;
  state.counters["pop_fail"] = ctl->pop_fails.load() / items;
}

template <class Q>
void BM_Rtt(benchmark::State &state) {
  auto ping = std::make_unique<Q>(state.range(0), state.range(1));
  auto pong = std::make_unique<Q>(state.range(0), state.range(1));
  auto ctl = std::make_unique<Control>();
  std::thread ponger([ping = ping.get(), pong = pong.get(), ctl = ctl.get()] {
    Pin(g_cpu_cons);
    void *p;
    for (;;) {
      if (ping->pop(p)) {
        while (!pong->push(p)) Relax();
      } else if (ctl->stop.load(std::memory_order_relaxed)) {
        break;
      } else {
        Relax();
      }
    }
  });

  std::uint64_t seq = 0;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < kRttRounds; i++) {
      void *out = Token(seq++), *in;
      while (!ping->push(out)) Relax();
      while (!pong->pop(in)) Relax();
      if (in != out) state.SkipWithError("rtt: wrong token");
    }
  }
  ctl->stop.store(true);
  ponger.join();
  state.SetItemsProcessed(state.iterations() * kRttRounds);
}

template <class Q>
void RegisterOne(long e, long l) {
  std::string suffix =
      std::string(Q::kName) + "/" + std::to_string(e) + "/" + std::to_string(l);
  benchmark::RegisterBenchmark(("throughput/" + suffix).c_str(),
                               BM_Throughput<Q>)
      ->Args({e, l})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("rtt/" + suffix).c_str(), BM_Rtt<Q>)
      ->Args({e, l})
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

template <class Q>
void Register() {
  for (long e : kSizes) {
    std::vector<long> lines{64};
    if (std::string(Q::kName) == "iffq") lines.push_back(128);
    for (long l : lines) RegisterOne<Q>(e, l);
  }
}

void RegisterBoostCt() {
  static_assert(sizeof(kSizes) / sizeof(kSizes[0]) == 3);
  RegisterOne<BoostCtQ<256>>(256, 64);
  RegisterOne<BoostCtQ<1024>>(1024, 64);
  RegisterOne<BoostCtQ<8192>>(8192, 64);
}

// ---- summary --------------------------------------------------------------

// Collects counters per benchmark (median over repetitions) while forwarding
// everything to the console reporter.
class Collector : public benchmark::ConsoleReporter {
 public:
  explicit Collector(OutputOptions opts) : ConsoleReporter(opts) {}

  void ReportRuns(const std::vector<Run> &runs) override {
    for (const Run &r : runs) {
      if (r.error_occurred) continue;
      const std::string key = r.run_name.function_name;
      for (const auto &[name, counter] : r.counters) {
        if (r.run_type == Run::RT_Aggregate) {
          if (r.aggregate_name == "median") median_[key][name] = counter.value;
        } else {
          samples_[key][name].push_back(counter.value);
        }
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // Median of a counter, 0 if the benchmark did not run.
  double Get(const std::string &bench,
             const std::string &counter = "items_per_second") const {
    if (auto it = median_.find(bench); it != median_.end()) {
      auto c = it->second.find(counter);
      return c == it->second.end() ? 0 : c->second;
    }
    auto it = samples_.find(bench);
    if (it == samples_.end()) return 0;
    auto c = it->second.find(counter);
    if (c == it->second.end() || c->second.empty()) return 0;
    std::vector<double> v = c->second;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }

 private:
  std::map<std::string, std::map<std::string, double>> median_;
  std::map<std::string, std::map<std::string, std::vector<double>>> samples_;
};

std::string Key(const char *kind, const std::string &queue, long e, long l) {
  return std::string(kind) + "/" + queue + "/" + std::to_string(e) + "/" +
         std::to_string(l);
}

void PrintSummary(const Collector &c) {
  const char *queues[] = {IffqQ::kName,  LamportQ::kName, LamportCachedQ::kName,
                          BoostQ::kName, "boost_spsc_ct", MoodyQ::kName};
  std::printf("\n%-16s %8s %5s %10s %10s %10s %10s\n", "queue", "entries",
              "line", "Mitems/s", "push_fail", "pop_fail", "rtt_ns");
  for (const char *qn : queues) {
    for (long e : kSizes) {
      for (long l : {64L, 128L}) {
        const std::string t = Key("throughput", qn, e, l);
        const double tp = c.Get(t), rt = c.Get(Key("rtt", qn, e, l));
        if (!tp && !rt) continue;
        std::printf("%-16s %8ld %5ld %10.1f %10.2f %10.2f %10.0f\n", qn, e, l,
                    tp / 1e6, c.Get(t, "push_fail"), c.Get(t, "pop_fail"),
                    rt ? 1e9 / rt : 0.0);
      }
    }
  }
  // Geometric mean over sizes of rate(IFFQ, kRatioLine) / rate(baseline),
  // where the baseline is the fastest of `bases` at that size.
  auto ratio = [&](const char *kind, std::vector<std::string> bases,
                   long iffq_line = kRatioLine) {
    double log_sum = 0;
    int n = 0;
    for (long e : kSizes) {
      const double a = c.Get(Key(kind, "iffq", e, iffq_line));
      double b = 0;
      for (const auto &base : bases)
        b = std::max(b, c.Get(Key(kind, base, e, 64)));
      if (a > 0 && b > 0) {
        log_sum += std::log(a / b);
        n++;
      }
    }
    return n ? std::exp(log_sum / n) : 0.0;
  };
  auto print = [](const char *what, double r) {
    if (r > 0)
      std::printf("%s: %.2f\n", what, r);
    else
      std::printf("%s: n/a\n", what);
  };
  std::printf("\n");
  // Round trips/s ratios: > 1 means IFFQ has the lower latency.
  for (const char *base : {LamportQ::kName, LamportCachedQ::kName,
                           BoostQ::kName, "boost_spsc_ct", MoodyQ::kName}) {
    print(("iffq/" + std::string(base) + " rtt ratio (baseline_rtt / iffq_rtt)")
              .c_str(),
          ratio("rtt", {base}));
  }
  print("iffq/boost rtt ratio (best boost variant)",
        ratio("rtt", {BoostQ::kName, "boost_spsc_ct"}));
  for (const char *base :
       {LamportQ::kName, LamportCachedQ::kName, BoostQ::kName, "boost_spsc_ct"})
    print(("iffq/" + std::string(base) + " throughput ratio").c_str(),
          ratio("throughput", {base}));
  // The same two ratios with the other IFFQ line size, for reference.
  const long other = kRatioLine == 64 ? 128 : 64;
  const std::string tag = "iffq(line " + std::to_string(other) + ")/";
  print((tag + "moodycamel throughput ratio").c_str(),
        ratio("throughput", {MoodyQ::kName}, other));
  print((tag + "boost throughput ratio").c_str(),
        ratio("throughput", {BoostQ::kName, "boost_spsc_ct"}, other));
  print("iffq/moodycamel throughput ratio",
        ratio("throughput", {MoodyQ::kName}));
  // Keep this the last line of the output.
  print("iffq/boost throughput ratio",
        ratio("throughput", {BoostQ::kName, "boost_spsc_ct"}));
}

bool HasFlag(int argc, char **argv, const char *flag) {
  for (int i = 1; i < argc; i++)
    if (!std::strncmp(argv[i], flag, std::strlen(flag))) return true;
  return false;
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<char *> args(argv, argv + argc);
  std::string reps = "--benchmark_repetitions=3";
  std::string aggr = "--benchmark_display_aggregates_only=true";
  if (!HasFlag(argc, argv, "--benchmark_repetitions"))
    args.push_back(reps.data());
  if (!HasFlag(argc, argv, "--benchmark_display_aggregates_only") &&
      !HasFlag(argc, argv, "--benchmark_report_aggregates_only"))
    args.push_back(aggr.data());
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  const unsigned ncpu = std::thread::hardware_concurrency();
  if (ncpu < 2) {
    std::fprintf(stderr, "bench_iffq: only %u CPU(s); both threads on CPU 0\n",
                 ncpu);
    g_cpu_cons = 0;
  }
  Pin(g_cpu_prod);

  Register<IffqQ>();
  Register<LamportQ>();
  Register<LamportCachedQ>();
  Register<BoostQ>();
  RegisterBoostCt();
  Register<MoodyQ>();

  // Colors only on a terminal, unless --benchmark_color=false.
  const bool color =
      isatty(STDOUT_FILENO) && !HasFlag(argc, argv, "--benchmark_color=false");
  Collector collector(color ? benchmark::ConsoleReporter::OO_ColorTabular
                            : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  PrintSummary(collector);
  std::fflush(stdout);
  return 0;
}
