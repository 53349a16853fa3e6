// The golden block-sparse attention forward kernel: FlashAttention-2's algorithm (online softmax,
// fp32 accumulation) on mma.sync m16n8k16 tensor cores, walking FlexAttention-style block lists.
//
// Geometry: a CTA owns one 128-query tile of one (batch, head); 4 warps own 32 query rows each. K
// and V stream through two shared-memory stages in 64-key tiles with cp.async: tile j+1 loads while
// tile j computes, with one barrier per tile. Shared memory rows are XOR-swizzled in 16-byte chunks
// so that ldmatrix reads are free of bank conflicts.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "golden/block_sparse_attention.h"
#include "golden/neighborhood.h"
#include "golden/token_rule_device.cuh"

namespace attnsim::golden {
namespace {

constexpr int kTileQ = GoldenKernelGeometry::kTileQ;
constexpr int kTileKv = GoldenKernelGeometry::kTileKv;
// Each warp owns two 16-row MMA tiles (FlashAttention-2's layout): every K/V fragment read from
// shared memory feeds two MMAs. Measured on the H200 against 8 warps of 16 rows (Q in registers):
// 290 vs 266 TFLOP/s dense at S=16K, d=128; 276 vs 204 at d=64.
constexpr int kMTiles = 2;
constexpr int kWarps = kTileQ / (16 * kMTiles);
constexpr int kThreads = kWarps * 32;

__device__ __forceinline__ std::uint32_t smem_address(const void* pointer) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(pointer));
}

// Element offset of 16-byte chunk `chunk` of row `row` in a swizzled [rows][kHeadDim] tile.
template <int kHeadDim>
__device__ __forceinline__ int swizzled(int row, int chunk) {
  return row * kHeadDim + ((chunk ^ (row & 7)) << 3);
}

// Copies rows [0, kRows) of a [*, kHeadDim] tile starting at `tile` into shared memory; rows at or
// beyond `valid_rows` are zero-filled without reading global memory (sequence ends).
template <int kRows, int kHeadDim, typename T>
__device__ __forceinline__ void load_tile_async(T* smem, const T* tile, const T* safe_address,
                                                int valid_rows) {
  constexpr int kChunksPerRow = kHeadDim / 8;
  constexpr int kChunks = kRows * kChunksPerRow;
  static_assert(kChunks % kThreads == 0, "every thread copies the same number of chunks");
#pragma unroll
  for (int i = 0; i < kChunks / kThreads; ++i) {
    const int c = static_cast<int>(threadIdx.x) + i * kThreads;
    const int row = c / kChunksPerRow;
    const int chunk = c % kChunksPerRow;
    const bool valid = row < valid_rows;
    const T* source =
        valid ? tile + static_cast<std::int64_t>(row) * kHeadDim + chunk * 8 : safe_address;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(
                     smem_address(smem + swizzled<kHeadDim>(row, chunk))),
                 "l"(source), "r"(valid ? 16 : 0));
  }
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n"); }
__device__ __forceinline__ void cp_async_wait_all() {
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");
}

__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], std::uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t (&r)[4], std::uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

// D = A * B + D for one m16n8k16 tile; A row-major 16x16, B column-major 16x8, D fp32.
template <typename T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const std::uint32_t (&a)[4],
                                          std::uint32_t b0, std::uint32_t b1) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

template <typename T>
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const std::uint32_t*>(&v);
  } else {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const std::uint32_t*>(&v);
  }
}

__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// The token rules' device code is shared with the sm_90a kernel (golden/token_rule_device.cuh).
template <TokenRule kRule>
constexpr bool kRuleUsesWords = rules::kUsesWords<kRule>;
constexpr int kRowWordsBytes = 2 * kTileQ * 4;   // two words per query row
constexpr int kKeyWordsBytes = 2 * kTileKv * 4;  // one word per key, two stages

