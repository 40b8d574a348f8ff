// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tools/pspat_pkt.hpp: the wire header codec, sequence
 * tracking (duplicates, reordering, loss), the latency histogram and the
 * JSON writer.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "pspat_pkt.hpp"

using namespace pspat;

TEST(PktHdr, RoundTrip) {
  uint8_t buf[64] = {};
  PktHdr h;
  h.flow_id = 7;
  h.run_id = 0xdeadbeef;
  h.seq = 0x0102030405060708ull;
  h.tx_ns = 0xfedcba9876543210ull;
  pkt_encode(buf, h);

  PktHdr d;
  ASSERT_EQ(pkt_decode(buf, sizeof(buf), &d), PktParse::Ok);
  EXPECT_EQ(d.magic, PKT_MAGIC);
  EXPECT_EQ(d.version, PKT_VERSION);
  EXPECT_EQ(d.hdr_len, PKT_HDR_LEN);
  EXPECT_EQ(d.flow_id, 7u);
  EXPECT_EQ(d.run_id, 0xdeadbeefu);
  EXPECT_EQ(d.seq, 0x0102030405060708ull);
  EXPECT_EQ(d.tx_ns, 0xfedcba9876543210ull);
}

TEST(PktHdr, WireLayoutIsBigEndian) {
  uint8_t buf[PKT_HDR_LEN] = {};
  PktHdr h;
  h.flow_id = 1;
  h.seq = 2;
  pkt_encode(buf, h);
  const uint8_t magic[4] = {'P', 'S', 'P', 'T'};
  EXPECT_EQ(0, memcmp(buf, magic, 4));
  EXPECT_EQ(buf[5], PKT_VERSION);
  EXPECT_EQ(buf[7], PKT_HDR_LEN);
  EXPECT_EQ(buf[11], 1);
  EXPECT_EQ(buf[23], 2);
}

TEST(PktHdr, SetSeqTs) {
  uint8_t buf[PKT_HDR_LEN];
  PktHdr h, d;
  h.flow_id = 3;
  pkt_encode(buf, h);
  pkt_set_seq_ts(buf, 42, 1234567);
  ASSERT_EQ(pkt_decode(buf, sizeof(buf), &d), PktParse::Ok);
  EXPECT_EQ(d.flow_id, 3u);
  EXPECT_EQ(d.seq, 42u);
  EXPECT_EQ(d.tx_ns, 1234567u);
}

TEST(PktHdr, Rejects) {
  uint8_t buf[PKT_HDR_LEN];
  PktHdr h, d;
  pkt_encode(buf, h);
  EXPECT_EQ(pkt_decode(buf, PKT_HDR_LEN - 1, &d), PktParse::Short);
  EXPECT_EQ(pkt_decode(buf, 0, &d), PktParse::Short);

  uint8_t bad[PKT_HDR_LEN];
  memcpy(bad, buf, sizeof(bad));
  bad[0] ^= 1;
  EXPECT_EQ(pkt_decode(bad, sizeof(bad), &d), PktParse::BadMagic);

  memcpy(bad, buf, sizeof(bad));
  bad[5] = PKT_VERSION + 1;
  EXPECT_EQ(pkt_decode(bad, sizeof(bad), &d), PktParse::BadVersion);

  memcpy(bad, buf, sizeof(bad));
  bad[7] = PKT_HDR_LEN - 1; /* header shorter than v1's */
  EXPECT_EQ(pkt_decode(bad, sizeof(bad), &d), PktParse::BadVersion);
}

static FlowStats feed(const std::vector<uint64_t> &seqs) {
  FlowStats st;
  uint64_t t = 1000;
  for (uint64_t s : seqs) {
    st.on_packet(s, 100, t, t + 5000);
    t += 1000;
  }
  return st;
}

static void check_invariants(const FlowStats &st) {
  EXPECT_EQ(st.received, st.unique + st.duplicated);
  if (st.unique) {
    EXPECT_EQ(st.lost(), st.max_seq + 1 - st.unique);
  }
}

