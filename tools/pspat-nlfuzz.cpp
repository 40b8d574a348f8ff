// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-nlfuzz: a netlink fuzzer of the "pspat" qdisc's configuration.
 *
 * Sends COUNT RTM_NEWQDISC messages for kind "pspat" on one device (add:
 * NLM_F_CREATE|NLM_F_EXCL, replace: NLM_F_CREATE|NLM_F_REPLACE, change: no
 * flag, plus a few odd flag sets): valid options, then mutated ones (wrong
 * lengths, boundary and out-of-range values, unknown types, nested garbage,
 * truncated and duplicated attributes, TCA_OPTIONS missing or not nested,
 * wrong parents, random handles, random bytes), interleaved with
 * RTM_DELQDISC, RTM_NEWTCLASS, RTM_DELTCLASS and RTM_GETQDISC/RTM_GETTCLASS
 * requests and dumps. Deterministic for a given --seed and kernel.
 *
 * An oracle predicts each message's fate from the device's current state
 * (read back with a qdisc dump after every message) and from the netlink
 * parsing rules the kernel applies (the TCA_* attributes leniently, the
 * TCA_PSPAT_* ones strictly, with the ranges of README.md's table of tc
 * options, stated below, not those of include/pspat/pspat_uapi.h that the
 * module checks against): "valid" (must be acknowledged, and the dumped
 * options must then be what was asked), "invalid" (must be refused) or
 * "any" (only must not break anything). Whatever the verdict, a refused
 * message, random bytes included, must leave the qdisc unchanged (but for
 * the one refusal that keeps a change, see stab_after_change()). A kernel
 * whose pspat takes no options yet (its dump has no TCA_PSPAT_* attribute)
 * is detected and judged by that older rule.
 *
 * Prints one JSON summary on stdout. Exit status: 0 the kernel behaved as
 * predicted, 1 it did not (violations), 2 bad arguments, 3 setup failure.
 *
 *   pspat-nlfuzz --dev DEV [-n COUNT] [--seed N] [-v]
 *   pspat-nlfuzz --print-ranges   (the ranges below, for
 *                                  tools/tests/nlfuzz_ranges.sh)
 */
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pspat/pspat_uapi.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pspat_cli.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint16_t kTypeMask = static_cast<uint16_t>(NLA_TYPE_MASK);
constexpr size_t kTcmLen = sizeof(struct tcmsg);
constexpr uint32_t kNoPspat = 0;  // State::handle when the root is not pspat

/* --- byte building ----------------------------------------------------- */

void put_bytes(Bytes &b, const void *p, size_t n) {
  const auto *c = static_cast<const uint8_t *>(p);
  b.insert(b.end(), c, c + n);
}

void pad4(Bytes &b) {
  while (b.size() % 4) b.push_back(0);
}

/* An attribute: header (nla_len = @declared, or the real length), payload,
 * padding to 4 bytes unless @pad is false. */
void put_attr(Bytes &b, uint16_t type, const Bytes &payload, int declared = -1,
              bool pad = true) {
  struct nlattr h;
  h.nla_len = declared >= 0
                  ? static_cast<uint16_t>(declared)
                  : static_cast<uint16_t>(NLA_HDRLEN + payload.size());
  h.nla_type = type;
  put_bytes(b, &h, sizeof(h));
  put_bytes(b, payload.data(), payload.size());
  if (pad) pad4(b);
}

Bytes le(uint64_t v, size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; i++) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

uint16_t get16(const Bytes &b, size_t off) {
  uint16_t v;
  memcpy(&v, b.data() + off, 2);
  return v;
}

/* Call @fn on each well-formed attribute of [p, p + len) (libmnl's walk;
 * its macros need C's implicit void * conversions). */
void for_each_attr(const void *p, size_t len,
                   const std::function<void(const nlattr *)> &fn) {
  const char *end = static_cast<const char *>(p) + len;
  for (auto *a = static_cast<const nlattr *>(p); mnl_attr_ok(
           a, static_cast<int>(end - reinterpret_cast<const char *>(a)));
       a = static_cast<const nlattr *>(mnl_attr_next(a)))
    fn(a);
}

/* --- the options model --------------------------------------------------- */

/*
 * The options' valid ranges and defaults, copied from README.md's table of
 * tc options ("| tc option | default | range |"), not taken from
 * include/pspat/pspat_uapi.h: the module checks against that header, so
 * an oracle reading it too would agree with a wrong range there. The
 * oracle and the generators (boundaries, out-of-range values) use only
 * these. tools/tests/nlfuzz_ranges.sh (ctest) compares them, printed by
 * --print-ranges, with README.md's table, so that the documentation and
 * the fuzzer cannot drift apart silently; nothing compares them with the
 * header.
 *
 * xmit_mode: `default`, `arbiter`, `dispatcher`, the values 0, 1, 2 in
 * that order (the order of enum tc_pspat_xmit_mode is ABI, so its names
 * stand for the values; how many there are is stated here).
 */
constexpr unsigned kModes = 3;
constexpr uint32_t kBatchMin = 0, kBatchMax = 4096, kBatchDefault = 0;
constexpr uint32_t kHeldMin = 1, kHeldMax = 65536, kHeldDefault = 256;

struct Opts {
  uint8_t mode = TC_PSPAT_XMIT_DEFAULT;
  uint32_t batch = kBatchDefault;
  uint32_t held = kHeldDefault;
  bool operator==(const Opts &) const = default;
};

/* What a TCA_OPTIONS payload sets; nothing set: absent. */
struct OptSet {
  std::optional<uint8_t> mode;
  std::optional<uint32_t> batch;
  std::optional<uint32_t> held;
  Opts apply(Opts o) const {
    if (mode) o.mode = *mode;
    if (batch) o.batch = *batch;
    if (held) o.held = *held;
    return o;
  }
};

/* A function: `v >= 0` written out would warn (-Wtype-limits). */
bool in_range(uint64_t v, uint64_t lo, uint64_t hi) {
  return v >= lo && v <= hi;
}
bool mode_ok(uint64_t v) { return in_range(v, 0, kModes - 1); }
bool batch_ok(uint64_t v) { return in_range(v, kBatchMin, kBatchMax); }
bool held_ok(uint64_t v) { return in_range(v, kHeldMin, kHeldMax); }

enum class Verdict { Valid, Invalid, Any };

