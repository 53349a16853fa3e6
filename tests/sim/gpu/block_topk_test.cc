// block_topk's fast top-k against a straightforward evaluation written here: every candidate's
// score from a sequential SplitMix64 stream, then the k best by (score desc, index asc). The
// reference shares no code with the generator (its own generator, seed derivation and selection).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "sim/gpu/patterns/pattern.h"
#include "sim/gpu/patterns/rng.h"
#include "sim/gpu/patterns/topk_scores.h"

namespace attnsim::gpu {
namespace {

// SplitMix64 as published (Steele, Lea, Flood 2014).
struct Stream {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
};

std::uint64_t reference_seed(std::uint64_t seed, std::uint64_t a) {
  Stream mix{seed ^ (a * 0xD1B54A32D192ED03ull)};
  mix.next();
  return mix.next();
}

std::string text(double value);

struct Params {
  std::int64_t seq_q = 4096, seq_kv = 4096, block = 128, heads = 1;
  std::uint64_t seed = 0;
  bool causal = true;
  std::int64_t k = 0;  // 0: density
  double density = 0.1, decay = 4.0, sink = 1.0, noise = 0.05, sigma = 1.0;

  std::map<std::string, std::string> spec() const {
    std::map<std::string, std::string> p{
        {"seq_q", std::to_string(seq_q)}, {"seq_kv", std::to_string(seq_kv)},
        {"block", std::to_string(block)}, {"heads", std::to_string(heads)},
        {"seed", std::to_string(seed)},   {"causal", causal ? "true" : "false"},
        {"decay", text(decay)},           {"sink", text(sink)},
        {"noise", text(noise)},           {"sigma", text(sigma)}};
    if (k > 0) {
      p["k"] = std::to_string(k);
    } else {
      p["density"] = text(density);
    }
    return p;
  }
  std::string describe() const {
    std::string s;
    for (const auto& [key, value] : spec()) s += key + "=" + value + " ";
    return s;
  }
};

std::string text(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// The reference's values are parsed back from the strings the generator gets, so both see the
// same doubles.
double parsed(const std::map<std::string, std::string>& spec, const std::string& key) {
  return std::stod(spec.at(key));
}

std::vector<std::int32_t> reference_row(const Params& p, std::int64_t head, std::int64_t qb) {
  const auto spec = p.spec();
  const double decay = parsed(spec, "decay"), sink = parsed(spec, "sink");
  const double noise = parsed(spec, "noise"), sigma = parsed(spec, "sigma");
  const std::int64_t nk = (p.seq_kv + p.block - 1) / p.block;
  const std::int64_t last_query = std::min(p.seq_q, (qb + 1) * p.block) - 1;
  const std::int64_t current = std::min(last_query / p.block, nk - 1);
  const std::int64_t n = p.causal ? current + 1 : nk;
  Stream rng{reference_seed(reference_seed(p.seed, static_cast<std::uint64_t>(head)),
                            static_cast<std::uint64_t>(qb))};
  std::vector<double> score(n);
  for (std::int64_t kb = 0; kb < n; ++kb) {
    const double u1 = 1.0 - rng.uniform();
    const double u2 = rng.uniform();
    const double normal = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    score[kb] = std::exp(-std::abs(static_cast<double>(current - kb)) / decay) +
                (kb == 0 ? sink : 0.0) + noise * std::exp(sigma * normal);
  }
  std::int64_t keep =
      p.k > 0
          ? p.k
          : static_cast<std::int64_t>(std::ceil(parsed(spec, "density") * static_cast<double>(n)));
  keep = std::clamp<std::int64_t>(keep, 1, n);
  std::vector<std::int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t a, std::int32_t b) { return score[a] > score[b]; });
  order.resize(keep);
  if (p.causal && std::find(order.begin(), order.end(), current) == order.end()) {
    order.push_back(static_cast<std::int32_t>(current));
  }
  std::sort(order.begin(), order.end());
  return order;
}

// Rows of the generated mask against the reference; `rows` q blocks per head (spread over the
// sequence), every row when 0.
void expect_reference_rows(const Params& p, std::int64_t rows = 0) {
  const BlockLayout layout =
      generate_pattern(make_pattern_spec("block_topk", p.spec(), "block_topk_test"));
  const std::int64_t nq = layout.geometry.q_blocks();
  const std::int64_t step = rows > 0 ? std::max<std::int64_t>(1, nq / rows) : 1;
  for (std::int64_t head = 0; head < p.heads; ++head) {
    for (std::int64_t qb = nq - 1; qb >= 0; qb -= step) {
      const std::int64_t row = head * nq + qb;
      const std::vector<std::int32_t> got(layout.kv_block.begin() + layout.row_begin[row],
                                          layout.kv_block.begin() + layout.row_begin[row + 1]);
      ASSERT_EQ(got, reference_row(p, head, qb))
          << p.describe() << "head " << head << " row " << qb;
    }
  }
}

class BlockTopkFastPath : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { topk_scores::force_portable_kernels(GetParam()); }
  void TearDown() override { topk_scores::force_portable_kernels(false); }
};

