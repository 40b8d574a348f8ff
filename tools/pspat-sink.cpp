// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-sink: UDP receiver for pspat-blast traffic. Per flow (source
 * address and port, destination port, flow id from the header) it counts
 * received / unique / duplicated / reordered / lost packets, bytes, rate
 * and one-way latency percentiles (both tools read CLOCK_MONOTONIC of the
 * same kernel). It reports the receiving sockets' own drop counters
 * (SO_RXQ_OVFL, SO_MEMINFO) so a test can balance exactly what the sender
 * sent against what arrived and what was dropped where. One receiving
 * thread per port; JSON summary on stdout, optional per-interval JSON lines.
 *
 * See docs/tools.md for the accounting invariants and the JSON schema.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "pspat_cli.hpp"
#include "pspat_pkt.hpp"

using namespace pspat;
using namespace pspat::cli;

namespace {

constexpr uint64_t NS = 1000000000ull;
constexpr unsigned MAX_PORTS = 1024;
constexpr size_t RX_BUF = 2048; /* header + some; longer datagrams are counted
                                   by length (MSG_TRUNC) */

struct Opts {
  unsigned port_lo = 0, port_hi = 0;
  std::string bind = "0.0.0.0";
  struct in_addr bind_addr {};
  int rcvbuf = 16 << 20;
  double duration = 0; /* 0: none */
  double idle = 2.0;   /* 0: none */
  uint64_t count = 0;  /* 0: none */
  unsigned interval_ms = 0;
  std::string interval_file;
  std::string ready_file;
  bool run_id_given = false;
  uint32_t run_id = 0;
  unsigned batch = 64;
  unsigned max_flows = 4096;
  bool pin = false;
  std::vector<int> cpus;
  bool verbose = false;
};

struct FlowKey {
  uint32_t saddr; /* network order */
  uint16_t sport; /* host order */
  uint16_t dport; /* host order */
  uint32_t id;
  bool operator==(const FlowKey &) const = default;
};

struct FlowKeyHash {
  size_t operator()(const FlowKey &k) const {
    uint64_t a = (static_cast<uint64_t>(k.saddr) << 32) |
                 (static_cast<uint64_t>(k.sport) << 16) | k.dport;
    uint64_t x = a * 0x9e3779b97f4a7c15ull ^
                 (static_cast<uint64_t>(k.id) * 0xc2b2ae3d27d4eb4full);
    return static_cast<size_t>(x ^ (x >> 29));
  }
};

struct RxFlow {
  FlowKey key;
  FlowStats st;
  /* single writer (the rx thread), read by the interval reporter */
  std::atomic<uint64_t> pkts{0}, bytes{0};
  uint64_t rep_pkts = 0, rep_bytes = 0; /* reporter's previous snapshot */
};

struct BadCounts {
  uint64_t shorts = 0, magic = 0, version = 0, run = 0, flows_limit = 0;
  uint64_t total() const {
    return shorts + magic + version + run + flows_limit;
  }
};

struct RxSock {
  int fd = -1;
  unsigned port = 0;
  int cpu = -1;
  int rcvbuf = 0;
  std::mutex mu; /* protects insertion into flows vs. the reporter */
  std::unordered_map<FlowKey, std::unique_ptr<RxFlow>, FlowKeyHash> flows;
  BadCounts bad;
  uint32_t ovfl_max = 0; /* highest SO_RXQ_OVFL value seen */
  uint64_t drops = 0;    /* final */
  std::string err;
};

std::atomic<bool> g_stop{false};
std::atomic<uint64_t> g_received{0}; /* valid packets, all sockets */
std::atomic<uint64_t> g_last_rx_ns{0};
constexpr uint64_t RUN_UNSET = UINT64_MAX;
std::atomic<uint64_t> g_run{RUN_UNSET};

void usage(FILE *f) {
  fputs(R"(Usage: pspat-sink (--port PORT | --ports P1-P2) [options]

Receives pspat-blast flows and prints per-flow statistics as JSON on stdout.

  -p, --port PORT         UDP port to listen on
      --ports P1-P2       listen on every port of the range (one socket and
                          one thread each), for pspat-blast --dport-per-thread
      --bind ADDR         local IPv4 address (default 0.0.0.0)
      --rcvbuf BYTES      receive buffer, SO_RCVBUFFORCE then SO_RCVBUF
                          (default 16777216)
  -d, --duration SECONDS  stop after SECONDS (float)
      --idle SECONDS      stop after SECONDS without packets, once one
                          arrived (default 2; 0 disables)
  -n, --count PACKETS     stop after PACKETS valid packets in total
                          (packets already queued are still read, so the
                          report may count a few more)
                          SIGINT/SIGTERM stop too; the summary is printed
      --interval MS       every MS ms, one JSON line of per-flow packets
                          and bytes in that interval
      --interval-file F   write the interval lines to F (default stderr)
      --ready-file F      create F once all sockets are bound (F is
                          removed at start-up if it exists)
      --run-id N          accept only this run id (default: the run id of
                          the first valid packet)
      --batch K           recvmmsg batch (default 64)
      --max-flows N       flows tracked per port (default 4096)
      --pin               pin receive thread i to the i-th allowed CPU
      --cpus LIST         pin receive thread i to LIST[i % len]
  -v, --verbose           human-readable notes on stderr
  -h, --help              this help

Per flow: received == unique + duplicated; lost == max_seq + 1 - unique.
With pspat-blast (which never re-sends a sequence number):
  sum(blast sent) == sum(unique) + socket_drops + drops between the two
  sockets (e.g. qdisc drops after a successful enqueue), when the sink
  outlives the blast (use --idle).
Packets with a bad header or another run id are only counted in "bad".
Exit status: 0 done, 1 setup failure, 2 bad arguments.
)",
        f);
}