const char *verdict_name(Verdict v) {
  return v == Verdict::Valid     ? "valid"
         : v == Verdict::Invalid ? "invalid"
                                 : "any";
}

struct OptVerdict {
  Verdict v = Verdict::Valid;
  OptSet set;
};

/*
 * The kernel's nla_parse_nested() (NL_VALIDATE_STRICT) with pspat's policy
 * (exact-length u8/u32, no unknown types, no NLA_F_NESTED on scalars, no
 * trailing bytes), then its range checks on the last copy of each option.
 * An out-of-range copy shadowed by a later valid one is "any": whether
 * every copy is range-checked is the kernel's choice.
 */
OptVerdict judge_strict(uint16_t raw_type, const Bytes &p) {
  OptVerdict r;
  if (!(raw_type & NLA_F_NESTED)) return {Verdict::Invalid, {}};
  int rem = static_cast<int>(p.size());
  size_t off = 0;
  bool shadowed_bad = false;
  while (rem >= static_cast<int>(NLA_HDRLEN)) {
    uint16_t len = get16(p, off), type = get16(p, off + 2);
    if (len < NLA_HDRLEN || len > rem) break;
    uint16_t t = type & kTypeMask;
    size_t alen = len - NLA_HDRLEN, want = t == TCA_PSPAT_XMIT_MODE ? 1 : 4;
    if (t == 0 || t > TCA_PSPAT_MAX || alen != want || (type & NLA_F_NESTED))
      return {Verdict::Invalid, {}};
    const uint8_t *d = p.data() + off + NLA_HDRLEN;
    uint32_t v32 = 0;
    if (want == 4) memcpy(&v32, d, 4);
    switch (t) {
      case TCA_PSPAT_XMIT_MODE:
        if (r.set.mode && !mode_ok(*r.set.mode)) shadowed_bad = true;
        r.set.mode = d[0];
        break;
      case TCA_PSPAT_BATCH:
        if (r.set.batch && !batch_ok(*r.set.batch)) shadowed_bad = true;
        r.set.batch = v32;
        break;
      case TCA_PSPAT_HELD_LIMIT:
        if (r.set.held && !held_ok(*r.set.held)) shadowed_bad = true;
        r.set.held = v32;
        break;
    }
    int step = NLA_ALIGN(len);
    off += step;
    rem -= step;
  }
  if (rem > 0) return {Verdict::Invalid, {}};
  if ((r.set.mode && !mode_ok(*r.set.mode)) ||
      (r.set.batch && !batch_ok(*r.set.batch)) ||
      (r.set.held && !held_ok(*r.set.held)))
    return {Verdict::Invalid, {}};
  if (shadowed_bad) r.v = Verdict::Any;
  return r;
}

/* --- messages ------------------------------------------------------------ */

struct Msg {
  uint16_t type = RTM_NEWQDISC;
  uint16_t flags = 0;  // NLM_F_REQUEST|NLM_F_ACK are added
  struct tcmsg tcm {};
  size_t tcm_len = kTcmLen;  // < kTcmLen: truncated family header
  Bytes attrs;
  bool raw = false;  // random bytes: "any" (a refused one changes nothing)
  std::string what;  // the generator's label, for the summary
};

/* What the kernel's lenient parse of the TCA_* attributes keeps. */
struct Outer {
  bool bad = false;  // a policy violation: the message is refused
  std::optional<Bytes> kind;
  bool has_opts = false;
  uint16_t opts_type = 0;
  Bytes opts;
  bool stab = false;  // TCA_STAB present
};

Outer parse_outer(const Bytes &a) {
  Outer o;
  int rem = static_cast<int>(a.size());
  size_t off = 0;
  while (rem >= static_cast<int>(NLA_HDRLEN)) {
    uint16_t len = get16(a, off), type = get16(a, off + 2);
    if (len < NLA_HDRLEN || len > rem) break;
    uint16_t t = type & kTypeMask;
    Bytes pl(a.begin() + off + NLA_HDRLEN, a.begin() + off + len);
    if (t == TCA_KIND) {
      if (pl.empty()) o.bad = true;
      o.kind = pl;
    } else if (t == TCA_OPTIONS) {
      o.has_opts = true;
      o.opts_type = type;
      o.opts = pl;
    } else if (t == TCA_STAB) {
      o.stab = true;
    }
    int step = NLA_ALIGN(len);
    off += step;
    rem -= step;
  }
  return o;
}

/* nla_strcmp(kind, "pspat") == 0: trailing NULs do not count. */
bool kind_is_pspat(const Bytes &k) {
  size_t n = k.size();
  while (n && !k[n - 1]) n--;
  return n == 5 && !memcmp(k.data(), "pspat", 5);
}

/* --- device state -------------------------------------------------------- */

struct State {
  std::string root_kind;  // "noqueue", "pspat", ...
  uint32_t handle = 0;    // root handle
  bool has_opts = false;  // TCA_PSPAT_* in the root's dump
  Opts opts;              // valid when has_opts
  unsigned others = 0;    // visible non-root qdiscs
  bool pspat() const { return root_kind == "pspat"; }
  bool clean() const { return others == 0 && (pspat() || handle == 0); }
  bool operator==(const State &) const = default;
};

std::string state_str(const State &s) {
  char b[160];
  snprintf(b, sizeof(b), "%s %x: mode %u batch %u held %u%s, %u others",
           s.root_kind.c_str(), s.handle >> 16, s.opts.mode, s.opts.batch,
           s.opts.held, s.has_opts ? "" : " (no options dumped)", s.others);
  return b;
}

/* What the oracle expects of one message. */
struct Expect {
  Verdict v = Verdict::Any;
  bool create = false;  // valid: a new qdisc (handle below, 0: any)
  uint32_t new_handle = 0;
  std::optional<Opts> opts;  // valid: the options to find in the dump
  bool deleted = false;      // valid: the root is no longer pspat
};

/* --- the fuzzer ---------------------------------------------------------- */

struct Fuzzer {
  mnl_socket *nl = nullptr;
  uint32_t seq = 1;
  int ifindex = 0;
  int bad_ifindex = 0;
  std::mt19937_64 rng;
  bool verbose = false;
  bool legacy = false;  // the kernel's pspat takes no options
  State st;

