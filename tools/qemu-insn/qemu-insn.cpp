// SPDX-License-Identifier: GPL-2.0
//
// libqemu-insn.so: a QEMU TCG plugin (system emulation, x86_64 guests) that
// counts the guest instructions executed inside a window, per vCPU.
//
//   qemu-system-x86_64 ... -plugin build/qemu-insn/libqemu-insn.so,out=FILE
//
// The window: every execution of the marker instruction `xchg %rbx,%rbx`
// (bytes 48 87 db, a no-op; tools/qemu-insn/insn-window.cpp executes it)
// toggles it, on whichever vCPU; the first opens it, the next closes it.
// While it is open, every vCPU counts (user and kernel code alike): the
// command's own work, the kernel threads and interrupts it causes on other
// vCPUs. Counts add up over all windows.
//
// Spans: the other marker, `xchg %rcx,%rcx` (48 87 c9), toggles a span on
// the vCPU that executes it, and only there: from the instruction after
// the opening marker up to and including the closing one, that vCPU's
// instructions count into its span totals (whatever runs on it meanwhile:
// the code between the markers, the functions it calls, interrupts that
// hit it). A kernel module brackets one call with it (kmod/xmitbench_test:
// one dev_queue_xmit()), a program one loop (insn-window --span-loop).
// Spans count whether or not the window is open; in the JSON "spans" has,
// per vCPU, how many closed and their sums, with module_insns and
// module_lock_ops: those at addresses in the x86-64 module area
// (0xffffffffc0000000 and up), i.e. code of loadable modules.
// Two more markers act on the vCPU's open span: `xchg %rdx,%rdx`
// (48 87 d2) discards it (counted in "discarded", not in the sums: an
// arbiter round that moved nothing), `xchg %rsi,%rsi` (48 87 f6) toggles
// an inner part whose sums ("inner") the span adds when it closes (the
// child qdisc's and the driver's share of an arbiter round).
//
// Counted, per vCPU (docs/insn-count.md):
//   user_insns, kernel_insns  instructions started at a user (lower half) or
//                             kernel (upper half) address; an instruction
//                             that faults and is restarted counts per try
//   user_lock_ops,            of those, locked read-modify-writes: a LOCK
//   kernel_lock_ops           (F0) prefix among the legacy prefixes, or XCHG
//                             (86/87) with a memory operand (implicitly
//                             locked)
// and their sums insns and lock_ops.
//
// The counters are inline scoreboard adds chosen at translation time (one
// per instruction, one more for a locked one), so they run always and cost
// no callback; the marker alone gets a callback, which reads every vCPU's
// counters: the window is their difference. Other vCPUs keep running while
// it reads, so a window's edges are exact on the marking vCPU and within a
// few instructions on the others.
//
// Profile (profile=PFILE): where a span's own part goes, the part outside
// its inner toggles (an arbiter round without child and driver). Every
// translation block started on a vCPU whose span is open and whose inner
// part is closed counts its instructions and LOCK ops to the block's
// address; at exit PFILE gets one line per address and vCPU, "ADDR VCPU
// INSNS LOCKS" (hex address, 16 digits), the most executed first. A block
// counts whole or not at all (the one that opens a span does not count, the one
// that closes it does): a profile, a few instructions per span off the sums. A
// discarded span's blocks are dropped, as its counts are. scripts/insn-profile
// names the functions from the guest's kallsyms.
//
// When the window closes, and at exit, FILE (without out=: QEMU's log,
// shown with -d plugin)
// gets one JSON object: the sums over all windows and vCPUs, a "vcpus"
// array (each vCPU's sums), "by_window" (each closed window, vCPUs summed),
// "windows" closed so far and "open" (true: a window was still open at
// exit; the sums count it up to there).

#include <glib.h>  // before the extern "C" block: glib has C++ parts

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include <qemu-plugin.h>
}

extern "C" {
QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
}

