// The sm_90a kernel (golden/hopper) against the float32 reference on fresh random inputs: dense
// problems at bf16/fp16, d64/d128, batch, GQA, seq_q != seq_kv, one-tile and large-logit cases;
// block-sparse ones over BlockMask lists (random blocks per head, causal with a ragged length,
// band windows with GQA and a broadcast mask, 256-key blocks, an empty row of blocks), in every
// consumer schedule. The output is poisoned with NaN before each run so unwritten elements
// fail. Skips without a GPU or on a GPU other than compute capability 9.0 (sm_90a code runs only
// there).
#include "golden/hopper/attention_sm90.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/block_sparse_attention.h"
#include "golden/device_info.h"
#include "golden/element_bits.h"

namespace attnsim::golden {
namespace {

constexpr std::uint32_t kSeed = 20261203;

#define CUDA_OK(call) ASSERT_EQ(cudaSuccess, static_cast<cudaError_t>(call)) << #call

// Why this machine cannot run the sm_90a kernel ("" when it can): the fixtures skip with it.
std::string why_no_sm90_device() {
  std::string why;
  if (cuda_device_count(&why) == 0) return "no CUDA device: " + why;
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "cudaGetDeviceProperties failed";
  if (prop.major != 9 || prop.minor != 0)
    return "sm_90a kernel; device is sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
  return "";
}

struct Case {
  const char* name;
  ElementType type;
  AttentionShape shape;
  float amplitude;  // standard deviation of Q and K: larger means peakier softmax rows
};

// ctest lists each case by its parameters: print the case's name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Both suites run every case under each consumer schedule, named "<case>_<schedule>".
const auto kEverySchedule = ::testing::Values(
    sm90::Sm90Schedule::kSerial, sm90::Sm90Schedule::kOverlap, sm90::Sm90Schedule::kPingpong);
struct CaseAndScheduleName {
  template <typename ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    const sm90::Sm90Schedule s = std::get<1>(info.param);
    return std::string(std::get<0>(info.param).name) +
           (s == sm90::Sm90Schedule::kOverlap    ? "_overlap"
            : s == sm90::Sm90Schedule::kPingpong ? "_pingpong"
                                                 : "_serial");
  }
};

class AttentionSm90Test : public ::testing::TestWithParam<std::tuple<Case, sm90::Sm90Schedule>> {
 protected:
  void SetUp() override {
    if (const std::string why = why_no_sm90_device(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(AttentionSm90Test, MatchesFloat32Reference) {
  const auto& [c, schedule] = GetParam();
  const AttentionShape& s = c.shape;
  ASSERT_EQ("", sm90::can_run_dense(c.type, s));
  const std::size_t q_n = std::size_t(s.batch) * s.q_heads * s.seq_q * s.head_dim;
  const std::size_t kv_n = std::size_t(s.batch) * s.kv_heads * s.seq_kv * s.head_dim;
  std::mt19937 rng(kSeed);  // fixed: a failure reruns with the same inputs
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<std::uint16_t> q(q_n), k(kv_n), v(kv_n);
  for (auto& x : q) x = float_to_element(c.amplitude * normal(rng), c.type);
  for (auto& x : k) x = float_to_element(c.amplitude * normal(rng), c.type);
  for (auto& x : v) x = float_to_element(normal(rng), c.type);

  void *dq = nullptr, *dk = nullptr, *dv = nullptr, *dout = nullptr;
  float* dref = nullptr;
  std::uint8_t* dclass = nullptr;
  const int nq = (s.seq_q + 127) / 128, nk = (s.seq_kv + 127) / 128;
  CUDA_OK(cudaMalloc(&dq, q_n * 2));
  CUDA_OK(cudaMalloc(&dk, kv_n * 2));
  CUDA_OK(cudaMalloc(&dv, kv_n * 2));
  CUDA_OK(cudaMalloc(&dout, q_n * 2));
  CUDA_OK(cudaMalloc(&dref, q_n * 4));
  CUDA_OK(cudaMalloc(&dclass, std::size_t(nq) * nk));
  CUDA_OK(cudaMemcpy(dq, q.data(), q_n * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dk, k.data(), kv_n * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dv, v.data(), kv_n * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemset(dout, 0xFF, q_n * 2));              // 0xFFFF is NaN in bf16 and fp16
  CUDA_OK(cudaMemset(dclass, 2, std::size_t(nq) * nk));  // every block FULL

  const float scale = 1.f / std::sqrt(static_cast<float>(s.head_dim));
  CUDA_OK(sm90::launch_dense_attention(c.type, s, dq, dk, dv, dout, scale, schedule));
  CUDA_OK(launch_reference_attention(c.type, s, dq, dk, dv, dref, dclass, 1, 1, nq, nk, 128, 128,
                                     TokenRuleParams{}, scale));
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<std::uint16_t> out(q_n);
  std::vector<float> ref(q_n);
  CUDA_OK(cudaMemcpy(out.data(), dout, q_n * 2, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(ref.data(), dref, q_n * 4, cudaMemcpyDeviceToHost));
  for (void* p : {dq, dk, dv, dout, static_cast<void*>(dref), static_cast<void*>(dclass)})
    cudaFree(p);

  std::size_t non_finite = 0;
  double num = 0, den = 0;
  for (std::size_t i = 0; i < q_n; ++i) {
    const float o = element_to_float(out[i], c.type);
    if (!std::isfinite(o)) {
      ++non_finite;
      continue;
    }
    num += (double(o) - ref[i]) * (double(o) - ref[i]);
    den += double(ref[i]) * ref[i];
  }
  const double rel = std::sqrt(num / den);
  EXPECT_EQ(0u, non_finite) << "unwritten or non-finite outputs";
  EXPECT_LT(rel, 1e-2) << c.name;
  std::printf("rel err %-40s schedule %d: %.3e\n", c.name, static_cast<int>(schedule), rel);
}

const Case kCases[] = {
    {"bf16_d128_b1_h2_s512", ElementType::kBFloat16, {1, 2, 2, 512, 512, 128}, 1.f},
    {"fp16_d128_b2_gqa4to2_q384_kv640", ElementType::kFloat16, {2, 4, 2, 384, 640, 128}, 1.f},
    {"bf16_d64_b1_h3_s256", ElementType::kBFloat16, {1, 3, 3, 256, 256, 64}, 1.f},
    {"fp16_d64_one_tile", ElementType::kFloat16, {1, 1, 1, 128, 128, 64}, 1.f},
    {"bf16_d128_s2048_large_logits", ElementType::kBFloat16, {1, 1, 1, 2048, 2048, 128}, 3.f},
    {"fp16_d128_ragged_q300_kv700", ElementType::kFloat16, {1, 2, 1, 300, 700, 128}, 1.f},
};

INSTANTIATE_TEST_SUITE_P(Dense, AttentionSm90Test,
                         ::testing::Combine(::testing::ValuesIn(kCases), kEverySchedule),
                         CaseAndScheduleName());

// ---- block-sparse: the lists are built from a dense block-class map, which the reference reads.

enum BlockClass : std::uint8_t { kEmpty = 0, kPartial = 1, kFull = 2 };

struct SparseCase {
  const char* name;
  ElementType type;
  AttentionShape shape;
  int mask_batch, mask_heads, block_kv;
  TokenRuleParams rule;
  double random_density;  // > 0: random blocks (each kept block partial or full at random)
  bool empty_first_row;   // query block 0 visits nothing: its rows must come out 0
};

void PrintTo(const SparseCase& c, std::ostream* os) { *os << c.name; }

bool allowed(const TokenRuleParams& r, int q, int kv) {
  return r.rule != TokenRule::kWindow || (kv >= q - r.window_left && kv <= q + r.window_right);
}

class AttentionSm90SparseTest
    : public ::testing::TestWithParam<std::tuple<SparseCase, sm90::Sm90Schedule>> {
 protected:
  void SetUp() override {
    if (const std::string why = why_no_sm90_device(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(AttentionSm90SparseTest, MatchesFloat32Reference) {
  const auto& [c, schedule] = GetParam();
  const AttentionShape& s = c.shape;
  const int nq = (s.seq_q + 127) / 128, nk = (s.seq_kv + c.block_kv - 1) / c.block_kv;
  std::mt19937 rng(kSeed);  // fixed: a failure reruns with the same inputs
  std::bernoulli_distribution keep(c.random_density), coin(0.5);

  // Block classes: random, or by counting the rule's allowed pairs (tilesim's classification).
  const int masks = c.mask_batch * c.mask_heads;
  std::vector<std::uint8_t> cls(std::size_t(masks) * nq * nk);
  for (int m = 0; m < masks; ++m)
    for (int i = 0; i < nq; ++i)
      for (int j = 0; j < nk; ++j) {
        std::uint8_t& x = cls[(std::size_t(m) * nq + i) * nk + j];
        if (c.random_density > 0) {
          x = keep(rng) ? (coin(rng) ? kFull : kPartial) : kEmpty;
        } else {
          long ok = 0, total = 0;
          for (int q = i * 128; q < (i + 1) * 128; ++q)
            for (int kv = j * c.block_kv; kv < (j + 1) * c.block_kv; ++kv) {
              ++total;
              ok += q < s.seq_q && kv < s.seq_kv && allowed(c.rule, q, kv);
            }
          x = ok == 0 ? kEmpty : ok == total ? kFull : kPartial;
        }
        if (c.empty_first_row && i == 0) x = kEmpty;
      }
  // FlexAttention's lists: per row, the partial (then full) block indices in ascending order.
  std::vector<std::int32_t> num(std::size_t(masks) * nq), full_num(num.size());
  std::vector<std::int32_t> idx(cls.size(), 0), full_idx(cls.size(), 0);
  for (std::size_t r = 0; r < num.size(); ++r)
    for (int j = 0; j < nk; ++j) {
      if (cls[r * nk + j] == kPartial) idx[r * nk + num[r]++] = j;
      if (cls[r * nk + j] == kFull) full_idx[r * nk + full_num[r]++] = j;
    }

  const std::size_t q_n = std::size_t(s.batch) * s.q_heads * s.seq_q * s.head_dim;
  const std::size_t kv_n = std::size_t(s.batch) * s.kv_heads * s.seq_kv * s.head_dim;
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<std::uint16_t> q(q_n), k(kv_n), v(kv_n);
  for (auto& x : q) x = float_to_element(normal(rng), c.type);
  for (auto& x : k) x = float_to_element(normal(rng), c.type);
  for (auto& x : v) x = float_to_element(normal(rng), c.type);

  std::vector<void*> buffers;
  auto upload = [&](const void* host, std::size_t bytes) {
    void* d = nullptr;
    EXPECT_EQ(cudaSuccess, cudaMalloc(&d, bytes));
    EXPECT_EQ(cudaSuccess, cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice));
    buffers.push_back(d);
    return d;
  };
  void* dq = upload(q.data(), q_n * 2);
  void* dk = upload(k.data(), kv_n * 2);
  void* dv = upload(v.data(), kv_n * 2);
  auto* dcls = static_cast<std::uint8_t*>(upload(cls.data(), cls.size()));
  BlockLists lists{static_cast<std::int32_t*>(upload(num.data(), num.size() * 4)),
                   static_cast<std::int32_t*>(upload(idx.data(), idx.size() * 4)),
                   static_cast<std::int32_t*>(upload(full_num.data(), full_num.size() * 4)),
                   static_cast<std::int32_t*>(upload(full_idx.data(), full_idx.size() * 4)),
                   c.mask_batch,
                   c.mask_heads,
                   nq,
                   nk,
                   128,
                   c.block_kv};
  void* dout = nullptr;
  float* dref = nullptr;
  CUDA_OK(cudaMalloc(&dout, q_n * 2));
  CUDA_OK(cudaMalloc(&dref, q_n * 4));
  buffers.push_back(dout);
  buffers.push_back(dref);
  CUDA_OK(cudaMemset(dout, 0xFF, q_n * 2));  // NaN: every element must be written

  ASSERT_EQ("", sm90::can_run_sparse(c.type, s, lists, c.rule));
  const float scale = 1.f / std::sqrt(static_cast<float>(s.head_dim));
  CUDA_OK(
      sm90::launch_sparse_attention(c.type, s, dq, dk, dv, dout, lists, c.rule, scale, schedule));
  CUDA_OK(launch_reference_attention(c.type, s, dq, dk, dv, dref, dcls, c.mask_batch, c.mask_heads,
                                     nq, nk, 128, c.block_kv, c.rule, scale));
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<std::uint16_t> out(q_n);
  std::vector<float> ref(q_n);
  CUDA_OK(cudaMemcpy(out.data(), dout, q_n * 2, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemcpy(ref.data(), dref, q_n * 4, cudaMemcpyDeviceToHost));
  for (void* p : buffers) cudaFree(p);

  std::size_t non_finite = 0, nonzero_empty = 0;
  double num2 = 0, den2 = 0;
  for (std::size_t i = 0; i < q_n; ++i) {
    const float o = element_to_float(out[i], c.type);
    if (!std::isfinite(o)) {
      ++non_finite;
      continue;
    }
    num2 += (double(o) - ref[i]) * (double(o) - ref[i]);
    den2 += double(ref[i]) * ref[i];
    const std::size_t row = i / s.head_dim, q_pos = row % s.seq_q;
    if (c.empty_first_row && q_pos < 128 && o != 0.f) ++nonzero_empty;
  }
  const double rel = std::sqrt(num2 / den2);
  EXPECT_EQ(0u, non_finite) << "unwritten or non-finite outputs";
  EXPECT_EQ(0u, nonzero_empty) << "rows with no visited block must be 0";
  EXPECT_LT(rel, 1e-2) << c.name;
  std::printf("rel err %-40s schedule %d: %.3e\n", c.name, static_cast<int>(schedule), rel);
}

TokenRuleParams window(int left, int right) {
  TokenRuleParams r;
  r.rule = TokenRule::kWindow;
  r.window_left = left;
  r.window_right = right;
  return r;
}

const SparseCase kSparseCases[] = {
    {"random_blocks_per_head_bf16_d128_q768_kv896",
     ElementType::kBFloat16,
     {1, 2, 2, 768, 896, 128},
     1,
     2,
     128,
     TokenRuleParams{},
     0.6,
     false},
    {"causal_fp16_d64_ragged_s600",
     ElementType::kFloat16,
     {1, 2, 2, 600, 600, 64},
     1,
     1,
     128,
     window(600, 0),
     0,
     false},
    {"band_200_50_gqa4to2_b2_broadcast_bf16_d128",
     ElementType::kBFloat16,
     {2, 4, 2, 1024, 1024, 128},
     1,
     1,
     128,
     window(200, 50),
     0,
     false},
    {"causal_blocks256_bf16_d64",
     ElementType::kBFloat16,
     {1, 1, 1, 1024, 1024, 64},
     1,
     1,
     256,
     window(1024, 0),
     0,
     false},
    {"empty_first_row_random_fp16_d128",
     ElementType::kFloat16,
     {2, 1, 1, 512, 512, 128},
     2,
     1,
     128,
     TokenRuleParams{},
     0.7,
     true},
};

INSTANTIATE_TEST_SUITE_P(Sparse, AttentionSm90SparseTest,
                         ::testing::Combine(::testing::ValuesIn(kSparseCases), kEverySchedule),
                         CaseAndScheduleName());

TEST(AttentionSm90CanRun, RefusesWhatItCannotRun) {
  // Plain host checks: no GPU needed, but built only with the kernel.
  EXPECT_EQ("", sm90::can_run_dense(ElementType::kBFloat16, {1, 32, 32, 16384, 16384, 128}));
  EXPECT_EQ("", sm90::can_run_dense(ElementType::kBFloat16, {1, 1, 1, 600, 600, 128}));
  EXPECT_NE("", sm90::can_run_dense(ElementType::kBFloat16, {1, 1, 1, 512, 512, 96}));
  EXPECT_NE("", sm90::can_run_dense(ElementType::kFloat16, {1, 3, 2, 512, 512, 64}));
  const std::int32_t dummy = 0;
  const BlockLists ok{&dummy, &dummy, &dummy, &dummy, 1, 1, 4, 4, 128, 128};
  const AttentionShape shape{1, 2, 2, 512, 512, 128};
  EXPECT_EQ("", sm90::can_run_sparse(ElementType::kBFloat16, shape, ok, TokenRuleParams{}));
  BlockLists kv64 = ok;  // the old kernel takes 64-key blocks; this one's key tile is 128
  kv64.block_kv = 64;
  kv64.num_kv_blocks = 8;
  EXPECT_NE("", sm90::can_run_sparse(ElementType::kBFloat16, shape, kv64, TokenRuleParams{}));
  TokenRuleParams token_mask;  // every rule runs; a token mask needs its words
  token_mask.rule = TokenRule::kTokenMask;
  EXPECT_NE("", sm90::can_run_sparse(ElementType::kBFloat16, shape, ok, token_mask));
  const std::uint32_t words[16 * 512] = {};
  token_mask.token_mask = words;
  token_mask.token_mask_words_per_row = 16;
  EXPECT_EQ("", sm90::can_run_sparse(ElementType::kBFloat16, shape, ok, token_mask));
  TokenRuleParams grid;  // the old kernel's rule checks: a neighborhood grid must cover seq
  grid.rule = TokenRule::kNeighborhood;
  grid.grid_rank = 2;
  grid.grid_dims[0] = 16;
  grid.grid_dims[1] = 16;
  grid.neighborhood_window[0] = grid.neighborhood_window[1] = 3;
  EXPECT_NE("", sm90::can_run_sparse(ElementType::kBFloat16, shape, ok, grid));
  grid.grid_dims[1] = 32;
  EXPECT_EQ("", sm90::can_run_sparse(ElementType::kBFloat16, shape, ok, grid));
  BlockLists heads3 = ok;
  heads3.mask_heads = 3;
  EXPECT_NE("", sm90::can_run_sparse(ElementType::kBFloat16, shape, heads3, TokenRuleParams{}));
}

TEST(AttentionSm90Order, HeadsInGridOrderTilesLongestFirst) {
  // 3 query tiles x 2 heads, one broadcast mask row per query tile visiting 1, 2, 3 blocks
  // (causal-like): each head's last tiles come first.
  const AttentionShape shape{1, 2, 2, 384, 384, 128};
  EXPECT_EQ((std::vector<std::int32_t>{2, 1, 0, 5, 4, 3}),
            sm90::longest_first_order(shape, 1, 1, 3, {1, 1, 1}, {0, 1, 2}));
  // Per-head rows: head 0's tiles tie (grid order), head 1's second tile is its longest.
  EXPECT_EQ((std::vector<std::int32_t>{0, 1, 2, 4, 3, 5}),
            sm90::longest_first_order(shape, 1, 2, 3, {2, 2, 2, 1, 9, 0}, {0, 0, 0, 1, 0, 0}));
  EXPECT_THROW(sm90::longest_first_order(shape, 1, 1, 3, {1, 1}, {0, 1}), std::invalid_argument);
  EXPECT_THROW(sm90::launch_sparse_attention_persistent(ElementType::kBFloat16, shape, nullptr,
                                                        nullptr, nullptr, nullptr, BlockLists{},
                                                        TokenRuleParams{}, 1.f, nullptr, 6),
               std::invalid_argument);
}

}  // namespace
}  // namespace attnsim::golden
