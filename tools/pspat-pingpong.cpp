// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-pingpong: isolated UDP packets, one at a time, for the lost
 * wake-up test. The client sends one datagram carrying a sequence number,
 * waits for its echo (at most TIMEOUT ms), then sends the next: between
 * two packets the link is idle, so the arbiter and the dispatcher go to
 * sleep, and a packet whose wake-up is lost stays queued (nothing else
 * would push it out) and shows as a timeout. The echo side sends every
 * datagram back to its source. JSON summary on stdout.
 *
 *   pspat-pingpong --echo --port PORT [-d SECONDS]
 *   pspat-pingpong --dst ADDR --dport PORT -n PACKETS [--timeout-ms MS]
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "pspat_cli.hpp"
#include "pspat_pkt.hpp"

namespace {

struct Opts {
  bool echo = false;
  sockaddr_in dst{};
  bool have_dst = false;
  unsigned port = 0;
  uint64_t packets = 0;
  uint64_t timeout_ms = 1000;
  double seconds = 0;
};

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void usage(const char *msg) {
  if (msg) std::fprintf(stderr, "pspat-pingpong: %s\n", msg);
  std::fprintf(
      stderr,
      "Usage: pspat-pingpong --echo --port PORT [-d SECONDS]\n"
      "       pspat-pingpong --dst ADDR --dport PORT -n PACKETS "
      "[--timeout-ms MS]\n"
      "  --echo            send every datagram back to its source\n"
      "  -d SECONDS        echo: stop after SECONDS (default: on a signal)\n"
      "  -n PACKETS        client: datagrams to send, one at a time\n"
      "  --timeout-ms MS   client: wait this long for each echo (default "
      "1000)\n");
  std::exit(msg ? pspat::cli::EXIT_USAGE : 0);
}

int echo(const Opts &o) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in me{};
  me.sin_family = AF_INET;
  me.sin_port = htons(static_cast<uint16_t>(o.port));
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&me), sizeof(me))) {
    std::perror("pspat-pingpong: bind");
    return 1;
  }
  uint64_t echoed = 0, errors = 0;
  uint64_t end = o.seconds > 0
                     ? now_ns() + static_cast<uint64_t>(o.seconds * 1e9)
                     : UINT64_MAX;
  char buf[2048];
  while (now_ns() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    sockaddr_in from{};
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
                         reinterpret_cast<sockaddr *>(&from), &fl);
    if (n < 0) continue;
    if (sendto(fd, buf, static_cast<size_t>(n), 0,
               reinterpret_cast<sockaddr *>(&from), fl) == n)
      echoed++;
    else
      errors++;
  }
  pspat::Json j;
  j.obj()
      .key("tool")
      .s("pspat-pingpong")
      .key("echoed")
      .u(echoed)
      .key("errors")
      .u(errors)
      .end_obj();
  std::printf("%s\n", j.str().c_str());
  return 0;
}

int client(const Opts &o) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 ||
      connect(fd, reinterpret_cast<const sockaddr *>(&o.dst), sizeof(o.dst))) {
    std::perror("pspat-pingpong: connect");
    return 1;
  }
  uint64_t answered = 0, timeouts = 0, stale = 0, errors = 0;
  uint64_t max_ns = 0, sum_ns = 0;
  for (uint64_t seq = 1; seq <= o.packets; seq++) {
    uint64_t t0 = now_ns();
    if (send(fd, &seq, sizeof(seq), 0) != sizeof(seq)) {
      errors++;
      continue;
    }
    uint64_t deadline = t0 + o.timeout_ms * 1000000ull;
    for (;;) {
      uint64_t t = now_ns();
      if (t >= deadline) {
        timeouts++;
        break;
      }
      pollfd p{fd, POLLIN, 0};
      int ms = static_cast<int>((deadline - t + 999999) / 1000000);
      if (poll(&p, 1, ms) <= 0) continue;
      uint64_t got = 0;
      if (recv(fd, &got, sizeof(got), 0) != sizeof(got)) continue;
      if (got != seq) {  // the echo of one that timed out
        stale++;
        continue;
      }
      uint64_t rtt = now_ns() - t0;
      answered++;
      sum_ns += rtt;
      if (rtt > max_ns) max_ns = rtt;
      break;
    }
  }
  pspat::Json j;
  j.obj()
      .key("tool")
      .s("pspat-pingpong")
      .key("sent")
      .u(o.packets - errors)
      .key("answered")
      .u(answered)
      .key("timeouts")
      .u(timeouts)
      .key("stale")
      .u(stale)
      .key("errors")
      .u(errors)
      .key("rtt_max_us")
      .u(max_ns / 1000)
      .key("rtt_mean_us")
      .u(answered ? sum_ns / answered / 1000 : 0)
      .end_obj();
  std::printf("%s\n", j.str().c_str());
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  pspat::cli::tool = "pspat-pingpong";
  Opts o;
  enum { O_ECHO = 256, O_DST, O_DPORT, O_TIMEOUT };
  static const option longopts[] = {
      {"echo", no_argument, nullptr, O_ECHO},
      {"port", required_argument, nullptr, 'p'},
      {"dst", required_argument, nullptr, O_DST},
      {"dport", required_argument, nullptr, O_DPORT},
      {"timeout-ms", required_argument, nullptr, O_TIMEOUT},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "p:n:d:h", longopts, nullptr)) != -1) {
    switch (c) {
      case O_ECHO:
        o.echo = true;
        break;
      case 'p':
      case O_DPORT:
        o.port = static_cast<unsigned>(
            pspat::cli::want_u64("--port", optarg, 1, 65535));
        break;
      case O_DST:
        if (inet_pton(AF_INET, optarg, &o.dst.sin_addr) != 1)
          usage("--dst needs an IPv4 address");
        o.have_dst = true;
        break;
      case 'n':
        o.packets = pspat::cli::want_u64("-n", optarg, 1, 100000000);
        break;
      case O_TIMEOUT:
        o.timeout_ms = pspat::cli::want_u64("--timeout-ms", optarg, 1, 3600000);
        break;
      case 'd':
        if (!pspat::cli::parse_dbl(optarg, &o.seconds))
          pspat::cli::die_usage("invalid -d '%s' (want seconds >= 0)", optarg);
        break;
      case 'h':
        usage(nullptr);
      default:
        usage("bad option");
    }
  }
  if (!o.port) usage("a port is required");
  if (o.echo) return echo(o);
  if (!o.have_dst || !o.packets) usage("the client needs --dst and -n");
  o.dst.sin_family = AF_INET;
  o.dst.sin_port = htons(static_cast<uint16_t>(o.port));
  return client(o);
}