[[noreturn]] void die_sys(const std::string &what) {
  fprintf(stderr, "pspat-sink: %s: %s\n", what.c_str(), strerror(errno));
  exit(1);
}

void parse_args(int argc, char **argv, Opts *o) {
  enum {
    O_PORTS = 256,
    O_BIND,
    O_RCVBUF,
    O_IDLE,
    O_INTERVAL,
    O_IFILE,
    O_READY,
    O_RUNID,
    O_BATCH,
    O_MAXFLOWS,
    O_PIN,
    O_CPUS,
  };
  static const struct option lo[] = {
      {"port", required_argument, nullptr, 'p'},
      {"ports", required_argument, nullptr, O_PORTS},
      {"bind", required_argument, nullptr, O_BIND},
      {"rcvbuf", required_argument, nullptr, O_RCVBUF},
      {"duration", required_argument, nullptr, 'd'},
      {"idle", required_argument, nullptr, O_IDLE},
      {"count", required_argument, nullptr, 'n'},
      {"interval", required_argument, nullptr, O_INTERVAL},
      {"interval-file", required_argument, nullptr, O_IFILE},
      {"ready-file", required_argument, nullptr, O_READY},
      {"run-id", required_argument, nullptr, O_RUNID},
      {"batch", required_argument, nullptr, O_BATCH},
      {"max-flows", required_argument, nullptr, O_MAXFLOWS},
      {"pin", no_argument, nullptr, O_PIN},
      {"cpus", required_argument, nullptr, O_CPUS},
      {"verbose", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  int c;

  opterr = 0;
  while ((c = getopt_long(argc, argv, ":p:d:n:vh", lo, nullptr)) != -1) {
    switch (c) {
      case 'p':
        if (o->port_lo) die_usage("%s", "give only one of --port / --ports");
        o->port_lo = o->port_hi = want_u64("--port", optarg, 1, 65535);
        break;
      case O_PORTS: {
        if (o->port_lo) die_usage("%s", "give only one of --port / --ports");
        std::string s = optarg;
        size_t dash = s.find('-');
        uint64_t a, b;
        if (dash == std::string::npos ||
            !parse_u64(s.substr(0, dash).c_str(), &a) ||
            !parse_u64(s.substr(dash + 1).c_str(), &b) || a < 1 || b > 65535 ||
            b < a)
          die_usage("invalid --ports '%s' (want P1-P2, 1 <= P1 <= P2 <= 65535)",
                    optarg);
        if (b - a + 1 > MAX_PORTS)
          die_usage("--ports '%s' spans more than 1024 ports", optarg);
        o->port_lo = a;
        o->port_hi = b;
        break;
      }
      case O_BIND:
        o->bind = optarg;
        break;
      case O_RCVBUF:
        o->rcvbuf = want_u64("--rcvbuf", optarg, 1024, INT32_MAX / 2);
        break;
      case 'd':
        if (!parse_dbl(optarg, &o->duration) || o->duration <= 0 ||
            o->duration > 1e7)
          die_usage("invalid duration '%s' (want seconds > 0)", optarg);
        break;
      case O_IDLE:
        if (!parse_dbl(optarg, &o->idle) || o->idle > 1e7)
          die_usage("invalid --idle '%s' (want seconds >= 0)", optarg);
        break;
      case 'n':
        o->count = want_u64("count", optarg, 1, UINT64_MAX / 2);
        break;
      case O_INTERVAL:
        o->interval_ms = want_u64("--interval", optarg, 10, 3600000);
        break;
      case O_IFILE:
        o->interval_file = optarg;
        break;
      case O_READY:
        o->ready_file = optarg;
        break;
      case O_RUNID:
        o->run_id = want_u64("--run-id", optarg, 0, UINT32_MAX);
        o->run_id_given = true;
        break;
      case O_BATCH:
        o->batch = want_u64("--batch", optarg, 1, 1024);
        break;
      case O_MAXFLOWS:
        o->max_flows = want_u64("--max-flows", optarg, 1, 1 << 20);
        break;
      case O_PIN:
        o->pin = true;
        break;
      case O_CPUS:
        if (!parse_cpu_list(optarg, &o->cpus, CPU_SETSIZE - 1))
          die_usage("invalid CPU list '%s' (e.g. 0,1 or 0-3)", optarg);
        o->pin = true;
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
  if (!o->port_lo) die_usage("%s", "--port PORT or --ports P1-P2 is required");
  if (inet_pton(AF_INET, o->bind.c_str(), &o->bind_addr) != 1)
    die_usage("invalid --bind '%s' (want a dotted IPv4 address)",
              o->bind.c_str());
  if (!o->interval_file.empty() && !o->interval_ms)
    die_usage("%s", "--interval-file needs --interval MS");
}

void open_rx_socket(const Opts &o, RxSock &s) {
  std::string tag = "port " + std::to_string(s.port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0) die_sys(tag + ": socket");
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &o.rcvbuf, sizeof(o.rcvbuf)) <
          0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof(o.rcvbuf)) < 0)
    die_sys(tag + ": setsockopt(SO_RCVBUF)");
  socklen_t len = sizeof(s.rcvbuf);
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s.rcvbuf, &len);
  if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
    die_sys(tag + ": setsockopt(SO_RXQ_OVFL)");

  struct sockaddr_in sa {};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(s.port));
  sa.sin_addr = o.bind_addr;
  if (bind(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa)) < 0)
    die_sys(tag + ": bind to " + o.bind + ":" + std::to_string(s.port));
  s.fd = fd;
}