namespace {

struct Counts {
  uint64_t user_insns = 0;
  uint64_t kernel_insns = 0;
  uint64_t user_locks = 0;
  uint64_t kernel_locks = 0;
  uint64_t module_insns = 0;  // of kernel_insns, in the module area
  uint64_t module_locks = 0;
};

constexpr uint8_t kMarker[] = {0x48, 0x87, 0xdb};         // xchg %rbx,%rbx
constexpr uint8_t kSpanMarker[] = {0x48, 0x87, 0xc9};     // xchg %rcx,%rcx
constexpr uint8_t kDiscardMarker[] = {0x48, 0x87, 0xd2};  // xchg %rdx,%rdx
constexpr uint8_t kInnerMarker[] = {0x48, 0x87, 0xf6};    // xchg %rsi,%rsi
constexpr uint64_t kModuleArea = 0xffffffffc0000000ULL;   // MODULES_VADDR

qemu_plugin_scoreboard* board;  // one Counts per vCPU, always counting
qemu_plugin_u64 user_insns, kernel_insns, user_locks, kernel_locks;
qemu_plugin_u64 module_insns, module_locks;

// Profile: own (per vCPU, 1 while its span's own part runs) gates a
// conditional callback on every block, which adds to the block's Tb.
qemu_plugin_scoreboard* own_board;
qemu_plugin_u64 own;
constexpr unsigned kProfileVcpus =
    8;  // vCPUs profiled apart; the rest in the last
struct Tb {
  uint64_t vaddr;
  uint32_t insns;
  uint32_t locks;
  std::atomic<uint64_t> execs[kProfileVcpus]{};  // in closed spans
  uint64_t pending[kProfileVcpus]{};  // in the open span: its vCPU's alone
};
// Per vCPU, the blocks with pending counts: committed to execs when the
// span closes, dropped when it is discarded. Touched by that vCPU only.
std::vector<Tb*> touched[kProfileVcpus];

void CommitProfile(unsigned vcpu, bool keep) {
  if (vcpu >= kProfileVcpus) vcpu = kProfileVcpus - 1;
  for (Tb* t : touched[vcpu]) {
    if (keep)
      t->execs[vcpu].fetch_add(t->pending[vcpu], std::memory_order_relaxed);
    t->pending[vcpu] = 0;
  }
  touched[vcpu].clear();
}

// A vCPU's spans: written only by that vCPU's marker callback, read at
// output under State::mu (the callback takes it too).
struct Span {
  bool open = false;
  bool inner_open = false;
  uint64_t closed = 0;
  uint64_t discarded = 0;
  Counts at_open;
  Counts total;
  Counts inner_at_open;
  Counts inner_now;    // this span's inner part so far
  Counts inner_total;  // of the closed spans
};

// QEMU calls the atexit callback from an atexit() handler it registered
// before it loaded the plugin, so after the plugin's static destructors:
// the state is on the heap, never freed.
struct State {
  std::mutex mu;  // guards the rest
  std::string out_path;
  bool window_open = false;
  uint64_t windows = 0;
  std::vector<Counts> at_open;  // counters when the window opened
  std::vector<Counts> total;    // summed over closed windows
  std::string by_window;        // JSON of each closed window, vCPUs summed
  std::vector<Span> spans;      // per vCPU
  std::string profile_path;     // empty: no profile
  std::vector<Tb*> tbs;         // every block translated (profile only)
};
State& st = *new State;

qemu_plugin_u64 Field(size_t offset) { return qemu_plugin_u64{board, offset}; }

// A locked read-modify-write: LOCK among the prefixes (legacy prefixes and
// REX, in any order), or XCHG r/m with a memory operand (ModRM mod != 3).
// 40-4f is REX only in 64-bit code, where it never ends an instruction; in
// 32-bit code it is a one-byte INC/DEC, so a last byte is never a prefix.
bool IsLocked(const uint8_t* b, size_t len) {
  size_t i = 0;
  bool lock = false;
  for (; i + 1 < len; i++) {
    uint8_t c = b[i];
    if (c == 0xf0) {
      lock = true;
    } else if (!(c == 0xf2 || c == 0xf3 || c == 0x2e || c == 0x36 ||
                 c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65 ||
                 c == 0x66 || c == 0x67 || (c & 0xf0) == 0x40)) {
      break;
    }
  }
  if (lock) return true;
  return i + 1 < len && (b[i] == 0x86 || b[i] == 0x87) && (b[i + 1] >> 6) != 3;
}

Counts Read(unsigned vcpu) {
  return {qemu_plugin_u64_get(user_insns, vcpu),
          qemu_plugin_u64_get(kernel_insns, vcpu),
          qemu_plugin_u64_get(user_locks, vcpu),
          qemu_plugin_u64_get(kernel_locks, vcpu),
          qemu_plugin_u64_get(module_insns, vcpu),
          qemu_plugin_u64_get(module_locks, vcpu)};
}

void Add(Counts& into, const Counts& a, const Counts& minus = {}) {
  into.user_insns += a.user_insns - minus.user_insns;
  into.kernel_insns += a.kernel_insns - minus.kernel_insns;
  into.user_locks += a.user_locks - minus.user_locks;
  into.kernel_locks += a.kernel_locks - minus.kernel_locks;
  into.module_insns += a.module_insns - minus.module_insns;
  into.module_locks += a.module_locks - minus.module_locks;
}

// into += counters now - counters when the window opened.
void Accumulate(std::vector<Counts>& into) {
  unsigned n = static_cast<unsigned>(qemu_plugin_num_vcpus());
  into.resize(n);
  st.at_open.resize(n);
  for (unsigned v = 0; v < n; v++) Add(into[v], Read(v), st.at_open[v]);
}

Counts Sum(const std::vector<Counts>& c) {
  Counts sum;
  for (const Counts& v : c) Add(sum, v);
  return sum;
}

// The members of one Counts, without braces.
std::string Fields(const Counts& c) {
  using ull = unsigned long long;
  char buf[256];
  snprintf(buf, sizeof(buf),
           "\"insns\": %llu, \"user_insns\": %llu, \"kernel_insns\": %llu, "
           "\"lock_ops\": %llu, \"user_lock_ops\": %llu, "
           "\"kernel_lock_ops\": %llu",
           ull{c.user_insns + c.kernel_insns}, ull{c.user_insns},
           ull{c.kernel_insns}, ull{c.user_locks + c.kernel_locks},
           ull{c.user_locks}, ull{c.kernel_locks});
  return buf;
}

std::string Json(const std::vector<Counts>& c, bool open) {
  std::string s = "{\"format\": 1, \"windows\": " + std::to_string(st.windows) +
                  ", \"open\": " + (open ? "true" : "false") + ", " +
                  Fields(Sum(c)) + ", \"vcpus\": [";
  for (size_t v = 0; v < c.size(); v++) {
    s += (v ? ", {\"vcpu\": " : "{\"vcpu\": ") + std::to_string(v) + ", " +
         Fields(c[v]) + "}";
  }
  s += "], \"by_window\": [" + st.by_window + "], \"spans\": [";
  for (size_t v = 0; v < st.spans.size(); v++) {
    const Span& sp = st.spans[v];
    char mod[192];
    snprintf(mod, sizeof(mod),
             ", \"module_insns\": %llu, \"module_lock_ops\": %llu",
             static_cast<unsigned long long>(sp.total.module_insns),
             static_cast<unsigned long long>(sp.total.module_locks));
    snprintf(mod + strlen(mod), sizeof(mod) - strlen(mod),
             ", \"discarded\": %llu",
             static_cast<unsigned long long>(sp.discarded));
    s += (v ? ", {\"vcpu\": " : "{\"vcpu\": ") + std::to_string(v) +
         ", \"spans\": " + std::to_string(sp.closed) + ", " + Fields(sp.total) +
         mod + ", \"inner\": {" + Fields(sp.inner_total) + "}}";
  }
  return s + "]}\n";
}

// Write to FILE.tmp and rename: a reader never sees half an object.
void Write(const std::string& json) {
  if (st.out_path.empty()) {
    qemu_plugin_outs(json.c_str());
    return;
  }
  std::string tmp = st.out_path + ".tmp";
  FILE* f = fopen(tmp.c_str(), "w");
  bool ok = f && fputs(json.c_str(), f) >= 0;
  ok = f && fclose(f) == 0 && ok;
  if (!ok || rename(tmp.c_str(), st.out_path.c_str()) != 0) {
    fprintf(stderr, "qemu-insn: cannot write %s: %s\n", st.out_path.c_str(),
            strerror(errno));
  }
}

void OnMarker(unsigned int /*vcpu*/, void* /*udata*/) {
  std::lock_guard<std::mutex> lock(st.mu);
  if (!st.window_open) {
    unsigned n = static_cast<unsigned>(qemu_plugin_num_vcpus());
    st.at_open.resize(n);
    for (unsigned v = 0; v < n; v++) st.at_open[v] = Read(v);
    st.window_open = true;
    return;
  }
  std::vector<Counts> last;
  Accumulate(last);
  Accumulate(st.total);
  st.by_window += (st.windows ? ", {" : "{") + Fields(Sum(last)) + "}";
  st.window_open = false;
  st.windows++;
  Write(Json(st.total, false));
}

enum SpanOp { kToggle, kDiscard, kInner };

void OnSpanMarker(unsigned int vcpu, void* udata) {
  std::lock_guard<std::mutex> lock(st.mu);
  if (st.spans.size() <= vcpu) st.spans.resize(vcpu + 1);
  Span& sp = st.spans[vcpu];
  Counts now = Read(vcpu);
  switch (static_cast<SpanOp>(reinterpret_cast<uintptr_t>(udata))) {
    case kToggle:
      if (!sp.open) {
        sp.at_open = now;
        sp.inner_now = {};
        sp.inner_open = false;
      } else {
        if (sp.inner_open) Add(sp.inner_now, now, sp.inner_at_open);
        Add(sp.total, now, sp.at_open);
        Add(sp.inner_total, sp.inner_now);
        sp.closed++;
      }
      if (!st.profile_path.empty()) CommitProfile(vcpu, sp.open);
      sp.open = !sp.open;
      break;
    case kDiscard:
      if (sp.open) sp.discarded++;
      sp.open = false;
      if (!st.profile_path.empty()) CommitProfile(vcpu, false);
      break;
    case kInner:
      if (!sp.open) break;
      if (sp.inner_open) Add(sp.inner_now, now, sp.inner_at_open);
      sp.inner_at_open = now;
      sp.inner_open = !sp.inner_open;
      break;
  }
  if (!st.profile_path.empty())
    qemu_plugin_u64_set(own, vcpu, sp.open && !sp.inner_open);
}

void OnTbOwn(unsigned int vcpu, void* udata) {
  Tb* t = static_cast<Tb*>(udata);
  unsigned v = std::min(vcpu, kProfileVcpus - 1);
  if (t->pending[v]++ == 0) touched[v].push_back(t);
}

// PFILE: per vCPU and block address (blocks translated more than once
// summed).
void WriteProfile() {
  std::map<std::pair<uint64_t, unsigned>, std::pair<uint64_t, uint64_t>>
      by_addr;
  for (const Tb* t : st.tbs) {
    for (unsigned v = 0; v < kProfileVcpus; v++) {
      uint64_t e = t->execs[v].load(std::memory_order_relaxed);
      if (!e) continue;
      auto& c = by_addr[{t->vaddr, v}];
      c.first += e * t->insns;
      c.second += e * t->locks;
    }
  }
  std::vector<
      std::pair<std::pair<uint64_t, unsigned>, std::pair<uint64_t, uint64_t>>>
      rows(by_addr.begin(), by_addr.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.first > b.second.first;
  });
  FILE* f = fopen(st.profile_path.c_str(), "w");
  if (!f) {
    fprintf(stderr, "qemu-insn: cannot write %s: %s\n", st.profile_path.c_str(),
            strerror(errno));
    return;
  }
  for (const auto& r : rows)
    fprintf(f, "%016llx %u %llu %llu\n",
            static_cast<unsigned long long>(r.first.first), r.first.second,
            static_cast<unsigned long long>(r.second.first),
            static_cast<unsigned long long>(r.second.second));
  fclose(f);
}