  // Summary.
  std::map<std::string, uint64_t> sent_by_type, by_label, results;
  std::map<std::string, uint64_t> expect_n, expect_ok;
  std::map<std::string, uint64_t> extacks;
  uint64_t extack_seen = 0, newqdisc = 0, resyncs = 0, violations = 0;
  uint64_t acked_any = 0, refused_any = 0;
  uint64_t raw_refused_checked = 0;   // refused random bytes, state compared
  uint64_t refused_kept_options = 0;  // stab_after_change() allowed it
  std::vector<std::string> violation_samples;

  explicit Fuzzer(uint64_t seed) : rng(seed) {}

  uint64_t rnd(uint64_t n) { return n ? rng() % n : 0; }
  bool chance(unsigned pct) { return rnd(100) < pct; }
  uint32_t r32() { return static_cast<uint32_t>(rng()); }
  Bytes rbytes(size_t n) {
    Bytes b(n);
    for (auto &c : b) c = static_cast<uint8_t>(rng());
    return b;
  }

  /* --- I/O --- */

  bool open_socket() {
    nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return false;
    int one = 1;
    mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
    timeval tv{30, 0};
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return true;
  }

  Bytes serialize(const Msg &m, uint32_t s, uint16_t extra) const {
    Bytes b;
    struct nlmsghdr h {};
    h.nlmsg_len =
        static_cast<uint32_t>(NLMSG_HDRLEN + m.tcm_len + m.attrs.size());
    h.nlmsg_type = m.type;
    h.nlmsg_flags = m.flags | NLM_F_REQUEST | extra;
    h.nlmsg_seq = s;
    put_bytes(b, &h, sizeof(h));
    put_bytes(b, &m.tcm, m.tcm_len);
    b.insert(b.end(), m.attrs.begin(), m.attrs.end());
    return b;
  }

  struct Reply {
    int err = 0;              // 0 ack, else -errno; 1: no answer
    std::string extack;       // the kernel's message, if any
    std::vector<Bytes> msgs;  // data messages (dumps, gets)
  };

