// The golden kernel against the float32 reference on fresh random inputs, over dense, causal,
// windowed, token-masked, document, prefix-LM, A-shape, neighborhood (1-D to 3-D), GQA and
// ragged-sequence cases; the reference itself against float64 on sampled rows, with the rule
// evaluated on the host independently (neighborhoods by tilesim's gna_range). Output is poisoned
// (NaN) before each run so unwritten elements are caught.
// Built twice: golden_block_sparse_attention_test runs the golden (mma.sync) kernel;
// golden_attention_sm90_rules_test (ATTNSIM_GOLDEN_TEST_SM90) runs the sm_90a kernel on the same
// cases and the same reference, in each consumer schedule on FlexAttention's grid and on the
// persistent longest-first grid (it skips on a device other than compute capability 9.0).
#include "golden/block_sparse_attention.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "golden/device_info.h"
#include "golden/element_bits.h"
#ifdef ATTNSIM_GOLDEN_TEST_SM90
#include "golden/hopper/attention_sm90.h"
#include "golden/token_rule_from_mask_rule.h"
#endif
#include "sim/gpu/patterns/gna.h"

namespace attnsim::golden {
namespace {

enum BlockClass : std::uint8_t { kEmpty = 0, kPartial = 1, kFull = 2 };

#define CUDA_OK(call) ASSERT_EQ(cudaSuccess, static_cast<cudaError_t>(call)) << #call

template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  std::size_t count = 0;
  explicit DeviceBuffer(std::size_t n) : count(n) {
    if (cudaMalloc(&ptr, n * sizeof(T) + 16) != cudaSuccess) ptr = nullptr;
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  void upload(const std::vector<T>& host) {
    cudaMemcpy(ptr, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  std::vector<T> download() const {
    std::vector<T> host(count);
    cudaMemcpy(host.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }
};

struct Case {
  const char* name;
  ElementType type;
  AttentionShape shape;
  int mask_batch, mask_heads, block_kv;
  TokenRuleParams rule;  // token_mask filled in by the test when rule == kTokenMask
  double block_density;  // for random block classes; < 0 means derive from the rule
  bool dense;
  std::vector<int> document_lengths = {};  // kDocument: per batch element, concatenated
};

// The neighborhood rule by tilesim's own gna_range (not golden/neighborhood.h).
bool neighborhood_allows_host(const TokenRuleParams& rule, int q, int kv) {
  for (int d = rule.grid_rank - 1; d >= 0; --d) {
    const int n = rule.grid_dims[d], x = q % n, c = kv % n;
    q /= n;
    kv /= n;
    const gpu::GnaRange r =
        gpu::gna_range(x, n, rule.neighborhood_window[d], rule.neighborhood_stride[d],
                       rule.neighborhood_dilation[d]);
    if (c < r.start || c >= r.start + r.count * r.step || (c - r.start) % r.step != 0) return false;
  }
  return true;
}

// `docs`: the document ids [batch, seq_kv] (kDocument only).
bool rule_allows(const TokenRuleParams& rule, const std::vector<std::uint32_t>& token_mask,
                 const std::vector<std::int32_t>& docs, int seq_kv, int b, int q, int kv) {
  const bool in_window = kv >= q - rule.window_left && kv <= q + rule.window_right;
  const std::size_t row = static_cast<std::size_t>(b) * seq_kv;
  switch (rule.rule) {
    case TokenRule::kWindow:
      return in_window;
    case TokenRule::kPrefixWindow:
      return in_window || (kv < rule.prefix && (!rule.prefix_causal || kv <= q));
    case TokenRule::kDocument:
      return in_window && docs[row + q] == docs[row + kv];
    case TokenRule::kNeighborhood:
      return neighborhood_allows_host(rule, q, kv);
    case TokenRule::kTokenMask:
      return (token_mask[static_cast<std::size_t>(q) * rule.token_mask_words_per_row + kv / 32] >>
              (kv % 32)) &
             1u;
    default:
      return true;
  }
}

// Classifies each (query block, key block) by counting allowed pairs: the same rule as tilesim.
std::vector<std::uint8_t> classify(const Case& c, const std::vector<std::uint32_t>& token_mask,
                                   const std::vector<std::int32_t>& docs, int nq, int nk,
                                   std::mt19937& rng) {
  std::vector<std::uint8_t> classes(static_cast<std::size_t>(c.mask_batch) * c.mask_heads * nq *
                                    nk);
  std::bernoulli_distribution keep(c.block_density);
  for (std::size_t m = 0; m < classes.size() / (nq * nk); ++m) {
    for (int i = 0; i < nq; ++i) {
      for (int j = 0; j < nk; ++j) {
        std::uint8_t& cls = classes[(m * nq + i) * nk + j];
        if (c.dense) {
          cls = kFull;
          continue;
        }
        if (c.block_density >= 0 && !keep(rng)) {
          cls = kEmpty;
          continue;
        }
        long allowed = 0, total = 0;
        for (int q = i * 128; q < std::min((i + 1) * 128, c.shape.seq_q); ++q) {
          for (int kv = j * c.block_kv; kv < (j + 1) * c.block_kv; ++kv) {
            ++total;
            const int b = static_cast<int>(m) / c.mask_heads;  // a document mask is per batch
            allowed += kv < c.shape.seq_kv &&
                       rule_allows(c.rule, token_mask, docs, c.shape.seq_kv, b, q, kv);
          }
        }
        const bool cut = (i + 1) * 128 > c.shape.seq_q || (j + 1) * c.block_kv > c.shape.seq_kv;
        cls = allowed == 0 ? kEmpty : (allowed == total && !cut ? kFull : kPartial);
      }
    }
  }
  return classes;
}

double reference_row_fp64(const std::vector<std::uint16_t>& q, const std::vector<std::uint16_t>& k,
                          const std::vector<std::uint16_t>& v, const Case& c,
                          const std::vector<std::uint8_t>& classes,
                          const std::vector<std::uint32_t>& token_mask,
                          const std::vector<std::int32_t>& docs, int nq, int nk, int b, int h,
                          int qi, const std::vector<float>& fp32_out) {
  const AttentionShape& s = c.shape;
  const int d = s.head_dim, kvh = h / (s.q_heads / s.kv_heads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> scores(s.seq_kv, -INFINITY);
  double max_score = -INFINITY;
  for (int kv = 0; kv < s.seq_kv; ++kv) {
    const std::uint8_t cls =
        classes[((static_cast<std::size_t>(c.mask_batch == 1 ? 0 : b) * c.mask_heads +
                  (c.mask_heads == 1 ? 0 : h)) *
                     nq +
                 qi / 128) *
                    nk +
                kv / c.block_kv];
    if (cls == kEmpty ||
        (cls == kPartial && !rule_allows(c.rule, token_mask, docs, s.seq_kv, b, qi, kv))) {
      continue;
    }
    double dot = 0;
    for (int i = 0; i < d; ++i) {
      dot +=
          static_cast<double>(element_to_float(
              q[((static_cast<std::size_t>(b) * s.q_heads + h) * s.seq_q + qi) * d + i], c.type)) *
          element_to_float(
              k[((static_cast<std::size_t>(b) * s.kv_heads + kvh) * s.seq_kv + kv) * d + i],
              c.type);
    }
    scores[kv] = dot * scale;
    max_score = std::max(max_score, scores[kv]);
  }
  double sum = 0, err2 = 0, ref2 = 0;
  std::vector<double> out(d, 0.0);
  for (int kv = 0; kv < s.seq_kv; ++kv) {
    if (scores[kv] == -INFINITY) continue;
    const double w = std::exp(scores[kv] - max_score);
    sum += w;
    for (int i = 0; i < d; ++i) {
      out[i] +=
          w * element_to_float(
                  v[((static_cast<std::size_t>(b) * s.kv_heads + kvh) * s.seq_kv + kv) * d + i],
                  c.type);
    }
  }
  for (int i = 0; i < d; ++i) {
    const double ref = sum > 0 ? out[i] / sum : 0.0;
    const double got =
        fp32_out[((static_cast<std::size_t>(b) * s.q_heads + h) * s.seq_q + qi) * d + i];
    err2 += (got - ref) * (got - ref);
    ref2 += ref * ref;
  }
  return ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
}

void run_case(const Case& given, unsigned seed) {
  Case c = given;  // the token-mask row stride is only known here
  const AttentionShape& s = c.shape;
  std::mt19937 rng(seed);
  const int nq = (s.seq_q + 127) / 128, nk = (s.seq_kv + c.block_kv - 1) / c.block_kv;
  std::vector<std::uint32_t> token_mask;
  if (c.rule.rule == TokenRule::kTokenMask) {
    c.rule.token_mask_words_per_row = (s.seq_kv + 31) / 32;
    token_mask.resize(static_cast<std::size_t>(s.seq_q) * c.rule.token_mask_words_per_row);
    for (auto& word : token_mask) word = rng() & rng();  // about 25 % of pairs allowed
  }
  std::vector<std::int32_t> docs;  // kDocument: ids [batch, seq_kv] from the lengths
  for (std::size_t i = 0; i < c.document_lengths.size(); ++i) {
    docs.insert(docs.end(), c.document_lengths[i], static_cast<std::int32_t>(i));
  }
  if (c.rule.rule == TokenRule::kDocument) {
    ASSERT_EQ(docs.size(), static_cast<std::size_t>(s.batch) * s.seq_kv) << c.name;
    ASSERT_EQ(c.mask_batch, s.batch) << c.name << ": documents differ per batch element";
  }
  TokenRuleParams rule = c.rule;
  const std::vector<std::uint8_t> classes = classify(c, token_mask, docs, nq, nk, rng);
  std::vector<std::int32_t> num(static_cast<std::size_t>(c.mask_batch) * c.mask_heads * nq, 0);
  std::vector<std::int32_t> full_num(num.size(), 0);
  std::vector<std::int32_t> idx(num.size() * nk, 0), full_idx(num.size() * nk, 0);
  for (std::size_t row = 0; row < num.size(); ++row) {
    for (int j = 0; j < nk; ++j) {
      const std::uint8_t cls = classes[row * nk + j];
      if (cls == kPartial) idx[row * nk + num[row]++] = j;
      if (cls == kFull) full_idx[row * nk + full_num[row]++] = j;
    }
  }
  const std::size_t q_count = static_cast<std::size_t>(s.batch) * s.q_heads * s.seq_q * s.head_dim;
  const std::size_t kv_count =
      static_cast<std::size_t>(s.batch) * s.kv_heads * s.seq_kv * s.head_dim;
  std::normal_distribution<float> normal(0.f, 1.f);
  auto random_tensor = [&](std::size_t n) {
    std::vector<std::uint16_t> t(n);
    for (auto& x : t) x = float_to_element(normal(rng), c.type);
    return t;
  };
  const auto hq = random_tensor(q_count), hk = random_tensor(kv_count),
             hv = random_tensor(kv_count);

  DeviceBuffer<std::uint16_t> q(q_count), k(kv_count), v(kv_count), out(q_count);
  DeviceBuffer<float> ref(q_count);
  DeviceBuffer<std::int32_t> d_num(num.size()), d_full_num(num.size()), d_idx(idx.size()),
      d_full_idx(idx.size());
  DeviceBuffer<std::uint8_t> d_classes(classes.size());
  DeviceBuffer<std::uint32_t> d_token(std::max<std::size_t>(token_mask.size(), 1));
  DeviceBuffer<std::int32_t> d_docs(std::max<std::size_t>(docs.size(), 1));
  ASSERT_TRUE(q.ptr && k.ptr && v.ptr && out.ptr && ref.ptr);
  q.upload(hq), k.upload(hk), v.upload(hv), d_num.upload(num), d_full_num.upload(full_num);
  d_idx.upload(idx), d_full_idx.upload(full_idx), d_classes.upload(classes);
  if (!token_mask.empty()) d_token.upload(token_mask);
  rule.token_mask = token_mask.empty() ? nullptr : d_token.ptr;
  if (!docs.empty()) d_docs.upload(docs);
  rule.document_ids = docs.empty() ? nullptr : d_docs.ptr;
  BlockLists lists{
      d_num.ptr, d_idx.ptr, d_full_num.ptr, d_full_idx.ptr, c.mask_batch, c.mask_heads, nq,
      nk,        128,       c.block_kv};
  const float scale = 1.f / std::sqrt(static_cast<float>(s.head_dim));
  CUDA_OK(launch_reference_attention(c.type, s, q.ptr, k.ptr, v.ptr, ref.ptr, d_classes.ptr,
                                     c.mask_batch, c.mask_heads, nq, nk, 128, c.block_kv, rule,
                                     scale));
  CUDA_OK(cudaDeviceSynchronize());
  const auto want = ref.download();
  // Runs one kernel on NaN-poisoned output and compares it with the reference.
  auto check = [&](const std::string& kernel, auto&& launch) {
    CUDA_OK(cudaMemset(out.ptr, 0xff, q_count * 2));  // 0xffff is NaN in bf16 and fp16
    CUDA_OK(launch());
    CUDA_OK(cudaDeviceSynchronize());
    const auto got = out.download();
    double err2 = 0, ref2 = 0;
    std::size_t unwritten = 0;
    for (std::size_t i = 0; i < q_count; ++i) {
      const float g = element_to_float(got[i], c.type);
      if (std::isnan(g)) {
        ++unwritten;
        continue;
      }
      err2 += (g - want[i]) * static_cast<double>(g - want[i]);
      ref2 += static_cast<double>(want[i]) * want[i];
    }
    EXPECT_EQ(unwritten, 0u) << c.name << " " << kernel << ": elements left unwritten (NaN)";
    const double rel = std::sqrt(err2 / std::max(ref2, 1e-30));
    EXPECT_LT(rel, 1e-2) << c.name << " " << kernel;
    std::printf("[ %-28s] %-18s rel err vs fp32 reference %.2e\n", c.name, kernel.c_str(), rel);
  };
#ifndef ATTNSIM_GOLDEN_TEST_SM90
  check("golden", [&] {
    return launch_block_sparse_attention(c.type, s, q.ptr, k.ptr, v.ptr, out.ptr, lists, rule,
                                         scale);
  });
#else
  ASSERT_EQ("", sm90::can_run_sparse(c.type, s, lists, rule)) << c.name;
  const std::vector<std::int32_t> order =
      sm90::longest_first_order(s, c.mask_batch, c.mask_heads, nq, num, full_num);
  DeviceBuffer<std::int32_t> d_order(order.size());
  d_order.upload(order);
  const std::pair<const char*, sm90::Sm90Schedule> schedules[] = {
      {"serial", sm90::Sm90Schedule::kSerial},
      {"overlap", sm90::Sm90Schedule::kOverlap},
      {"pingpong", sm90::Sm90Schedule::kPingpong}};
  // Documents (packed, so every id is one run) also by their runs: the kernel's interval path
  // (kDocumentRuns) beside the id test, against the same reference, which reads the ids.
  const std::vector<std::int32_t> runs =
      docs.empty() ? std::vector<std::int32_t>{} : document_runs(docs, s.batch, s.seq_kv);
  if (!docs.empty()) {
    ASSERT_FALSE(runs.empty()) << c.name << ": packed documents have runs";
  }
  DeviceBuffer<std::int32_t> d_runs(std::max<std::size_t>(runs.size(), 1));
  if (!runs.empty()) d_runs.upload(runs);
  for (const bool by_runs : {false, true}) {
    if (by_runs && runs.empty()) break;
    TokenRuleParams tested = rule;
    tested.document_runs = by_runs ? d_runs.ptr : nullptr;
    const std::string path = by_runs ? " runs" : "";
    for (const auto& [name, schedule] : schedules) {
      check(std::string("sm90 ") + name + path, [&] {
        return sm90::launch_sparse_attention(c.type, s, q.ptr, k.ptr, v.ptr, out.ptr, lists, tested,
                                             scale, schedule);
      });
      check(std::string("sm90 persist ") + name + path, [&] {
        return sm90::launch_sparse_attention_persistent(c.type, s, q.ptr, k.ptr, v.ptr, out.ptr,
                                                        lists, tested, scale, d_order.ptr,
                                                        static_cast<int>(order.size()), schedule);
      });
    }
  }
#endif

  // The reference against float64 on sampled rows: it must be far tighter than the kernel check.
  std::uniform_int_distribution<int> pick_q(0, s.seq_q - 1), pick_b(0, s.batch - 1),
      pick_h(0, s.q_heads - 1);
  for (int sample = 0; sample < 6; ++sample) {
    const double row_err = reference_row_fp64(hq, hk, hv, c, classes, token_mask, docs, nq, nk,
                                              pick_b(rng), pick_h(rng), pick_q(rng), want);
    EXPECT_LT(row_err, 1e-4) << c.name << ": the fp32 reference disagrees with fp64";
  }
}

class GoldenKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (cuda_device_count(&why) == 0) GTEST_SKIP() << "no CUDA device: " << why;
#ifdef ATTNSIM_GOLDEN_TEST_SM90
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess || prop.major != 9 || prop.minor != 0)
      GTEST_SKIP() << "the sm_90a kernel runs on compute capability 9.0 only";
#endif
  }
};

constexpr TokenRuleParams kAll{};
constexpr TokenRuleParams kCausal{TokenRule::kWindow, 1 << 30, 0, nullptr, 0};

TEST_F(GoldenKernel, DenseBf16HeadDim128) {
  run_case({"dense bf16 d128",
            ElementType::kBFloat16,
            {1, 2, 2, 512, 512, 128},
            1,
            1,
            128,
            kAll,
            -1,
            true},
           1);
}

TEST_F(GoldenKernel, CausalFp16HeadDim64RaggedLength) {
  run_case({"causal fp16 d64 S=600",
            ElementType::kFloat16,
            {1, 3, 3, 600, 600, 64},
            1,
            1,
            128,
            kCausal,
            -1,
            false},
           2);
}

TEST_F(GoldenKernel, SlidingWindowGqaBroadcastMask) {
  const TokenRuleParams window{TokenRule::kWindow, 200, 50, nullptr, 0};
  run_case({"window GQA bf16 d128",
            ElementType::kBFloat16,
            {2, 4, 2, 1024, 1024, 128},
            1,
            1,
            128,
            window,
            -1,
            false},
           3);
}

TEST_F(GoldenKernel, RandomBlocksWithTokenMaskPerHead) {
  const TokenRuleParams token{TokenRule::kTokenMask, 0, 0, nullptr, 0};
  run_case({"random blocks + token mask",
            ElementType::kBFloat16,
            {2, 2, 1, 768, 896, 128},
            2,
            2,
            128,
            token,
            0.5,
            false},
           4);
}

TEST_F(GoldenKernel, MaskBlocksWiderThanTheKernelTile) {
  run_case({"causal block_kv=256 d64",
            ElementType::kBFloat16,
            {1, 2, 2, 1024, 1024, 64},
            1,
            1,
            256,
            kCausal,
            -1,
            false},
           5);
}

// Document lengths for `batch` elements of `seq` tokens: random documents of 1 to `longest`
// tokens, different in every batch element.
std::vector<int> random_documents(int batch, int seq, int longest, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> length(1, longest);
  std::vector<int> lengths;
  for (int b = 0; b < batch; ++b) {
    for (int left = seq; left > 0;) {
      const int l = std::min(left, length(rng));
      lengths.push_back(l);
      left -= l;
    }
  }
  return lengths;
}

TokenRuleParams document_rule(int seq, bool causal) {
  TokenRuleParams rule;
  rule.rule = TokenRule::kDocument;
  rule.window_left = seq;
  rule.window_right = causal ? 0 : seq;
  return rule;
}

TokenRuleParams prefix_rule(int left, int prefix, bool prefix_causal) {
  TokenRuleParams rule;
  rule.rule = TokenRule::kPrefixWindow;
  rule.window_left = left;
  rule.prefix = prefix;
  rule.prefix_causal = prefix_causal;
  return rule;
}

TokenRuleParams neighborhood_rule(const std::vector<int>& dims, const std::vector<int>& window,
                                  const std::vector<int>& stride,
                                  const std::vector<int>& dilation) {
  TokenRuleParams rule;
  rule.rule = TokenRule::kNeighborhood;
  rule.grid_rank = static_cast<int>(dims.size());
  for (std::size_t d = 0; d < dims.size(); ++d) {
    rule.grid_dims[d] = dims[d];
    rule.neighborhood_window[d] = window[d];
    rule.neighborhood_stride[d] = stride[d];
    rule.neighborhood_dilation[d] = dilation[d];
  }
  return rule;
}

TEST_F(GoldenKernel, DocumentCausalPerBatchGqaHeadDim128) {
  Case c{"document causal B=3 GQA d128",
         ElementType::kBFloat16,
         {3, 4, 2, 1000, 1000, 128},
         3,
         1,
         128,
         document_rule(1000, true),
         -1,
         false};
  c.document_lengths = random_documents(3, 1000, 300, 11);
  run_case(c, 6);
}

TEST_F(GoldenKernel, DocumentNonCausalHeadDim64) {
  Case c{"document non-causal B=2 d64",
         ElementType::kBFloat16,
         {2, 2, 2, 777, 777, 64},
         2,
         2,
         128,
         document_rule(777, false),
         -1,
         false};
  c.document_lengths = random_documents(2, 777, 200, 12);
  run_case(c, 7);
}

TEST_F(GoldenKernel, PrefixLmGqaHeadDim64) {
  run_case({"prefix_lm P=300 GQA d64",
            ElementType::kBFloat16,
            {2, 6, 3, 900, 900, 64},
            1,
            1,
            128,
            prefix_rule(900, 300, false),
            -1,
            false},
           8);
}

TEST_F(GoldenKernel, AShapeSinksHeadDim128) {
  run_case({"a_shape sinks=100 W=200 d128",
            ElementType::kBFloat16,
            {1, 2, 2, 1100, 1100, 128},
            1,
            1,
            128,
            prefix_rule(199, 100, true),
            -1,
            false},
           9);
}

TEST_F(GoldenKernel, SlidingWindow1dHeadDim128) {
  run_case({"sliding_window W=129 d128",
            ElementType::kBFloat16,
            {1, 2, 2, 1000, 1000, 128},
            1,
            1,
            128,
            neighborhood_rule({1000}, {129}, {1}, {1}),
            -1,
            false},
           10);
}

// Rank 1 without dilation: the sm_90a kernel's interval path (kNeighborhood1d), here strided, with
// 256-key mask blocks (PARTIAL blocks holding tiles inside every row's interval), GQA, a ragged
// length and fp16 at d64.
TEST_F(GoldenKernel, SlidingWindowStridedWideBlocksFp16HeadDim64) {
  run_case({"sliding_window W=300 S=5 d64",
            ElementType::kFloat16,
            {2, 4, 2, 1100, 1100, 64},
            1,
            1,
            256,
            neighborhood_rule({1100}, {300}, {5}, {1}),
            -1,
            false},
           12);
}

TEST_F(GoldenKernel, SlidingWindowDilatedStridedGqaHeadDim64) {
  run_case({"sliding_window W=65 S=2 D=3 GQA d64",
            ElementType::kBFloat16,
            {2, 4, 1, 1200, 1200, 64},
            1,
            1,
            128,
            neighborhood_rule({1200}, {65}, {2}, {3}),
            -1,
            false},
           11);
}

TEST_F(GoldenKernel, Gna2dGqaHeadDim128) {
  run_case({"gna 30x40 W=7x9 S=2x3 D=1x2 d128",
            ElementType::kBFloat16,
            {2, 4, 2, 1200, 1200, 128},
            1,
            1,
            128,
            neighborhood_rule({30, 40}, {7, 9}, {2, 3}, {1, 2}),
            -1,
            false},
           12);
}

TEST_F(GoldenKernel, Gna3dHeadDim64) {
  run_case({"gna 6x10x20 W=3x5x7 D=1x2x1 d64",
            ElementType::kBFloat16,
            {1, 2, 2, 1200, 1200, 64},
            1,
            1,
            128,
            neighborhood_rule({6, 10, 20}, {3, 5, 7}, {1, 1, 1}, {1, 2, 1}),
            -1,
            false},
           13);
}

TEST_F(GoldenKernel, Gna2dBlockedHeadDim64Wide256) {
  run_case({"gna 32x32 blocked block_kv=256 d64",
            ElementType::kBFloat16,
            {1, 2, 2, 1024, 1024, 64},
            1,
            1,
            256,
            neighborhood_rule({32, 32}, {8, 8}, {8, 8}, {1, 1}),
            -1,
            false},
           14);
}

}  // namespace
}  // namespace attnsim::golden
