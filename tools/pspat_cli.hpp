// SPDX-License-Identifier: GPL-2.0
/*
 * Command-line helpers shared by the traffic tools: strict number parsing
 * and the "bad argument" exit (status 2, with a hint to --help).
 */
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace pspat::cli {

inline constexpr int EXIT_USAGE = 2;

/* The tool's name, for messages; set it first thing in main(). */
inline const char *tool = "pspat";

[[noreturn]] inline void die_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", tool);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry '%s --help'.\n", tool);
  exit(EXIT_USAGE);
}

/* A whole non-negative integer (decimal, 0x hex or 0 octal). */
inline bool parse_u64(const char *s, uint64_t *v) {
  if (!*s || *s == '-') return false;
  char *end;
  errno = 0;
  unsigned long long r = strtoull(s, &end, 0);
  if (errno || *end) return false;
  *v = r;
  return true;
}

/* A finite number >= 0. */
inline bool parse_dbl(const char *s, double *v) {
  char *end;
  errno = 0;
  double r = strtod(s, &end);
  if (errno || *end || !*s || !std::isfinite(r) || r < 0) return false;
  *v = r;
  return true;
}

/* An integer in [lo, hi], or exit with a message naming @opt. */
inline uint64_t want_u64(const char *opt, const char *s, uint64_t lo,
                         uint64_t hi) {
  uint64_t v;

  if (!parse_u64(s, &v) || v < lo || v > hi) {
    char buf[160];
    snprintf(buf, sizeof(buf),
             "invalid %s '%%s' (want an integer in [%llu, %llu])", opt,
             (unsigned long long)lo, (unsigned long long)hi);
    die_usage(buf, s);
  }
  return v;
}

}  // namespace pspat::cli
