// SPDX-License-Identifier: GPL-2.0
/*
 * Shared by pspat-blast and pspat-sink: the on-wire test packet header, the
 * per-flow receive statistics (sequence tracking, latency histogram) and a
 * tiny JSON writer. Header-only, no dependencies beyond libstdc++, so the
 * unit tests in tools/tests can exercise exactly the code the tools run.
 *
 * Wire format of the first PKT_HDR_LEN bytes of every UDP payload, all
 * fields big-endian (network order, so tcpdump -X reads naturally):
 *
 *   off size field
 *     0    4 magic     PKT_MAGIC ("PSPT")
 *     4    2 version   PKT_VERSION
 *     6    2 hdr_len   PKT_HDR_LEN (lets a later version grow the header)
 *     8    4 flow_id   sender thread index
 *    12    4 run_id    random per pspat-blast run
 *    16    8 seq       per-flow sequence number, from 0, one per attempt
 *    24    8 tx_ns     CLOCK_MONOTONIC at the sendmsg() call, in ns
 *
 * The rest of the payload (if -s is larger) is zero.
 */
#ifndef PSPAT_TOOLS_PKT_HPP
#define PSPAT_TOOLS_PKT_HPP

#include <sched.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace pspat {

inline constexpr uint32_t PKT_MAGIC = 0x50535054; /* "PSPT" */
inline constexpr uint16_t PKT_VERSION = 1;
inline constexpr size_t PKT_HDR_LEN = 32;
inline constexpr size_t PKT_MAX_PAYLOAD = 65507; /* IPv4 UDP maximum */

struct PktHdr {
  uint32_t magic = PKT_MAGIC;
  uint16_t version = PKT_VERSION;
  uint16_t hdr_len = PKT_HDR_LEN;
  uint32_t flow_id = 0;
  uint32_t run_id = 0;
  uint64_t seq = 0;
  uint64_t tx_ns = 0;
};