  /* Parse an NLMSG_ERROR (with NETLINK_CAP_ACK and NETLINK_EXT_ACK). */
  void parse_error(const nlmsghdr *h, Reply &r) {
    const auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(h));
    r.err = e->error;
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
    size_t off = sizeof(*e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED))
      off += e->msg.nlmsg_len - sizeof(e->msg);
    for_each_attr(reinterpret_cast<const uint8_t *>(e) + off,
                  mnl_nlmsg_get_payload_len(h) - off, [&](const nlattr *a) {
                    if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
                        mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                      r.extack = mnl_attr_get_str(a);
                  });
  }

  /* Send one request and read until its ack/error (or NLMSG_DONE). */
  Reply transact(const Msg &m, bool dump) {
    Reply r;
    uint32_t s = seq++;
    Bytes b = serialize(m, s, dump ? NLM_F_DUMP : NLM_F_ACK);
    if (mnl_socket_sendto(nl, b.data(), b.size()) < 0) {
      r.err = -errno;
      return r;
    }
    static uint8_t buf[1 << 16];
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        r.err = 1;
        return r;
      }
      const nlmsghdr *h = reinterpret_cast<const nlmsghdr *>(buf);
      int left = static_cast<int>(n);
      for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
        if (h->nlmsg_seq != s) continue;  // a late answer to a timed-out one
        if (h->nlmsg_type == NLMSG_ERROR) {
          parse_error(h, r);
          return r;
        }
        if (h->nlmsg_type == NLMSG_DONE) {
          if (mnl_nlmsg_get_payload_len(h) >= sizeof(int))
            memcpy(&r.err, mnl_nlmsg_get_payload(h), sizeof(int));
          return r;
        }
        const auto *c = reinterpret_cast<const uint8_t *>(h);
        r.msgs.emplace_back(c, c + h->nlmsg_len);
      }
    }
  }

  /* --- state --- */

  bool read_state(State &out) {
    Msg m;
    m.type = RTM_GETQDISC;
    m.tcm.tcm_family = AF_UNSPEC;
    Reply r = transact(m, true);
    resyncs++;
    sent_by_type["getqdisc_dump_resync"]++;
    if (r.err) return false;
    State s;
    s.root_kind = "none";
    for (const Bytes &raw : r.msgs) {
      const auto *h = reinterpret_cast<const nlmsghdr *>(raw.data());
      if (h->nlmsg_type != RTM_NEWQDISC) continue;
      const auto *t = static_cast<const tcmsg *>(mnl_nlmsg_get_payload(h));
      if (t->tcm_ifindex != ifindex) continue;
      if (t->tcm_parent != TC_H_ROOT) {
        s.others++;
        continue;
      }
      s.handle = t->tcm_handle;
      auto opt = [&s](const nlattr *o) {
        switch (mnl_attr_get_type(o)) {
          case TCA_PSPAT_XMIT_MODE:
            if (mnl_attr_get_payload_len(o) == 1) {
              s.opts.mode = mnl_attr_get_u8(o);
              s.has_opts = true;
            }
            break;
          case TCA_PSPAT_BATCH:
            if (mnl_attr_get_payload_len(o) == 4)
              s.opts.batch = mnl_attr_get_u32(o);
            break;
          case TCA_PSPAT_HELD_LIMIT:
            if (mnl_attr_get_payload_len(o) == 4)
              s.opts.held = mnl_attr_get_u32(o);
            break;
        }
      };
      for_each_attr(
          reinterpret_cast<const uint8_t *>(t) + NLMSG_ALIGN(sizeof(*t)),
          mnl_nlmsg_get_payload_len(h) - NLMSG_ALIGN(sizeof(*t)),
          [&](const nlattr *a) {
            if (mnl_attr_get_type(a) == TCA_KIND &&
                mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
              s.root_kind = std::string(
                  static_cast<const char *>(mnl_attr_get_payload(a)),
                  strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a)));
            if (mnl_attr_get_type(a) == TCA_OPTIONS)
              for_each_attr(mnl_attr_get_payload(a),
                            mnl_attr_get_payload_len(a), opt);
          });
    }
    if (!s.pspat()) s.opts = Opts{}, s.has_opts = false;
    out = s;
    return true;
  }

  /* --- generators --- */

  uint32_t handle_major() {
    for (;;) {
      uint32_t maj = 1 + rnd(0x7ffe);
      if ((maj << 16) != st.handle) return maj << 16;
    }
  }

  /* A value of @t: mostly valid, boundaries often. */
  uint32_t valid_value(uint16_t t) {
    switch (t) {
      case TCA_PSPAT_XMIT_MODE:
        return rnd(kModes);
      case TCA_PSPAT_BATCH: {
        static const uint32_t pick[] = {kBatchMin, kBatchMin + 1, 64,
                                        kBatchMax};
        return chance(50) ? pick[rnd(4)]
                          : kBatchMin + rnd(kBatchMax - kBatchMin + 1);
      }
      default: {
        static const uint32_t pick[] = {kHeldMin, kHeldDefault, kHeldMax};
        return chance(50) ? pick[rnd(3)]
                          : kHeldMin + rnd(kHeldMax - kHeldMin + 1);
      }
    }
  }

  uint32_t bad_value(uint16_t t) {
    switch (t) {
      case TCA_PSPAT_XMIT_MODE: {
        static const uint32_t pick[] = {kModes, 0x7f, 0x80, 0xff};
        return chance(60) ? pick[rnd(4)] : kModes + rnd(256 - kModes);
      }
      case TCA_PSPAT_BATCH: {  // kBatchMin is 0: nothing below it
        static const uint32_t pick[] = {kBatchMax + 1, 0x80000000u,
                                        0xffffffffu};
        return chance(60) ? pick[rnd(3)]
                          : kBatchMax + 1 + r32() % (0xffffffffu - kBatchMax);
      }
      default: {
        static const uint32_t pick[] = {kHeldMin - 1, kHeldMax + 1,
                                        0xffffffffu};
        return chance(60) ? pick[rnd(3)]
                          : kHeldMax + 1 + r32() % (0xffffffffu - kHeldMax);
      }
    }
  }

  Bytes scalar(uint16_t t, uint32_t v) {
    return le(v, t == TCA_PSPAT_XMIT_MODE ? 1 : 4);
  }

  /* An option attribute with a valid value. */
  void put_valid_opt(Bytes &b, uint16_t t) {
    put_attr(b, t, scalar(t, valid_value(t)));
  }

  /* A valid TCA_OPTIONS payload: a random subset, random order. */
  Bytes valid_opts() {
    Bytes b;
    uint16_t ts[3] = {TCA_PSPAT_XMIT_MODE, TCA_PSPAT_BATCH,
                      TCA_PSPAT_HELD_LIMIT};
    std::shuffle(ts, ts + 3, rng);
    for (uint16_t t : ts)
      if (chance(60)) put_valid_opt(b, t);
    return b;
  }

  uint16_t opt_type() { return static_cast<uint16_t>(1 + rnd(TCA_PSPAT_MAX)); }

  /* Mutations of the TCA_OPTIONS payload. @nest_flag may be cleared. */
  std::string mutate_opts(Bytes &o, uint16_t &otype, bool &has_opts) {
    uint16_t t = opt_type();
    switch (rnd(15)) {
      case 0: {  // boundary values, valid
        uint32_t v = t == TCA_PSPAT_XMIT_MODE ? (chance(50) ? 0 : kModes - 1)
                     : t == TCA_PSPAT_BATCH
                         ? (chance(50) ? kBatchMin : kBatchMax)
                         : (chance(50) ? kHeldMin : kHeldMax);
        put_attr(o, t, scalar(t, v));
        return "boundary_valid";
      }
      case 1:
      case 2:  // out of range (max+1, 0xffffffff, 0 where 0 is invalid)
        put_attr(o, t, scalar(t, bad_value(t)));
        return "out_of_range";
      case 3: {  // wrong length: shorter or longer than the type
        static const size_t l8[] = {0, 2, 4, 8}, l32[] = {0, 1, 2, 3, 5, 8};
        size_t n = t == TCA_PSPAT_XMIT_MODE ? l8[rnd(4)] : l32[rnd(6)];
        put_attr(o, t, le(valid_value(t), n > 8 ? 8 : n));
        return "wrong_length";
      }
      case 4: {  // unknown attribute type (0 is UNSPEC)
        static const uint16_t ts[] = {0, TCA_PSPAT_MAX + 1, TCA_PSPAT_MAX + 2,
                                      0x100, kTypeMask};
        uint16_t ut =
            chance(70) ? ts[rnd(5)] : static_cast<uint16_t>(rnd(kTypeMask + 1));
        put_attr(o, ut, rbytes(rnd(3) * 4));
        return "unknown_type";
      }
      case 5: {  // nested garbage: a scalar carrying NLA_F_NESTED and
                 // attributes
        Bytes inner;
        put_valid_opt(inner, opt_type());
        if (chance(50)) inner = rbytes(rnd(24));
        put_attr(o, t | NLA_F_NESTED, inner);
        return "nested_garbage";
      }
      case 6: {  // truncated: the last attribute runs past the nest
        put_valid_opt(o, t);
        size_t cut = 1 + rnd(std::min<size_t>(o.size(), 7));
        o.resize(o.size() - cut);
        return "truncated_attr";
      }
      case 7: {  // an attribute length that claims more than there is
        put_attr(o, t, scalar(t, valid_value(t)),
                 static_cast<int>(NLA_HDRLEN + 8 + rnd(64)));
        return "overlong_nla_len";
      }
      case 8: {  // nla_len below the header size
        put_attr(o, t, scalar(t, valid_value(t)),
                 static_cast<int>(rnd(NLA_HDRLEN)));
        return "short_nla_len";
      }
      case 9: {  // duplicate: valid twice, or one copy out of range
        bool bad_first = chance(30), bad_last = chance(30);
        put_attr(o, t, scalar(t, bad_first ? bad_value(t) : valid_value(t)));
        put_attr(o, t, scalar(t, bad_last ? bad_value(t) : valid_value(t)));
        return "duplicate";
      }
      case 10:  // TCA_OPTIONS missing
        has_opts = false;
        return "options_missing";
      case 11:  // not nested: no NLA_F_NESTED, or a raw scalar payload
        otype = TCA_OPTIONS;
        if (chance(50)) o = le(r32(), 1 + rnd(4));
        return "options_not_nested";
      case 12:  // an empty nest
        o.clear();
        return "options_empty";
      case 13:  // NLA_F_NET_BYTEORDER on a valid option
        put_attr(o, t | NLA_F_NET_BYTEORDER, scalar(t, valid_value(t)));
        return "byteorder_flag";
      default:  // random bytes inside the nest
        o = rbytes(rnd(40));
        return "options_random";
    }
  }

  /* A random or mutated RTM_NEWQDISC for kind "pspat". */
  Msg gen_newqdisc() {
    Msg m;
    m.tcm.tcm_family = AF_UNSPEC;
    m.tcm.tcm_ifindex = ifindex;
    m.tcm.tcm_parent = TC_H_ROOT;
    static const uint16_t fl[] = {NLM_F_CREATE | NLM_F_EXCL,
                                  NLM_F_CREATE | NLM_F_REPLACE, 0};
    static const char *fname[] = {"add", "replace", "change"};
    unsigned fi = rnd(3);
    m.flags = fl[fi];
    std::string label = fname[fi];
    if (chance(4)) {  // odd flag sets
      static const uint16_t odd[] = {NLM_F_CREATE,
                                     NLM_F_EXCL,
                                     NLM_F_REPLACE,
                                     NLM_F_APPEND,
                                     NLM_F_CREATE | NLM_F_APPEND,
                                     NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE};
      m.flags = odd[rnd(6)];
      label = "oddflags";
    }
    // Handle: 0 (auto / the current root), the current one, or a new one.
    unsigned h = rnd(10);
    m.tcm.tcm_handle = h < 4                 ? 0
                       : h < 8 && st.pspat() ? st.handle
                                             : handle_major();

    /* Random bytes after a plausible header: still one RTM_NEWQDISC
     * (serialize() makes nlmsg_len cover them all, so the kernel sees one
     * message and sends one answer), its attributes random. */
    if (chance(6)) {
      m.raw = true;
      m.flags = static_cast<uint16_t>(rng()) &
                (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE | NLM_F_APPEND);
      if (chance(50)) m.tcm.tcm_parent = r32();
      if (chance(50)) m.tcm.tcm_handle = r32();
      m.attrs = rbytes(rnd(96));
      m.what = "random_bytes";
      return m;
    }

    Bytes o = valid_opts();
    uint16_t otype = TCA_OPTIONS | NLA_F_NESTED;
    bool has_opts = chance(92);
    std::string mut = "valid";
    if (chance(65)) {
      mut = mutate_opts(o, otype, has_opts);
      if (chance(15)) mutate_opts(o, otype, has_opts), mut += "+more";
    }

    // Header-level mutations.
    unsigned hm = rnd(100);
    if (hm < 8) {  // wrong parent
      static const uint32_t pars[] = {TC_H_INGRESS,
                                      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)};
      unsigned k = rnd(5);
      m.tcm.tcm_parent = k == 0   ? TC_H_MAKE(st.handle, 1)
                         : k == 1 ? TC_H_MAKE(st.handle, 2 + rnd(0xfff0))
                         : k < 4  ? pars[k - 2]
                                  : r32();
      if (m.tcm.tcm_parent == TC_H_ROOT || m.tcm.tcm_parent == 0)
        m.tcm.tcm_parent = TC_H_INGRESS;
      mut += "/wrong_parent";
    } else if (hm < 14) {  // random handle
      m.tcm.tcm_handle = chance(50) ? r32() : TC_H_MAKE(r32(), 0);
      mut += "/random_handle";
    } else if (hm < 17) {  // parent 0: the handle names the qdisc
      m.tcm.tcm_parent = 0;
      m.tcm.tcm_handle = chance(60)   ? st.handle
                         : chance(50) ? 0
                                      : handle_major();
      mut += "/parent_zero";
    } else if (hm < 19) {
      m.tcm.tcm_ifindex = bad_ifindex;
      mut += "/bad_ifindex";
    } else if (hm < 21) {
      m.tcm_len = rnd(kTcmLen);
      mut += "/short_tcmsg";
    } else if (hm < 24) {
      mut += "/kind_missing";
    } else if (hm < 27) {
      mut += "/kind_no_nul";
    }

    // The TCA_* attributes.
    bool kind = mut.find("kind_missing") == std::string::npos;
    Bytes k = {'p', 's', 'p', 'a', 't', 0};
    if (mut.find("kind_no_nul") != std::string::npos) k.pop_back();
    unsigned om = rnd(100);
    if (kind) put_attr(m.attrs, TCA_KIND, k);
    if (has_opts) {
      if (om < 3) {  // two TCA_OPTIONS: the last one counts
        put_attr(m.attrs, TCA_OPTIONS | NLA_F_NESTED, valid_opts());
        mut += "/options_twice";
      }
      if (om >= 3 && om < 6) {  // TCA_OPTIONS runs past the message
        put_attr(m.attrs, otype, o,
                 static_cast<int>(NLA_HDRLEN + o.size() + 4 + rnd(64)), false);
        mut += "/options_truncated";
      } else {
        put_attr(m.attrs, otype, o);
      }
    }
    // A short family header carries nothing after it: attributes would
    // fill in the missing tcmsg bytes.
    if (m.tcm_len < kTcmLen) m.attrs.clear();
    m.what = label + ":" + mut;
    return m;
  }

  /* The oracle for an RTM_NEWQDISC. */
  Expect predict_newqdisc(const Msg &m) {
    Expect e;
    if (m.raw || !st.clean()) return e;  // Any
    if (m.tcm_len == 0) return e;        // rtnetlink: no family, ignored
    if (m.tcm_len < kTcmLen || m.tcm.tcm_ifindex != ifindex) {
      e.v = Verdict::Invalid;
      return e;
    }
    Outer o = parse_outer(m.attrs);
    if (o.bad) {
      e.v = Verdict::Invalid;
      return e;
    }
    bool kind_ok = !o.kind || kind_is_pspat(*o.kind);
    if (!kind_ok) return e;  // not generated
    uint32_t clid = m.tcm.tcm_parent, handle = m.tcm.tcm_handle;
    uint16_t f = m.flags;
    bool change = false, create = false;
    e.v = Verdict::Invalid;
    if (clid == 0) {
      if (!handle || !st.pspat() || handle != st.handle) return e;
      change = true;
    } else if (clid != TC_H_ROOT) {
      return e;  // pspat is root only; nothing else lives on this device
    } else {
      bool q = st.pspat();
      if (!q || !handle || st.handle != handle) {
        if (handle) {
          if (q && !(f & NLM_F_REPLACE)) return e;  // EEXIST
          if (TC_H_MIN(handle)) return e;
          create = true;  // no qdisc has this handle
        } else if (!q) {
          create = true;
        } else {
          change = true;
        }
      } else {
        change = true;
      }
    }
    if (change) {
      if (f & NLM_F_EXCL) return e;
      if (!o.has_opts) {
        e.v = Verdict::Valid;
        e.opts = st.opts;
        return e;
      }
      if (legacy) return e;  // no .change: refused
      OptVerdict ov = judge_strict(o.opts_type, o.opts);
      e.v = ov.v;
      if (ov.v == Verdict::Valid) e.opts = ov.set.apply(st.opts);
      return e;
    }
    if (!create) return e;
    if (!(f & NLM_F_CREATE) || !o.kind) return e;
    if (TC_H_MAJ(handle) == TC_H_MAJ(TC_H_ROOT)) {
      e.v = Verdict::Any;  // ffff: is the ingress/clsact handle
      return e;
    }
    OptVerdict ov;
    if (legacy) {
      ov.v = !o.has_opts || o.opts.empty() ? Verdict::Valid : Verdict::Invalid;
    } else if (o.has_opts) {
      ov = judge_strict(o.opts_type, o.opts);
    }
    e.v = ov.v;
    if (ov.v == Verdict::Valid) {
      e.create = true;
      e.new_handle = handle;
      e.opts = ov.set.apply(Opts{});
    }
    return e;
  }

  /* --- other requests --- */

  Msg gen_other(Expect &e) {
    Msg m;
    m.tcm.tcm_family = AF_UNSPEC;
    m.tcm.tcm_ifindex = ifindex;
    e = Expect{};
    bool clean = st.clean();
    switch (rnd(7)) {
      case 0:
      case 1: {  // delete the root
        m.type = RTM_DELQDISC;
        m.tcm.tcm_parent = TC_H_ROOT;
        unsigned h = rnd(4);
        m.tcm.tcm_handle = h < 2 ? 0 : h == 2 ? st.handle : handle_major();
        bool kind = chance(50);
        if (kind)
          put_attr(m.attrs, TCA_KIND, Bytes{'p', 's', 'p', 'a', 't', 0});
        m.what = "delqdisc";
        if (clean) {
          bool ok = st.pspat() &&
                    (!m.tcm.tcm_handle || m.tcm.tcm_handle == st.handle);
          e.v = ok ? Verdict::Valid : Verdict::Invalid;
          e.deleted = ok;
        }
        return m;
      }
      case 2:
      case 3: {  // a class: pspat's single class takes no changes
        m.type = chance(75) ? RTM_NEWTCLASS : RTM_DELTCLASS;
        static const uint16_t fl[] = {NLM_F_CREATE | NLM_F_EXCL, NLM_F_CREATE,
                                      0};
        m.flags = m.type == RTM_NEWTCLASS ? fl[rnd(3)] : 0;
        m.tcm.tcm_parent = chance(50) ? TC_H_ROOT : st.handle;
        m.tcm.tcm_handle = chance(60)   ? TC_H_MAKE(st.handle, 1)
                           : chance(50) ? TC_H_MAKE(st.handle, r32())
                                        : r32();
        Bytes o;
        if (chance(50))
          o = rbytes(rnd(32));
        else
          put_valid_opt(o, opt_type());
        put_attr(m.attrs, TCA_OPTIONS | NLA_F_NESTED, o);
        m.what = m.type == RTM_NEWTCLASS ? "newtclass" : "deltclass";
        if (clean) e.v = Verdict::Invalid;
        return m;
      }
      case 4: {  // get the root
        m.type = RTM_GETQDISC;
        m.tcm.tcm_parent = TC_H_ROOT;
        m.what = "getqdisc";
        if (clean) e.v = Verdict::Valid, e.opts = st.opts;
        return m;
      }
      case 5:
        m.type = RTM_GETQDISC;
        m.what = "getqdisc_dump";
        e.v = Verdict::Valid;
        e.opts = st.opts;
        return m;
      default:
        m.type = RTM_GETTCLASS;
        m.what = "gettclass_dump";
        e.v = Verdict::Valid;
        e.opts = st.opts;
        return m;
    }
  }

  /* --- judging --- */

  static std::string errname(int err) {
    if (err == 0) return "ack";
    if (err == 1) return "timeout";
    const char *n = strerrorname_np(-err);
    return n ? n : "E" + std::to_string(-err);
  }

  void violation(uint64_t i, const Msg &m, const Reply &r, const Expect &e,
                 const std::string &why, const State &before,
                 const State &after) {
    violations++;
    char b[1024];
    snprintf(b, sizeof(b),
             "#%llu %s (%s, flags 0x%x, parent %x, handle %x, %zu attr bytes): "
             "expected %s, got %s%s%s: %s; before [%s] after [%s]",
             static_cast<unsigned long long>(i), m.what.c_str(),
             m.type == RTM_NEWQDISC ? "newqdisc" : "other", m.flags,
             m.tcm.tcm_parent, m.tcm.tcm_handle, m.attrs.size(),
             verdict_name(e.v), errname(r.err).c_str(),
             r.extack.empty() ? "" : " / ", r.extack.c_str(), why.c_str(),
             state_str(before).c_str(), state_str(after).c_str());
    if (verbose) fprintf(stderr, "pspat-nlfuzz: violation %s\n", b);
    if (violation_samples.size() < 20) violation_samples.emplace_back(b);
  }

  /*
   * The kernel's one refusal that keeps a change: qdisc_change() applies
   * TCA_OPTIONS (ops->change) before it parses TCA_STAB, and a bad
   * TCA_STAB then fails the request. Only random bytes can carry a
   * TCA_STAB. True when @m is such a message and @after is @before with
   * the options applied that pspat would take.
   */
  bool stab_after_change(const Msg &m, const State &before,
                         const State &after) {
    if (m.type != RTM_NEWQDISC || legacy || !before.pspat()) return false;
    Outer o = parse_outer(m.attrs);
    if (!o.has_opts || !o.stab) return false;
    OptVerdict ov = judge_strict(o.opts_type, o.opts);
    if (ov.v == Verdict::Invalid) return false;
    State s = before;
    s.opts = ov.set.apply(before.opts);
    if (after != s) return false;
    refused_kept_options++;
    return true;
  }

  /* Run one message, check the outcome. Returns false on a fatal error. */
  bool step(uint64_t i, const Msg &m, const Expect &e, bool dump) {
    Reply r = transact(m, dump);
    std::string label = m.what.substr(0, m.what.find('/'));
    sent_by_type[m.type == RTM_NEWQDISC   ? "newqdisc"
                 : m.type == RTM_DELQDISC ? "delqdisc"
                                          : m.what]++;
    by_label[m.what]++;
    results[errname(r.err)]++;
    if (!r.extack.empty()) {
      extack_seen++;
      extacks[r.extack]++;
    }
    State before = st, after;
    if (!read_state(after)) {
      fprintf(stderr, "pspat-nlfuzz: cannot dump the qdiscs\n");
      return false;
    }
    std::string vn = verdict_name(e.v);
    expect_n[vn]++;
    if (r.err == 1) {
      violation(i, m, r, e, "no answer from the kernel", before, after);
    } else if (e.v == Verdict::Valid) {
      if (r.err) {
        violation(i, m, r, e, "a valid request was refused", before, after);
      } else {
        expect_ok[vn]++;
        std::string why;
        if (e.deleted) {
          if (after.pspat()) why = "the qdisc is still there";
        } else if (m.type == RTM_NEWQDISC) {
          if (!after.pspat())
            why = "no pspat root after the ack";
          else if (e.create && e.new_handle && after.handle != e.new_handle)
            why = "the new qdisc has another handle";
          else if (!e.create && after.handle != before.handle)
            why = "a change replaced the qdisc";
          else if (!legacy && e.opts && after.opts != *e.opts)
            why = "the dumped options are not the ones acked";
        } else if (after != before) {
          why = "a read-only request changed the qdisc";
        }
        if (m.type == RTM_GETQDISC && dump && r.msgs.empty())
          why = "the dump returned nothing";
        if (!why.empty()) violation(i, m, r, e, why, before, after);
      }
    } else if (e.v == Verdict::Invalid) {
      if (!r.err)
        violation(i, m, r, e, "an invalid request was accepted", before, after);
      else if (after != before)
        violation(i, m, r, e, "a refused request changed the qdisc", before,
                  after);
      else
        expect_ok[vn]++;
    } else {
      /* Refused, whatever it was and whatever the state before (random
       * bytes and an unclean state included): nothing may have changed. */
      if (r.err) {
        refused_any++;
        if (m.raw) raw_refused_checked++;
        if (after != before && !stab_after_change(m, before, after))
          violation(i, m, r, e, "a refused request changed the qdisc", before,
                    after);
      } else {
        acked_any++;
      }
    }
    st = after;
    return true;
  }

  /* A kernel whose pspat dumps no TCA_PSPAT_* attribute takes no options. */
  bool probe() {
    if (!read_state(st)) return false;
    if (st.root_kind != "noqueue" && st.root_kind != "pspat") {
      fprintf(
          stderr,
          "pspat-nlfuzz: the device's root qdisc is %s: want none or pspat\n",
          st.root_kind.c_str());
      return false;
    }
    if (!st.pspat()) {
      Msg m;
      m.flags = NLM_F_CREATE | NLM_F_EXCL;
      m.tcm.tcm_ifindex = ifindex;
      m.tcm.tcm_parent = TC_H_ROOT;
      put_attr(m.attrs, TCA_KIND, Bytes{'p', 's', 'p', 'a', 't', 0});
      Reply r = transact(m, false);
      if (r.err) {
        fprintf(stderr, "pspat-nlfuzz: cannot add a pspat root: %s %s\n",
                errname(r.err).c_str(), r.extack.c_str());
        return false;
      }
      if (!read_state(st)) return false;
    }
    legacy = !st.has_opts;
    return st.pspat();
  }

  void print_json(uint64_t seed, const char *dev, double secs) {
    auto esc = [](const std::string &s) {
      std::string o;
      for (unsigned char c : s) {
        if (c == '"' || c == '\\')
          o += '\\', o += static_cast<char>(c);
        else if (c < 0x20) {
          char b[8];
          snprintf(b, sizeof(b), "\\u%04x", c);
          o += b;
        } else
          o += static_cast<char>(c);
      }
      return o;
    };
    auto map = [&](const std::map<std::string, uint64_t> &mp) {
      std::string o = "{";
      for (auto &[k, v] : mp)
        o += (o.size() > 1 ? ", \"" : "\"") + esc(k) +
             "\": " + std::to_string(v);
      return o + "}";
    };
    printf(
        "{\n  \"format\": 1,\n  \"seed\": %llu,\n  \"dev\": \"%s\",\n  "
        "\"ifindex\": %d,\n",
        static_cast<unsigned long long>(seed), esc(dev).c_str(), ifindex);
    printf("  \"kernel_takes_options\": %s,\n", legacy ? "false" : "true");
    printf("  \"newqdisc\": %llu,\n",
           static_cast<unsigned long long>(newqdisc));
    printf("  \"sent\": %s,\n", map(sent_by_type).c_str());
    printf("  \"results\": %s,\n", map(results).c_str());
    printf("  \"expected\": %s,\n", map(expect_n).c_str());
    printf("  \"as_expected\": %s,\n", map(expect_ok).c_str());
    printf("  \"any_acked\": %llu,\n  \"any_refused\": %llu,\n",
           static_cast<unsigned long long>(acked_any),
           static_cast<unsigned long long>(refused_any));
    printf("  \"raw_refused_checked\": %llu,\n",
           static_cast<unsigned long long>(raw_refused_checked));
    printf("  \"refused_kept_options\": %llu,\n",
           static_cast<unsigned long long>(refused_kept_options));
    // Labels: flag set and first mutation only, to keep it short.
    std::map<std::string, uint64_t> muts;
    for (auto &[k, v] : by_label) {
      std::string s = k.substr(0, k.find('+'));
      muts[s.substr(0, s.find('/'))] += v;
      size_t p = k.find('/');
      while (p != std::string::npos) {
        size_t q = k.find('/', p + 1);
        muts[k.substr(p + 1, q == std::string::npos ? q : q - p - 1)] += v;
        p = q;
      }
    }
    printf("  \"labels\": %s,\n", map(muts).c_str());
    printf("  \"extack_messages\": %llu,\n",
           static_cast<unsigned long long>(extack_seen));
    printf("  \"extack_distinct\": %zu,\n  \"extack_samples\": [",
           extacks.size());
    size_t n = 0;
    for (auto &[k, v] : extacks) {
      if (n++ == 40) break;
      printf("%s\n    {\"msg\": \"%s\", \"count\": %llu}", n > 1 ? "," : "",
             esc(k).c_str(), static_cast<unsigned long long>(v));
    }
    printf("\n  ],\n  \"resync_dumps\": %llu,\n",
           static_cast<unsigned long long>(resyncs));
    printf("  \"final\": \"%s\",\n", esc(state_str(st)).c_str());
    printf("  \"seconds\": %.1f,\n", secs);
    printf("  \"violations\": %llu,\n  \"violation_samples\": [",
           static_cast<unsigned long long>(violations));
    n = 0;
    for (auto &s : violation_samples)
      printf("%s\n    \"%s\"", n++ ? "," : "", esc(s).c_str());
    printf("%s]\n}\n", n ? "\n  " : "");
  }
};

