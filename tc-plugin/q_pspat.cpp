// SPDX-License-Identifier: GPL-2.0
//
// q_pspat.so: the tc plugin of the "pspat" qdisc.
//
//   tc qdisc add|change|replace dev DEV root handle 1: pspat
//           [ xmit_mode default|arbiter|dispatcher ] [ batch N|default ]
//           [ held_limit N|default ]
//   tc [-s] [-j] qdisc show dev DEV
//
// tc dlopen()s TC_LIB_DIR/q_pspat.so (default: the directory tc is built
// with, /usr/lib/x86_64-linux-gnu/tc on Debian 12 amd64) and looks up
// pspat_qdisc_util. The helpers this file calls (addattr_l, print_color_*,
// parse_rtattr_flags ...) are resolved from the tc binary itself, which
// exports them: the plugin links against nothing but libc. See README.md.
//
// The netlink interface is include/pspat/pspat_uapi.h.

#include <pspat/pspat_uapi.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

// iproute2's headers are C. Their declarations compile as C++ and every
// symbol in them has C linkage; a few of their macros are C only (see
// README.md): parse_rtattr_nested() hands a void * to a struct rtattr *
// parameter, NLMSG_TAIL() and RTA_TAIL() do arithmetic on void *. This file
// uses none of them; ParseNested() below replaces the first.
extern "C" {
#include "tc_util.h"
#include "utils.h"
}