namespace detail {
inline void put_be(uint8_t *p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

inline uint64_t get_be(const uint8_t *p, int bytes) {
  uint64_t v = 0;

  for (int i = 0; i < bytes; i++) v = (v << 8) | p[i];
  return v;
}
}  // namespace detail

/* Writes the full header; buf must hold at least PKT_HDR_LEN bytes. */
inline void pkt_encode(uint8_t *buf, const PktHdr &h) {
  detail::put_be(buf + 0, h.magic, 4);
  detail::put_be(buf + 4, h.version, 2);
  detail::put_be(buf + 6, h.hdr_len, 2);
  detail::put_be(buf + 8, h.flow_id, 4);
  detail::put_be(buf + 12, h.run_id, 4);
  detail::put_be(buf + 16, h.seq, 8);
  detail::put_be(buf + 24, h.tx_ns, 8);
}

/* Fast path for the sender: only seq and tx_ns change between packets. */
inline void pkt_set_seq_ts(uint8_t *buf, uint64_t seq, uint64_t tx_ns) {
  detail::put_be(buf + 16, seq, 8);
  detail::put_be(buf + 24, tx_ns, 8);
}

enum class PktParse { Ok, Short, BadMagic, BadVersion };

/* len is the datagram length (may exceed what was copied, see MSG_TRUNC);
 * the caller guarantees min(len, copied) >= PKT_HDR_LEN bytes are readable
 * whenever Short is not returned. */
inline PktParse pkt_decode(const uint8_t *buf, size_t len, PktHdr *h) {
  if (len < PKT_HDR_LEN) return PktParse::Short;
  h->magic = static_cast<uint32_t>(detail::get_be(buf + 0, 4));
  if (h->magic != PKT_MAGIC) return PktParse::BadMagic;
  h->version = static_cast<uint16_t>(detail::get_be(buf + 4, 2));
  h->hdr_len = static_cast<uint16_t>(detail::get_be(buf + 6, 2));
  if (h->version != PKT_VERSION || h->hdr_len < PKT_HDR_LEN || h->hdr_len > len)
    return PktParse::BadVersion;
  h->flow_id = static_cast<uint32_t>(detail::get_be(buf + 8, 4));
  h->run_id = static_cast<uint32_t>(detail::get_be(buf + 12, 4));
  h->seq = detail::get_be(buf + 16, 8);
  h->tx_ns = detail::get_be(buf + 24, 8);
  return PktParse::Ok;
}

inline uint64_t mono_ns() {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

/*
 * Sparse bitmap of the sequence numbers seen on one flow: 64 Ki-bit chunks
 * (8 KiB) allocated on demand, so memory follows what was actually received
 * and a garbage sequence number costs one chunk, not gigabytes.
 */
class SeqSet {
 public:
  static constexpr unsigned CHUNK_BITS = 1u << 16;

  /* Returns true if seq was not in the set (and adds it). */
  bool insert(uint64_t seq) {
    uint64_t ci = seq / CHUNK_BITS;
    Chunk *c;

    if (last_ && last_idx_ == ci) {
      c = last_;
    } else {
      auto &slot = chunks_[ci];
      if (!slot) slot = std::make_unique<Chunk>();
      c = slot.get();
      last_ = c;
      last_idx_ = ci;
    }
    uint64_t bit = seq % CHUNK_BITS;
    uint64_t mask = 1ull << (bit % 64);
    uint64_t &w = (*c)[bit / 64];
    if (w & mask) return false;
    w |= mask;
    return true;
  }

  bool contains(uint64_t seq) const {
    auto it = chunks_.find(seq / CHUNK_BITS);
    if (it == chunks_.end()) return false;
    uint64_t bit = seq % CHUNK_BITS;
    return ((*it->second)[bit / 64] >> (bit % 64)) & 1;
  }

 private:
  using Chunk = std::array<uint64_t, CHUNK_BITS / 64>;
  std::unordered_map<uint64_t, std::unique_ptr<Chunk>> chunks_;
  Chunk *last_ = nullptr;
  uint64_t last_idx_ = 0;
};

/*
 * Log-linear histogram (HDR-like) of nanosecond values: exact below 128,
 * then 64 linear sub-buckets per power of two, i.e. a relative error of at
 * most 1/64 (1.6 %) on any reported percentile. min/max/sum are exact.
 */
class LogHist {
 public:
  static constexpr unsigned SUB_BITS = 6;
  static constexpr unsigned SUB = 1u << SUB_BITS; /* 64 */
  static constexpr unsigned NBUCKETS = 2 * SUB + (63 - SUB_BITS) * SUB;

  static unsigned bucket_of(uint64_t v) {
    if (v < 2 * SUB) return static_cast<unsigned>(v);
    unsigned msb = 63 - static_cast<unsigned>(__builtin_clzll(v));
    unsigned shift = msb - SUB_BITS;
    unsigned sub = static_cast<unsigned>(v >> shift) - SUB;
    return 2 * SUB + (msb - SUB_BITS - 1) * SUB + sub;
  }

  /* Smallest value mapping to bucket b, and the bucket width. */
  static uint64_t bucket_low(unsigned b) {
    if (b < 2 * SUB) return b;
    unsigned k = (b - 2 * SUB) / SUB; /* msb - SUB_BITS - 1 */
    unsigned sub = (b - 2 * SUB) % SUB;
    unsigned shift = k + 1;
    return (static_cast<uint64_t>(SUB + sub)) << shift;
  }

  static uint64_t bucket_width(unsigned b) {
    if (b < 2 * SUB) return 1;
    return 1ull << ((b - 2 * SUB) / SUB + 1);
  }

  void add(uint64_t v) {
    if (counts_.empty()) counts_.assign(NBUCKETS, 0);
    counts_[bucket_of(v)]++;
    if (count_ == 0 || v < min_) min_ = v;
    if (v > max_) max_ = v;
    count_++;
    sum_ += static_cast<double>(v);
  }

  /* q in [0, 1]; the value below which a fraction q of samples fall
   * (nearest-rank), reported as the middle of its bucket and clamped to
   * [min, max]. 0 when empty. */
  uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    uint64_t rank =
        static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (rank == 0) rank = 1;
    uint64_t acc = 0;
    for (unsigned b = 0; b < NBUCKETS; b++) {
      acc += counts_[b];
      if (acc >= rank) {
        uint64_t v = bucket_low(b) + (bucket_width(b) - 1) / 2;
        return std::clamp(v, min_, max_);
      }
    }
    return max_;
  }

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const {
    return count_ ? sum_ / static_cast<double>(count_) : 0.0;
  }

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0, min_ = 0, max_ = 0;
  double sum_ = 0;
};

/*
 * Receive-side statistics of one flow. Invariants (checked by the tests):
 *   received   == unique + duplicated
 *   lost       == max_seq + 1 - unique          (0 when nothing received)
 *   reordered  counts unique packets whose seq is below the highest seq
 *              seen before them (a late arrival); duplicates never count
 *              as reordered.
 */
struct FlowStats {
  uint64_t received = 0;
  uint64_t unique = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t max_seq = 0; /* valid when received > 0 */
  uint64_t bytes = 0;
  uint64_t first_rx_ns = 0, last_rx_ns = 0;
  uint64_t neg_latency = 0; /* tx_ns later than rx time: clamped to 0 */
  LogHist lat;
  SeqSet seen;

  void on_packet(uint64_t seq, uint64_t len, uint64_t tx_ns, uint64_t rx_ns) {
    if (received == 0) first_rx_ns = rx_ns;
    last_rx_ns = rx_ns;
    received++;
    bytes += len;
    if (rx_ns >= tx_ns) {
      lat.add(rx_ns - tx_ns);
    } else {
      lat.add(0);
      neg_latency++;
    }
    if (!seen.insert(seq)) {
      duplicated++;
      return;
    }
    if (unique > 0 && seq < max_seq) reordered++;
    if (unique == 0 || seq > max_seq) max_seq = seq;
    unique++;
  }