/* One line per option: name, min, max, default (tools/tests/nlfuzz_ranges.sh
 * reads these). */
void print_ranges() {
  printf("xmit_mode 0 %u %u\n", kModes - 1,
         static_cast<unsigned>(TC_PSPAT_XMIT_DEFAULT));
  printf("batch %u %u %u\n", kBatchMin, kBatchMax, kBatchDefault);
  printf("held_limit %u %u %u\n", kHeldMin, kHeldMax, kHeldDefault);
}

[[noreturn]] void usage(const char *msg) {
  if (msg) fprintf(stderr, "pspat-nlfuzz: %s\n", msg);
  fprintf(stderr,
          "Usage: pspat-nlfuzz --dev DEV [-n COUNT] [--seed N] [--keep] [-v]\n"
          "       pspat-nlfuzz --print-ranges\n"
          "  --dev DEV      the device to fuzz (its root: none or pspat)\n"
          "  -n, --count N  RTM_NEWQDISC messages to send (default 10000)\n"
          "  --seed N       random seed (default 1)\n"
          "  --other PCT    other requests per 100 RTM_NEWQDISC (default 15)\n"
          "  --keep         leave the pspat root in place at the end\n"
          "  -v             each violation on stderr as it happens\n"
          "  --print-ranges the options' ranges the oracle uses, and exit\n");
  exit(msg ? pspat::cli::EXIT_USAGE : 0);
}

}  // namespace

