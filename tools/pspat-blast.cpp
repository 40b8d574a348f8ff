// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-blast: multi-flow UDP traffic generator for the sch_pspat selftests,
 * benchmarks and demo. One thread per flow, each with its own connected UDP
 * socket (own source port, optionally own destination port), optional CPU
 * pinning, optional per-flow pacing, exact per-flow accounting of what the
 * kernel accepted (sent), what the qdisc dropped at enqueue (ENOBUFS, made
 * visible with IP_RECVERR) and any other error. JSON summary on stdout.
 *
 * See docs/tools.md for the accounting invariants and the JSON schema.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pspat_cli.hpp"
#include "pspat_pkt.hpp"

using namespace pspat;
using namespace pspat::cli;

namespace {

constexpr uint64_t NS = 1000000000ull;
constexpr unsigned MAX_THREADS = 1024;
constexpr unsigned MAX_BATCH = 1024;
constexpr uint64_t RATE_GRACE_NS = NS;

struct Opts {
  unsigned threads = 1;
  std::string dst;
  struct in_addr dst_addr {};
  std::string src;
  struct in_addr src_addr {};
  unsigned dport = 0;
  bool dport_per_thread = false;
  unsigned sport = 40000;
  size_t size = 64;
  bool pin = false;
  std::vector<int> cpus;
  double rate = 0;      /* per thread, 0 = unlimited */
  double duration = -1; /* < 0: not given; 0: until signal */
  uint64_t count = 0;   /* per thread, 0 = not given */
  unsigned batch = 1;
  int sndbuf = 0;
  int priority = -1;
  long mark = -1;
  int tos = -1;
  std::string wait_ready;
  double wait_timeout = 30;
  bool run_id_given = false;
  uint32_t run_id = 0;
  double pace_us = 50;
  double stagger = 0; /* flow i starts i * stagger seconds late */
  double linger = 0;  /* seconds a flow stays alive after its last packet */
  bool unconnected = false;
  bool verbose = false;
};

struct Flow {
  unsigned id = 0;
  int fd = -1;
  unsigned sport = 0, dport = 0;
  int cpu = -1;
  bool pin_ok = true;
  uint64_t attempts = 0, sent = 0, enobufs = 0, errors = 0;
  std::map<std::string, uint64_t> errs;
  uint64_t end_ns = 0;
  uint64_t max_lag_ns = 0; /* with -r: worst delay behind schedule */
};

std::atomic<bool> g_stop{false};
std::atomic<bool> g_abort{false};

void usage(FILE *f) {
  fputs(
      R"(Usage: pspat-blast --dst ADDR --dport PORT (-d SECONDS | -n PACKETS) [options]

Multi-flow UDP generator: thread i sends flow i from source port SPORT+i.

  -t, --threads N         number of flows/threads (default 1, max 1024)
      --dst ADDR          destination IPv4 address (required)
      --dport PORT        destination UDP port (required)
      --dport-per-thread  flow i goes to PORT+i instead of PORT
      --sport P           base source port (default 40000); flow i binds P+i
      --src ADDR          source IPv4 address to bind (default: any)
  -s, --size BYTES        UDP payload size (default 64, min 32, max 65507)
  -r, --rate PPS          per-flow rate in packets/s (default: unlimited)
  -d, --duration SECONDS  run time (float); 0 = until SIGINT/SIGTERM
  -n, --count PACKETS     packets (attempts) per flow
                          with both -d and -n, stop at whichever comes first;
                          with -r and -d a flow attempts exactly ceil(d*r)
                          packets (if it falls behind schedule it may run up
                          to 1 s past d to catch up; see max_lag_us)
      --pin               pin thread i to the i-th allowed CPU (mod count)
      --cpus LIST         pin thread i to LIST[i % len], e.g. 0,1 or 0-3
      --batch K           send with sendmmsg, K packets per call (default 1)
      --sndbuf BYTES      SO_SNDBUFFORCE (falls back to SO_SNDBUF)
      --priority N        SO_PRIORITY on every socket (skb->priority)
      --mark N            SO_MARK on every socket (skb->mark)
      --tos N             IP_TOS on every socket
      --run-id N          run id put in every packet (default: random)
      --pace-us US        with -r, minimum sleep between bursts (default 50);
                          packets due meanwhile go out back to back
      --wait-ready FILE   wait until FILE exists before sending
      --wait-timeout S    give up waiting after S seconds (default 30)
      --unconnected       sendto() on an unconnected socket: the kernel picks
                          the route and the txq (XPS) for every packet anew
      --stagger S         flow i starts i*S seconds after flow 0 (float)
      --linger S          each thread stays alive S seconds after its last
                          packet, its socket open (a live, idle sender)
  -v, --verbose           human-readable progress on stderr
  -h, --help              this help

Accounting (per flow, exact):
  Every attempt consumes one sequence number, whatever its outcome:
    attempts == sent + enobufs + errors == last_seq + 1
  (first_seq is 0)
  sent:    sendmsg() accepted the packet: it left the socket (it may
           still be dropped later, e.g. by a qdisc returning
           NET_XMIT_CN, in the network or at the receiving socket);
  enobufs: sendmsg() failed with ENOBUFS: the qdisc dropped it at
           enqueue (NET_XMIT_DROP); IP_RECVERR keeps it visible;
  errors:  any other failure, by errno name in errors_by_errno; with
           --batch > 1 a packet that failed after others in the same
           sendmmsg() call has its errno lost by the kernel: it is
           counted as "unknown" (--batch 1 gives exact ENOBUFS).
  A failed packet never left and its sequence number is never re-sent
  (the sink sees a hole), so end to end, exactly:
    attempts == sink unique + enobufs + errors + socket_drops + D
  where D = drops after a successful send (qdisc drops after enqueue,
  backlog drops, unreachable port, ...); D is 0 on a bare veth.

Output: one JSON object on stdout at the end (see docs/tools.md).
Exit status: 0 done, 1 setup failure, 2 bad arguments.
)",
      f);
}