/* The socket's drop counter (sk_drops) right now; 0 if unavailable. */
uint64_t socket_drops_now(int fd) {
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof(mem);

  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
      len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
    return 0;
  return mem[SK_MEMINFO_DROPS];
}

bool run_ok(uint32_t run) {
  uint64_t cur = g_run.load(std::memory_order_relaxed);

  if (cur == RUN_UNSET) {
    /* lock onto the first run seen (any thread may win) */
    g_run.compare_exchange_strong(cur, run);
    cur = g_run.load(std::memory_order_relaxed);
  }
  return cur == run;
}

void rx_thread(const Opts &o, RxSock &s) {
  if (s.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(s.cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
      s.err = "cannot pin to CPU " + std::to_string(s.cpu);
  }

  const unsigned B = o.batch;
  constexpr size_t CBUF = CMSG_SPACE(sizeof(uint32_t)) + 64;
  std::vector<uint8_t> bufs(static_cast<size_t>(B) * RX_BUF);
  std::vector<uint8_t> cbufs(static_cast<size_t>(B) * CBUF);
  std::vector<struct iovec> iov(B);
  std::vector<struct sockaddr_in> from(B);
  std::vector<struct mmsghdr> mm(B);
  RxFlow *last = nullptr;
  bool draining = false;
  uint64_t drain_deadline = 0;

  for (;;) {
    if (!draining && g_stop.load(std::memory_order_relaxed)) {
      /* read what is already queued: it arrived before the stop */
      draining = true;
      drain_deadline = mono_ns() + NS / 2;
    }
    if (!draining) {
      struct pollfd pfd = {s.fd, POLLIN, 0};
      int r = poll(&pfd, 1, 50);
      if (r <= 0) continue;
    } else if (mono_ns() >= drain_deadline) {
      break;
    }
    for (unsigned i = 0; i < B; i++) {
      iov[i] = {&bufs[static_cast<size_t>(i) * RX_BUF], RX_BUF};
      mm[i] = {};
      mm[i].msg_hdr.msg_name = &from[i];
      mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
      mm[i].msg_hdr.msg_iov = &iov[i];
      mm[i].msg_hdr.msg_iovlen = 1;
      mm[i].msg_hdr.msg_control = &cbufs[static_cast<size_t>(i) * CBUF];
      mm[i].msg_hdr.msg_controllen = CBUF;
    }
    /* MSG_TRUNC: msg_len is the datagram's real length */
    int n = recvmmsg(s.fd, mm.data(), B, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (n <= 0) {
      if (draining) break;
      continue;
    }
    uint64_t rx_ns = mono_ns();
    uint64_t valid = 0;
    for (int i = 0; i < n; i++) {
      struct msghdr *mh = &mm[i].msg_hdr;
      for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
           cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
          uint32_t v;
          memcpy(&v, CMSG_DATA(cm), sizeof(v));
          s.ovfl_max = std::max(s.ovfl_max, v);
        }
      }
      size_t len = mm[i].msg_len;
      size_t copied = std::min(len, RX_BUF);
      PktHdr h;
      switch (pkt_decode(static_cast<const uint8_t *>(iov[i].iov_base), copied,
                         &h)) {
        case PktParse::Short:
          s.bad.shorts++;
          continue;
        case PktParse::BadMagic:
          s.bad.magic++;
          continue;
        case PktParse::BadVersion:
          s.bad.version++;
          continue;
        case PktParse::Ok:
          break;
      }
      bool ok = o.run_id_given ? h.run_id == o.run_id : run_ok(h.run_id);
      if (!ok) {
        s.bad.run++;
        continue;
      }
      FlowKey k{from[i].sin_addr.s_addr, ntohs(from[i].sin_port),
                static_cast<uint16_t>(s.port), h.flow_id};
      RxFlow *f = last;
      if (!f || !(f->key == k)) {
        auto it = s.flows.find(k);
        if (it != s.flows.end()) {
          f = it->second.get();
        } else if (s.flows.size() >= o.max_flows) {
          s.bad.flows_limit++;
          continue;
        } else {
          auto nf = std::make_unique<RxFlow>();
          nf->key = k;
          f = nf.get();
          std::lock_guard<std::mutex> g(s.mu);
          s.flows.emplace(k, std::move(nf));
        }
        last = f;
      }
      f->st.on_packet(h.seq, len, h.tx_ns, rx_ns);
      f->pkts.store(f->st.received, std::memory_order_relaxed);
      f->bytes.store(f->st.bytes, std::memory_order_relaxed);
      valid++;
    }
    if (valid) {
      g_last_rx_ns.store(rx_ns, std::memory_order_relaxed);
      uint64_t tot =
          g_received.fetch_add(valid, std::memory_order_relaxed) + valid;
      if (o.count && tot >= o.count)
        g_stop.store(true, std::memory_order_relaxed);
    }
  }
  s.drops = std::max<uint64_t>(socket_drops_now(s.fd), s.ovfl_max);
}

