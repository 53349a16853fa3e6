// sm90-bench: checks the sm_90a kernel against the float32 reference on fresh random inputs
// (NaN-poisoned outputs), then times it, the old golden kernel (dense lists) on the same dense
// problem, in one process. Writes a JSON summary to --out.
//   sm90-bench [--seq 16384] [--heads 32] [--head-dim 128] [--out FILE] [--skip-check]
// Exit 0 when every check passed, 1 on a failed check or CUDA error, 3 without a GPU.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "golden/block_sparse_attention.h"
#include "golden/element_bits.h"
#include "golden/hopper/attention_sm90.h"

using namespace attnsim::golden;

namespace {

#define CHECK_CUDA(call)                                                                         \
  do {                                                                                           \
    cudaError_t e_ = static_cast<cudaError_t>(call);                                             \
    if (e_ != cudaSuccess) {                                                                     \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                              \
    }                                                                                            \
  } while (0)

// Deterministic per-(seed, index) values, roughly N(0, 1) * amplitude: the sum of two uniforms.
__device__ std::uint32_t hash32(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<std::uint32_t>(x);
}

template <typename T>
__global__ void fill_random(T* p, std::int64_t n, std::uint64_t seed, float amplitude) {
  for (std::int64_t i = blockIdx.x * std::int64_t{blockDim.x} + threadIdx.x; i < n;
       i += std::int64_t{gridDim.x} * blockDim.x) {
    const float a = hash32(seed * 0x9E3779B97F4A7C15ull + 2 * i) * (1.f / 4294967296.f);
    const float b = hash32(seed * 0x9E3779B97F4A7C15ull + 2 * i + 1) * (1.f / 4294967296.f);
    const float x = (a + b - 1.f) * 2.45f * amplitude;  // variance of (a+b-1) is 1/6
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      p[i] = __float2bfloat16(x);
    } else {
      p[i] = __float2half(x);
    }
  }
}

void fill(ElementType type, void* p, std::int64_t n, std::uint64_t seed, float amplitude) {
  if (type == ElementType::kBFloat16)
    fill_random<<<1024, 256>>>(static_cast<__nv_bfloat16*>(p), n, seed, amplitude);
  else
    fill_random<<<1024, 256>>>(static_cast<__half*>(p), n, seed, amplitude);
  CHECK_CUDA(cudaGetLastError());
}

struct Problem {
  ElementType type;
  AttentionShape shape;
  void *q = nullptr, *k = nullptr, *v = nullptr, *out = nullptr;
  std::int64_t q_elems() const {
    return std::int64_t{shape.batch} * shape.q_heads * shape.seq_q * shape.head_dim;
  }
  std::int64_t kv_elems() const {
    return std::int64_t{shape.batch} * shape.kv_heads * shape.seq_kv * shape.head_dim;
  }
  Problem(ElementType t, AttentionShape s, std::uint64_t seed, float amplitude)
      : type(t), shape(s) {
    CHECK_CUDA(cudaMalloc(&q, q_elems() * 2));
    CHECK_CUDA(cudaMalloc(&out, q_elems() * 2));
    CHECK_CUDA(cudaMalloc(&k, kv_elems() * 2));
    CHECK_CUDA(cudaMalloc(&v, kv_elems() * 2));
    fill(t, q, q_elems(), seed * 3 + 0, amplitude);
    fill(t, k, kv_elems(), seed * 3 + 1, amplitude);
    fill(t, v, kv_elems(), seed * 3 + 2, 1.f);
  }
  ~Problem() {
    cudaFree(q);
    cudaFree(k);
    cudaFree(v);
    cudaFree(out);
  }
};