void parse_args(int argc, char **argv, Opts *o) {
  enum {
    O_DST = 256,
    O_DPORT,
    O_DPT,
    O_SPORT,
    O_SRC,
    O_PIN,
    O_CPUS,
    O_BATCH,
    O_SNDBUF,
    O_PRIO,
    O_MARK,
    O_TOS,
    O_RUNID,
    O_PACE,
    O_WAIT,
    O_WAITTO,
    O_UNCONN,
    O_STAGGER,
    O_LINGER,
  };
  static const struct option lo[] = {
      {"threads", required_argument, nullptr, 't'},
      {"dst", required_argument, nullptr, O_DST},
      {"dport", required_argument, nullptr, O_DPORT},
      {"dport-per-thread", no_argument, nullptr, O_DPT},
      {"sport", required_argument, nullptr, O_SPORT},
      {"src", required_argument, nullptr, O_SRC},
      {"size", required_argument, nullptr, 's'},
      {"rate", required_argument, nullptr, 'r'},
      {"duration", required_argument, nullptr, 'd'},
      {"count", required_argument, nullptr, 'n'},
      {"pin", no_argument, nullptr, O_PIN},
      {"cpus", required_argument, nullptr, O_CPUS},
      {"batch", required_argument, nullptr, O_BATCH},
      {"sndbuf", required_argument, nullptr, O_SNDBUF},
      {"priority", required_argument, nullptr, O_PRIO},
      {"mark", required_argument, nullptr, O_MARK},
      {"tos", required_argument, nullptr, O_TOS},
      {"run-id", required_argument, nullptr, O_RUNID},
      {"pace-us", required_argument, nullptr, O_PACE},
      {"wait-ready", required_argument, nullptr, O_WAIT},
      {"wait-timeout", required_argument, nullptr, O_WAITTO},
      {"unconnected", no_argument, nullptr, O_UNCONN},
      {"stagger", required_argument, nullptr, O_STAGGER},
      {"linger", required_argument, nullptr, O_LINGER},
      {"verbose", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  bool have_dport = false;
  int c;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":t:s:r:d:n:vh", lo, nullptr)) != -1) {
    switch (c) {
      case 't':
        o->threads = want_u64("thread count", optarg, 1, MAX_THREADS);
        break;
      case O_DST:
        o->dst = optarg;
        break;
      case O_DPORT:
        o->dport = want_u64("--dport", optarg, 1, 65535);
        have_dport = true;
        break;
      case O_DPT:
        o->dport_per_thread = true;
        break;
      case O_SPORT:
        o->sport = want_u64("--sport", optarg, 1, 65535);
        break;
      case O_SRC:
        o->src = optarg;
        break;
      case 's':
        o->size = want_u64("size", optarg, PKT_HDR_LEN, PKT_MAX_PAYLOAD);
        break;
      case 'r':
        if (!parse_dbl(optarg, &o->rate) || o->rate <= 0 || o->rate > 1e9)
          die_usage("invalid rate '%s' (want packets/s, > 0)", optarg);
        break;
      case 'd':
        if (!parse_dbl(optarg, &o->duration) || o->duration > 1e7)
          die_usage("invalid duration '%s' (want seconds >= 0)", optarg);
        break;
      case 'n':
        o->count = want_u64("count", optarg, 1, UINT64_MAX / 2);
        break;
      case O_PIN:
        o->pin = true;
        break;
      case O_CPUS:
        if (!parse_cpu_list(optarg, &o->cpus, CPU_SETSIZE - 1))
          die_usage("invalid CPU list '%s' (e.g. 0,1 or 0-3)", optarg);
        o->pin = true;
        break;
      case O_BATCH:
        o->batch = want_u64("--batch", optarg, 1, MAX_BATCH);
        break;
      case O_SNDBUF:
        o->sndbuf = want_u64("--sndbuf", optarg, 1024, INT32_MAX / 2);
        break;
      case O_PRIO:
        o->priority = want_u64("--priority", optarg, 0, UINT32_MAX >> 1);
        break;
      case O_MARK:
        o->mark = want_u64("--mark", optarg, 0, UINT32_MAX);
        break;
      case O_TOS:
        o->tos = want_u64("--tos", optarg, 0, 255);
        break;
      case O_RUNID:
        o->run_id = want_u64("--run-id", optarg, 0, UINT32_MAX);
        o->run_id_given = true;
        break;
      case O_PACE:
        if (!parse_dbl(optarg, &o->pace_us) || o->pace_us > 1e6)
          die_usage("invalid --pace-us '%s'", optarg);
        break;
      case O_WAIT:
        o->wait_ready = optarg;
        break;
      case O_WAITTO:
        if (!parse_dbl(optarg, &o->wait_timeout))
          die_usage("invalid --wait-timeout '%s'", optarg);
        break;
      case O_UNCONN:
        o->unconnected = true;
        break;
      case O_STAGGER:
        if (!parse_dbl(optarg, &o->stagger) || o->stagger < 0 ||
            o->stagger > 3600)
          die_usage("invalid --stagger '%s' (want seconds, 0-3600)", optarg);
        break;
      case O_LINGER:
        if (!parse_dbl(optarg, &o->linger) || o->linger < 0 || o->linger > 3600)
          die_usage("invalid --linger '%s' (want seconds, 0-3600)", optarg);
        break;
      case 'v':
        o->verbose = true;
        break;
      case 'h':
        usage(stdout);
        exit(0);
      case ':':
        die_usage("option '%s' needs an argument", argv[optind - 1]);
      default:
        die_usage("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
  if (o->dst.empty()) die_usage("%s", "--dst ADDR is required");
  if (inet_pton(AF_INET, o->dst.c_str(), &o->dst_addr) != 1)
    die_usage("invalid --dst '%s' (want a dotted IPv4 address)",
              o->dst.c_str());
  if (!o->src.empty() && inet_pton(AF_INET, o->src.c_str(), &o->src_addr) != 1)
    die_usage("invalid --src '%s' (want a dotted IPv4 address)",
              o->src.c_str());
  if (!have_dport) die_usage("%s", "--dport PORT is required");
  if (o->duration < 0 && o->count == 0)
    die_usage("%s",
              "give -d SECONDS and/or -n PACKETS (-d 0 runs until a signal)");
  if (o->sport + o->threads - 1 > 65535)
    die_usage("--sport %s + threads - 1 exceeds 65535",
              std::to_string(o->sport).c_str());
  if (o->dport_per_thread && o->dport + o->threads - 1 > 65535)
    die_usage("--dport %s + threads - 1 exceeds 65535",
              std::to_string(o->dport).c_str());
}

[[noreturn]] void die_sys(const std::string &what) {
  fprintf(stderr, "pspat-blast: %s: %s\n", what.c_str(), strerror(errno));
  exit(1);
}

struct sockaddr_in flow_dst(const Opts &o, const Flow &f) {
  struct sockaddr_in da {};
  da.sin_family = AF_INET;
  da.sin_port = htons(static_cast<uint16_t>(f.dport));
  da.sin_addr = o.dst_addr;
  return da;
}

int open_flow_socket(const Opts &o, const Flow &f) {
  std::string tag = "flow " + std::to_string(f.id);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0) die_sys(tag + ": socket");
  /* Without IP_RECVERR udp_send_skb() turns a qdisc drop (ENOBUFS)
   * into success and only bumps SndbufErrors. */
  if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0)
    die_sys(tag + ": setsockopt(IP_RECVERR)");
  if (o.sndbuf) {
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &o.sndbuf,
                   sizeof(o.sndbuf)) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.sndbuf, sizeof(o.sndbuf)) < 0)
      die_sys(tag + ": setsockopt(SO_SNDBUF)");
  }
  if (o.priority >= 0 && setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &o.priority,
                                    sizeof(o.priority)) < 0)
    die_sys(tag + ": setsockopt(SO_PRIORITY)");
  if (o.mark >= 0) {
    uint32_t m = static_cast<uint32_t>(o.mark);
    if (setsockopt(fd, SOL_SOCKET, SO_MARK, &m, sizeof(m)) < 0)
      die_sys(tag + ": setsockopt(SO_MARK)");
  }
  if (o.tos >= 0 &&
      setsockopt(fd, IPPROTO_IP, IP_TOS, &o.tos, sizeof(o.tos)) < 0)
    die_sys(tag + ": setsockopt(IP_TOS)");

  struct sockaddr_in sa {};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(f.sport));
  sa.sin_addr = o.src.empty() ? in_addr{htonl(INADDR_ANY)} : o.src_addr;
  if (bind(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa)) < 0)
    die_sys(tag + ": bind to source port " + std::to_string(f.sport));

  struct sockaddr_in da = flow_dst(o, f);
  if (!o.unconnected &&
      connect(fd, reinterpret_cast<struct sockaddr *>(&da), sizeof(da)) < 0)
    die_sys(tag + ": connect to " + o.dst + ":" + std::to_string(f.dport));
  return fd;
}