struct KernelParams {
  const void* q;
  const void* k;
  const void* v;
  void* out;
  AttentionShape shape;
  BlockLists lists;
  TokenRuleParams rule;
  float scale_log2;  // softmax scale * log2(e): exponentials are exp2
};

// Two CTAs fit per SM: 128 threads x 255 registers, 96 KB of shared memory at d=128. The token
// rule is a template parameter: the masking loop runs per element on every PARTIAL tile, so it must
// compile to two compares and a select, with no branch on the rule.
template <typename T, int kHeadDim, TokenRule kRule>
__global__ void __launch_bounds__(kThreads, 2) block_sparse_attention_kernel(KernelParams p) {
  constexpr int kKSteps = kHeadDim / 16;  // MMA k-steps over the head dimension
  constexpr int kSTiles = kTileKv / 8;    // n-tiles of one S row block
  constexpr int kOTiles = kHeadDim / 8;   // n-tiles of one O row block
  extern __shared__ __align__(128) unsigned char shared_raw[];
  // Q, then two stages of K and of V: tile t+1 loads while tile t computes.
  T* q_smem = reinterpret_cast<T*>(shared_raw);
  T* k_stages = q_smem + kTileQ * kHeadDim;
  T* v_stages = k_stages + 2 * kTileKv * kHeadDim;
  // kRuleUsesWords only: two words per query row, then one word per key of two tile stages.
  auto* row_words = reinterpret_cast<std::uint32_t*>(v_stages + 2 * kTileKv * kHeadDim);
  std::uint32_t* key_words = row_words + 2 * kTileQ;

  const int q_block = blockIdx.x;
  const int head = blockIdx.y;
  const int batch = blockIdx.z;
  const AttentionShape& s = p.shape;
  const int kv_head = head / (s.q_heads / s.kv_heads);
  const int q0 = q_block * kTileQ;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int group = lane / 4;            // MMA row within the 8-row half
  const int thread_in_group = lane % 4;  // MMA column pair
  const int warp_row0 = warp * 16 * kMTiles;

  const T* q_base = static_cast<const T*>(p.q) +
                    ((static_cast<std::int64_t>(batch) * s.q_heads + head) * s.seq_q) * kHeadDim;
  const T* k_base =
      static_cast<const T*>(p.k) +
      ((static_cast<std::int64_t>(batch) * s.kv_heads + kv_head) * s.seq_kv) * kHeadDim;
  const T* v_base =
      static_cast<const T*>(p.v) +
      ((static_cast<std::int64_t>(batch) * s.kv_heads + kv_head) * s.seq_kv) * kHeadDim;

  // This CTA's block lists.
  const BlockLists& l = p.lists;
  const std::int64_t list_row =
      (static_cast<std::int64_t>(l.mask_batch == 1 ? 0 : batch) * l.mask_heads +
       (l.mask_heads == 1 ? 0 : head)) *
          l.num_q_blocks +
      q_block;
  const int num_partial = l.kv_num_blocks[list_row];
  const int num_full = l.full_kv_num_blocks[list_row];
  const std::int32_t* partial_indices = l.kv_indices + list_row * l.num_kv_blocks;
  const std::int32_t* full_indices = l.full_kv_indices + list_row * l.num_kv_blocks;
  const int tiles_per_block = l.block_kv / kTileKv;
  const int num_tiles = (num_partial + num_full) * tiles_per_block;
  // Tile t of the walk: partial blocks first, then full ones (FlexAttention's order).
  auto tile_start = [&](int t) {
    const int index = t / tiles_per_block;
    const int block =
        index < num_partial ? partial_indices[index] : full_indices[index - num_partial];
    return block * l.block_kv + (t % tiles_per_block) * kTileKv;
  };

  load_tile_async<kTileQ, kHeadDim>(q_smem, q_base + static_cast<std::int64_t>(q0) * kHeadDim,
                                    q_base, s.seq_q - q0);
  // Issues the loads of tile t's K and V into stage t % 2.
  auto load_kv_tile = [&](int t) {
    const int kv0 = tile_start(t);
    const std::int64_t offset = static_cast<std::int64_t>(kv0) * kHeadDim;
    T* k_stage = k_stages + (t & 1) * kTileKv * kHeadDim;
    T* v_stage = v_stages + (t & 1) * kTileKv * kHeadDim;
    load_tile_async<kTileKv, kHeadDim>(k_stage, k_base + offset, k_base, s.seq_kv - kv0);
    load_tile_async<kTileKv, kHeadDim>(v_stage, v_base + offset, v_base, s.seq_kv - kv0);
  };
  if (num_tiles > 0) load_kv_tile(0);
  cp_async_commit();
  // Word rules: the key words of tile t into stage t % 2 (read after the next barrier).
  auto fill_key_words = [&](int t) {
    if (threadIdx.x >= kTileKv) return;
    const int kv = tile_start(t) + static_cast<int>(threadIdx.x);
    key_words[(t & 1) * kTileKv + threadIdx.x] =
        rules::key_word<kRule>(p.rule, batch, kv, s.seq_kv);
  };
  if constexpr (kRuleUsesWords<kRule>) {
    static_assert(kThreads == kTileQ, "one thread per query row computes its row words");
    std::uint32_t low, span;
    rules::row_words<kRule>(p.rule, batch, q0 + static_cast<int>(threadIdx.x), s.seq_q, s.seq_kv,
                            &low, &span);
    row_words[2 * threadIdx.x] = low;
    row_words[2 * threadIdx.x + 1] = span;
    if (num_partial > 0) fill_key_words(0);
  }

  float o_acc[kMTiles][kOTiles][4];
  float row_max[kMTiles][2];
  float row_sum[kMTiles][2];  // per-thread partial sums, reduced across the quad at the end
#pragma unroll
  for (int m = 0; m < kMTiles; ++m) {
#pragma unroll
    for (int i = 0; i < kOTiles; ++i) {
      o_acc[m][i][0] = o_acc[m][i][1] = o_acc[m][i][2] = o_acc[m][i][3] = 0.f;
    }
    row_max[m][0] = row_max[m][1] = -INFINITY;
    row_sum[m][0] = row_sum[m][1] = 0.f;
  }
  // Address of this lane's ldmatrix row for the A fragment (16x16) of m-tile m, k-step ks.
  auto q_fragment_address = [&](int m, int ks) {
    const int mi = lane / 8;
    const int row = warp_row0 + m * 16 + (lane % 8) + ((mi & 1) ? 8 : 0);
    const int chunk = ks * 2 + ((mi & 2) ? 1 : 0);
    return smem_address(q_smem + swizzled<kHeadDim>(row, chunk));
  };

  for (int t = 0; t < num_tiles; ++t) {
    const int kv0 = tile_start(t);
    const bool is_partial = t < num_partial * tiles_per_block;
    const T* k_smem = k_stages + (t & 1) * kTileKv * kHeadDim;
    const T* v_smem = v_stages + (t & 1) * kTileKv * kHeadDim;
    cp_async_wait_all();
    __syncthreads();  // tile t (and Q) landed; every warp is done with tile t-1's stage
    if (t + 1 < num_tiles) load_kv_tile(t + 1);
    cp_async_commit();
    if constexpr (kRuleUsesWords<kRule>) {
      if (t + 1 < num_partial * tiles_per_block) fill_key_words(t + 1);
    }

    // S = Q K^T for this warp's rows and the tile's 64 keys.
    float s_acc[kMTiles][kSTiles][4];
#pragma unroll
    for (int m = 0; m < kMTiles; ++m) {
#pragma unroll
      for (int i = 0; i < kSTiles; ++i) {
        s_acc[m][i][0] = s_acc[m][i][1] = s_acc[m][i][2] = s_acc[m][i][3] = 0.f;
      }
    }
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
      std::uint32_t a[kMTiles][4];
#pragma unroll
      for (int m = 0; m < kMTiles; ++m) ldmatrix_x4(a[m], q_fragment_address(m, ks));
#pragma unroll
      for (int np = 0; np < kSTiles / 2; ++np) {
        const int mi = lane / 8;
        const int row = np * 16 + (lane % 8) + ((mi & 2) ? 8 : 0);
        const int chunk = ks * 2 + (mi & 1);
        std::uint32_t b[4];
        ldmatrix_x4(b, smem_address(k_smem + swizzled<kHeadDim>(row, chunk)));
#pragma unroll
        for (int m = 0; m < kMTiles; ++m) {
          mma_16816<T>(s_acc[m][2 * np], a[m], b[0], b[1]);
          mma_16816<T>(s_acc[m][2 * np + 1], a[m], b[2], b[3]);
        }
      }
    }

    // Masking: PARTIAL tiles apply the token rule; any tile reaching past seq_kv masks the tail.
    // Each row's window keys form one interval [lo, hi] computed once per tile; the token-mask
    // rule adds one bit test per element from two words per row, kPrefixWindow one compare with
    // the prefix end, the word rules one test of the key's word against the row's words.
    const bool past_end = kv0 + kTileKv > s.seq_kv;
    const bool mask_elements = rules::tile_needs_mask<kRule>(
        p.rule, is_partial, past_end, q0, min(q0 + kTileQ, s.seq_q) - 1, kv0, kv0 + kTileKv - 1);
    if (mask_elements) {
      const int kv_thread = kv0 + thread_in_group * 2;
      const std::uint32_t* tile_words = key_words + (t & 1) * kTileKv + thread_in_group * 2;
      const std::uint32_t guards = neighborhood_guards(p.rule.grid_rank);  // kNeighborhood
#pragma unroll
      for (int m = 0; m < kMTiles; ++m) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const int q = q0 + warp_row0 + m * 16 + group + r * 8;
          rules::RowState row = rules::row_state<kRule>(p.rule, is_partial, q, s.seq_kv, 0u, 0u);
          if constexpr (kRuleUsesWords<kRule>) {  // word rules: this row's words
            const int row_in_tile = warp_row0 + m * 16 + group + r * 8;
            row.low = row_words[2 * row_in_tile];
            row.span = row_words[2 * row_in_tile + 1];
          }
          std::uint32_t bits[2];  // the tile's 64 keys for this row (token-mask rule)
          if constexpr (kRule == TokenRule::kTokenMask) {
            rules::token_mask_bits(p.rule, is_partial && q < s.seq_q, q, kv0, bits);
          }
#pragma unroll
          for (int nt = 0; nt < kSTiles; ++nt) {
            uint2 words = make_uint2(0u, 0u);  // the keys' words, for the word rules
            if constexpr (kRuleUsesWords<kRule>) {
              words = *reinterpret_cast<const uint2*>(tile_words + nt * 8);
            }
#pragma unroll
            for (int c = 0; c < 2; ++c) {
              const int kv = kv_thread + nt * 8 + c;
              bool token_bit = true;
              if constexpr (kRule == TokenRule::kTokenMask) {
                // Word nt / 4 (a constant: the register array stays in registers).
                token_bit = (bits[nt / 4] >> ((nt % 4) * 8 + thread_in_group * 2 + c)) & 1u;
              }
              if (!rules::allows<kRule>(row, is_partial, kv, c == 0 ? words.x : words.y, token_bit,
                                        guards))
                s_acc[m][nt][2 * r + c] = -INFINITY;
            }
          }
        }
      }
    }

    // Online softmax over the rows this thread holds (two per m-tile).
