// The sm_90a kernel (golden/hopper) against the float32 reference on fresh random inputs: dense
// problems at bf16/fp16, d64/d128, batch, GQA, seq_q != seq_kv, one-tile and large-logit cases, in
// both consumer schedules. The output is poisoned with NaN before each run so unwritten elements
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
#include <random>
#include <string>
#include <vector>

#include "golden/device_info.h"

namespace attnsim::golden {
namespace {

#define CUDA_OK(call) ASSERT_EQ(cudaSuccess, static_cast<cudaError_t>(call)) << #call

float element_to_float(std::uint16_t bits, ElementType type) {
  if (type == ElementType::kBFloat16) {
    std::uint32_t f = static_cast<std::uint32_t>(bits) << 16;
    float out;
    std::memcpy(&out, &f, 4);
    return out;
  }
  __half_raw raw;
  raw.x = bits;
  return __half2float(__half(raw));
}

std::uint16_t float_to_element(float x, ElementType type) {
  if (type == ElementType::kBFloat16) return static_cast<__nv_bfloat16_raw>(__float2bfloat16(x)).x;
  return static_cast<__half_raw>(__float2half(x)).x;
}

struct Case {
  const char* name;
  ElementType type;
  AttentionShape shape;
  float amplitude;  // standard deviation of Q and K: larger means peakier softmax rows
};

class AttentionSm90Test : public ::testing::TestWithParam<std::tuple<Case, sm90::Sm90Schedule>> {
 protected:
  void SetUp() override {
    std::string why;
    if (cuda_device_count(&why) == 0) GTEST_SKIP() << "no CUDA device: " << why;
    cudaDeviceProp prop{};
    ASSERT_EQ(cudaSuccess, cudaGetDeviceProperties(&prop, 0));
    if (prop.major != 9 || prop.minor != 0)
      GTEST_SKIP() << "sm_90a kernel; device is sm_" << prop.major << prop.minor;
  }
};

TEST_P(AttentionSm90Test, MatchesFloat32Reference) {
  const auto& [c, schedule] = GetParam();
  const AttentionShape& s = c.shape;
  ASSERT_EQ("", sm90::can_run_dense(c.type, s));
  const std::size_t q_n = std::size_t(s.batch) * s.q_heads * s.seq_q * s.head_dim;
  const std::size_t kv_n = std::size_t(s.batch) * s.kv_heads * s.seq_kv * s.head_dim;
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<std::uint16_t> q(q_n), k(kv_n), v(kv_n);
  for (auto& x : q) x = float_to_element(c.amplitude * normal(rng), c.type);
  for (auto& x : k) x = float_to_element(c.amplitude * normal(rng), c.type);
  for (auto& x : v) x = float_to_element(normal(rng), c.type);

  void *dq = nullptr, *dk = nullptr, *dv = nullptr, *dout = nullptr;
  float* dref = nullptr;
  std::uint8_t* dclass = nullptr;
  const int nq = s.seq_q / 128, nk = s.seq_kv / 128;
  CUDA_OK(cudaMalloc(&dq, q_n * 2));
  CUDA_OK(cudaMalloc(&dk, kv_n * 2));
  CUDA_OK(cudaMalloc(&dv, kv_n * 2));
  CUDA_OK(cudaMalloc(&dout, q_n * 2));
  CUDA_OK(cudaMalloc(&dref, q_n * 4));
  CUDA_OK(cudaMalloc(&dclass, std::size_t(nq) * nk));
  CUDA_OK(cudaMemcpy(dq, q.data(), q_n * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dk, k.data(), kv_n * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(dv, v.data(), kv_n * 2, cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemset(dout, 0xFF, q_n * 2));  // 0xFFFF is NaN in bf16 and fp16
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
};

INSTANTIATE_TEST_SUITE_P(
    Dense, AttentionSm90Test,
    ::testing::Combine(::testing::ValuesIn(kCases),
                       ::testing::Values(sm90::Sm90Schedule::kSerial,
                                         sm90::Sm90Schedule::kOverlap,
                                         sm90::Sm90Schedule::kPingpong)),
    [](const auto& param_info) {
      const sm90::Sm90Schedule s = std::get<1>(param_info.param);
      return std::string(std::get<0>(param_info.param).name) +
             (s == sm90::Sm90Schedule::kOverlap    ? "_overlap"
              : s == sm90::Sm90Schedule::kPingpong ? "_pingpong"
                                                   : "_serial");
    });

TEST(AttentionSm90CanRun, RefusesWhatItCannotRun) {
  // Plain host checks: no GPU needed, but built only with the kernel.
  EXPECT_EQ("", sm90::can_run_dense(ElementType::kBFloat16, {1, 32, 32, 16384, 16384, 128}));
  EXPECT_NE("", sm90::can_run_dense(ElementType::kBFloat16, {1, 1, 1, 600, 600, 128}));
  EXPECT_NE("", sm90::can_run_dense(ElementType::kBFloat16, {1, 1, 1, 512, 512, 96}));
  EXPECT_NE("", sm90::can_run_dense(ElementType::kFloat16, {1, 3, 2, 512, 512, 64}));
}

}  // namespace
}  // namespace attnsim::golden