namespace {

using std::string_view;

constexpr int kMaxMsg = 1024;  // what q_*.c pass as maxlen to addattr_*

void Usage() {
  std::fprintf(stderr,
               "Usage: ... pspat [ xmit_mode default|arbiter|dispatcher ]\n"
               "                 [ batch PACKETS|default ]\n"
               "                 [ held_limit PACKETS|default ]\n"
               "\n"
               "  xmit_mode   who hands packets to the driver; default "
               "follows the\n"
               "              module parameter xmit_mode\n"
               "  batch       packets out of the child per arbiter round, "
               "0..%u;\n"
               "              0 or default follows the module parameter "
               "arb_batch\n"
               "  held_limit  packets held for stopped txqs before "
               "backpressure,\n"
               "              %u..%u; default is %u\n",
               TC_PSPAT_BATCH_MAX, TC_PSPAT_HELD_LIMIT_MIN,
               TC_PSPAT_HELD_LIMIT_MAX, TC_PSPAT_HELD_LIMIT_DEFAULT);
}

// One option: its name on the command line and in JSON, its attribute.
struct U32Option {
  string_view name;
  int attr;
  uint32_t min;
  uint32_t max;
  uint32_t dflt;  // what the word "default" stands for
};

constexpr U32Option kBatch{"batch", TCA_PSPAT_BATCH, 0, TC_PSPAT_BATCH_MAX, 0};
constexpr U32Option kHeldLimit{"held_limit", TCA_PSPAT_HELD_LIMIT,
                               TC_PSPAT_HELD_LIMIT_MIN, TC_PSPAT_HELD_LIMIT_MAX,
                               TC_PSPAT_HELD_LIMIT_DEFAULT};

constexpr std::array<string_view, __TC_PSPAT_XMIT_MAX> kModeNames = {
    "default", "arbiter", "dispatcher"};

// A number as get_u32(&v, arg, 0) takes it, like the other qdiscs' options:
// decimal, 0x or 0X hex, octal with a leading 0. Stricter than strtoul()
// behind it: no sign, no leading blanks (strtoul takes "-4294967295" for 1
// with a 32-bit long), no base prefix without digits, nothing after the
// digits, no overflow.
std::optional<uint32_t> ParseU32(string_view s) {
  int base = 10;
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  // from_chars() takes no sign for an unsigned type, and no prefix.
  uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint8_t> ParseMode(string_view s) {
  for (std::size_t i = 0; i < kModeNames.size(); i++)
    if (s == kModeNames[i]) return static_cast<uint8_t>(i);
  return std::nullopt;
}

int BadValue(const U32Option& o, string_view arg) {
  std::fprintf(stderr,
               "pspat: invalid %.*s \"%.*s\": expected a number %u..%u "
               "or \"default\"\n",
               static_cast<int>(o.name.size()), o.name.data(),
               static_cast<int>(arg.size()), arg.data(), o.min, o.max);
  Usage();
  return -1;
}

// PSPAT_TC_UNCHECKED=1 (tests only, see README.md): send any u32, and
// any u8 as xmit_mode, so that the kernel's own checks can be exercised.
bool Unchecked() {
  const char* e = std::getenv("PSPAT_TC_UNCHECKED");
  return e && string_view(e) == "1";
}

int ParseOpt(struct qdisc_util*, int argc, char** argv, struct nlmsghdr* n,
             const char*) {
  const bool unchecked = Unchecked();
  std::optional<uint8_t> mode;
  std::optional<uint32_t> batch, held_limit;

  for (; argc > 0; argc--, argv++) {
    const string_view word = *argv;

    if (word == "help") {
      Usage();
      return -1;
    }
    const U32Option* u32opt = word == kBatch.name       ? &kBatch
                              : word == kHeldLimit.name ? &kHeldLimit
                                                        : nullptr;
    if (!u32opt && word != "xmit_mode") {
      std::fprintf(stderr, "pspat: unknown option \"%s\"\n", *argv);
      Usage();
      return -1;
    }
    auto& slot = u32opt == &kBatch ? batch : held_limit;
    if (u32opt ? slot.has_value() : mode.has_value()) {
      std::fprintf(stderr, "pspat: %s given twice\n", *argv);
      Usage();
      return -1;
    }
    if (argc < 2) {
      if (u32opt)
        std::fprintf(stderr, "pspat: %s needs a value: %u..%u or \"default\"\n",
                     *argv, u32opt->min, u32opt->max);
      else
        std::fprintf(stderr,
                     "pspat: xmit_mode needs a value: default, arbiter or "
                     "dispatcher\n");
      Usage();
      return -1;
    }
    argc--, argv++;
    const string_view arg = *argv;

    if (!u32opt) {
      mode = ParseMode(arg);
      if (!mode && unchecked) {
        std::optional<uint32_t> v = ParseU32(arg);
        if (v && *v <= UINT8_MAX) mode = static_cast<uint8_t>(*v);
      }
      if (!mode) {
        std::fprintf(stderr,
                     "pspat: invalid xmit_mode \"%s\": expected default, "
                     "arbiter or dispatcher\n",
                     *argv);
        Usage();
        return -1;
      }
      continue;
    }
    std::optional<uint32_t> v =
        arg == "default" ? std::optional(u32opt->dflt) : ParseU32(arg);
    if (!v || (!unchecked && (*v < u32opt->min || *v > u32opt->max)))
      return BadValue(*u32opt, arg);
    slot = v;
  }

  // No option: no TCA_OPTIONS at all, so that `change` leaves everything as
  // it is and `add` takes the defaults (also on a module without options).
  if (!mode && !batch && !held_limit) return 0;

  struct rtattr* tail = addattr_nest(n, kMaxMsg, TCA_OPTIONS | NLA_F_NESTED);
  if (mode && addattr8(n, kMaxMsg, TCA_PSPAT_XMIT_MODE, *mode)) return -1;
  if (batch && addattr32(n, kMaxMsg, TCA_PSPAT_BATCH, *batch)) return -1;
  if (held_limit && addattr32(n, kMaxMsg, TCA_PSPAT_HELD_LIMIT, *held_limit))
    return -1;
  addattr_nest_end(n, tail);
  return 0;
}

// The enum as a word; a value this plugin does not know (newer module) as
// its number, so that nothing is hidden. JSON gets the same string.
void PrintMode(const char* key, const char* fmt, uint32_t mode) {
  char num[16];
  const char* s;

  if (mode < kModeNames.size()) {
    s = kModeNames[mode].data();  // literals: NUL-terminated
  } else {
    std::snprintf(num, sizeof(num), "%u", mode);
    s = num;
  }
  print_string(PRINT_ANY, key, fmt, s);
}

// parse_rtattr_nested() without the implicit void * conversion.
template <std::size_t N>
void ParseNested(struct rtattr* (&tb)[N], struct rtattr* nest) {
  parse_rtattr_flags(tb, N - 1, static_cast<struct rtattr*>(RTA_DATA(nest)),
                     RTA_PAYLOAD(nest), NLA_F_NESTED);
}

int PrintOpt(struct qdisc_util*, FILE*, struct rtattr* opt) {
  struct rtattr* tb[TCA_PSPAT_MAX + 1];

  if (!opt) return 0;
  ParseNested(tb, opt);

  if (tb[TCA_PSPAT_XMIT_MODE] &&
      RTA_PAYLOAD(tb[TCA_PSPAT_XMIT_MODE]) >= sizeof(uint8_t))
    PrintMode("xmit_mode", "xmit_mode %s ",
              rta_getattr_u8(tb[TCA_PSPAT_XMIT_MODE]));
  if (tb[TCA_PSPAT_BATCH] &&
      RTA_PAYLOAD(tb[TCA_PSPAT_BATCH]) >= sizeof(uint32_t)) {
    uint32_t batch = rta_getattr_u32(tb[TCA_PSPAT_BATCH]);

    print_uint(PRINT_JSON, "batch", nullptr, batch);
    if (batch)
      print_uint(PRINT_FP, nullptr, "batch %u ", batch);
    else
      print_string(PRINT_FP, nullptr, "batch %s ", "default");
  }
  if (tb[TCA_PSPAT_HELD_LIMIT] &&
      RTA_PAYLOAD(tb[TCA_PSPAT_HELD_LIMIT]) >= sizeof(uint32_t))
    print_uint(PRINT_ANY, "held_limit", "held_limit %u ",
               rta_getattr_u32(tb[TCA_PSPAT_HELD_LIMIT]));
  return 0;
}

// struct tc_pspat_xstats, field by field, in the order of the header. A
// field is printed only when the module's struct is long enough to hold it.
enum class Kind { kU64, kU32, kMode };

struct Field {
  const char* name;  // JSON key and text label: the field's name
  std::size_t offset;
  Kind kind;
  bool newline;       // text: start a new line before this field
  const char* group;  // text: the line's label; "(global)": the same
                      // in every pspat qdisc, not to be summed over them
};

#define PSPAT_FIELD(f, kind, nl, group) \
  Field { #f, offsetof(tc_pspat_xstats, f), kind, nl, group }

constexpr Field kFields[] = {
    PSPAT_FIELD(pushed, Kind::kU64, true, "qdisc"),
    PSPAT_FIELD(mailbox_full, Kind::kU64, false, nullptr),
    PSPAT_FIELD(arbitrated, Kind::kU64, false, nullptr),
    PSPAT_FIELD(dispatched, Kind::kU64, false, nullptr),
    PSPAT_FIELD(child_drops, Kind::kU64, true, ""),
    PSPAT_FIELD(stale_drops, Kind::kU64, false, nullptr),
    PSPAT_FIELD(xmit_drops, Kind::kU64, false, nullptr),
    PSPAT_FIELD(backpressure, Kind::kU64, false, nullptr),
    PSPAT_FIELD(held, Kind::kU32, false, nullptr),
    PSPAT_FIELD(xmit_mode, Kind::kMode, false, nullptr),
    PSPAT_FIELD(arb_rounds, Kind::kU64, true, "arbiter (global)"),
    PSPAT_FIELD(arb_packets, Kind::kU64, false, nullptr),
    PSPAT_FIELD(arb_sleeps, Kind::kU64, false, nullptr),
    PSPAT_FIELD(arb_wakeups, Kind::kU64, false, nullptr),
    PSPAT_FIELD(arb_throttle_sleeps, Kind::kU64, false, nullptr),
    PSPAT_FIELD(disp_batches, Kind::kU64, true, "dispatcher (global)"),
    PSPAT_FIELD(disp_packets, Kind::kU64, false, nullptr),
    PSPAT_FIELD(mb_created, Kind::kU64, true, "mailboxes (global)"),
    PSPAT_FIELD(mb_reclaimed, Kind::kU64, false, nullptr),
    PSPAT_FIELD(mb_alloc_fail, Kind::kU64, false, nullptr),
    PSPAT_FIELD(mb_live, Kind::kU32, false, nullptr),
    PSPAT_FIELD(mb_active, Kind::kU32, false, nullptr),
    PSPAT_FIELD(mb_limited, Kind::kU64, false, nullptr),
};

#undef PSPAT_FIELD

constexpr std::size_t FieldSize(Kind k) {
  return k == Kind::kU64 ? sizeof(uint64_t) : sizeof(uint32_t);
}

// A field appended to the uapi struct must be added above.
static_assert(sizeof(kFields) / sizeof(kFields[0]) == 23,
              "one entry per field of struct tc_pspat_xstats");
static_assert(offsetof(tc_pspat_xstats, mb_limited) + sizeof(uint64_t) ==
                  sizeof(tc_pspat_xstats),
              "mb_limited is the last field");

bool Has(std::size_t len, const char* name) {
  for (const Field& f : kFields)
    if (!std::strcmp(f.name, name)) return f.offset + FieldSize(f.kind) <= len;
  return false;
}

int PrintXstats(struct qdisc_util*, FILE*, struct rtattr* xstats) {
  tc_pspat_xstats st{};
  char fmt[64];
  bool first = true;

  if (!xstats) return 0;
  const std::size_t len = RTA_PAYLOAD(xstats);
  std::memcpy(&st, RTA_DATA(xstats), len < sizeof(st) ? len : sizeof(st));
  const auto* base = reinterpret_cast<const unsigned char*>(&st);

  for (const Field& f : kFields) {
    if (f.offset + FieldSize(f.kind) > len) break;  // older, shorter struct
    if (f.newline) {
      if (!first) print_nl();
      print_string(PRINT_FP, nullptr, "  %s", f.group);
      if (*f.group) print_string(PRINT_FP, nullptr, "%s", ":");
    }
    first = false;
    std::snprintf(fmt, sizeof(fmt), " %s %%%s", f.name,
                  f.kind == Kind::kU64   ? "llu"
                  : f.kind == Kind::kU32 ? "u"
                                         : "s");
    uint64_t v64;
    uint32_t v32;
    switch (f.kind) {
      case Kind::kU64:
        std::memcpy(&v64, base + f.offset, sizeof(v64));
        print_lluint(PRINT_ANY, f.name, fmt, v64);
        break;
      case Kind::kU32:
        std::memcpy(&v32, base + f.offset, sizeof(v32));
        print_uint(PRINT_ANY, f.name, fmt, v32);
        break;
      case Kind::kMode:
        std::memcpy(&v32, base + f.offset, sizeof(v32));
        PrintMode(f.name, fmt, v32);
        break;
    }
    // Derived: packets the arbiter took per round that moved packets.
    if (!std::strcmp(f.name, "arb_packets") && Has(len, "arb_rounds")) {
      double avg = st.arb_rounds ? static_cast<double>(st.arb_packets) /
                                       static_cast<double>(st.arb_rounds)
                                 : 0.0;
      print_float(PRINT_ANY, "arb_avg_batch", " (avg batch %.1f)", avg);
    }
  }
  return 0;
}

}  // namespace

// What tc looks up by name ("<kind>_qdisc_util") after dlopen().
extern "C" {
__attribute__((visibility("default"))) struct qdisc_util pspat_qdisc_util = {
    .next = nullptr,
    .id = "pspat",
    .parse_qopt = ParseOpt,
    .print_qopt = PrintOpt,
    .print_xstats = PrintXstats,
    .parse_copt = nullptr,
    .print_copt = nullptr,
    .has_block = nullptr,
};
}
