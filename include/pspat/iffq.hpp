// SPDX-License-Identifier: GPL-2.0
//
// pspat::Iffq<T>: RAII wrapper around the C IFFQ in iffq.h for userspace.
//
// Error handling: create() never throws for a bad geometry.  It returns a
// null std::unique_ptr and stores a negative errno in *err (-EINVAL for a
// bad geometry, -ENOMEM if the allocation fails); on success *err is 0.
// This mirrors the kernel side, where iffq_init() returns -EINVAL.
//
// Threading: one producer thread (try_push), one consumer thread (try_pop,
// extract, clear, peek, empty, drain).  approx_size() and the geometry
// accessors may be called from any thread.  The queue holds T*, never owns
// the pointees, and never stores nullptr.
#pragma once

#include <cerrno>
#include <cstddef>
#include <memory>
#include <new>

#include "iffq.h"

namespace pspat {

template <typename T>
class Iffq {
 public:
  static std::unique_ptr<Iffq> create(
      unsigned long entries, unsigned long line_size = IFFQ_DEFAULT_LINE,
      int *err = nullptr) noexcept {
    int e = iffq_check_geometry(entries, line_size);
    std::unique_ptr<Iffq> q;
    if (!e) {
      // Align to the line size so that slot lines match cache lines.
      const std::size_t align = line_size > IFFQ_ALIGN ? line_size : IFFQ_ALIGN;
      void *mem = ::operator new(iffq_size(entries, line_size),
                                 std::align_val_t(align), std::nothrow);
      if (!mem) {
        e = -ENOMEM;
      } else {
        q.reset(new (std::nothrow)
                    Iffq(static_cast<struct iffq *>(mem), align));
        if (!q) {
          ::operator delete(mem, std::align_val_t(align));
          e = -ENOMEM;
        } else {
          e = iffq_init(q->q_, entries, line_size);  // cannot fail here
        }
      }
    }
    if (err) *err = e;
    if (e) return nullptr;
    return q;
  }

  ~Iffq() { ::operator delete(q_, std::align_val_t(align_)); }
  Iffq(const Iffq &) = delete;
  Iffq &operator=(const Iffq &) = delete;

  // Producer.  False if the queue is full (or p is null).
  bool try_push(T *p) noexcept { return iffq_insert(q_, p) == 0; }

  // Consumer: extract and release the slot lazily (iffq_clear() only does
  // work when the consumer crosses a line).  nullptr if empty.
  T *try_pop() noexcept {
    T *p = static_cast<T *>(iffq_extract(q_));
    if (p) iffq_clear(q_);
    return p;
  }

  // Consumer, batch interface: extract() several, then clear() once.
  T *extract() noexcept { return static_cast<T *>(iffq_extract(q_)); }
  void clear() noexcept { iffq_clear(q_); }
  T *peek() const noexcept { return static_cast<T *>(iffq_peek(q_)); }
  // Consumer, look-ahead batch (the arbiter's drain): peek_nth(0), (1), ...
  // while not null, then advance() by the number taken, then clear().
  T *peek_nth(unsigned long i) const noexcept {
    return static_cast<T *>(iffq_peek_nth(q_, i));
  }
  void advance(unsigned long n) noexcept { iffq_advance(q_, n); }
  bool empty() const noexcept { return iffq_empty(q_); }

  // Consumer: extract everything, calling f(T*) on each; returns the count.
  template <typename F>
  std::size_t drain(F &&f) {
    std::size_t n = 0;
    while (T *p = extract()) {
      f(p);
      n++;
    }
    clear();
    return n;
  }

  // Any thread; a hint.
  std::size_t approx_size() const noexcept { return iffq_approx_count(q_); }
  std::size_t entries() const noexcept { return iffq_entries(q_); }
  std::size_t line_entries() const noexcept { return iffq_line_entries(q_); }

  struct iffq *raw() noexcept {
    return q_;
  }

 private:
  Iffq(struct iffq *q, std::size_t align) noexcept : q_(q), align_(align) {}

  struct iffq *q_;
  std::size_t align_;
};

}  // namespace pspat