std::string addr_str(const FlowKey &k) {
  char ip[INET_ADDRSTRLEN] = "?";
  struct in_addr a = {k.saddr};

  inet_ntop(AF_INET, &a, ip, sizeof(ip));
  return std::string(ip) + ":" + std::to_string(k.sport);
}

bool flow_less(const RxFlow *a, const RxFlow *b) {
  return std::make_tuple(a->key.id, ntohl(a->key.saddr), a->key.sport,
                         a->key.dport) <
         std::make_tuple(b->key.id, ntohl(b->key.saddr), b->key.sport,
                         b->key.dport);
}

std::vector<RxFlow *> sorted_flows(std::vector<std::unique_ptr<RxSock>> &socks,
                                   bool lock) {
  std::vector<RxFlow *> v;

  for (auto &s : socks) {
    std::unique_lock<std::mutex> g(s->mu, std::defer_lock);
    if (lock) g.lock();
    for (auto &[k, f] : s->flows) v.push_back(f.get());
  }
  std::sort(v.begin(), v.end(), flow_less);
  return v;
}

void report_interval(FILE *out, std::vector<std::unique_ptr<RxSock>> &socks,
                     double t, double dt) {
  Json j;
  uint64_t tp = 0, tb = 0;
  auto flows = sorted_flows(socks, true);

  j.obj();
  j.kvd("t", t, 3);
  j.kvd("dt", dt, 3);
  j.key("flows").arr();
  for (RxFlow *f : flows) {
    uint64_t p = f->pkts.load(std::memory_order_relaxed);
    uint64_t b = f->bytes.load(std::memory_order_relaxed);
    uint64_t dp = p - f->rep_pkts, db = b - f->rep_bytes;
    f->rep_pkts = p;
    f->rep_bytes = b;
    tp += dp;
    tb += db;
    j.obj();
    j.kvs("src", addr_str(f->key));
    j.kv("dport", static_cast<unsigned>(f->key.dport));
    j.kv("id", f->key.id);
    j.kv("packets", dp);
    j.kv("bytes", db);
    j.kv("pps", dt > 0 ? static_cast<double>(dp) / dt : 0.0);
    j.kv("bps", dt > 0 ? static_cast<double>(db) * 8 / dt : 0.0);
    j.end_obj();
  }
  j.end_arr();
  j.key("total").obj();
  j.kv("packets", tp);
  j.kv("bytes", tb);
  j.kv("pps", dt > 0 ? static_cast<double>(tp) / dt : 0.0);
  j.kv("bps", dt > 0 ? static_cast<double>(tb) * 8 / dt : 0.0);
  j.end_obj();
  j.end_obj();
  fprintf(out, "%s\n", j.str().c_str());
  fflush(out);
}