#pragma unroll
    for (int m = 0; m < kMTiles; ++m) {
      float correction[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float tile_max = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < kSTiles; ++nt) {
          tile_max = fmaxf(tile_max, fmaxf(s_acc[m][nt][2 * r], s_acc[m][nt][2 * r + 1]));
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffff, tile_max, 1));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffff, tile_max, 2));
        const float new_max = fmaxf(row_max[m][r], tile_max * p.scale_log2);
        // A row with no allowed key so far keeps max -inf; exponentiate against 0 to avoid NaN.
        const float base = new_max == -INFINITY ? 0.f : new_max;
        correction[r] = fast_exp2(row_max[m][r] - base);
        row_max[m][r] = new_max;
        float sum = 0.f;
#pragma unroll
        for (int nt = 0; nt < kSTiles; ++nt) {
          s_acc[m][nt][2 * r] = fast_exp2(s_acc[m][nt][2 * r] * p.scale_log2 - base);
          s_acc[m][nt][2 * r + 1] = fast_exp2(s_acc[m][nt][2 * r + 1] * p.scale_log2 - base);
          sum += s_acc[m][nt][2 * r] + s_acc[m][nt][2 * r + 1];
        }
        row_sum[m][r] = row_sum[m][r] * correction[r] + sum;
      }
