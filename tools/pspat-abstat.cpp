// SPDX-License-Identifier: GPL-2.0
/*
 * pspat-abstat: summaries of paired ratios with a bootstrap 95 % interval
 * (tools/pspat_stats.hpp), for scripts/bench-report.sh.
 *
 *   pspat-abstat [--resamples N] [--seed S] < PAIRS
 *
 * PAIRS: one line per pair, "KEY RATIO" (KEY without blanks, RATIO > 0).
 * Prints a JSON array, one object per KEY in order of first appearance:
 *   {"key":..,"n":..,"geomean":..,"lo":..,"hi":..,"min":..,"max":..}
 * Exit status 1 on a malformed line (said on stderr).
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pspat_stats.hpp"

int main(int argc, char **argv) {
  unsigned resamples = 10000;
  unsigned long long seed = 1;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--resamples") && i + 1 < argc) {
      resamples = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 0));
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 0);
    } else {
      std::fprintf(stderr,
                   "usage: pspat-abstat [--resamples N] [--seed S] < PAIRS\n"
                   "  PAIRS: lines \"KEY RATIO\", RATIO > 0\n");
      return 2;
    }
  }
  if (resamples == 0) {
    std::fprintf(stderr, "pspat-abstat: --resamples must be at least 1\n");
    return 2;
  }

  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> by_key;
  std::string line;
  unsigned long lineno = 0;
  while (std::getline(std::cin, line)) {
    lineno++;
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string key, extra;
    double r = 0;
    if (!(in >> key >> r) || (in >> extra) || !(r > 0)) {
      std::fprintf(
          stderr,
          "pspat-abstat: line %lu: want \"KEY RATIO\" with RATIO > 0: '%s'\n",
          lineno, line.c_str());
      return 1;
    }
    auto [it, fresh] = by_key.try_emplace(key);
    if (fresh) order.push_back(key);
    it->second.push_back(r);
  }

  std::printf("[");
  const char *sep = "";
  for (const auto &k : order) {
    pspat::RatioSummary s = pspat::summarize_ratios(by_key[k], resamples, seed);
    std::printf(
        "%s\n{\"key\":\"%s\",\"n\":%zu,\"geomean\":%.4f,\"lo\":%.4f,"
        "\"hi\":%.4f,\"min\":%.4f,\"max\":%.4f}",
        sep, k.c_str(), s.n, s.geomean, s.lo, s.hi, s.min, s.max);
    sep = ",";
  }
  std::printf("\n]\n");
  return 0;
}