  uint64_t lost() const { return unique ? max_seq + 1 - unique : 0; }

  double active_s() const {
    return received > 1 ? static_cast<double>(last_rx_ns - first_rx_ns) / 1e9
                        : 0.0;
  }

  /* Rate over the active period: (n - 1) packets in (last - first). */
  double pps() const {
    double s = active_s();
    return s > 0 ? static_cast<double>(received - 1) / s : 0.0;
  }

  /* UDP payload bits per second over the active period. */
  double bps() const {
    return received ? pps() * 8.0 * static_cast<double>(bytes) /
                          static_cast<double>(received)
                    : 0.0;
  }
};

/*
 * Minimal streaming JSON writer: objects, arrays, integers, finite doubles,
 * booleans, null and ASCII strings (escaped anyway, to stay valid whatever
 * is passed). Commas are handled by tracking whether the current container
 * already has a member.
 */
class Json {
 public:
  Json &obj() {
    val_prefix();
    out_ += '{';
    first_.push_back(true);
    return *this;
  }
  Json &end_obj() {
    out_ += '}';
    first_.pop_back();
    return *this;
  }
  Json &arr() {
    val_prefix();
    out_ += '[';
    first_.push_back(true);
    return *this;
  }
  Json &end_arr() {
    out_ += ']';
    first_.pop_back();
    return *this;
  }

  Json &key(std::string_view k) {
    comma();
    str_raw(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  Json &u(uint64_t v) {
    val_prefix();
    out_ += std::to_string(v);
    return *this;
  }
  Json &i(int64_t v) {
    val_prefix();
    out_ += std::to_string(v);
    return *this;
  }
  Json &b(bool v) {
    val_prefix();
    out_ += v ? "true" : "false";
    return *this;
  }
  Json &null() {
    val_prefix();
    out_ += "null";
    return *this;
  }

  /* Fixed decimals; non-finite values become 0 to keep the JSON valid. */
  Json &d(double v, int decimals = 3) {
    val_prefix();
    if (!std::isfinite(v)) v = 0;
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    /* "-0.000" is valid JSON but unstable for tests: drop the sign */
    const char *p = buf;
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1)) p++;
    out_ += p;
    return *this;
  }

  Json &s(std::string_view v) {
    val_prefix();
    str_raw(v);
    return *this;
  }

  template <typename T>
  Json &kv(std::string_view k, T v) {
    key(k);
    if constexpr (std::is_same_v<T, bool>)
      return b(v);
    else if constexpr (std::is_floating_point_v<T>)
      return d(v);
    else if constexpr (std::is_signed_v<T>)
      return i(v);
    else
      return u(v);
  }
  Json &kvs(std::string_view k, std::string_view v) {
    key(k);
    return s(v);
  }
  Json &kvd(std::string_view k, double v, int decimals) {
    key(k);
    return d(v, decimals);
  }

  const std::string &str() const { return out_; }

 private:
  void comma() {
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }

  void val_prefix() {
    if (after_key_)
      after_key_ = false;
    else
      comma();
  }

  void str_raw(std::string_view v) {
    out_ += '"';
    for (unsigned char c : v) {
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += static_cast<char>(c);
      } else if (c < 0x20 || c >= 0x7f) {
        char buf[8];
        snprintf(buf, sizeof(buf), "\\u%04x", c);
        out_ += buf;
      } else {
        out_ += static_cast<char>(c);
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

/* "0,2,5-7" -> {0,2,5,6,7}; false on syntax error or values > max. */
inline bool parse_cpu_list(std::string_view s, std::vector<int> *out,
                           int max = 4095) {
  out->clear();
  if (s.empty() || s.back() == ',') return false;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view()
                                        : s.substr(comma + 1);
    if (item.empty()) return false;
    size_t dash = item.find('-');
    auto num = [](std::string_view t, int *v) {
      if (t.empty() || t.size() > 6) return false;
      int r = 0;
      for (char c : t) {
        if (c < '0' || c > '9') return false;
        r = r * 10 + (c - '0');
      }
      *v = r;
      return true;
    };
    int a, b;
    if (dash == std::string_view::npos) {
      if (!num(item, &a)) return false;
      b = a;
    } else if (!num(item.substr(0, dash), &a) ||
               !num(item.substr(dash + 1), &b) || b < a) {
      return false;
    }
    if (b > max) return false;
    for (int c = a; c <= b; c++) out->push_back(c);
  }
  return !out->empty();
}

/* CPUs this process may run on (sched_getaffinity), ascending. */
inline std::vector<int> allowed_cpus() {
  std::vector<int> v;
  cpu_set_t set;

  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set)) v.push_back(c);
  return v;
}

}  // namespace pspat

#endif /* PSPAT_TOOLS_PKT_HPP */