#pragma unroll
      for (int i = 0; i < kOTiles; ++i) {
        o_acc[m][i][0] *= correction[0];
        o_acc[m][i][1] *= correction[0];
        o_acc[m][i][2] *= correction[1];
        o_acc[m][i][3] *= correction[1];
      }
    }

    // O += P V: the S accumulators are exactly the A fragments of P (FlashAttention-2's reuse).
#pragma unroll
    for (int kk = 0; kk < kTileKv / 16; ++kk) {
      std::uint32_t a[kMTiles][4];
#pragma unroll
      for (int m = 0; m < kMTiles; ++m) {
        a[m][0] = pack2<T>(s_acc[m][2 * kk][0], s_acc[m][2 * kk][1]);
        a[m][1] = pack2<T>(s_acc[m][2 * kk][2], s_acc[m][2 * kk][3]);
        a[m][2] = pack2<T>(s_acc[m][2 * kk + 1][0], s_acc[m][2 * kk + 1][1]);
        a[m][3] = pack2<T>(s_acc[m][2 * kk + 1][2], s_acc[m][2 * kk + 1][3]);
      }
#pragma unroll
      for (int np = 0; np < kOTiles / 2; ++np) {
        const int mi = lane / 8;
        const int row = kk * 16 + (lane % 8) + ((mi & 1) ? 8 : 0);
        const int chunk = np * 2 + ((mi & 2) ? 1 : 0);
        std::uint32_t b[4];
        ldmatrix_x4_trans(b, smem_address(v_smem + swizzled<kHeadDim>(row, chunk)));
#pragma unroll
        for (int m = 0; m < kMTiles; ++m) {
          mma_16816<T>(o_acc[m][2 * np], a[m], b[0], b[1]);
          mma_16816<T>(o_acc[m][2 * np + 1], a[m], b[2], b[3]);
        }
      }
    }
  }

  // Epilogue: finish the row sums across the quad and write O / sum (0 for rows with no key).
  T* out_base = static_cast<T*>(p.out) +
                ((static_cast<std::int64_t>(batch) * s.q_heads + head) * s.seq_q) * kHeadDim;
