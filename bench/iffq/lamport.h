// SPDX-License-Identifier: GPL-2.0
// Lamport-style SPSC rings used as baselines for IFFQ.
//
// Both rings hold pointers, use free-running head/tail indices (capacity =
// entries, a power of two), and keep the producer's index, the consumer's
// index and the read-only geometry on separate cache lines, as IFFQ does.
//
// - LamportRing: the classic ring.  Every push reads the consumer's index
//   and every pop reads the producer's index, so the two index lines bounce
//   between the CPUs on every operation.
// - LamportCachedRing: each side keeps a private copy of the other side's
//   index and only re-reads the shared one when the copy says full/empty
//   (as in folly::ProducerConsumerQueue-style "cached indices" designs, or
//   FastFlow/MCRingBuffer).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace pspat_bench {

inline constexpr std::size_t kCacheLine = 64;

class LamportRing {
 public:
  explicit LamportRing(std::size_t entries)
      : mask_(entries - 1), slots_(new void *[entries]) {}

  bool push(void *p) noexcept {
    const std::size_t t = tail_.load(std::memory_order_relaxed);
    // Acquire: the consumer finished reading slot t - entries.
    if (t - head_.load(std::memory_order_acquire) > mask_) return false;
    slots_[t & mask_] = p;
    tail_.store(t + 1, std::memory_order_release);  // publish slot t
    return true;
  }

  bool pop(void *&p) noexcept {
    const std::size_t h = head_.load(std::memory_order_relaxed);
    if (h == tail_.load(std::memory_order_acquire)) return false;  // see push
    p = slots_[h & mask_];
    head_.store(h + 1, std::memory_order_release);  // slot h may be reused
    return true;
  }

 private:
  const std::size_t mask_;
  const std::unique_ptr<void *[]> slots_;
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0};  // producer
  alignas(kCacheLine) std::atomic<std::size_t> head_{0};  // consumer
  char pad_[kCacheLine - sizeof(std::atomic<std::size_t>)];
};

class LamportCachedRing {
 public:
  explicit LamportCachedRing(std::size_t entries)
      : mask_(entries - 1), slots_(new void *[entries]) {}

  bool push(void *p) noexcept {
    const std::size_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t - head_cache_ > mask_) return false;
    }
    slots_[t & mask_] = p;
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  bool pop(void *&p) noexcept {
    const std::size_t h = head_.load(std::memory_order_relaxed);
    if (h == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h == tail_cache_) return false;
    }
    p = slots_[h & mask_];
    head_.store(h + 1, std::memory_order_release);
    return true;
  }

 private:
  const std::size_t mask_;
  const std::unique_ptr<void *[]> slots_;
  // Producer line.
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0};
  std::size_t head_cache_ = 0;
  // Consumer line.
  alignas(kCacheLine) std::atomic<std::size_t> head_{0};
  std::size_t tail_cache_ = 0;
  char pad_[kCacheLine - 2 * sizeof(std::size_t)];
};

}  // namespace pspat_bench
