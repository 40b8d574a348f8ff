// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-failnth: make the Nth kernel allocation of `tc qdisc add dev DEV
 * root handle 1: pspat` fail, for N = FROM..TO, and report how each attempt
 * ended. Used by selftests/debug/test_failslab.sh on the debug kernel
 * (CONFIG_FAULT_INJECTION, /proc/thread-self/fail-nth).
 *
 *   pspat-failnth DEV FROM TO
 *
 * One line per N on stdout:
 *   nth N err ERRNO injected 0|1 msg "EXTACK MESSAGE"
 * err 0 = the qdisc was created (then it is deleted again). injected 1 =
 * the Nth allocation point was reached (and failed) during the request.
 * The sweep ends at the first N whose request completes without reaching
 * the Nth allocation: every allocation of the path has been failed once.
 * A lost ack (the kernel could not allocate it: ENOBUFS on the socket) is
 * resolved by deleting the qdisc: if that works, the add had succeeded.
 * Lines starting with '#' explain an abnormal end.
 *
 * Exit status: 0 sweep complete, 1 bad arguments or setup failure, 2 a
 * failed attempt left a qdisc behind (EEXIST on the next one) or the delete
 * after a successful add failed, 3 TO reached.
 *
 * The netlink message is built first and sent right after writing N into
 * fail-nth, from the same thread with no system call in between, so only
 * the kernel work of this one request counts. rtnetlink runs the request
 * synchronously in sendmsg(); fail-nth is read back and reset to 0 before
 * the ack is received.
 */
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "pspat_cli.hpp"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

namespace {

constexpr int kExitSetup = 1;     // bad arguments, no netlink, no fail-nth
constexpr int kExitLeftover = 2;  // a qdisc left behind, or delete failed
constexpr int kExitRange = 3;     // TO reached before the sweep completed
constexpr const char *kFailNth = "/proc/thread-self/fail-nth";

/* An owned file descriptor. */
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

/* /proc/thread-self/fail-nth of the calling (main) thread. */
class FailNth {
 public:
  FailNth() : fd_(open(kFailNth, O_RDWR | O_CLOEXEC)) {}
  bool ok() const { return fd_.ok(); }

  /* Arm: the Nth fail point this thread reaches from now on fails. */
  bool arm(uint64_t n) const {
    std::string s = std::to_string(n);
    return pwrite(fd_.get(), s.data(), s.size(), 0) ==
           static_cast<ssize_t>(s.size());
  }

  /* Read the countdown back and disarm. True when it reached 0: the Nth
   * allocation point was hit (and failed). */
  bool read_and_reset() const {
    std::array<char, 32> num{};
    ssize_t got = pread(fd_.get(), num.data(), num.size() - 1, 0);
    // A failed reset leaves nothing to do: the next arm() overwrites it.
    [[maybe_unused]] ssize_t reset = pwrite(fd_.get(), "0", 1, 0);
    num[got > 0 ? got : 0] = 0;
    return got > 0 && strtoul(num.data(), nullptr, 0) == 0;
  }

 private:
  Fd fd_;
};

/* The outcome of a request: 0 or a positive errno (with the kernel's extack
 * text, if any), or a negative errno when the ack itself was lost (recv
 * failed: ENOBUFS when the kernel could not allocate it). */
struct Ack {
  int err = 0;
  std::string msg;
};

/* One RTM_NEWQDISC (kind "pspat", handle 1:) or RTM_DELQDISC for the root
 * of a device, with NLM_F_ACK. */
class Request {
 public:
  Request(uint16_t type, uint16_t flags, int ifindex, uint32_t seq) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh_->nlmsg_seq = seq;
    auto *t =
        static_cast<tcmsg *>(mnl_nlmsg_put_extra_header(nlh_, sizeof(tcmsg)));
    t->tcm_family = AF_UNSPEC;
    t->tcm_ifindex = ifindex;
    t->tcm_parent = TC_H_ROOT;
    if (type == RTM_NEWQDISC) {
      t->tcm_handle = TC_H_MAKE(1U << 16, 0);
      mnl_attr_put_strz(nlh_, TCA_KIND, "pspat");
    }
  }
  Request(const Request &) = delete;
  Request &operator=(const Request &) = delete;

  const void *data() const { return nlh_; }
  size_t size() const { return nlh_->nlmsg_len; }
  uint32_t seq() const { return nlh_->nlmsg_seq; }

 private:
  alignas(nlmsghdr) std::array<char, 256> buf_{};
  nlmsghdr *nlh_;
};

/* An rtnetlink socket with extended (NETLINK_EXT_ACK) and capped
 * (NETLINK_CAP_ACK) acks. */
class Rtnl {
 public:
  bool open() {
    nl_.reset(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
    if (!nl_ || mnl_socket_bind(nl_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
      return false;
    int one = 1;
    mnl_socket_setsockopt(nl_.get(), NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(nl_.get(), NETLINK_CAP_ACK, &one, sizeof(one));
    return true;
  }

  uint32_t next_seq() { return ++seq_; }

  /* 0, or -errno when the request could not be sent. */
  int send(const Request &r) {
    return mnl_socket_sendto(nl_.get(), r.data(), r.size()) < 0 ? -errno : 0;
  }

  /* The ack of request @seq (other messages are skipped). */
  Ack recv_ack(uint32_t seq) {
    alignas(nlmsghdr) static std::array<char, 65536> buf;
    for (;;) {
      ssize_t len = mnl_socket_recvfrom(nl_.get(), buf.data(), buf.size());
      if (len < 0) {
        if (errno == EINTR) continue;
        return {-errno, {}};
      }
      int left = static_cast<int>(len);
      for (auto *h = reinterpret_cast<const nlmsghdr *>(buf.data());
           mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
        if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR) continue;
        return parse_error(h);
      }
    }
  }

  /* Send @r and wait for its ack. */
  Ack talk(const Request &r) {
    if (int err = send(r)) return {err, {}};
    return recv_ack(r.seq());
  }

 private:
  /* An NLMSG_ERROR: the errno, and the NLMSGERR_ATTR_MSG text (the last
   * one) when the kernel attached TLVs. */
  static Ack parse_error(const nlmsghdr *h) {
    const auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(h));
    Ack a{-e->error, {}};
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return a;
    size_t off = sizeof(*e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
      off += e->msg.nlmsg_len - sizeof(e->msg);
    size_t plen = mnl_nlmsg_get_payload_len(h);
    if (off >= plen) return a;
    const char *p = reinterpret_cast<const char *>(e) + off;
    int left = static_cast<int>(plen - off);
    for (auto *t = reinterpret_cast<const nlattr *>(p); mnl_attr_ok(t, left);
         t = mnl_attr_next(t)) {
      left -= static_cast<int>(MNL_ALIGN(t->nla_len));
      if (mnl_attr_get_type(t) != NLMSGERR_ATTR_MSG) continue;
      const char *s = static_cast<const char *>(mnl_attr_get_payload(t));
      a.msg.assign(s, strnlen(s, mnl_attr_get_payload_len(t)));
    }
    return a;
  }

  std::unique_ptr<mnl_socket, decltype(&mnl_socket_close)> nl_{
      nullptr, &mnl_socket_close};
  uint32_t seq_ = 1;
};

void print_result(uint64_t n, int err, bool injected, std::string_view msg) {
  printf("nth %llu err %d injected %d msg \"%.*s\"\n",
         static_cast<unsigned long long>(n), err, injected ? 1 : 0,
         static_cast<int>(msg.size()), msg.data());
  fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
  pspat::cli::tool = "pspat-failnth";
  if (argc != 4) {
    fprintf(stderr, "usage: pspat-failnth DEV FROM TO\n");
    return kExitSetup;
  }
  uint64_t from, to;
  if (!pspat::cli::parse_u64(argv[2], &from) ||
      !pspat::cli::parse_u64(argv[3], &to) || !from || to < from) {
    fprintf(stderr,
            "pspat-failnth: bad range '%s' '%s' (want 1 <= FROM <= TO)\n",
            argv[2], argv[3]);
    return kExitSetup;
  }
  int ifindex = static_cast<int>(if_nametoindex(argv[1]));
  if (!ifindex) {
    fprintf(stderr, "pspat-failnth: no device %s: %s\n", argv[1],
            strerror(errno));
    return kExitSetup;
  }
  Rtnl nl;
  if (!nl.open()) {
    perror("pspat-failnth: netlink");
    return kExitSetup;
  }
  FailNth fail;
  if (!fail.ok()) {
    fprintf(stderr, "pspat-failnth: %s: %s\n", kFailNth, strerror(errno));
    return kExitSetup;
  }

  for (uint64_t n = from; n <= to; n++) {
    Request add(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex,
                nl.next_seq());
    if (!fail.arm(n)) {
      fprintf(stderr, "pspat-failnth: %s: %s\n", kFailNth, strerror(errno));
      return kExitSetup;
    }
    // Nothing between arm() and the send: its allocations are the sweep's.
    int err = nl.send(add);
    bool injected = fail.read_and_reset();
    Ack ack;
    if (err)
      ack.err = -err;  // not sent: a plain error, not a lost ack
    else
      ack = nl.recv_ack(add.seq());
    if (ack.err < 0) {
      // Ack lost: did the add succeed? Delete to find out.
      Request del(RTM_DELQDISC, 0, ifindex, nl.next_seq());
      if (nl.talk(del).err == 0) {
        print_result(n, 0, injected, "(ack lost; the qdisc existed: deleted)");
        continue;
      }
      ack.msg = std::string("(ack lost: ") + strerror(-ack.err) + ")";
      ack.err = -ack.err;
    }
    print_result(n, ack.err, injected, ack.msg);
    if (ack.err == EEXIST) {
      printf("# a qdisc was left behind by an earlier failed add\n");
      return kExitLeftover;
    }
    if (ack.err == 0) {
      Request del(RTM_DELQDISC, 0, ifindex, nl.next_seq());
      Ack d = nl.talk(del);
      if (d.err) {
        printf("# delete after add failed: %d %s\n", d.err, d.msg.c_str());
        return kExitLeftover;
      }
      if (!injected) return 0;
    }
  }
  return kExitRange;
}