#pragma unroll
  for (int m = 0; m < kMTiles; ++m) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float sum = row_sum[m][r];
      sum += __shfl_xor_sync(0xffffffff, sum, 1);
      sum += __shfl_xor_sync(0xffffffff, sum, 2);
      const float inverse = sum > 0.f ? 1.f / sum : 0.f;
      const int q = q0 + warp_row0 + m * 16 + group + r * 8;
      if (q >= s.seq_q) continue;
      T* row = out_base + static_cast<std::int64_t>(q) * kHeadDim;
#pragma unroll
      for (int nt = 0; nt < kOTiles; ++nt) {
        const std::uint32_t packed =
            pack2<T>(o_acc[m][nt][2 * r] * inverse, o_acc[m][nt][2 * r + 1] * inverse);
        *reinterpret_cast<std::uint32_t*>(row + nt * 8 + thread_in_group * 2) = packed;
      }
    }
  }
}

template <typename T, int kHeadDim, TokenRule kRule>
int launch_typed(const KernelParams& params, cudaStream_t stream) {
  constexpr int kSharedBytes = (kTileQ + 4 * kTileKv) * kHeadDim * static_cast<int>(sizeof(T)) +
                               (kRuleUsesWords<kRule> ? kRowWordsBytes + kKeyWordsBytes : 0);
  auto kernel = block_sparse_attention_kernel<T, kHeadDim, kRule>;
  cudaError_t status =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSharedBytes);
  if (status != cudaSuccess) return status;
  const dim3 grid(params.lists.num_q_blocks, params.shape.q_heads, params.shape.batch);
  kernel<<<grid, kThreads, kSharedBytes, stream>>>(params);
  return cudaGetLastError();
}