TEST(FlowStats, InOrder) {
  FlowStats st = feed({0, 1, 2, 3, 4});
  EXPECT_EQ(st.received, 5u);
  EXPECT_EQ(st.unique, 5u);
  EXPECT_EQ(st.duplicated, 0u);
  EXPECT_EQ(st.reordered, 0u);
  EXPECT_EQ(st.lost(), 0u);
  EXPECT_EQ(st.max_seq, 4u);
  EXPECT_EQ(st.bytes, 500u);
  check_invariants(st);
}

TEST(FlowStats, Loss) {
  FlowStats st = feed({0, 2, 3, 7});
  EXPECT_EQ(st.unique, 4u);
  EXPECT_EQ(st.lost(), 4u); /* 1, 4, 5, 6 */
  EXPECT_EQ(st.reordered, 0u);
  check_invariants(st);

  /* a flow whose first packets were lost */
  FlowStats st2 = feed({5});
  EXPECT_EQ(st2.lost(), 5u);
}

TEST(FlowStats, Duplicates) {
  FlowStats st = feed({0, 1, 1, 2, 0, 2, 2});
  EXPECT_EQ(st.received, 7u);
  EXPECT_EQ(st.unique, 3u);
  EXPECT_EQ(st.duplicated, 4u);
  EXPECT_EQ(st.reordered, 0u); /* duplicates never count as reordered */
  EXPECT_EQ(st.lost(), 0u);
  check_invariants(st);
}

TEST(FlowStats, Reorder) {
  /* 2 and 1 arrive after 3: both are late (below the highest seen) */
  FlowStats st = feed({0, 3, 2, 1, 4});
  EXPECT_EQ(st.unique, 5u);
  EXPECT_EQ(st.reordered, 2u);
  EXPECT_EQ(st.duplicated, 0u);
  EXPECT_EQ(st.lost(), 0u);
  check_invariants(st);
}

TEST(FlowStats, ReorderThenLossThenDup) {
  FlowStats st = feed({1, 0, 5, 3, 3, 1, 6});
  EXPECT_EQ(st.received, 7u);
  EXPECT_EQ(st.unique, 5u);     /* 0 1 3 5 6 */
  EXPECT_EQ(st.duplicated, 2u); /* 3, 1 */
  EXPECT_EQ(st.reordered, 2u);  /* 0 after 1, 3 after 5 */
  EXPECT_EQ(st.max_seq, 6u);
  EXPECT_EQ(st.lost(), 2u); /* 2, 4 */
  check_invariants(st);
}

TEST(FlowStats, ShuffledLargeWithDups) {
  std::vector<uint64_t> seqs;
  for (uint64_t s = 0; s < 200000; s++)
    if (s % 10 != 3) /* 10 % loss */
      seqs.push_back(s);
  std::mt19937_64 rng(1);
  std::shuffle(seqs.begin(), seqs.end(), rng);
  for (int i = 0; i < 1000; i++)
    seqs.push_back(seqs[static_cast<size_t>(i) * 7]);
  FlowStats st = feed(seqs);
  EXPECT_EQ(st.unique, 180000u);
  EXPECT_EQ(st.duplicated, 1000u);
  EXPECT_EQ(st.max_seq, 199999u);
  EXPECT_EQ(st.lost(), 20000u);
  check_invariants(st);
}

TEST(FlowStats, SparseHugeSeq) {
  FlowStats st = feed({0, 1ull << 40, 1ull << 40, 1});
  EXPECT_EQ(st.unique, 3u);
  EXPECT_EQ(st.duplicated, 1u);
  EXPECT_EQ(st.reordered, 1u);
  EXPECT_EQ(st.max_seq, 1ull << 40);
  check_invariants(st);
}

