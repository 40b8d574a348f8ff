// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tools/pspat_stats.hpp: geometric mean of paired ratios and
 * its percentile-bootstrap interval.
 */
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "pspat_stats.hpp"

using namespace pspat;

TEST(Stats, ConstantRatiosHaveAPointInterval) {
  RatioSummary s = summarize_ratios(std::vector<double>(10, 1.25));
  EXPECT_EQ(s.n, 10u);
  EXPECT_NEAR(s.geomean, 1.25, 1e-12);
  EXPECT_NEAR(s.lo, 1.25, 1e-12);
  EXPECT_NEAR(s.hi, 1.25, 1e-12);
}

TEST(Stats, GeometricNotArithmetic) {
  // 2 and 0.5 cancel: B is twice A in one pair, half in the other.
  RatioSummary s = summarize_ratios({2.0, 0.5});
  EXPECT_NEAR(s.geomean, 1.0, 1e-12);
  EXPECT_NEAR(s.min, 0.5, 1e-12);
  EXPECT_NEAR(s.max, 2.0, 1e-12);
  // Resamples of two pairs: means of {2,2}, {2,.5}, {.5,.5}.
  EXPECT_NEAR(s.lo, 0.5, 1e-9);
  EXPECT_NEAR(s.hi, 2.0, 1e-9);
}

TEST(Stats, IntervalBracketsTheMeanAndLiesInTheRange) {
  std::mt19937_64 g(7);
  std::lognormal_distribution<double> d(std::log(1.3), 0.2);
  std::vector<double> r;
  for (int i = 0; i < 12; i++) r.push_back(d(g));
  RatioSummary s = summarize_ratios(r);
  EXPECT_LE(s.min, s.lo);
  EXPECT_LT(s.lo, s.geomean);
  EXPECT_LT(s.geomean, s.hi);
  EXPECT_LE(s.hi, s.max);
}

TEST(Stats, MorePairsNarrowTheInterval) {
  std::mt19937_64 g(11);
  std::lognormal_distribution<double> d(0.0, 0.3);
  std::vector<double> few, many;
  for (int i = 0; i < 400; i++) {
    double x = d(g);
    if (i < 10) few.push_back(x);
    many.push_back(x);
  }
  RatioSummary a = summarize_ratios(few), b = summarize_ratios(many);
  EXPECT_LT(std::log(b.hi / b.lo), std::log(a.hi / a.lo) / 3);
  // 400 pairs of sd 0.3: the interval of the log mean is about +-0.03.
  EXPECT_NEAR(std::log(b.hi / b.lo), 2 * 1.96 * 0.3 / 20, 0.01);
}

TEST(Stats, SameSeedSameInterval) {
  std::vector<double> r = {0.9,  1.1, 1.4,  0.95, 1.2,
                           1.05, 1.3, 0.85, 1.0,  1.15};
  RatioSummary a = summarize_ratios(r), b = summarize_ratios(r);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
}

TEST(Stats, SkipsNonPositive) {
  RatioSummary s = summarize_ratios({0.0, -1.0, 2.0, NAN});
  EXPECT_EQ(s.n, 1u);
  EXPECT_NEAR(s.geomean, 2.0, 1e-12);
  EXPECT_EQ(summarize_ratios({}).n, 0u);
}