void write_ready_file(const std::string &path) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE *f = fopen(tmp.c_str(), "w");

  if (!f) die_sys("create " + tmp);
  fprintf(f, "%d\n", getpid());
  if (fclose(f) != 0 || rename(tmp.c_str(), path.c_str()) != 0)
    die_sys("create " + path);
}

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

int main(int argc, char **argv) {
  cli::tool = "pspat-sink";
  Opts o;

  parse_args(argc, argv, &o);

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  if (!o.ready_file.empty() && unlink(o.ready_file.c_str()) != 0 &&
      errno != ENOENT)
    die_sys("remove stale " + o.ready_file);

  FILE *iout = stderr;
  if (!o.interval_file.empty()) {
    iout = fopen(o.interval_file.c_str(), "w");
    if (!iout) die_sys("open " + o.interval_file);
  }

  std::vector<int> cpus = o.cpus;
  if (o.pin) {
    std::vector<int> ok = allowed_cpus();
    if (ok.empty()) die_sys("sched_getaffinity");
    if (cpus.empty()) cpus = ok;
    for (int c : cpus) {
      if (std::find(ok.begin(), ok.end(), c) == ok.end()) {
        fprintf(stderr,
                "pspat-sink: CPU %d is not in the affinity mask (%zu CPUs "
                "allowed, %d..%d)\n",
                c, ok.size(), ok.front(), ok.back());
        return 1;
      }
    }
  }

  std::vector<std::unique_ptr<RxSock>> socks;
  for (unsigned p = o.port_lo; p <= o.port_hi; p++) {
    auto s = std::make_unique<RxSock>();
    s->port = p;
    s->cpu = o.pin ? cpus[(p - o.port_lo) % cpus.size()] : -1;
    open_rx_socket(o, *s);
    if (o.verbose)
      fprintf(stderr, "pspat-sink: listening on %s:%u rcvbuf %d cpu %d\n",
              o.bind.c_str(), p, s->rcvbuf, s->cpu);
    socks.push_back(std::move(s));
  }
  if (o.run_id_given) g_run = o.run_id;

  uint64_t start = mono_ns();
  std::vector<std::thread> th;
  for (auto &s : socks) th.emplace_back(rx_thread, std::cref(o), std::ref(*s));
  if (!o.ready_file.empty()) write_ready_file(o.ready_file);

  const char *reason = "signal";
  uint64_t end_ns = o.duration > 0
                        ? start + static_cast<uint64_t>(o.duration * 1e9)
                        : UINT64_MAX;
  uint64_t ival = static_cast<uint64_t>(o.interval_ms) * 1000000ull;
  uint64_t next_tick = ival ? start + ival : UINT64_MAX;
  uint64_t last_tick = start;
  for (;;) {
    uint64_t now = mono_ns();
    if (ival && now >= next_tick) {
      report_interval(iout, socks, static_cast<double>(now - start) / 1e9,
                      static_cast<double>(now - last_tick) / 1e9);
      last_tick = now;
      while (next_tick <= now) next_tick += ival;
    }
    if (g_stop.load()) {
      reason = "count";
      break;
    }
    if (now >= end_ns) {
      reason = "duration";
      break;
    }
    uint64_t lr = g_last_rx_ns.load(std::memory_order_relaxed);
    if (o.idle > 0 && lr && now > lr &&
        now - lr >= static_cast<uint64_t>(o.idle * 1e9)) {
      reason = "idle";
      break;
    }
    uint64_t wake = std::min({now + uint64_t{20000000}, next_tick, end_ns});
    struct timespec ts = {static_cast<time_t>((wake - now) / NS),
                          static_cast<long>((wake - now) % NS)};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      reason = "signal";
      break;
    }
  }
  g_stop = true;
  for (auto &t : th) t.join();
  uint64_t stop_ns = mono_ns();
  if (ival && iout) {
    /* a final partial interval, so the lines add up to the totals */
    report_interval(iout, socks, static_cast<double>(stop_ns - start) / 1e9,
                    static_cast<double>(stop_ns - last_tick) / 1e9);
  }
  if (iout && iout != stderr) fclose(iout);

  BadCounts bad;
  uint64_t drops = 0, received = 0, unique = 0, dup = 0, reord = 0, lost = 0,
           bytes = 0;
  for (auto &s : socks) {
    if (!s->err.empty())
      fprintf(stderr, "pspat-sink: port %u: %s\n", s->port, s->err.c_str());
    bad.shorts += s->bad.shorts;
    bad.magic += s->bad.magic;
    bad.version += s->bad.version;
    bad.run += s->bad.run;
    bad.flows_limit += s->bad.flows_limit;
    drops += s->drops;
  }
  auto flows = sorted_flows(socks, false);
  for (RxFlow *f : flows) {
    received += f->st.received;
    unique += f->st.unique;
    dup += f->st.duplicated;
    reord += f->st.reordered;
    lost += f->st.lost();
    bytes += f->st.bytes;
  }

  Json j;
  j.obj();
  j.kvs("tool", "pspat-sink");
  j.kv("format", 1u);
  j.key("run_id");
  if (g_run.load() == RUN_UNSET)
    j.null();
  else
    j.u(g_run.load());
  j.key("ports").arr();
  for (auto &s : socks) j.u(s->port);
  j.end_arr();
  j.kv("rcvbuf", socks[0]->rcvbuf);
  j.kvs("stop_reason", reason);
  j.kvd("duration_s", static_cast<double>(stop_ns - start) / 1e9, 6);
  j.kv("received", received);
  j.kv("unique", unique);
  j.kv("duplicated", dup);
  j.kv("reordered", reord);
  j.kv("lost", lost);
  j.kv("bytes", bytes);
  j.kv("socket_drops", drops);
  j.kv("bad", bad.total());
  j.key("bad_detail").obj();
  j.kv("short", bad.shorts);
  j.kv("magic", bad.magic);
  j.kv("version", bad.version);
  j.kv("run", bad.run);
  j.kv("flows_limit", bad.flows_limit);
  j.end_obj();
  j.key("flows").arr();
  for (RxFlow *f : flows) {
    const FlowStats &st = f->st;
    j.obj();
    j.kvs("src", addr_str(f->key));
    j.kv("dport", static_cast<unsigned>(f->key.dport));
    j.kv("id", f->key.id);
    j.kv("received", st.received);
    j.kv("unique", st.unique);
    j.kv("duplicated", st.duplicated);
    j.kv("reordered", st.reordered);
    j.kv("lost", st.lost());
    j.kv("max_seq", st.max_seq);
    j.kv("bytes", st.bytes);
    j.kvd("first_rx_s", static_cast<double>(st.first_rx_ns - start) / 1e9, 6);
    j.kvd("last_rx_s", static_cast<double>(st.last_rx_ns - start) / 1e9, 6);
    j.kvd("active_s", st.active_s(), 6);
    j.kv("pps", st.pps());
    j.kv("bps", st.bps());
    j.key("lat_us").obj();
    j.kv("min", us(st.lat.min()));
    j.kv("mean", st.lat.mean() / 1000.0);
    j.kv("p50", us(st.lat.percentile(0.50)));
    j.kv("p90", us(st.lat.percentile(0.90)));
    j.kv("p99", us(st.lat.percentile(0.99)));
    j.kv("max", us(st.lat.max()));
    j.end_obj();
    j.kv("neg_latency", st.neg_latency);
    j.end_obj();
  }
  j.end_arr();
  j.end_obj();
  printf("%s\n", j.str().c_str());
  fflush(stdout);

  if (o.verbose)
    fprintf(stderr,
            "pspat-sink: %s: %zu flows, received %llu unique %llu lost %llu "
            "socket_drops %llu bad %llu\n",
            reason, flows.size(), (unsigned long long)received,
            (unsigned long long)unique, (unsigned long long)lost,
            (unsigned long long)drops, (unsigned long long)bad.total());
  for (auto &s : socks) close(s->fd);
  return 0;
}