template <TokenRule kRule>
int launch_for_rule(ElementType type, const AttentionShape& shape, const KernelParams& params,
                    cudaStream_t stream) {
  if (type == ElementType::kBFloat16) {
    return shape.head_dim == 64 ? launch_typed<__nv_bfloat16, 64, kRule>(params, stream)
                                : launch_typed<__nv_bfloat16, 128, kRule>(params, stream);
  }
  return shape.head_dim == 64 ? launch_typed<__half, 64, kRule>(params, stream)
                              : launch_typed<__half, 128, kRule>(params, stream);
}

}  // namespace

std::string token_rule_reasons(const AttentionShape& shape, const TokenRuleParams& rule) {
  std::string reasons;
  auto require = [&](bool ok, const std::string& why) {
    if (!ok) reasons += (reasons.empty() ? "" : "; ") + why;
  };
  require(rule.rule != TokenRule::kTokenMask ||
              (rule.token_mask && rule.token_mask_words_per_row * 32 >= shape.seq_kv),
          "a token mask needs ceil(seq_kv / 32) words per row");
  const bool window_rule = rule.rule == TokenRule::kWindow ||
                           rule.rule == TokenRule::kPrefixWindow ||
                           rule.rule == TokenRule::kDocument;
  require(!window_rule || (rule.window_left >= 0 && rule.window_right >= 0),
          "window_left and window_right must be >= 0");
  require(rule.rule != TokenRule::kPrefixWindow || rule.prefix >= 0, "prefix must be >= 0");
  if (rule.rule == TokenRule::kDocument || rule.rule == TokenRule::kNeighborhood) {
    require(shape.seq_q == shape.seq_kv, "document and neighborhood rules need seq_q == seq_kv");
  }
  require(rule.rule != TokenRule::kDocument || rule.document_ids,
          "the document rule needs document ids [batch, seq_kv] on the device");
  if (rule.rule == TokenRule::kNeighborhood) {
    const int rank = rule.grid_rank;
    require(rank >= 1 && rank <= 3, "the neighborhood rule needs grid_rank 1, 2 or 3");
    if (rank >= 1 && rank <= 3) {
      std::int64_t product = 1;
      bool positive = true, fits = true;
      for (int d = 0; d < rank; ++d) {
        const int n = rule.grid_dims[d], dilation = rule.neighborhood_dilation[d];
        positive = positive && n > 0 && rule.neighborhood_window[d] > 0 &&
                   rule.neighborhood_stride[d] > 0 && dilation > 0;
        if (n <= 0 || dilation <= 0) continue;
        product *= n;
        // neighborhood.h's packed coordinates: dilation * ceil(n / dilation) <= 2^field_bits.
        const std::int64_t packed_end =
            static_cast<std::int64_t>(dilation) * ((n + dilation - 1) / dilation);
        fits = fits && packed_end <= (std::int64_t{1} << neighborhood_field_bits(rank));
      }
      require(positive, "neighborhood dims, window, stride and dilation must be >= 1");
      require(product == shape.seq_q, "the neighborhood grid's dims must multiply to seq_q (" +
                                          std::to_string(shape.seq_q) + "), got " +
                                          std::to_string(product));
      require(fits,
              "neighborhood dims too large for the packed coordinates (dilation * "
              "ceil(dim / dilation) <= 2^31 at rank 1, 2^15 at rank 2, 2^9 at rank 3)");
    }
  }
  return reasons;
}