void OnTranslate(qemu_plugin_id_t /*id*/, qemu_plugin_tb* tb) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  Tb* prof = nullptr;
  if (!st.profile_path.empty()) {
    prof = new Tb;
    prof->vaddr = qemu_plugin_tb_vaddr(tb);
    prof->insns = static_cast<uint32_t>(n);
    prof->locks = 0;
    {
      std::lock_guard<std::mutex> lock(st.mu);
      st.tbs.push_back(prof);
    }
    qemu_plugin_register_vcpu_tb_exec_cond_cb(
        tb, OnTbOwn, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_NE, own, 0, prof);
  }
  for (size_t i = 0; i < n; i++) {
    qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    uint8_t b[16];
    size_t len = qemu_plugin_insn_data(insn, b, sizeof(b));
    uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
    bool kernel = vaddr >> 63;
    bool module = vaddr >= kModuleArea;
    bool locked = IsLocked(b, len);
    if (prof && locked) prof->locks++;
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
        insn, QEMU_PLUGIN_INLINE_ADD_U64, kernel ? kernel_insns : user_insns,
        1);
    if (locked) {
      qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
          insn, QEMU_PLUGIN_INLINE_ADD_U64, kernel ? kernel_locks : user_locks,
          1);
    }
    if (module) {
      qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
          insn, QEMU_PLUGIN_INLINE_ADD_U64, module_insns, 1);
      if (locked) {
        qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
            insn, QEMU_PLUGIN_INLINE_ADD_U64, module_locks, 1);
      }
    }
    // The counters above run first: a marker counts in what it closes.
    if (len == sizeof(kMarker) && memcmp(b, kMarker, len) == 0) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, OnMarker,
                                             QEMU_PLUGIN_CB_NO_REGS, nullptr);
    }
    const struct {
      const uint8_t* bytes;
      SpanOp op;
    } span_markers[] = {{kSpanMarker, kToggle},
                        {kDiscardMarker, kDiscard},
                        {kInnerMarker, kInner}};
    for (const auto& m : span_markers) {
      if (len == 3 && memcmp(b, m.bytes, 3) == 0) {
        qemu_plugin_register_vcpu_insn_exec_cb(
            insn, OnSpanMarker, QEMU_PLUGIN_CB_NO_REGS,
            reinterpret_cast<void*>(static_cast<uintptr_t>(m.op)));
      }
    }
  }
}

