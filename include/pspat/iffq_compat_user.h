/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the few kernel primitives used by iffq.h.
 *
 * Everything maps onto GCC/Clang __atomic builtins (not volatile), so that
 * ThreadSanitizer sees real atomic accesses with the intended ordering:
 *
 *   READ_ONCE / WRITE_ONCE       relaxed atomic load / store
 *   smp_load_acquire             acquire load
 *   smp_store_release            release store
 *
 * Only iffq.h should include this file (it does so when __KERNEL__ is not
 * defined).  Definitions are guarded so that a program which already has its
 * own versions of these macros keeps them.
 */
#ifndef PSPAT_IFFQ_COMPAT_USER_H
#define PSPAT_IFFQ_COMPAT_USER_H

#ifdef __KERNEL__
#error "iffq_compat_user.h is for userspace builds only"
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifndef READ_ONCE
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif
#ifndef smp_load_acquire
#define smp_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#endif
#ifndef smp_store_release
#define smp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef SMP_CACHE_BYTES
#define SMP_CACHE_BYTES 64
#endif
#ifndef ____cacheline_aligned_in_smp
#define ____cacheline_aligned_in_smp \
  __attribute__((__aligned__(SMP_CACHE_BYTES)))
#endif

#endif /* PSPAT_IFFQ_COMPAT_USER_H */