TEST_P(BlockTopkFastPath, MatchesTheReferenceAcrossParameters) {
  const auto before = topk_scores::path_counts();
  std::mt19937_64 random(20261203);
  const auto pick = [&](std::initializer_list<double> values) {
    return *(values.begin() + random() % values.size());
  };
  for (int i = 0; i < 60; ++i) {
    Params p;
    p.seed = random() % 100000;
    p.block = static_cast<std::int64_t>(pick({16, 64, 128}));
    p.seq_q = static_cast<std::int64_t>(pick({300, 2048, 8192, 20000}));
    p.seq_kv = random() % 3 == 0 ? static_cast<std::int64_t>(pick({1000, 8192, 30000})) : p.seq_q;
    p.causal = random() % 4 != 0;
    p.k = random() % 4 == 0 ? 0 : static_cast<std::int64_t>(pick({1, 2, 5, 16, 40}));
    p.density = pick({0.01, 0.1, 0.3});
    p.decay = pick({0.5, 4, 30, 1e4});
    p.sink = pick({0, 1, 20});
    p.noise = pick({1e-3, 0.05, 1, 100});
    p.sigma = pick({0, 0.01, 0.3, 1, 2.5, 10});
    p.heads = 2;
    const std::int64_t nk = (p.seq_kv + p.block - 1) / p.block;
    if (p.k > nk) p.k = nk;
    expect_reference_rows(p, 24);
  }
  const auto after = topk_scores::path_counts();
  EXPECT_GT(after.rows, before.rows);
  EXPECT_GT(after.retries, before.retries);        // a first cut-off too small
  EXPECT_GT(after.all_rows, before.all_rows);      // every candidate bounded
  EXPECT_GT(after.exact_rows, before.exact_rows);  // bounds overlapping the level
}

TEST_P(BlockTopkFastPath, MatchesTheReferenceOnEveryRowOfLargeMasks) {
  Params p;  // the benchmark's pattern at 256K tokens (2048 blocks), every row
  p.seq_q = p.seq_kv = 1 << 18;
  p.k = 16;
  p.seed = 3;
  expect_reference_rows(p);
  p.causal = false;
  p.seq_q = p.seq_kv = 1 << 16;
  p.k = 7;
  p.seed = 11;
  expect_reference_rows(p);
}

TEST_P(BlockTopkFastPath, ForcedFallbacksStillMatch) {
  // sigma near 0: every noise term nearly the same, no cut-off certifies a level, so every row
  // retries up to bounding all candidates, and near-ties leave bounds overlapping the level.
  const auto before = topk_scores::path_counts();
  Params p;
  p.seq_q = p.seq_kv = 1 << 16;
  p.k = 16;
  p.sigma = 1e-9;
  p.decay = 0.5;
  expect_reference_rows(p, 64);
  const auto after = topk_scores::path_counts();
  EXPECT_GT(after.retries - before.retries, 32u);
  EXPECT_GT(after.exact_rows - before.exact_rows, 32u);
  // Deterministic parts alike over the whole row (decay 10^6): the near rule bounds most of it.
  p.decay = 1e6;
  expect_reference_rows(p, 64);
  // Noise below the fast path's floor, and --noise 0 / --sigma 0: the other paths.
  for (const double noise : {1e-300, 0.0}) {
    p.noise = noise;
    p.sigma = 1;
    expect_reference_rows(p, 64);
  }
  p.noise = 0.5;
  p.sigma = 0;
  expect_reference_rows(p, 64);
}

