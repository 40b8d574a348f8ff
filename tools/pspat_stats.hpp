// SPDX-License-Identifier: GPL-2.0
/*
 * Paired-ratio statistics for the A/B benchmark (tools/pspat-abstat.cpp,
 * scripts/bench-report.sh).
 *
 * A pair is one run of A and one of B next to each other; its ratio B/A
 * cancels what drifts slowly (the host's load). Ratios multiply, so they
 * are averaged in logs: the summary is the geometric mean, and its 95 %
 * interval is the percentile bootstrap of that mean: resample the pairs
 * with replacement, take the geometric mean of each resample, and keep the
 * 2.5th and 97.5th percentiles of those means. The generator is seeded, so
 * the same input gives the same interval.
 */
#ifndef PSPAT_STATS_HPP
#define PSPAT_STATS_HPP

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace pspat {

struct RatioSummary {
  std::size_t n = 0;
  double geomean = 0;
  double lo = 0;  // 2.5th percentile of the bootstrap means
  double hi = 0;  // 97.5th percentile
  double min = 0;
  double max = 0;
};

// Value at quantile q (0..1) of sorted v, linear between neighbours.
inline double quantile_sorted(const std::vector<double> &v, double q) {
  if (v.empty()) return 0;
  double pos = q * static_cast<double>(v.size() - 1);
  std::size_t i = static_cast<std::size_t>(pos);
  if (i + 1 >= v.size()) return v.back();
  double f = pos - static_cast<double>(i);
  return v[i] + (v[i + 1] - v[i]) * f;
}

// ratios: positive paired ratios. Non-positive or non-finite values are
// the caller's error; they are skipped here (n counts the ones used).
inline RatioSummary summarize_ratios(const std::vector<double> &ratios,
                                     unsigned resamples = 10000,
                                     uint64_t seed = 1) {
  std::vector<double> logs;
  for (double r : ratios)
    if (r > 0 && std::isfinite(r)) logs.push_back(std::log(r));
  RatioSummary s;
  s.n = logs.size();
  if (logs.empty()) return s;
  double sum = 0;
  for (double l : logs) sum += l;
  s.geomean = std::exp(sum / static_cast<double>(s.n));
  auto [mn, mx] = std::minmax_element(logs.begin(), logs.end());
  s.min = std::exp(*mn);
  s.max = std::exp(*mx);

  std::mt19937_64 rng(seed);
  std::vector<double> means;
  means.reserve(resamples);
  for (unsigned b = 0; b < resamples; b++) {
    double m = 0;
    for (std::size_t i = 0; i < s.n; i++) m += logs[rng() % s.n];
    means.push_back(m / static_cast<double>(s.n));
  }
  std::sort(means.begin(), means.end());
  s.lo = std::exp(quantile_sorted(means, 0.025));
  s.hi = std::exp(quantile_sorted(means, 0.975));
  return s;
}

}  // namespace pspat

#endif
