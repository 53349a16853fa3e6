// Naive float32 attention reference for checking the golden kernel: one warp per query row, two
// passes (max, then sum and weighted V), the mask read from a dense block-class map, so it shares
// nothing with the kernel's list walk, tiling or online softmax.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "golden/block_sparse_attention.h"
#include "golden/neighborhood.h"

namespace attnsim::golden {
namespace {

__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

struct ReferenceParams {
  AttentionShape shape;
  const std::uint8_t* block_class;
  int mask_batch, mask_heads, num_q_blocks, num_kv_blocks, block_q, block_kv;
  TokenRuleParams rule;
  float scale;
};

// The neighborhood rule directly from gna_range's definition: in every dimension the key's
// coordinate is one of residue + dilation * [start, start + count) (not the kernel's packed form).
__device__ bool reference_neighborhood(const TokenRuleParams& rule, int q, int kv) {
  for (int d = rule.grid_rank - 1; d >= 0; --d) {
    const int n = rule.grid_dims[d], x = q % n, c = kv % n;
    q /= n;
    kv /= n;
    const int dilation = rule.neighborhood_dilation[d];
    const NeighborhoodRange r = neighborhood_range(x, n, rule.neighborhood_window[d],
                                                   rule.neighborhood_stride[d], dilation);
    bool hit = false;
    for (int i = 0; i < r.count; ++i) hit = hit || c == r.residue + (r.start + i) * dilation;
    if (!hit) return false;
  }
  return true;
}

__device__ bool reference_allowed(const ReferenceParams& p, int batch, int head, int q, int kv) {
  if (kv >= p.shape.seq_kv) return false;
  const std::int64_t index =
      ((static_cast<std::int64_t>(p.mask_batch == 1 ? 0 : batch) * p.mask_heads +
        (p.mask_heads == 1 ? 0 : head)) *
           p.num_q_blocks +
       q / p.block_q) *
          p.num_kv_blocks +
      kv / p.block_kv;
  const std::uint8_t cls = p.block_class[index];
  if (cls == 2) return true;
  if (cls == 0) return false;
  const bool in_window = kv >= q - p.rule.window_left && kv <= q + p.rule.window_right;
  switch (p.rule.rule) {
    case TokenRule::kWindow:
      return in_window;
    case TokenRule::kPrefixWindow:
      return (kv < p.rule.prefix && (!p.rule.prefix_causal || kv <= q)) || in_window;
    case TokenRule::kDocument: {
      const std::int32_t* docs =
          p.rule.document_ids + static_cast<std::int64_t>(batch) * p.shape.seq_kv;
      return in_window && docs[q] == docs[kv];
    }
    case TokenRule::kNeighborhood:
      return reference_neighborhood(p.rule, q, kv);
    case TokenRule::kTokenMask:
      return (p.rule.token_mask[static_cast<std::int64_t>(q) * p.rule.token_mask_words_per_row +
                                kv / 32] >>
              (kv % 32)) &
             1u;
    default:
      return true;
  }
}

template <typename T>
__global__ void reference_kernel(ReferenceParams p, const T* q_all, const T* k_all, const T* v_all,
                                 float* out) {
  const AttentionShape& s = p.shape;
  const std::int64_t row_id =
      (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  const std::int64_t rows = static_cast<std::int64_t>(s.batch) * s.q_heads * s.seq_q;
  if (row_id >= rows) return;
  const int q = static_cast<int>(row_id % s.seq_q);
  const int head = static_cast<int>((row_id / s.seq_q) % s.q_heads);
  const int batch = static_cast<int>(row_id / (static_cast<std::int64_t>(s.seq_q) * s.q_heads));
  const int kv_head = head / (s.q_heads / s.kv_heads);
  const int d = s.head_dim;
  const T* q_row = q_all + row_id * d;
  const std::int64_t kv_offset =
      (static_cast<std::int64_t>(batch) * s.kv_heads + kv_head) * s.seq_kv * d;
  auto score = [&](int kv) {
    float partial = 0.f;
    for (int i = lane; i < d; i += 32) {
      partial +=
          to_float(q_row[i]) * to_float(k_all[kv_offset + static_cast<std::int64_t>(kv) * d + i]);
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      partial += __shfl_xor_sync(0xffffffff, partial, offset);
    }
    return partial * p.scale;
  };
  float max_score = -INFINITY;
  for (int kv = 0; kv < s.seq_kv; ++kv) {
    if (reference_allowed(p, batch, head, q, kv)) max_score = fmaxf(max_score, score(kv));
  }
  float sum = 0.f;
  float acc[4] = {0.f, 0.f, 0.f, 0.f};  // dims lane, lane+32, lane+64, lane+96
  for (int kv = 0; kv < s.seq_kv; ++kv) {
    if (!reference_allowed(p, batch, head, q, kv)) continue;
    const float weight = expf(score(kv) - max_score);
    sum += weight;
    for (int j = 0; j * 32 + lane < d; ++j) {
      acc[j] +=
          weight * to_float(v_all[kv_offset + static_cast<std::int64_t>(kv) * d + j * 32 + lane]);
    }
  }
  for (int j = 0; j * 32 + lane < d; ++j) {
    out[row_id * d + j * 32 + lane] = sum > 0.f ? acc[j] / sum : 0.f;
  }
}

}  // namespace

int launch_reference_attention(ElementType type, const AttentionShape& shape, const void* q,
                               const void* k, const void* v, float* out,
                               const std::uint8_t* block_class, int mask_batch, int mask_heads,
                               int num_q_blocks, int num_kv_blocks, int block_q, int block_kv,
                               const TokenRuleParams& rule, float softmax_scale, void* stream) {
  if (shape.head_dim > 128 || shape.head_dim % 32 != 0) return cudaErrorInvalidValue;
  const ReferenceParams params{shape,         block_class, mask_batch, mask_heads, num_q_blocks,
                               num_kv_blocks, block_q,     block_kv,   rule,       softmax_scale};
  const std::int64_t rows = static_cast<std::int64_t>(shape.batch) * shape.q_heads * shape.seq_q;
  const int threads = 256;
  const auto blocks = static_cast<unsigned>((rows * 32 + threads - 1) / threads);
  const auto s = static_cast<cudaStream_t>(stream);
  if (type == ElementType::kBFloat16) {
    reference_kernel<<<blocks, threads, 0, s>>>(params, static_cast<const __nv_bfloat16*>(q),
                                                static_cast<const __nv_bfloat16*>(k),
                                                static_cast<const __nv_bfloat16*>(v), out);
  } else {
    reference_kernel<<<blocks, threads, 0, s>>>(params, static_cast<const __half*>(q),
                                                static_cast<const __half*>(k),
                                                static_cast<const __half*>(v), out);
  }
  return cudaGetLastError();
}

}  // namespace attnsim::golden