// Dense BlockMask lists (every block FULL, broadcast over batch and heads) for the old kernel.
struct DenseLists {
  std::int32_t *num = nullptr, *idx = nullptr, *full_num = nullptr, *full_idx = nullptr;
  std::uint8_t* block_class = nullptr;
  BlockLists lists;
  DenseLists(int seq_q, int seq_kv) {
    const int nq = (seq_q + 127) / 128, nk = (seq_kv + 127) / 128;
    std::vector<std::int32_t> zeros(nq), full(nq, nk), ind(std::size_t(nq) * nk);
    for (int i = 0; i < nq; ++i)
      for (int j = 0; j < nk; ++j) ind[std::size_t(i) * nk + j] = j;
    CHECK_CUDA(cudaMalloc(&num, nq * 4));
    CHECK_CUDA(cudaMalloc(&full_num, nq * 4));
    CHECK_CUDA(cudaMalloc(&idx, ind.size() * 4));
    CHECK_CUDA(cudaMalloc(&full_idx, ind.size() * 4));
    CHECK_CUDA(cudaMalloc(&block_class, ind.size()));
    CHECK_CUDA(cudaMemcpy(num, zeros.data(), nq * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(full_num, full.data(), nq * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(idx, ind.data(), ind.size() * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(full_idx, ind.data(), ind.size() * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemset(block_class, 2, ind.size()));
    lists = BlockLists{num, idx, full_num, full_idx, 1, 1, nq, nk, 128, 128};
  }
  ~DenseLists() {
    cudaFree(num);
    cudaFree(idx);
    cudaFree(full_num);
    cudaFree(full_idx);
    cudaFree(block_class);
  }
};

// Causal BlockMask lists (128-key blocks): row i visits block i as PARTIAL, 0..i-1 as FULL.
struct CausalLists {
  std::int32_t *num = nullptr, *idx = nullptr, *full_num = nullptr, *full_idx = nullptr;
  BlockLists lists;
  explicit CausalLists(int seq) {
    const int n = (seq + 127) / 128;
    std::vector<std::int32_t> ones(n, 1), diag(std::size_t(n) * n, 0), below(n),
        ind(std::size_t(n) * n, 0);
    for (int i = 0; i < n; ++i) {
      diag[std::size_t(i) * n] = i;
      below[i] = i;
      for (int j = 0; j < i; ++j) ind[std::size_t(i) * n + j] = j;
    }
    CHECK_CUDA(cudaMalloc(&num, n * 4));
    CHECK_CUDA(cudaMalloc(&full_num, n * 4));
    CHECK_CUDA(cudaMalloc(&idx, diag.size() * 4));
    CHECK_CUDA(cudaMalloc(&full_idx, ind.size() * 4));
    CHECK_CUDA(cudaMemcpy(num, ones.data(), n * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(full_num, below.data(), n * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(idx, diag.data(), diag.size() * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(full_idx, ind.data(), ind.size() * 4, cudaMemcpyHostToDevice));
    lists = BlockLists{num, idx, full_num, full_idx, 1, 1, n, n, 128, 128};
  }
  ~CausalLists() {
    cudaFree(num);
    cudaFree(idx);
    cudaFree(full_num);
    cudaFree(full_idx);
  }
};

struct CheckResult {
  double rel_err = 0;
  std::int64_t non_finite = 0;
};

// Poison, run, compare with the float32 reference: ||out - ref|| / ||ref|| and unwritten/NaN.
CheckResult check(Problem& p, const std::function<int()>& run) {
  const float scale = 1.f / std::sqrt(static_cast<float>(p.shape.head_dim));
  CHECK_CUDA(cudaMemset(p.out, 0xFF, p.q_elems() * 2));  // 0xFFFF: NaN in bf16 and fp16
  CHECK_CUDA(run());
  CHECK_CUDA(cudaDeviceSynchronize());
  float* ref = nullptr;
  CHECK_CUDA(cudaMalloc(&ref, p.q_elems() * 4));
  DenseLists dl(p.shape.seq_q, p.shape.seq_kv);
  CHECK_CUDA(launch_reference_attention(p.type, p.shape, p.q, p.k, p.v, ref, dl.block_class, 1, 1,
                                        dl.lists.num_q_blocks, dl.lists.num_kv_blocks, 128, 128,
                                        TokenRuleParams{}, scale));
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<std::uint16_t> out(p.q_elems());
  std::vector<float> r(p.q_elems());
  CHECK_CUDA(cudaMemcpy(out.data(), p.out, out.size() * 2, cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(r.data(), ref, r.size() * 4, cudaMemcpyDeviceToHost));
  cudaFree(ref);
  CheckResult c;
  double num = 0, den = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const float o = element_to_float(out[i], p.type);
    if (!std::isfinite(o)) {
      ++c.non_finite;
      continue;
    }
    num += (double(o) - r[i]) * (double(o) - r[i]);
    den += double(r[i]) * r[i];
  }
  c.rel_err = std::sqrt(num / std::max(den, 1e-30));
  return c;
}

// A sample brackets back-to-back launches worth >= 2 ms; median of 20 (golden/README.md's method).
double time_ms(const std::function<int()>& run) {
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));
  float ms = 0;
  // Warm-up of >= 100 ms, which also sizes the sample.
  CHECK_CUDA(cudaEventRecord(a));
  CHECK_CUDA(run());
  CHECK_CUDA(cudaEventRecord(b));
  CHECK_CUDA(cudaEventSynchronize(b));
  CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
  const int warm = std::max(1, static_cast<int>(100.0 / std::max(ms, 1e-3f)));
  CHECK_CUDA(cudaEventRecord(a));
  for (int i = 0; i < warm; ++i) CHECK_CUDA(run());
  CHECK_CUDA(cudaEventRecord(b));
  CHECK_CUDA(cudaEventSynchronize(b));
  CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
  const double one = ms / warm;
  const int reps = std::max(1, static_cast<int>(std::ceil(2.0 / one)));
  std::vector<double> samples;
  for (int s = 0; s < 20; ++s) {
    CHECK_CUDA(cudaEventRecord(a));
    for (int i = 0; i < reps; ++i) CHECK_CUDA(run());
    CHECK_CUDA(cudaEventRecord(b));
    CHECK_CUDA(cudaEventSynchronize(b));
    CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
    samples.push_back(ms / reps);
  }
  std::sort(samples.begin(), samples.end());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return 0.5 * (samples[9] + samples[10]);
}

}  // namespace

int main(int argc, char** argv) {
  int seq = 16384, heads = 32, head_dim = 128;
  bool skip_check = false;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--seq")
      seq = std::stoi(next());
    else if (a == "--heads")
      heads = std::stoi(next());
    else if (a == "--head-dim")
      head_dim = std::stoi(next());
    else if (a == "--out")
      out_path = next();
    else if (a == "--skip-check")
      skip_check = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no GPU\n");
    return 3;
  }
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("device %s, cc %d.%d, %d SMs\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount);

  std::string json = "{\n  \"device\": \"" + std::string(prop.name) + "\",\n  \"checks\": [\n";
  bool all_ok = true;
  if (!skip_check) {
    struct C {
      const char* what;
      ElementType type;
      AttentionShape shape;
      float amplitude;
    };
    const C cases[] = {
        {"dense bf16 d128 B1 H2 S512", ElementType::kBFloat16, {1, 2, 2, 512, 512, 128}, 1.f},
        {"dense fp16 d128 B2 GQA4:2 Sq384 Skv640",
         ElementType::kFloat16,
         {2, 4, 2, 384, 640, 128},
         1.f},
        {"dense bf16 d64 B1 H3 S256", ElementType::kBFloat16, {1, 3, 3, 256, 256, 64}, 1.f},
        {"dense fp16 d64 B1 H1 S128 (one tile)",
         ElementType::kFloat16,
         {1, 1, 1, 128, 128, 64},
         1.f},
        {"dense bf16 d128 B1 H1 S2048 large logits",
         ElementType::kBFloat16,
         {1, 1, 1, 2048, 2048, 128},
         3.f},
    };
    int seed = 1;
    bool first = true;
    for (const C& c : cases) {
      for (sm90::Sm90Schedule sched : {sm90::Sm90Schedule::kSerial, sm90::Sm90Schedule::kOverlap,
                                       sm90::Sm90Schedule::kPingpong}) {
        Problem p(c.type, c.shape, seed++, c.amplitude);
        const float scale = 1.f / std::sqrt(static_cast<float>(c.shape.head_dim));
        const CheckResult r = check(p, [&] {
          return sm90::launch_dense_attention(p.type, p.shape, p.q, p.k, p.v, p.out, scale, sched);
        });
        const bool ok = r.non_finite == 0 && r.rel_err < 1e-2;
        all_ok = all_ok && ok;
        const char* sn = sched == sm90::Sm90Schedule::kOverlap    ? "overlap"
                         : sched == sm90::Sm90Schedule::kPingpong ? "pingpong"
                                                                  : "serial";
        std::printf("check %-45s %-8s rel_err %.3e non_finite %lld %s\n", c.what, sn, r.rel_err,
                    static_cast<long long>(r.non_finite), ok ? "PASS" : "FAIL");
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "%s    {\"case\": \"%s\", \"schedule\": \"%s\", "
                      "\"rel_err\": %.4e, \"non_finite\": %lld, \"pass\": %s}",
                      first ? "" : ",\n", c.what, sn, r.rel_err,
                      static_cast<long long>(r.non_finite), ok ? "true" : "false");
        json += buf;
        first = false;
      }
    }
  }
  json += "\n  ],\n  \"timings\": [\n";

  // Timing: dense seq x heads x head_dim, bf16, B = 1.
  AttentionShape shape{1, heads, heads, seq, seq, head_dim};
  Problem p(ElementType::kBFloat16, shape, 12345, 1.f);
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
  const double flops = 4.0 * seq * double(seq) * head_dim * heads;
  const double causal_flops = 4.0 * (seq * (double(seq) + 1) / 2) * head_dim * heads;
  DenseLists dl(seq, seq);
  CausalLists cl(seq);
  TokenRuleParams causal;
  causal.rule = TokenRule::kWindow;
  causal.window_left = seq;
  causal.window_right = 0;
  struct K {
    const char* name;
    std::function<int()> run;
    bool is_causal = false;
  };
  std::vector<K> kernels = {
      {"sm90_pingpong",
       [&] {
         return sm90::launch_dense_attention(p.type, shape, p.q, p.k, p.v, p.out, scale,
                                             sm90::Sm90Schedule::kPingpong);
       }},
      {"sm90_overlap",
       [&] {
         return sm90::launch_dense_attention(p.type, shape, p.q, p.k, p.v, p.out, scale,
                                             sm90::Sm90Schedule::kOverlap);
       }},
      {"sm90_serial",
       [&] {
         return sm90::launch_dense_attention(p.type, shape, p.q, p.k, p.v, p.out, scale,
                                             sm90::Sm90Schedule::kSerial);
       }},
      {"golden_mma_sync",
       [&] {
         return launch_block_sparse_attention(p.type, shape, p.q, p.k, p.v, p.out, dl.lists,
                                              TokenRuleParams{}, scale);
       }},
      {"sm90_pingpong_dense_lists",
       [&] {
         return sm90::launch_sparse_attention(p.type, shape, p.q, p.k, p.v, p.out, dl.lists,
                                              TokenRuleParams{}, scale,
                                              sm90::Sm90Schedule::kPingpong);
       }},
      {"sm90_pingpong_causal",
       [&] {
         return sm90::launch_sparse_attention(p.type, shape, p.q, p.k, p.v, p.out, cl.lists, causal,
                                              scale, sm90::Sm90Schedule::kPingpong);
       },
       true},
      {"sm90_overlap_causal",
       [&] {
         return sm90::launch_sparse_attention(p.type, shape, p.q, p.k, p.v, p.out, cl.lists, causal,
                                              scale, sm90::Sm90Schedule::kOverlap);
       },
       true},
      {"golden_mma_sync_causal",
       [&] {
         return launch_block_sparse_attention(p.type, shape, p.q, p.k, p.v, p.out, cl.lists, causal,
                                              scale);
       },
       true},
  };
  bool first = true;
  for (const K& k : kernels) {
    const double ms = time_ms(k.run);
    const double tflops = (k.is_causal ? causal_flops : flops) / (ms * 1e-3) / 1e12;
    std::printf("time %-26s S=%d H=%d d=%d bf16: %.3f ms, %.1f TFLOP/s\n", k.name, seq, heads,
                head_dim, ms, tflops);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s    {\"kernel\": \"%s\", \"mask\": \"%s\", \"seq\": %d, \"heads\": %d, "
                  "\"head_dim\": %d, "
                  "\"dtype\": \"bf16\", \"ms\": %.4f, \"tflops\": %.1f}",
                  first ? "" : ",\n", k.name, k.is_causal ? "causal" : "dense", seq, heads,
                  head_dim, ms, tflops);
    json += buf;
    first = false;
  }
  json += "\n  ],\n  \"all_checks_pass\": " + std::string(all_ok ? "true" : "false") + "\n}\n";
  if (!out_path.empty()) {
    if (FILE* f = std::fopen(out_path.c_str(), "w")) {
      std::fputs(json.c_str(), f);
      std::fclose(f);
    }
  }
  std::printf("%s\n", all_ok ? "ALL CHECKS PASS" : "SOME CHECKS FAILED");
  return all_ok ? 0 : 1;
}