int main(int argc, char **argv) {
  pspat::cli::tool = "pspat-nlfuzz";
  const char *dev = nullptr;
  uint64_t count = 10000, seed = 1, other = 15;
  bool keep = false, verbose = false;
  static const option longopts[] = {{"dev", required_argument, nullptr, 'D'},
                                    {"count", required_argument, nullptr, 'n'},
                                    {"seed", required_argument, nullptr, 'S'},
                                    {"other", required_argument, nullptr, 'O'},
                                    {"keep", no_argument, nullptr, 'K'},
                                    {"print-ranges", no_argument, nullptr, 'R'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "n:vh", longopts, nullptr)) != -1) {
    switch (c) {
      case 'D':
        dev = optarg;
        break;
      case 'n':
        count = pspat::cli::want_u64("--count", optarg, 1, 100000000);
        break;
      case 'S':
        seed = pspat::cli::want_u64("--seed", optarg, 0, UINT64_MAX);
        break;
      case 'O':
        other = pspat::cli::want_u64("--other", optarg, 0, 1000);
        break;
      case 'K':
        keep = true;
        break;
      case 'R':
        print_ranges();
        return 0;
      case 'v':
        verbose = true;
        break;
      case 'h':
        usage(nullptr);
      default:
        usage("bad option");
    }
  }
  if (!dev) usage("--dev is required");
  if (optind != argc) usage("unexpected argument");

  Fuzzer fz(seed);
  fz.verbose = verbose;
  fz.ifindex = static_cast<int>(if_nametoindex(dev));
  if (!fz.ifindex) {
    fprintf(stderr, "pspat-nlfuzz: no device %s\n", dev);
    return 3;
  }
  fz.bad_ifindex = 0x7ffffff0;
  char name[IF_NAMESIZE];
  while (if_indextoname(fz.bad_ifindex, name)) fz.bad_ifindex--;
  if (!fz.open_socket()) {
    perror("pspat-nlfuzz: netlink");
    return 3;
  }
  if (!fz.probe()) return 3;

  timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint64_t i = 0;
  bool ok = true;
  while (ok && fz.newqdisc < count) {
    i++;
    // No pspat root: mostly re-add one, so that most messages meet one.
    if (fz.rnd(100) < other) {
      Expect e;
      Msg m = fz.gen_other(e);
      bool dump = m.what.find("_dump") != std::string::npos;
      ok = fz.step(i, m, e, dump);
      continue;
    }
    Msg m = fz.gen_newqdisc();
    if (!fz.st.pspat() && fz.chance(50)) {
      m = Msg{};
      m.flags = NLM_F_CREATE | NLM_F_EXCL;
      m.tcm.tcm_ifindex = fz.ifindex;
      m.tcm.tcm_parent = TC_H_ROOT;
      m.tcm.tcm_handle = fz.chance(50) ? 0 : fz.handle_major();
      put_attr(m.attrs, TCA_KIND, Bytes{'p', 's', 'p', 'a', 't', 0});
      put_attr(m.attrs, TCA_OPTIONS | NLA_F_NESTED,
               fz.legacy ? Bytes{} : fz.valid_opts());
      m.what = "add:readd";
    }
    Expect e = fz.predict_newqdisc(m);
    fz.newqdisc++;
    ok = fz.step(i, m, e, false);
    // Something unexpected got installed (random bytes): remove it.
    if (ok && !fz.st.clean()) {
      Msg d;
      d.type = RTM_DELQDISC;
      d.tcm.tcm_ifindex = fz.ifindex;
      d.tcm.tcm_parent = TC_H_ROOT;
      d.what = "delqdisc_cleanup";
      ok = fz.step(++i, d, Expect{}, false);
    }
  }
  if (ok && !keep && fz.st.pspat()) {
    Msg d;
    d.type = RTM_DELQDISC;
    d.tcm.tcm_ifindex = fz.ifindex;
    d.tcm.tcm_parent = TC_H_ROOT;
    d.what = "delqdisc_final";
    Expect e;
    e.v = Verdict::Valid;
    e.deleted = true;
    ok = fz.step(++i, d, e, false);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  fz.print_json(seed, dev,
                (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  if (!ok) return 3;
  return fz.violations ? 1 : 0;
}