/* Errors from ICMP (port unreachable, ...) are queued on the error queue
 * because of IP_RECVERR; drain it so it does not pin receive memory. */
void drain_errqueue(int fd) {
  char buf[256], cbuf[512];

  for (int i = 0; i < 1024; i++) {
    struct iovec iov = {buf, sizeof(buf)};
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof(cbuf);
    if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
  }
}

void count_error(Flow &f, int err) {
  if (err == ENOBUFS) {
    f.enobufs++;
    return;
  }
  f.errors++;
  const char *name = err ? strerrorname_np(err) : nullptr;
  f.errs[name ? name : (err ? "E" + std::to_string(err) : "unknown")]++;
  if (err) drain_errqueue(f.fd);
}

void sleep_until(uint64_t ns) {
  struct timespec ts = {static_cast<time_t>(ns / NS),
                        static_cast<long>(ns % NS)};

  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) ==
         EINTR) {
  }
}

struct Shared {
  const Opts *o;
  std::latch ready;
  std::atomic<uint64_t> start_ns{0};
  std::atomic<unsigned> done{0};
  explicit Shared(const Opts *opts) : o(opts), ready(opts->threads + 1) {}
};

void flow_thread(Flow &f, Shared &sh) {
  const Opts &o = *sh.o;

  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  if (f.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(f.cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
      f.pin_ok = false;
  }

  /* Packet buffers: the header is fixed but seq/tx_ns. */
  const unsigned K = o.batch;
  std::vector<uint8_t> bufs(static_cast<size_t>(K) * o.size, 0);
  std::vector<struct iovec> iov(K);
  std::vector<struct mmsghdr> mm(K);
  struct sockaddr_in da = flow_dst(o, f);
  struct sockaddr *to =
      o.unconnected ? reinterpret_cast<struct sockaddr *>(&da) : nullptr;
  socklen_t tolen = to ? sizeof(da) : 0;
  PktHdr h;
  h.flow_id = f.id;
  h.run_id = o.run_id;
  for (unsigned j = 0; j < K; j++) {
    uint8_t *b = &bufs[static_cast<size_t>(j) * o.size];
    pkt_encode(b, h);
    iov[j] = {b, o.size};
    mm[j] = {};
    mm[j].msg_hdr.msg_iov = &iov[j];
    mm[j].msg_hdr.msg_iovlen = 1;
    mm[j].msg_hdr.msg_name = to;
    mm[j].msg_hdr.msg_namelen = tolen;
  }

  sh.ready.arrive_and_wait();
  uint64_t start;
  while ((start = sh.start_ns.load(std::memory_order_acquire)) == 0)
    std::this_thread::yield();
  if (g_abort.load()) {
    sh.done++;
    return;
  }
  start += static_cast<uint64_t>(o.stagger * 1e9 * f.id);
  sleep_until(start);

  uint64_t budget = o.count ? o.count : UINT64_MAX;
  uint64_t end_ns = UINT64_MAX;
  if (o.duration > 0) {
    end_ns = start + static_cast<uint64_t>(o.duration * 1e9);
    if (o.rate > 0) {
      /* the packets scheduled strictly before the end; a flow
       * that fell behind (CPU-bound) gets RATE_GRACE_NS more
       * to catch up, so the count does not depend on luck */
      double n = std::ceil(o.duration * o.rate - 1e-6);
      budget =
          std::min<uint64_t>(budget, static_cast<uint64_t>(std::max(n, 1.0)));
      end_ns += RATE_GRACE_NS;
    }
  }
  const double ns_per_pkt = o.rate > 0 ? 1e9 / o.rate : 0;
  /* with pacing, sleep at least pace_us: accumulate that many packets */
  const uint64_t burst =
      o.rate > 0 ? std::max<uint64_t>(
                       1, static_cast<uint64_t>(o.rate * o.pace_us / 1e6))
                 : 0;

  uint64_t att = 0;
  while (!g_stop.load(std::memory_order_relaxed) && att < budget) {
    uint64_t now = mono_ns();
    if (now >= end_ns) break;
    uint64_t k;
    if (o.rate > 0) {
      uint64_t due =
          static_cast<uint64_t>(static_cast<double>(now - start) / ns_per_pkt) +
          1;
      due = std::min(due, budget);
      if (due <= att) {
        /* wait until `burst` packets are due (the last of them) */
        uint64_t target = std::min(att + burst, budget) - 1;
        uint64_t wake = start + static_cast<uint64_t>(std::ceil(
                                    static_cast<double>(target) * ns_per_pkt));
        wake = std::min({wake, now + uint64_t{50000000}, end_ns});
        sleep_until(wake);
        continue;
      }
      k = std::min<uint64_t>(due - att, K);
      uint64_t sched =
          start + static_cast<uint64_t>(static_cast<double>(att) * ns_per_pkt);
      if (now > sched && now - sched > f.max_lag_ns) f.max_lag_ns = now - sched;
    } else {
      k = std::min<uint64_t>(budget - att, K);
    }

    for (uint64_t j = 0; j < k; j++)
      pkt_set_seq_ts(&bufs[j * o.size], att + j, now);

    if (K == 1) {
      if (sendto(f.fd, bufs.data(), o.size, 0, to, tolen) >= 0)
        f.sent++;
      else
        count_error(f, errno);
    } else {
      unsigned off = 0;
      while (off < k) {
        int r = sendmmsg(f.fd, &mm[off], static_cast<unsigned>(k) - off, 0);
        if (r < 0) {
          /* the first message failed: errno is its own */
          count_error(f, errno);
          off++;
          continue;
        }
        f.sent += static_cast<uint64_t>(r);
        off += static_cast<unsigned>(r);
        if (off < k) {
          /* message `off` failed; the kernel drops its errno */
          count_error(f, 0);
          off++;
        }
      }
    }
    att += k;
  }
  f.attempts = att;
  f.end_ns = mono_ns();
  const uint64_t linger_end = f.end_ns + static_cast<uint64_t>(o.linger * 1e9);
  while (!g_stop.load(std::memory_order_relaxed) && mono_ns() < linger_end)
    sleep_until(std::min(linger_end, mono_ns() + uint64_t{50000000}));
  sh.done.fetch_add(1, std::memory_order_release);
}

void add_errs(Json &j, const std::map<std::string, uint64_t> &errs) {
  j.key("errors_by_errno").obj();
  for (auto &[k, v] : errs) j.kv(k, v);
  j.end_obj();
}

}  // namespace