TEST(FlowStats, RateAndLatency) {
  FlowStats st;
  /* 1001 packets 1 ms apart: 1000 pps over exactly 1 s */
  for (uint64_t i = 0; i <= 1000; i++)
    st.on_packet(i, 125, i * 1000000, i * 1000000 + 20000);
  EXPECT_NEAR(st.pps(), 1000.0, 1e-6);
  EXPECT_NEAR(st.bps(), 1000.0 * 125 * 8, 1e-3);
  EXPECT_EQ(st.lat.min(), 20000u);
  EXPECT_EQ(st.lat.max(), 20000u);
  EXPECT_EQ(st.lat.percentile(0.5), 20000u);

  FlowStats neg;
  neg.on_packet(0, 64, 100, 50);
  EXPECT_EQ(neg.neg_latency, 1u);
  EXPECT_EQ(neg.lat.max(), 0u);
  EXPECT_EQ(neg.pps(), 0.0); /* one packet: no rate */
}

TEST(LogHist, BucketsAreConsistent) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 129ull, 255ull, 256ull,
                     1000ull, 123456789ull, (1ull << 40) + 12345, ~0ull}) {
    unsigned b = LogHist::bucket_of(v);
    ASSERT_LT(b, LogHist::NBUCKETS);
    EXPECT_LE(LogHist::bucket_low(b), v);
    EXPECT_LE(v - LogHist::bucket_low(b), LogHist::bucket_width(b) - 1);
  }
  /* contiguous: each bucket starts where the previous ends */
  for (unsigned b = 1; b < LogHist::NBUCKETS; b++)
    ASSERT_EQ(LogHist::bucket_low(b),
              LogHist::bucket_low(b - 1) + LogHist::bucket_width(b - 1))
        << b;
}

TEST(LogHist, Percentiles) {
  LogHist h;
  EXPECT_EQ(h.percentile(0.5), 0u);
  for (uint64_t v = 1; v <= 100000; v++) h.add(v * 1000); /* 1 us .. 100 ms */
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 100000000u);
  auto near = [](double got, double want) {
    return std::abs(got - want) / want < 1.0 / 64;
  };
  EXPECT_TRUE(near(h.percentile(0.50), 50000000.0)) << h.percentile(0.50);
  EXPECT_TRUE(near(h.percentile(0.90), 90000000.0)) << h.percentile(0.90);
  EXPECT_TRUE(near(h.percentile(0.99), 99000000.0)) << h.percentile(0.99);
  EXPECT_EQ(h.percentile(1.0), 100000000u);
  EXPECT_NEAR(h.mean(), 50000500.0, 1.0);
}

TEST(Json, Structure) {
  Json j;
  j.obj();
  j.kv("a", 1u);
  j.kvs("s", "x\"y\\z\n");
  j.key("arr").arr();
  j.u(1).i(-2).d(0.5).null().b(true);
  j.obj().end_obj();
  j.end_arr();
  j.kv("neg0", -0.0001);
  j.kv("nan", std::nan(""));
  j.key("o").obj().end_obj();
  j.end_obj();
  EXPECT_EQ(
      j.str(),
      "{\"a\":1,\"s\":\"x\\\"y\\\\z\\u000a\",\"arr\":[1,-2,0.500,null,true,{}],"
      "\"neg0\":0.000,\"nan\":0.000,\"o\":{}}");
}

TEST(CpuList, Parse) {
  std::vector<int> v;
  ASSERT_TRUE(parse_cpu_list("0,2,5-7", &v));
  EXPECT_EQ(v, (std::vector<int>{0, 2, 5, 6, 7}));
  EXPECT_FALSE(parse_cpu_list("", &v));
  EXPECT_FALSE(parse_cpu_list("1,", &v));
  EXPECT_FALSE(parse_cpu_list("3-1", &v));
  EXPECT_FALSE(parse_cpu_list("a", &v));
  EXPECT_FALSE(parse_cpu_list("5000", &v));
}