std::string can_run(ElementType, const AttentionShape& shape, const BlockLists& lists,
                    const TokenRuleParams& rule) {
  std::string reasons;
  auto require = [&](bool ok, const std::string& why) {
    if (!ok) reasons += (reasons.empty() ? "" : "; ") + why;
  };
  require(shape.head_dim == 64 || shape.head_dim == 128, "head_dim must be 64 or 128");
  require(shape.batch > 0 && shape.q_heads > 0 && shape.kv_heads > 0,
          "batch and head counts must be positive");
  require(shape.kv_heads > 0 && shape.q_heads % shape.kv_heads == 0,
          "q_heads must be a multiple of kv_heads");
  require(shape.seq_q > 0 && shape.seq_kv > 0, "sequence lengths must be positive");
  require(lists.block_q == kTileQ, "mask block_q must be 128 (the kernel's query tile)");
  require(lists.block_kv > 0 && lists.block_kv % kTileKv == 0,
          "mask block_kv must be a positive multiple of 64");
  require(lists.num_q_blocks * lists.block_q >= shape.seq_q, "the mask has too few query blocks");
  require(lists.block_kv > 0 && lists.num_kv_blocks * lists.block_kv >= shape.seq_kv,
          "the mask has too few key blocks");
  require(lists.mask_batch == 1 || lists.mask_batch == shape.batch, "mask batch must be 1 or B");
  require(lists.mask_heads == 1 || lists.mask_heads == shape.q_heads, "mask heads must be 1 or H");
  require(
      lists.kv_num_blocks && lists.kv_indices && lists.full_kv_num_blocks && lists.full_kv_indices,
      "all four block-list arrays are required");
  if (const std::string why = token_rule_reasons(shape, rule); !why.empty())
    reasons += (reasons.empty() ? "" : "; ") + why;
  return reasons;
}

int launch_block_sparse_attention(ElementType type, const AttentionShape& shape, const void* q,
                                  const void* k, const void* v, void* out, const BlockLists& lists,
                                  const TokenRuleParams& rule, float softmax_scale, void* stream) {
  const std::string reasons = can_run(type, shape, lists, rule);
  if (!reasons.empty()) throw std::invalid_argument("block-sparse attention: " + reasons);
  const KernelParams params{q, k, v, out, shape, lists, rule, softmax_scale * 1.4426950408889634f};
  const auto s = static_cast<cudaStream_t>(stream);
  switch (rule.rule) {
    case TokenRule::kWindow:
      return launch_for_rule<TokenRule::kWindow>(type, shape, params, s);
    case TokenRule::kTokenMask:
      return launch_for_rule<TokenRule::kTokenMask>(type, shape, params, s);
    case TokenRule::kPrefixWindow:
      return launch_for_rule<TokenRule::kPrefixWindow>(type, shape, params, s);
    case TokenRule::kDocument:
      return launch_for_rule<TokenRule::kDocument>(type, shape, params, s);
    case TokenRule::kNeighborhood:
      return launch_for_rule<TokenRule::kNeighborhood>(type, shape, params, s);
    default:
      return launch_for_rule<TokenRule::kAllowAll>(type, shape, params, s);
  }
}

}  // namespace attnsim::golden