int main(int argc, char **argv) {
  cli::tool = "pspat-blast";
  Opts o;

  parse_args(argc, argv, &o);
  if (!o.run_id_given) {
    std::random_device rd;
    o.run_id = rd();
  }

  /* Signals are handled by the main thread only (sigtimedwait), so the
   * senders are never interrupted mid-syscall. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  std::vector<int> cpus = o.cpus;
  if (o.pin) {
    std::vector<int> ok = allowed_cpus();
    if (ok.empty()) die_sys("sched_getaffinity");
    if (cpus.empty()) cpus = ok;
    for (int c : cpus) {
      if (std::find(ok.begin(), ok.end(), c) == ok.end()) {
        fprintf(stderr,
                "pspat-blast: CPU %d is not in the affinity mask (%zu CPUs "
                "allowed, %d..%d)\n",
                c, ok.size(), ok.front(), ok.back());
        return 1;
      }
    }
  }

  std::vector<Flow> flows(o.threads);
  for (unsigned i = 0; i < o.threads; i++) {
    Flow &f = flows[i];
    f.id = i;
    f.sport = o.sport + i;
    f.dport = o.dport + (o.dport_per_thread ? i : 0);
    f.cpu = o.pin ? cpus[i % cpus.size()] : -1;
    f.fd = open_flow_socket(o, f);
    if (o.verbose)
      fprintf(stderr, "pspat-blast: flow %u: %s:%u -> %s:%u cpu %d\n", i,
              o.src.empty() ? "*" : o.src.c_str(), f.sport, o.dst.c_str(),
              f.dport, f.cpu);
  }

  if (!o.wait_ready.empty()) {
    if (o.verbose)
      fprintf(stderr, "pspat-blast: waiting for %s\n", o.wait_ready.c_str());
    /* poll signals while waiting */
    uint64_t deadline = mono_ns() + static_cast<uint64_t>(o.wait_timeout * 1e9);
    struct stat st;
    while (stat(o.wait_ready.c_str(), &st) != 0) {
      struct timespec ts = {0, 10 * 1000000};
      if (sigtimedwait(&sigs, nullptr, &ts) > 0) {
        fprintf(stderr, "pspat-blast: interrupted while waiting for %s\n",
                o.wait_ready.c_str());
        return 1;
      }
      if (mono_ns() >= deadline) {
        fprintf(stderr, "pspat-blast: %s did not appear within %.1f s\n",
                o.wait_ready.c_str(), o.wait_timeout);
        return 1;
      }
    }
  }

  Shared sh(&o);
  std::vector<std::thread> th;
  th.reserve(o.threads);
  for (unsigned i = 0; i < o.threads; i++)
    th.emplace_back(flow_thread, std::ref(flows[i]), std::ref(sh));
  sh.ready.arrive_and_wait();
  for (auto &f : flows) {
    if (!f.pin_ok) {
      fprintf(stderr, "pspat-blast: flow %u: cannot pin to CPU %d\n", f.id,
              f.cpu);
      g_abort = true;
    }
  }
  /* a common start a little in the future, so all flows begin together */
  uint64_t start = mono_ns() + 10 * 1000000ull;
  sh.start_ns.store(start, std::memory_order_release);
  if (g_abort) {
    for (auto &t : th) t.join();
    return 1;
  }

  bool interrupted = false;
  while (sh.done.load(std::memory_order_acquire) < o.threads) {
    struct timespec ts = {0, 20 * 1000000};
    int s = sigtimedwait(&sigs, nullptr, &ts);
    if (s == SIGINT || s == SIGTERM) {
      interrupted = true;
      g_stop = true;
    }
  }
  for (auto &t : th) t.join();

  uint64_t end = start;
  Flow tot;
  for (auto &f : flows) {
    end = std::max(end, f.end_ns);
    tot.attempts += f.attempts;
    tot.sent += f.sent;
    tot.enobufs += f.enobufs;
    tot.errors += f.errors;
    for (auto &[k, v] : f.errs) tot.errs[k] += v;
    close(f.fd);
  }
  double dur = static_cast<double>(end - start) / 1e9;

  Json j;
  j.obj();
  j.kvs("tool", "pspat-blast");
  j.kv("format", 1u);
  j.kv("run_id", o.run_id);
  j.kvs("dst", o.dst);
  j.kv("threads", o.threads);
  j.kv("size", static_cast<uint64_t>(o.size));
  j.kv("batch", o.batch);
  j.kv("rate_pps", o.rate);
  j.kv("interrupted", interrupted);
  j.kvd("duration_s", dur, 6);
  j.key("total").obj();
  j.kv("attempts", tot.attempts);
  j.kv("sent", tot.sent);
  j.kv("enobufs", tot.enobufs);
  j.kv("errors", tot.errors);
  add_errs(j, tot.errs);
  j.kv("pps", dur > 0 ? static_cast<double>(tot.sent) / dur : 0.0);
  j.end_obj();
  j.key("flows").arr();
  for (auto &f : flows) {
    double fd = static_cast<double>(f.end_ns - start) / 1e9;
    j.obj();
    j.kv("id", f.id);
    j.kv("sport", f.sport);
    j.kv("dport", f.dport);
    j.kv("cpu", f.cpu);
    j.kv("attempts", f.attempts);
    j.kv("sent", f.sent);
    j.kv("enobufs", f.enobufs);
    j.kv("errors", f.errors);
    add_errs(j, f.errs);
    j.kv("first_seq", 0u);
    j.kv("last_seq", static_cast<int64_t>(f.attempts) - 1);
    j.kvd("duration_s", fd, 6);
    j.kv("pps", fd > 0 ? static_cast<double>(f.sent) / fd : 0.0);
    j.kv("max_lag_us", static_cast<double>(f.max_lag_ns) / 1000.0);
    j.end_obj();
  }
  j.end_arr();
  j.end_obj();
  printf("%s\n", j.str().c_str());
  fflush(stdout);

  if (o.verbose) {
    fprintf(stderr,
            "pspat-blast: run %08x: %u flows, %.3f s: attempts %llu sent %llu "
            "enobufs %llu errors %llu (%.0f pps)\n",
            o.run_id, o.threads, dur, (unsigned long long)tot.attempts,
            (unsigned long long)tot.sent, (unsigned long long)tot.enobufs,
            (unsigned long long)tot.errors,
            dur > 0 ? static_cast<double>(tot.sent) / dur : 0.0);
  }
  return 0;
}
