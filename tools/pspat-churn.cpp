// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-churn: many short-lived sending threads, for the mailbox reclaim
 * tests. Starts TOTAL threads, at most CONCURRENT alive at a time; each
 * opens a UDP socket (IP_RECVERR, so qdisc drops show as ENOBUFS), sends
 * PACKETS datagrams to DST:PORT, closes it and exits. Every thread is a new
 * task, so sch_pspat creates a mailbox for each and must reclaim it after
 * the thread exits. Prints a JSON summary on stdout.
 *
 *   pspat-churn --dst ADDR --dport PORT [-T TOTAL] [-c CONCURRENT] [-n PACKETS]
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pspat_cli.hpp"
#include "pspat_pkt.hpp"

namespace {

struct Totals {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> enobufs{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> setup_errors{0};
};

void sender(const sockaddr_in &dst, unsigned packets, Totals &t) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) ||
      connect(fd, reinterpret_cast<const sockaddr *>(&dst), sizeof(dst))) {
    t.setup_errors++;
    if (fd >= 0) close(fd);
    return;
  }
  char payload[64] = "pspat-churn";
  for (unsigned i = 0; i < packets; i++) {
    if (send(fd, payload, sizeof(payload), 0) == sizeof(payload))
      t.sent++;
    else if (errno == ENOBUFS)
      t.enobufs++;
    else
      t.errors++;
  }
  close(fd);
}

[[noreturn]] void usage(const char *msg) {
  if (msg) std::fprintf(stderr, "pspat-churn: %s\n", msg);
  std::fprintf(stderr,
               "Usage: pspat-churn --dst ADDR --dport PORT [-T TOTAL] "
               "[-c CONCURRENT] [-n PACKETS]\n"
               "  -T, --total N       threads to start in all (default 10000)\n"
               "  -c, --concurrent N  threads alive at a time (default 32)\n"
               "  -n, --packets N     datagrams per thread (default 2)\n");
  std::exit(msg ? pspat::cli::EXIT_USAGE : 0);
}

}  // namespace

int main(int argc, char **argv) {
  pspat::cli::tool = "pspat-churn";
  unsigned total = 10000, concurrent = 32, packets = 2, dport = 0;
  sockaddr_in dst{};
  bool have_dst = false;
  static const option longopts[] = {
      {"dst", required_argument, nullptr, 'D'},
      {"dport", required_argument, nullptr, 'p'},
      {"total", required_argument, nullptr, 'T'},
      {"concurrent", required_argument, nullptr, 'c'},
      {"packets", required_argument, nullptr, 'n'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "T:c:n:h", longopts, nullptr)) != -1) {
    switch (c) {
      case 'D':
        if (inet_pton(AF_INET, optarg, &dst.sin_addr) != 1)
          usage("--dst needs an IPv4 address");
        have_dst = true;
        break;
      case 'p':
        dport = static_cast<unsigned>(
            pspat::cli::want_u64("--dport", optarg, 1, 65535));
        break;
      case 'T':
        total = static_cast<unsigned>(
            pspat::cli::want_u64("--total", optarg, 1, 10000000));
        break;
      case 'c':
        concurrent = static_cast<unsigned>(
            pspat::cli::want_u64("--concurrent", optarg, 1, 10000000));
        break;
      case 'n':
        packets = static_cast<unsigned>(
            pspat::cli::want_u64("--packets", optarg, 0, 10000000));
        break;
      case 'h':
        usage(nullptr);
      default:
        usage("bad option");
    }
  }
  if (!have_dst || !dport || dport > 65535)
    usage("--dst and --dport (1-65535) are required");
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(dport));

  Totals t;
  unsigned started = 0;
  while (started < total) {
    unsigned wave = std::min(concurrent, total - started);
    std::vector<std::thread> threads;
    threads.reserve(wave);
    for (unsigned i = 0; i < wave; i++)
      threads.emplace_back(sender, std::cref(dst), packets, std::ref(t));
    for (auto &th : threads) th.join();
    started += wave;
  }
  pspat::Json j;
  j.obj()
      .key("tool")
      .s("pspat-churn")
      .key("threads")
      .u(started)
      .key("packets_per_thread")
      .u(packets)
      .key("sent")
      .u(t.sent)
      .key("enobufs")
      .u(t.enobufs)
      .key("errors")
      .u(t.errors)
      .key("setup_errors")
      .u(t.setup_errors)
      .end_obj();
  std::printf("%s\n", j.str().c_str());
  return t.setup_errors ? 1 : 0;
}