void OnExit(qemu_plugin_id_t /*id*/, void* /*udata*/) {
  std::lock_guard<std::mutex> lock(st.mu);
  std::vector<Counts> c = st.total;
  if (st.window_open) Accumulate(c);
  Write(Json(c, st.window_open));
  if (!st.profile_path.empty()) WriteProfile();
}

}  // namespace

extern "C" QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                                      const qemu_info_t* info,
                                                      int argc, char** argv) {
  if (!info->system_emulation || strcmp(info->target_name, "x86_64") != 0) {
    fprintf(stderr, "qemu-insn: only for qemu-system-x86_64 (got %s%s)\n",
            info->target_name, info->system_emulation ? "" : ", user mode");
    return -1;
  }
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "out=", 4) == 0 && argv[i][4]) {
      st.out_path = argv[i] + 4;
    } else if (strncmp(argv[i], "profile=", 8) == 0 && argv[i][8]) {
      st.profile_path = argv[i] + 8;
    } else {
      fprintf(stderr,
              "qemu-insn: unknown argument '%s' (takes out=FILE, "
              "profile=PFILE)\n",
              argv[i]);
      return -1;
    }
  }
  board = qemu_plugin_scoreboard_new(sizeof(Counts));
  user_insns = Field(offsetof(Counts, user_insns));
  kernel_insns = Field(offsetof(Counts, kernel_insns));
  user_locks = Field(offsetof(Counts, user_locks));
  kernel_locks = Field(offsetof(Counts, kernel_locks));
  module_insns = Field(offsetof(Counts, module_insns));
  module_locks = Field(offsetof(Counts, module_locks));
  own_board = qemu_plugin_scoreboard_new(sizeof(uint64_t));
  own = qemu_plugin_u64{own_board, 0};
  qemu_plugin_register_vcpu_tb_trans_cb(id, OnTranslate);
  qemu_plugin_register_atexit_cb(id, OnExit, nullptr);
  return 0;
}