std::string kernel_name(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "Portable" : "Native";
}

INSTANTIATE_TEST_SUITE_P(Kernels, BlockTopkFastPath, ::testing::Values(false, true), kernel_name);

// The kernels' own contracts, on random and edge-case draws.

double exact_noise(std::uint64_t first, std::uint64_t second, double noise, double sigma) {
  const double u1 = 1.0 - static_cast<double>(first >> 11) / 9007199254740992.0;
  const double u2 = static_cast<double>(second >> 11) / 9007199254740992.0;
  return noise *
         std::exp(sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

TEST(BlockTopkKernels, ApproximateNoiseIsWithinItsBound) {
  std::mt19937_64 random(7);
  std::vector<std::uint64_t> firsts, seconds;
  for (int i = 0; i < 200000; ++i) {
    firsts.push_back(random());
    seconds.push_back(random());
  }
  // u1 = 1, u1 = 2^-53, u1 just below 1 and near powers of two; u2 at the quarter turns.
  for (const std::uint64_t bits :
       {0ull, ~0ull, 1ull << 11, 3ull << 11, (1ull << 63), (1ull << 63) - (1ull << 11),
        0xB504F333F9DE6484ull, 0x4AFB0CCC06219B7Cull}) {
    for (const std::uint64_t u2 : {0ull, 1ull << 62, 1ull << 63, 3ull << 62, ~0ull, 1ull << 61}) {
      firsts.push_back(bits);
      seconds.push_back(u2);
    }
  }
  for (const double sigma : {1e-6, 1.0, 10.0}) {
    const topk_scores::Bounder b(0.37, sigma);
    for (std::size_t i = 0; i < firsts.size(); ++i) {
      const double exact = exact_noise(firsts[i], seconds[i], 0.37, sigma);
      const double approx = topk_scores::approx_noise(firsts[i], seconds[i], 0.37, sigma);
      ASSERT_LE(b.lo(0.0, approx), exact) << i;
      ASSERT_GE(b.hi(0.0, approx), exact) << i;
      // Far tighter than the bound allows: the proven N error is below 1e-8.
      ASSERT_NEAR(std::log(approx / exact), 0.0, sigma * 1e-7 + 1e-12) << i;
    }
  }
}

TEST(BlockTopkKernels, BoundsAndScanAgreeWithTheirDefinitions) {
  std::vector<double> det(5000), tail(5001, 0.0);
  for (std::size_t d = 0; d < det.size(); ++d) det[d] = std::exp(-static_cast<double>(d) / 4.0);
  for (std::size_t d = det.size(); d-- > 0;) tail[d] = std::max(det[d], tail[d + 1]);
  for (const bool portable : {false, true}) {
    topk_scores::force_portable_kernels(portable);
    std::vector<std::int32_t> list;
    for (std::uint64_t state : {1ull, 99ull, 0xDEADBEEFull}) {
      const std::int64_t n = 4000 + static_cast<std::int64_t>(state % 13);
      for (const int level : {1, 8, 17, 40}) {
        const topk_scores::Cut cut = topk_scores::make_cut(level, 0.05, 1.0, tail);
        const std::int64_t count = topk_scores::scan_first_draws(state, n, cut.threshold, list);
        std::vector<std::int32_t> expected;
        for (std::int64_t kb = 0; kb < n; ++kb) {
          const std::uint64_t first = SplitMix64::draw(state, 2 * static_cast<std::uint64_t>(kb));
          const double u1 = 1.0 - static_cast<double>(first >> 11) / 9007199254740992.0;
          EXPECT_EQ(first >= cut.threshold, u1 <= static_cast<double>(cut.m0) * 0x1.0p-53);
          if (first >= cut.threshold) expected.push_back(static_cast<std::int32_t>(kb));
          // Unlisted: the noise term is below the floor.
          if (first < cut.threshold) {
            const double second = exact_noise(
                first, SplitMix64::draw(state, 2 * static_cast<std::uint64_t>(kb) + 1), 0.05, 1.0);
            ASSERT_LT(second, cut.floor);
          }
        }
        ASSERT_EQ(std::vector<std::int32_t>(list.begin(), list.begin() + count), expected);
        // The screen drops only candidates whose exact score is <= floor.
        const std::int64_t current = n - 1;
        std::vector<std::int32_t> kept(count + 16);
        const std::int64_t k =
            topk_scores::screen(state, list.data(), count, cut, current, kept.data());
        kept.resize(k);
        for (const std::int32_t kb : expected) {
          if (std::binary_search(kept.begin(), kept.end(), kb)) continue;
          const auto j = static_cast<std::uint64_t>(kb);
          const double score =
              det[current - kb] + exact_noise(SplitMix64::draw(state, 2 * j),
                                              SplitMix64::draw(state, 2 * j + 1), 0.05, 1.0);
          ASSERT_LE(score, cut.floor) << "level " << level << " kb " << kb;
        }
        // bound_scores: every kept candidate's exact score within [lo, hi].
        topk_scores::Bounder b(0.05, 1.0);
        b.det_by_distance = det.data();
        b.current = current;
        b.det0 = det[current] + 1.0;
        topk_scores::Bounded out;
        out.reserve(k);
        topk_scores::bound_scores(state, kept.data(), k, b, 0.0, out);
        ASSERT_EQ(out.size, k);
        for (std::int64_t i = 0; i < out.size; ++i) {
          const std::int32_t kb = out.kb[i];
          const auto j = static_cast<std::uint64_t>(kb);
          const double score = (kb == 0 ? b.det0 : det[current - kb]) +
                               exact_noise(SplitMix64::draw(state, 2 * j),
                                           SplitMix64::draw(state, 2 * j + 1), 0.05, 1.0);
          ASSERT_LE(out.lo[i], score);
          ASSERT_GE(out.hi[i], score);
        }
      }
    }
  }
  topk_scores::force_portable_kernels(false);
}

TEST(BlockTopkKernels, KthLargestCountsTies) {
  std::mt19937_64 random(5);
  for (const bool portable : {false, true}) {
    topk_scores::force_portable_kernels(portable);
    for (int trial = 0; trial < 2000; ++trial) {
      const std::int64_t n = 1 + static_cast<std::int64_t>(random() % 70);
      std::vector<double> v(n + 8);
      for (std::int64_t i = 0; i < n; ++i)
        v[i] = static_cast<double>(random() % (trial % 2 ? 5 : 1000));
      std::vector<double> sorted(v.begin(), v.begin() + n);
      std::sort(sorted.rbegin(), sorted.rend());
      const std::int64_t keep = 1 + static_cast<std::int64_t>(random() % n);
      ASSERT_EQ(topk_scores::kth_largest(v.data(), n, keep), sorted[keep - 1]);
    }
  }
  topk_scores::force_portable_kernels(false);
}

TEST(BlockTopkKernels, CausalPairsMatchesTheSumOverQueries) {
  for (std::int64_t q0 = 0; q0 < 40; q0 += 3) {
    for (std::int64_t q1 = q0; q1 < q0 + 20; q1 += 4) {
      for (std::int64_t k0 = 0; k0 < 50; k0 += 5) {
        for (std::int64_t k1 = k0 + 1; k1 < k0 + 20; k1 += 6) {
          std::int64_t sum = 0;
          for (std::int64_t q = q0; q < q1; ++q)
            sum += std::clamp<std::int64_t>(q - k0 + 1, 0, k1 - k0);
          ASSERT_EQ(causal_pairs(q0, q1, k0, k1), sum);
        }
      }
    }
  }
}

}  // namespace
}  // namespace attnsim::gpu
