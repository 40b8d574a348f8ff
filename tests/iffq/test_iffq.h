// SPDX-License-Identifier: GPL-2.0
// Shared helpers for the IFFQ tests.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "pspat/iffq.hpp"

namespace iffq_test {

struct Geometry {
  unsigned long entries;
  unsigned long line;  // bytes
  unsigned long line_entries() const { return line / sizeof(void *); }
};

inline std::string Name(const Geometry &g) {
  return std::to_string(g.entries) + "x" + std::to_string(g.line);
}

// Every valid geometry with at most max_entries slots.
inline std::vector<Geometry> AllGeometries(unsigned long max_entries) {
  std::vector<Geometry> v;
  for (unsigned long e = 1; e <= max_entries; e <<= 1)
    for (unsigned long l = 1; l <= IFFQ_MAX_LINE; l <<= 1)
      if (iffq_check_geometry(e, l) == 0) v.push_back({e, l});
  return v;
}

// Reads a positive integer from the environment, or returns def.
inline unsigned long EnvOr(const char *name, unsigned long def) {
  const char *s = std::getenv(name);
  if (!s || !*s) return def;
  char *end = nullptr;
  unsigned long v = std::strtoul(s, &end, 10);
  return (end && *end == '\0' && v > 0) ? v : def;
}

// Fake, never dereferenced, non-null pointers for single-thread tests.
inline void *Tok(std::uintptr_t i) {
  return reinterpret_cast<void *>((i + 1) << 4);
}

}  // namespace iffq_test
