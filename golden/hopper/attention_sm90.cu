// Hopper-native attention forward kernel (sm_90a): TMA + mbarrier pipeline, wgmma, warp
// specialization with setmaxnreg, online softmax. See attention_sm90.h and golden/hopper/README.md.
//
// CTA = 3 warpgroups (384 threads):
//   warpgroup 0: producer. One thread issues every TMA copy (Q once; K and V per 128-key tile into
//                a 2-stage ring); it needs few registers, so it gives them up (setmaxnreg 24).
//   warpgroups 1, 2: consumers, 64 query rows each (setmaxnreg 240). S = Q K^T by wgmma with both
//                operands in shared memory; P stays in registers (the S accumulator's layout is
//                wgmma's A-register layout once packed to 16 bits) and O += P V by wgmma reads V
//                from shared memory transposed (imm-trans-b), so V needs no transpose pass.
// Shared memory tiles are written by TMA with the 128-byte swizzle: a tile of 128 rows x D columns
// is D/64 slabs of [128 rows][64 columns] (128 bytes per row), which is the layout wgmma's
// descriptors describe directly (K-major for Q and K, MN-major for V).
// Barriers: q_full; per stage k_full/v_full (TMA transaction counts) and k_empty/v_empty (every
// consumer thread arrives once it no longer reads the stage), so K of a stage is refilled as soon
// as QK^T has read it, before PV is done with V.
#include "golden/hopper/attention_sm90.h"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "golden/token_rule_device.cuh"

namespace attnsim::golden::sm90 {
namespace {

#include "golden/hopper/wgmma_ops.inc"

constexpr int kTileQ = Sm90KernelGeometry::kTileQ;
constexpr int kTileKv = Sm90KernelGeometry::kTileKv;
constexpr int kStages = Sm90KernelGeometry::kStages;
constexpr int kThreads = 384;
constexpr int kRowBytes = 128;                   // one swizzle-atom row: 64 16-bit elements
constexpr int kSlabBytes = kTileKv * kRowBytes;  // [128 rows][64 columns]; kTileQ == kTileKv
constexpr int kMaxKvBlocks = Sm90KernelGeometry::kMaxKvBlocks;
static_assert(kTileQ == kTileKv, "Q and K/V tiles share the slab size");
// A staged tile's key words; documents also keep the 4 staging warps' summaries after them (other
// rules keep the plain stride: a visit with the wider one for every rule measured gna d64 1-1.5 %
// slower, results/h200/2026-12-03-doc-uniform/visit1).
template <TokenRule kRule>
constexpr int kKeyWordStride = kRule == TokenRule::kDocument ? kTileKv + 8 : kTileKv;

// A rank-1 neighborhood without dilation (mask_rules.md's sliding_window) keeps one interval of
// keys per row, neighborhood_range's [start, start + count - 1]: the kernel runs it as this private
// rule (launch_sparse picks it), with each row's interval computed once per work item, the window
// rules' two compares per element, and no key words (no staging and no warpgroup barrier per
// PARTIAL tile, no word test). Its start is nondecreasing in the row, so the first row's end and
// the last row's start bound the keys every row of a warpgroup keeps: PARTIAL tiles inside those
// skip the per-element test.
constexpr TokenRule kNeighborhood1d = static_cast<TokenRule>(-1);
// Documents packed one after another (every id one run of positions: TokenRuleParams::
// document_runs) keep one interval of keys per row too, the row's document cut by the causal
// bound: the kernel runs them as this private rule, kNeighborhood1d's path with the interval read
// from document_runs, so a document's PARTIAL tile has no key words, no id test and no warpgroup
// barrier either. Both ends are nondecreasing in the row, as kNeighborhood1d's.
constexpr TokenRule kDocumentRuns = static_cast<TokenRule>(-2);
// The private rules whose rows each keep one interval of keys, computed once per work item.
template <TokenRule kRule>
constexpr bool kRowInterval = kRule == kNeighborhood1d || kRule == kDocumentRuns;

// Row q's keys under a kRowInterval rule (q clamped to seq_q - 1: rows past it are never
// written). `batch` picks the document runs' row.
template <TokenRule kRule>
__device__ __forceinline__ int2 row_interval(const TokenRuleParams& rule, int batch, int q,
                                             int seq_q) {
  q = min(q, seq_q - 1);
  if constexpr (kRule == kDocumentRuns) {  // seq_q == seq_kv for documents
    const int2 run = reinterpret_cast<const int2*>(
        rule.document_runs)[static_cast<std::int64_t>(batch) * seq_q + q];
    return make_int2(max(run.x, q - rule.window_left), min(run.y, q + rule.window_right));
  } else {
    const NeighborhoodRange r = neighborhood_range(
        q, rule.grid_dims[0], rule.neighborhood_window[0], rule.neighborhood_stride[0], 1);
    return make_int2(r.start, r.start + r.count - 1);
  }
}

template <int D>
struct Layout {
  static constexpr int kSlabs = D / 64;
  static constexpr int kTileBytes = kSlabs * kSlabBytes;
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + kTileBytes;
  static constexpr int kV = kK + kStages * kTileBytes;
  static constexpr int kBarriers = kV + kStages * kTileBytes;
  // The current work item's key blocks, partial first, in two buffers (item parity), so a
  // persistent CTA fills the next item's list while the last one's readers finish.
  static constexpr int kBlockList = kBarriers + 128;
  // Word rules: each consumer warpgroup's key words of a tile, two buffers (tile parity), each
  // kKeyWordStride<kRule> words: the tile's 128 key words, and for documents then per warp of the
  // staging warpgroup its first word and whether its 32 words are all that one (stage_key_words
  // writes them, mask_interval reads them). Sized for the wider, document stride.
  static constexpr int kKeyWords = kBlockList + 2 * 4 * kMaxKvBlocks;
  static constexpr int kBytes =
      kKeyWords + 2 * 2 * kKeyWordStride<TokenRule::kDocument> * 4 + 1024;  // + 1 KB align
};

__device__ __forceinline__ std::uint32_t smem_u32(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mbar_init(std::uint32_t bar, std::uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

__device__ __forceinline__ void mbar_expect_tx(std::uint32_t bar, std::uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
}

__device__ __forceinline__ void mbar_arrive(std::uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

__device__ __forceinline__ void mbar_wait(std::uint32_t bar, std::uint32_t parity) {
  asm volatile(
      "{\n.reg .pred done;\n"
      "WAIT_LOOP:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT_LOOP;\n}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}

__device__ __forceinline__ void tma_load_2d(std::uint32_t dst, const CUtensorMap* map,
                                            std::uint32_t bar, int col, int row) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4}], [%2];\n" ::"r"(dst),
      "l"(reinterpret_cast<std::uint64_t>(map)), "r"(bar), "r"(col), "r"(row)
      : "memory");
}

// wgmma shared-memory matrix descriptor: start address, leading and stride byte offsets (all in
// 16-byte units), 128-byte swizzle (mode 1 in bits 62-63).
__device__ __forceinline__ std::uint64_t make_desc(std::uint32_t addr, std::uint32_t lbo,
                                                   std::uint32_t sbo) {
  return static_cast<std::uint64_t>((addr & 0x3FFFF) >> 4) |
         (static_cast<std::uint64_t>((lbo >> 4) & 0x3FFF) << 16) |
         (static_cast<std::uint64_t>((sbo >> 4) & 0x3FFF) << 32) | (1ull << 62);
}

__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

// Keeps the compiler from moving reads or writes of registers that an asynchronous wgmma owns
// across the issue/wait points (the asm statements look synchronous to it).
template <int N>
__device__ __forceinline__ void fence_regs(float (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i])::"memory");
}
template <int N>
__device__ __forceinline__ void fence_regs(std::uint32_t (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+r"(r[i])::"memory");
}

template <typename T>
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<std::uint32_t*>(&v);
  } else {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<std::uint32_t*>(&v);
  }
}

// S(64x128) = Q(64xD) K(128xD)^T, issued and committed, not waited for.
template <typename T, int D>
__device__ __forceinline__ void issue_qk(float (&s)[64], std::uint32_t q_base,
                                         std::uint32_t k_base) {
  fence_regs(s);
  wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    // k-step kk: slab kk / 4, 32 bytes per 16 columns inside the 128-byte swizzled row.
    const std::uint32_t off = (kk / 4) * kSlabBytes + (kk % 4) * 32;
    const std::uint64_t da = make_desc(q_base + off, 16, 1024);
    const std::uint64_t db = make_desc(k_base + off, 16, 1024);
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      wgmma_m64n128k16_ss_bf16(s, da, db, kk > 0);
    } else {
      wgmma_m64n128k16_ss_f16(s, da, db, kk > 0);
    }
  }
  wgmma_commit();
  fence_regs(s);
}

// O(64xD) += P(64x128, registers) V(128xD), issued and committed, not waited for. V is
// MN-major: D is contiguous within a 64-column slab (LBO: the next slab), 8 keys are 1 KB (SBO),
// and a 16-key step is 2 KB.
template <typename T, int D>
__device__ __forceinline__ void issue_pv(float (&o)[D / 2], std::uint32_t (&p)[32],
                                         std::uint32_t v_base) {
  fence_regs(o);
  fence_regs(p);
  wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < kTileKv / 16; ++kk) {
    const std::uint64_t db = make_desc(v_base + kk * 16 * kRowBytes, kSlabBytes, 1024);
    if constexpr (D == 128) {
      if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        wgmma_m64n128k16_rs_bf16(o, &p[4 * kk], db);
      } else {
        wgmma_m64n128k16_rs_f16(o, &p[4 * kk], db);
      }
    } else {
      if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        wgmma_m64n64k16_rs_bf16(o, &p[4 * kk], db);
      } else {
        wgmma_m64n64k16_rs_f16(o, &p[4 * kk], db);
      }
    }
  }
  wgmma_commit();
  fence_regs(o);
}

// 2^x by the SFU alone (ex2.approx.ftz: subnormal results flush to 0, which a probability that
// small never needed); exp2f adds range fix-ups around the same instruction.
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Online softmax of one S tile (exp2 form). Each thread holds rows r (registers i with bit 1
// clear) and r + 8 (bit 1 set) of its warp's 16 rows; a row's 128 values are spread over the 4
// threads of a quad. Leaves exp2(S * scale_log2 - m) in s and the old-to-new correction in corr.
__device__ __forceinline__ void softmax_tile(float (&s)[64], float (&m)[2], float (&l)[2],
                                             float (&corr)[2], float scale_log2) {
  const float m_old[2] = {m[0], m[1]};
  // The maximum of the raw scores, scaled once (scale_log2 > 0 keeps the order): 64 multiplies
  // fewer per tile on the FP32 pipe that softmax shares with nothing but itself.
  float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
  for (int i = 0; i < 64; ++i) mx[(i >> 1) & 1] = fmaxf(mx[(i >> 1) & 1], s[i]);
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
    mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
    m[r] = fmaxf(m_old[r], mx[r] * scale_log2);
  }
  // A row with no allowed key so far keeps m = -inf; subtracting 0 instead keeps its
  // exponentials exp2(-inf) = 0 rather than NaN (and its old l and O are 0 anyway).
  float m_use[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    m_use[r] = m[r] == -INFINITY ? 0.f : m[r];
    corr[r] = fast_exp2(m_old[r] - m_use[r]);  // m_old = -inf: 0
  }
  float sum[2] = {0.f, 0.f};
#pragma unroll
  for (int i = 0; i < 64; ++i) {
    const int r = (i >> 1) & 1;
    s[i] = fast_exp2(fmaf(s[i], scale_log2, -m_use[r]));
    sum[r] += s[i];
  }
  // Per-thread partial sums: the quad's are added once, at the end.
  l[0] = l[0] * corr[0] + sum[0];
  l[1] = l[1] * corr[1] + sum[1];
}

// P as wgmma's A fragment: k-step kk covers S columns 16kk..16kk+15, i.e. accumulator registers
// 8kk..8kk+7 in the order (row r, cols 2q..), (r+8, 2q..), (r, 8+2q..), (r+8, 8+2q..).
template <typename T>
__device__ __forceinline__ void pack_p(const float (&s)[64], std::uint32_t (&p)[32]) {
#pragma unroll
  for (int i = 0; i < 32; ++i) p[i] = pack2<T>(s[2 * i], s[2 * i + 1]);
}

// Named barriers 1 and 2 order the two consumer warpgroups' GEMM issues (ping-pong): warpgroup c
// waits on barrier 1 + c, which the other warpgroup arrives at once it has issued its own GEMMs, so
// one warpgroup's softmax runs while the other's GEMMs occupy the tensor cores.
__device__ __forceinline__ void named_sync(int id) {
  asm volatile("bar.sync %0, 256;\n" ::"r"(id) : "memory");
}
__device__ __forceinline__ void named_arrive(int id) {
  asm volatile("bar.arrive %0, 256;\n" ::"r"(id) : "memory");
}

// Named barrier `id` over `threads` threads that need not be warp-converged (barrier.sync is the
// non-.aligned form): 3 and 4 are each consumer warpgroup's own, 5 the whole CTA's at each work
// item (0 is __syncthreads', 1 and 2 the ping-pong's).
__device__ __forceinline__ void barrier_sync(int id, int threads) {
  asm volatile("barrier.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

template <int N>
__device__ __forceinline__ void rescale(float (&o)[N], const float (&corr)[2]) {
#pragma unroll
  for (int i = 0; i < N; ++i) o[i] *= corr[(i >> 1) & 1];
}

// What a CTA needs besides the tensor maps (passed by value).
struct KernelArgs {
  void* out;
  int seq_q, seq_kv, q_heads, kv_heads;
  float scale_log2;
  // FlexAttention BlockMask lists; kv_num_blocks == nullptr means dense (every tile FULL).
  const std::int32_t* kv_num_blocks;
  const std::int32_t* kv_indices;
  const std::int32_t* full_kv_num_blocks;
  const std::int32_t* full_kv_indices;
  int mask_batch, mask_heads, num_q_blocks, num_kv_blocks;
  int tiles_per_block;  // block_kv / 128
  TokenRuleParams rule;
  // Persistent grid: CTA c runs work items items[c], items[c + gridDim.x], ..., each
  // (b * q_heads + h) * q_tiles + query tile; nullptr: one item per CTA, from blockIdx.
  const std::int32_t* items;
  int n_items;
  int q_tiles;  // ceil(seq_q / 128)
};

// Rules whose PARTIAL tiles keep a key interval per row and take the interval path below: the
// window (causal, band, causal_window), documents (the interval and the document-id word) and
// kNeighborhood1d.
template <TokenRule kRule>
constexpr bool kIntervalPath =
    kRule == TokenRule::kWindow || kRule == TokenRule::kDocument || kRowInterval<kRule>;

// The interval path's per-element test. At d64 a tile's two GEMMs take about as long as its
// softmax's exponentials, and the integer compares run beside the softmax's own ALU work
// (FMNMX, FSEL), so every compare per element shows (H200, 2026-12-03: document-026 0.84x
// FlexAttention's speed). A warp's 16 rows keep intervals whose bounds are nondecreasing in the
// row, so one warp-uniform check per tile says whether any of its rows can cut keys at the lower
// bound (kLo) and whether any at the upper bound (kHi; always set on tiles reaching past seq_kv,
// where every interval ends): a causal diagonal tile or a band's edge tile tests one bound, a
// document tile inside the window (every tile of non-causal documents) no bound, only the
// document ids. The bounds are taken relative to this thread's first key, so each compare is
// against an immediate (as in kNeighborhood1d's original test).
//
// Documents: most PARTIAL tiles of documents longer than a tile lie inside one document. The
// staging warps record, per 32 keys, the first key's document id and whether all 32 share it
// (stage_key_words); a tile whose four summaries agree holds one document, and then each row's
// test is one compare for the whole tile instead of one per key (and none when every row of the
// thread is in that document and no bound cuts the tile).
template <TokenRule kRule, bool kLo, bool kHi>
__device__ __forceinline__ void mask_interval(float (&s)[64], const rules::RowState (&row)[2],
                                              int kv0, int quad, const std::uint32_t* words) {
  bool uniform = false, keep[2] = {true, true};
  if constexpr (kRule == TokenRule::kDocument) {
    const uint2 w0 = *reinterpret_cast<const uint2*>(words + kTileKv);
    const uint2 w1 = *reinterpret_cast<const uint2*>(words + kTileKv + 2);
    const uint2 w2 = *reinterpret_cast<const uint2*>(words + kTileKv + 4);
    const uint2 w3 = *reinterpret_cast<const uint2*>(words + kTileKv + 6);
    uniform = (w0.y & w1.y & w2.y & w3.y) != 0u && w0.x == w1.x && w0.x == w2.x && w0.x == w3.x;
    keep[0] = row[0].low == w0.x;
    keep[1] = row[1].low == w0.x;
    if (uniform && !kLo && !kHi && keep[0] && keep[1]) return;
  }
  int lo[2], hi[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    lo[r] = row[r].lo - (kv0 + 2 * quad);
    hi[r] = row[r].hi - (kv0 + 2 * quad);
  }
  if constexpr (kRule == TokenRule::kDocument) {
    if (uniform) {  // one document: the rows' own test, and the bounds
#pragma unroll
      for (int n = 0; n < kTileKv / 8; ++n)
#pragma unroll
        for (int r = 0; r < 2; ++r)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            const int off = n * 8 + c;
            bool ok = keep[r];
            if constexpr (kLo) ok = ok & (off >= lo[r]);
            if constexpr (kHi) ok = ok & (off <= hi[r]);
            if (!ok) s[4 * n + 2 * r + c] = -INFINITY;
          }
      return;
    }
  }
#pragma unroll
  for (int n = 0; n < kTileKv / 8; ++n) {  // registers 4n..4n+3: keys 8n + 2 quad + {0, 1}
    uint2 w = make_uint2(0u, 0u);
    if constexpr (kRule == TokenRule::kDocument) {
      w = *reinterpret_cast<const uint2*>(words + n * 8 + 2 * quad);
    }
#pragma unroll
    for (int r = 0; r < 2; ++r)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int off = n * 8 + c;
        bool ok = true;
        if constexpr (kLo) ok = ok & (off >= lo[r]);
        if constexpr (kHi) ok = ok & (off <= hi[r]);
        if constexpr (kRule == TokenRule::kDocument) ok = ok & ((c == 0 ? w.x : w.y) == row[r].low);
        if (!ok) s[4 * n + 2 * r + c] = -INFINITY;
      }
  }
}

// A PARTIAL tile's per-element test for the other rules (kTail: the tile reaches past seq_kv, so
// keys there go too).
template <TokenRule kRule, bool kTail>
__device__ __forceinline__ void mask_partial(float (&s)[64], const rules::RowState (&row)[2],
                                             const std::uint32_t (&bits)[2][kTileKv / 32], int kv0,
                                             int quad, int seq_kv, const std::uint32_t* words,
                                             std::uint32_t guards) {
#pragma unroll
  for (int n = 0; n < kTileKv / 8; ++n) {  // registers 4n..4n+3: keys 8n + 2 quad + {0, 1}
    uint2 w = make_uint2(0u, 0u);
    if constexpr (rules::kUsesWords<kRule>) {
      w = *reinterpret_cast<const uint2*>(words + n * 8 + 2 * quad);
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int kv = kv0 + n * 8 + 2 * quad + c;
        bool token_bit = true;
        if constexpr (kRule == TokenRule::kTokenMask) {
          token_bit = (bits[r][n / 4] >> ((n % 4) * 8 + 2 * quad + c)) & 1u;
        }
        bool ok = rules::partial_allows<kRule>(row[r], kv, c == 0 ? w.x : w.y, token_bit, guards);
        if constexpr (kTail && !rules::kHasInterval<kRule>) ok = ok && kv < seq_kv;
        if (!ok) s[4 * n + 2 * r + c] = -INFINITY;
      }
    }
  }
}

// Tiles that need it (PARTIAL ones, and any reaching past seq_kv) get their disallowed scores set
// to -inf, by the rule code the old kernel uses (golden/token_rule_device.cuh). q0: this thread's
// first query row (the other is q0 + 8); kv0: the tile's first key; quad: lane % 4 (columns
// 2 quad, 2 quad + 1 of every 8); low/span: the two rows' words and `words` the tile's key words
// (word rules, PARTIAL tiles); need_lo/need_hi: the interval path's warp-uniform bound checks.
template <TokenRule kRule>
__device__ __forceinline__ void mask_tile(float (&s)[64], const TokenRuleParams& rule,
                                          bool is_partial, int q0, int kv0, int quad, int seq_q,
                                          int seq_kv, const std::uint32_t (&low)[2],
                                          const std::uint32_t (&span)[2],
                                          const std::uint32_t* words, bool need_lo, bool need_hi) {
  if (!is_partial) {  // a FULL tile reaching past seq_kv: only its tail goes
#pragma unroll
    for (int i = 0; i < 64; ++i)
      if (kv0 + (i / 4) * 8 + 2 * quad + (i & 1) >= seq_kv) s[i] = -INFINITY;
    return;
  }
  rules::RowState row[2];
  std::uint32_t bits[2][kTileKv / 32];  // kTokenMask: each row's 128 key bits
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row[r] = rules::row_state<kRule>(rule, true, q0 + 8 * r, seq_kv, low[r], span[r]);
    if constexpr (kRowInterval<kRule>) {  // low and span hold the row's interval
      row[r].lo = static_cast<int>(low[r]);
      row[r].hi = static_cast<int>(span[r]);
    }
    if constexpr (kRule == TokenRule::kTokenMask) {
      rules::token_mask_bits(rule, q0 + 8 * r < seq_q, q0 + 8 * r, kv0, bits[r]);
    }
  }
  if constexpr (kIntervalPath<kRule>) {
    if (need_lo) {
      if (need_hi) {
        mask_interval<kRule, true, true>(s, row, kv0, quad, words);
      } else {
        mask_interval<kRule, true, false>(s, row, kv0, quad, words);
      }
    } else if (need_hi) {
      mask_interval<kRule, false, true>(s, row, kv0, quad, words);
    } else if constexpr (kRule == TokenRule::kDocument) {
      mask_interval<kRule, false, false>(s, row, kv0, quad, words);
    }
  } else {
    const std::uint32_t guards = neighborhood_guards(rule.grid_rank);  // kNeighborhood
    if (kv0 + kTileKv > seq_kv) {
      mask_partial<kRule, true>(s, row, bits, kv0, quad, seq_kv, words, guards);
    } else {
      mask_partial<kRule, false>(s, row, bits, kv0, quad, seq_kv, words, guards);
    }
  }
}

// kRuleArg and kPerRow name the rule (kNeighborhood and kPerRow: kNeighborhood1d; kDocument and
// kPerRow: kDocumentRuns): a kernel's template arguments name only TokenRule's own values.
template <typename T, int D, bool kOverlap, bool kPingpong, TokenRule kRuleArg, bool kPerRow>
__global__ void __launch_bounds__(kThreads, 1)
    attention_fwd_sm90(const __grid_constant__ CUtensorMap tm_q,
                       const __grid_constant__ CUtensorMap tm_k,
                       const __grid_constant__ CUtensorMap tm_v, const KernelArgs args) {
  constexpr TokenRule kRule = !kPerRow                           ? kRuleArg
                              : kRuleArg == TokenRule::kDocument ? kDocumentRuns
                                                                 : kNeighborhood1d;
  const int seq_q = args.seq_q, seq_kv = args.seq_kv;
  const int q_heads = args.q_heads, kv_heads = args.kv_heads;
  const float scale_log2 = args.scale_log2;
  using L = Layout<D>;
  extern __shared__ std::uint8_t smem_raw[];
  // Swizzled tiles must start on 1 KB: the swizzle pattern is a function of address bits 4-9.
  const std::uint32_t raw = smem_u32(smem_raw);
  const std::uint32_t base = (raw + 1023u) & ~1023u;
  const std::uint32_t bars = base + L::kBarriers;
  const std::uint32_t q_full = bars;
  auto k_full = [&](int s) { return bars + 8u * (1 + s); };
  auto v_full = [&](int s) { return bars + 8u * (1 + kStages + s); };
  auto k_empty = [&](int s) { return bars + 8u * (1 + 2 * kStages + s); };
  auto v_empty = [&](int s) { return bars + 8u * (1 + 3 * kStages + s); };
  const int warpgroup = threadIdx.x / 128;

  // Work items: one per CTA from blockIdx (FlexAttention's grid), or, on the persistent grid,
  // items[blockIdx.x + k gridDim.x] (the host orders them longest first).
  const bool persistent = args.items != nullptr;
  const int first_item = persistent ? static_cast<int>(blockIdx.x) : 0;
  const int item_step = persistent ? static_cast<int>(gridDim.x) : 1;
  const int n_items = persistent ? args.n_items : 1;
  const bool dense = args.kv_num_blocks == nullptr;
  struct Item {
    int q_tile, h, b, n_partial, n_tiles;
    const int* blocks;  // shared memory: the item's key blocks, PARTIAL then FULL
  };
  // Decodes work item w and copies its key blocks into list buffer `parity` (every thread of the
  // CTA takes part), then waits for the whole CTA: after that barrier every thread is done with
  // the item before the last (which used this buffer), so the producer may also reload Q.
  auto decode_item = [&](int w) {
    Item it{};
    if (persistent) {
      const int packed = args.items[w];
      it.q_tile = packed % args.q_tiles;
      it.h = (packed / args.q_tiles) % q_heads;
      it.b = packed / args.q_tiles / q_heads;
    } else {
      it.q_tile = blockIdx.x;
      it.h = blockIdx.y;
      it.b = blockIdx.z;
    }
    return it;
  };
  auto begin_item = [&](int w, int parity) {
    Item it = decode_item(w);
    int* const list =
        reinterpret_cast<int*>(smem_raw + (base - raw) + L::kBlockList) + parity * kMaxKvBlocks;
    it.blocks = list;
    if (dense) {
      it.n_tiles = (seq_kv + kTileKv - 1) / kTileKv;
    } else {
      const int mb = args.mask_batch == 1 ? 0 : it.b, mh = args.mask_heads == 1 ? 0 : it.h;
      const std::int64_t row =
          (std::int64_t{mb} * args.mask_heads + mh) * args.num_q_blocks + it.q_tile;
      it.n_partial = args.kv_num_blocks[row];
      const int n_blocks = it.n_partial + args.full_kv_num_blocks[row];
      const std::int32_t* partial = args.kv_indices + row * args.num_kv_blocks;
      const std::int32_t* full = args.full_kv_indices + row * args.num_kv_blocks;
      for (int i = threadIdx.x; i < n_blocks; i += kThreads)
        list[i] = i < it.n_partial ? partial[i] : full[i - it.n_partial];
      it.n_tiles = n_blocks * args.tiles_per_block;
    }
    barrier_sync(5, kThreads);
    return it;
  };
  const int tiles_per_block = dense ? 1 : args.tiles_per_block;
  // First key of the item's tile j.
  auto tile_kv = [&](const Item& it, int j) {
    const int blk = j / tiles_per_block;
    const int kv_block = dense ? blk : it.blocks[blk];
    return (kv_block * tiles_per_block + (j - blk * tiles_per_block)) * kTileKv;
  };

  if (threadIdx.x == 0) {
    mbar_init(q_full, 1);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(k_full(s), 1);
      mbar_init(v_full(s), 1);
      mbar_init(k_empty(s), 256);
      mbar_init(v_empty(s), 256);
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  // Stages and barrier phases follow a tile count that runs on across a CTA's work items (g).
  if (warpgroup == 0) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 24;\n" ::: "memory");
    auto q_row0 = [&](const Item& it) {
      return (it.b * q_heads + it.h) * seq_q + it.q_tile * kTileQ;
    };
    auto kv_row0 = [&](const Item& it) {
      return (it.b * kv_heads + it.h / (q_heads / kv_heads)) * seq_kv;
    };
    auto load_q = [&](int q_row) {
      mbar_expect_tx(q_full, L::kTileBytes);
      for (int sl = 0; sl < L::kSlabs; ++sl)
        tma_load_2d(base + L::kQ + sl * kSlabBytes, &tm_q, q_full, sl * 64, q_row);
    };
    // The CTA's first item starts before its block list is in shared memory: Q needs no list,
    // and the first tile's block is read here with the list counts in one round of global loads
    // (both lists' first entries, whichever is taken), so Q, K and V of tile 0 are in flight
    // while the CTA copies the list and meets at its barrier. With one CTA per SM and items of
    // 3-10 tiles (bands, causal windows, short documents, block selections at S = 4096) the
    // list copy's two dependent loads and the barrier before any TMA were a serial latency of
    // every CTA. Tile 0 goes to stage 0 (g = 0), which no earlier tile used.
    // The word-path neighborhood kernels (kNeighborhood: gna, dilated sliding windows) keep the
    // old start: with it their consumer PTX is unchanged, yet ptxas, which allocates and
    // schedules the whole kernel, made them 1-4 % slower at d64 (H200, 2026-12-03, rules dataset,
    // 18 masks), while their items (many PARTIAL tiles each) gain nothing from an earlier tile 0.
    constexpr bool kEarlyStart = kRule != TokenRule::kNeighborhood;
    int early = 0;  // tiles of the first item already issued
    if (kEarlyStart && threadIdx.x == 0 && first_item < n_items) {
      const Item it = decode_item(first_item);
      load_q(q_row0(it));
      int first_block = 0, n_blocks = 1;
      if (!dense) {
        const int mb = args.mask_batch == 1 ? 0 : it.b, mh = args.mask_heads == 1 ? 0 : it.h;
        const std::int64_t row =  // the item's row of the lists, as in begin_item
            (std::int64_t{mb} * args.mask_heads + mh) * args.num_q_blocks + it.q_tile;
        const int n_partial = args.kv_num_blocks[row];
        const int n_full = args.full_kv_num_blocks[row];
        const int p0 = args.kv_indices[row * args.num_kv_blocks];
        const int f0 = args.full_kv_indices[row * args.num_kv_blocks];
        n_blocks = n_partial + n_full;
        first_block = n_partial > 0 ? p0 : f0;
      }
      if (n_blocks > 0) {
        const int row = kv_row0(it) + first_block * tiles_per_block * kTileKv;
        mbar_expect_tx(k_full(0), L::kTileBytes);
        for (int sl = 0; sl < L::kSlabs; ++sl)
          tma_load_2d(base + L::kK + sl * kSlabBytes, &tm_k, k_full(0), sl * 64, row);
        mbar_expect_tx(v_full(0), L::kTileBytes);
        for (int sl = 0; sl < L::kSlabs; ++sl)
          tma_load_2d(base + L::kV + sl * kSlabBytes, &tm_v, v_full(0), sl * 64, row);
        early = 1;
      }
    }
    int g = 0, iter = 0;
    for (int w = first_item; w < n_items; w += item_step, ++iter) {
      const Item it = begin_item(w, iter & 1);
      if (threadIdx.x == 0) {
        const int q_row = q_row0(it), kv_row = kv_row0(it);
        if (!kEarlyStart || iter > 0) load_q(q_row);
        for (int j = iter == 0 ? early : 0; j < it.n_tiles; ++j) {
          const int t = g + j;
          const int s = t % kStages;
          const std::uint32_t parity = (t / kStages) & 1;
          const int row = kv_row + tile_kv(it, j);
          // The stage's previous tile (t - kStages) must be released: that was phase parity ^ 1.
          if (t >= kStages) mbar_wait(k_empty(s), parity ^ 1);
          mbar_expect_tx(k_full(s), L::kTileBytes);
          for (int sl = 0; sl < L::kSlabs; ++sl)
            tma_load_2d(base + L::kK + s * L::kTileBytes + sl * kSlabBytes, &tm_k, k_full(s),
                        sl * 64, row);
          if (t >= kStages) mbar_wait(v_empty(s), parity ^ 1);
          mbar_expect_tx(v_full(s), L::kTileBytes);
          for (int sl = 0; sl < L::kSlabs; ++sl)
            tma_load_2d(base + L::kV + s * L::kTileBytes + sl * kSlabBytes, &tm_v, v_full(s),
                        sl * 64, row);
        }
      }
      __syncwarp();
      g += it.n_tiles;
    }
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 240;\n" ::: "memory");
    const int cw = warpgroup - 1;  // rows 64 cw .. 64 cw + 63 of the Q tile
    const int tid = threadIdx.x % 128;
    const int warp = tid / 32, lane = tid % 32;
    const std::uint32_t q_base = base + L::kQ + cw * 64 * kRowBytes;
    std::uint32_t* const key_words =
        reinterpret_cast<std::uint32_t*>(smem_raw + (base - raw) + L::kKeyWords) +
        cw * 2 * kKeyWordStride<kRule>;
    // Key-word buffers alternate per staged tile (kw_staged): between two writes of one buffer
    // lies the other's barrier, which every reader of the first has passed.
    int g = 0, iter = 0, kw_staged = 0;
    for (int w = first_item; w < n_items; w += item_step, ++iter) {
      const Item it = begin_item(w, iter & 1);
      const int q_first = it.q_tile * kTileQ + cw * 64;  // this warpgroup's first row
      const int q_pos = q_first + warp * 16 + lane / 4;  // this thread's rows: q_pos, q_pos + 8
      std::uint32_t row_low[2] = {0u, 0u}, row_span[2] = {0u, 0u};  // word rules
      if constexpr (rules::kUsesWords<kRule>) {
#pragma unroll
        for (int r = 0; r < 2; ++r)
          rules::row_words<kRule>(args.rule, it.b, q_pos + 8 * r, seq_q, seq_kv, &row_low[r],
                                  &row_span[r]);
      }
      int cover_lo = 0, cover_hi = -1;  // kRowInterval: the keys every row here keeps
      if constexpr (kRowInterval<kRule>) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const int2 keys = row_interval<kRule>(args.rule, it.b, q_pos + 8 * r, seq_q);
          row_low[r] = static_cast<std::uint32_t>(keys.x);
          row_span[r] = static_cast<std::uint32_t>(keys.y);
        }
        cover_lo = row_interval<kRule>(args.rule, it.b, q_first + 63, seq_q).x;
        cover_hi = row_interval<kRule>(args.rule, it.b, q_first, seq_q).y;
      }
      // The interval path (mask_interval): the largest lower bound and the smallest upper bound
      // of this warp's 16 rows (the last row's start, the first row's end).
      int warp_lo_max = 0, warp_hi_min = seq_kv - 1;
      if constexpr (kRowInterval<kRule>) {
        warp_lo_max = row_interval<kRule>(args.rule, it.b, q_first + warp * 16 + 15, seq_q).x;
        warp_hi_min = row_interval<kRule>(args.rule, it.b, q_first + warp * 16, seq_q).y;
      } else if constexpr (kIntervalPath<kRule>) {
        warp_lo_max = q_first + warp * 16 + 15 - args.rule.window_left;
        warp_hi_min = min(seq_kv - 1, q_first + warp * 16 + min(args.rule.window_right, seq_kv));
      }
      // Documents: the next PARTIAL tile's key word (one per thread), loaded from global memory a
      // tile ahead of its staging so the load's latency hides behind a whole tile (at d64 a
      // QK^T is shorter than an L2 load under load).
      std::uint32_t kw_next = 0u;
      if constexpr (kRule == TokenRule::kDocument) {
        if (it.n_partial > 0)
          kw_next = rules::key_word<kRule>(args.rule, it.b, tile_kv(it, 0) + tid, seq_kv);
      }
      float o[D / 2];
#pragma unroll
      for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
      float s_acc[64];
      std::uint32_t p[32];
      float m[2] = {-INFINITY, -INFINITY};
      float l[2] = {0.f, 0.f};
      float corr[2];

      // Word rules: tile j's key words, one per thread, into a shared buffer and the
      // warpgroup's barrier; both loops call it right after issuing tile j's QK^T, so it runs
      // while the tensor cores work. nullptr when tile j is not PARTIAL.
      auto stage_key_words = [&](int j) -> const std::uint32_t* {
        if constexpr (rules::kUsesWords<kRule>) {
          if (j / tiles_per_block < it.n_partial) {
            std::uint32_t* buf = key_words + (kw_staged++ & 1) * kKeyWordStride<kRule>;
            if constexpr (kRule == TokenRule::kDocument) {
              buf[tid] = kw_next;
              // This warp's 32 keys: their first id and whether all share it (mask_interval).
              const std::uint32_t first = __shfl_sync(0xffffffffu, kw_next, 0);
              const bool same = __all_sync(0xffffffffu, kw_next == first);
              if (lane == 0) {
                buf[kTileKv + 2 * warp] = first;
                buf[kTileKv + 2 * warp + 1] = same ? 1u : 0u;
              }
              if ((j + 1) / tiles_per_block < it.n_partial)
                kw_next = rules::key_word<kRule>(args.rule, it.b, tile_kv(it, j + 1) + tid, seq_kv);
            } else {
              buf[tid] = rules::key_word<kRule>(args.rule, it.b, tile_kv(it, j) + tid, seq_kv);
            }
            barrier_sync(3 + cw, 128);
            return buf;
          }
        }
        return nullptr;
      };
      // One tile's scores, once QK^T(j) has landed in s_acc: the token rule on the tiles that
      // need it (PARTIAL ones, and any reaching past seq_kv), then the online softmax. Both
      // consumer loops below run this one step.
      auto mask_and_softmax = [&](int j, const std::uint32_t* words) {
        const int kv0 = tile_kv(it, j);
        const bool is_partial = j / tiles_per_block < it.n_partial;
        const bool past_end = kv0 + kTileKv > seq_kv;
        bool needs_mask;
        if constexpr (kRowInterval<kRule>) {
          needs_mask =
              past_end || (is_partial && !(kv0 >= cover_lo && kv0 + kTileKv - 1 <= cover_hi));
        } else {
          needs_mask =
              rules::tile_needs_mask<kRule>(args.rule, is_partial, past_end, q_first,
                                            min(q_first + 64, seq_q) - 1, kv0, kv0 + kTileKv - 1);
        }
        if (needs_mask) {
          const bool need_lo = kv0 < warp_lo_max;
          const bool need_hi = kv0 + kTileKv - 1 > warp_hi_min;
          mask_tile<kRule>(s_acc, args.rule, is_partial, q_pos, kv0, lane % 4, seq_q, seq_kv,
                           row_low, row_span, words, need_lo, need_hi);
        }
        softmax_tile(s_acc, m, l, corr, scale_log2);
      };

      mbar_wait(q_full, iter & 1);
      if constexpr (!kOverlap) {
        for (int j = 0; j < it.n_tiles; ++j) {
          const int s = (g + j) % kStages;
          const std::uint32_t parity = ((g + j) / kStages) & 1;
          mbar_wait(k_full(s), parity);
          issue_qk<T, D>(s_acc, q_base, base + L::kK + s * L::kTileBytes);
          const std::uint32_t* words = stage_key_words(j);
          wgmma_wait<0>();
          fence_regs(s_acc);
          mbar_arrive(k_empty(s));
          mask_and_softmax(j, words);
          rescale(o, corr);
          pack_p<T>(s_acc, p);
          mbar_wait(v_full(s), parity);
          issue_pv<T, D>(o, p, base + L::kV + s * L::kTileBytes);
          wgmma_wait<0>();
          fence_regs(o);
          fence_regs(p);
          mbar_arrive(v_empty(s));
        }
      } else if (it.n_tiles > 0) {
        // Tile 0's scores first; then each step issues QK^T(j) and PV(j-1) together and runs
        // softmax(j) while PV(j-1) is still on the tensor cores. An item with no tiles (an empty
        // row of blocks) skips all of it, both consumers alike, and writes zeros.
        if constexpr (kPingpong) {
          if (cw == 1) named_arrive(1);  // warpgroup 0 issues first
          named_sync(1 + cw);
        }
        const int s0 = g % kStages;
        mbar_wait(k_full(s0), (g / kStages) & 1);
        issue_qk<T, D>(s_acc, q_base, base + L::kK + s0 * L::kTileBytes);
        if constexpr (kPingpong) named_arrive(2 - cw);
        const std::uint32_t* words0 = stage_key_words(0);
        wgmma_wait<0>();
        fence_regs(s_acc);
        mbar_arrive(k_empty(s0));
        mask_and_softmax(0, words0);
        pack_p<T>(s_acc, p);
        for (int j = 1; j < it.n_tiles; ++j) {
          const int s = (g + j) % kStages;
          const std::uint32_t parity = ((g + j) / kStages) & 1;
          const int sp = (g + j - 1) % kStages;
          const std::uint32_t parity_p = ((g + j - 1) / kStages) & 1;
          if constexpr (kPingpong) named_sync(1 + cw);
          mbar_wait(k_full(s), parity);
          issue_qk<T, D>(s_acc, q_base, base + L::kK + s * L::kTileBytes);
          mbar_wait(v_full(sp), parity_p);
          issue_pv<T, D>(o, p, base + L::kV + sp * L::kTileBytes);
          if constexpr (kPingpong) named_arrive(2 - cw);
          const std::uint32_t* words = stage_key_words(j);
          wgmma_wait<1>();  // groups retire in order: QK^T(j) is done, PV(j-1) may not be
          fence_regs(s_acc);
          mbar_arrive(k_empty(s));
          mask_and_softmax(j, words);
          wgmma_wait<0>();
          fence_regs(o);
          fence_regs(p);
          mbar_arrive(v_empty(sp));
          rescale(o, corr);
          pack_p<T>(s_acc, p);
        }
        const int t_last = g + it.n_tiles - 1;
        const int sl = t_last % kStages;
        if constexpr (kPingpong) named_sync(1 + cw);
        mbar_wait(v_full(sl), (t_last / kStages) & 1);
        issue_pv<T, D>(o, p, base + L::kV + sl * L::kTileBytes);
        // Warpgroup 0 has no turn left to wait for: warpgroup 1 leaves its last arrive out, so
        // every named-barrier phase completes before the item ends.
        if constexpr (kPingpong) {
          if (cw == 0) named_arrive(2);
        }
        wgmma_wait<0>();
        fence_regs(o);
        fence_regs(p);
        mbar_arrive(v_empty(sl));
      }
      g += it.n_tiles;

      // Epilogue: the quad's partial row sums, then O / l straight from the accumulators.
      float inv[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
        inv[r] = l[r] > 0.f ? 1.f / l[r] : 0.f;
      }
      // Rows past seq_q (the last Q tile of a ragged length) belong to the next head: not ours.
      T* const out = static_cast<T*>(args.out);
      const int row = (it.b * q_heads + it.h) * seq_q + q_pos;
#pragma unroll
      for (int i = 0; i < D / 2; i += 2) {
        const int r = (i >> 1) & 1;
        if (q_pos + 8 * r >= seq_q) continue;
        const int col = (i / 4) * 8 + 2 * (lane % 4);
        const std::uint32_t v = pack2<T>(o[i] * inv[r], o[i + 1] * inv[r]);
        *reinterpret_cast<std::uint32_t*>(out + static_cast<std::int64_t>(row + 8 * r) * D + col) =
            v;
      }
    }
  }
}

// cuTensorMapEncodeTiled through the runtime's driver entry point, so nothing links -lcuda.
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult status{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault,
                                         &status) == cudaSuccess &&
        status == cudaDriverEntryPointSuccess)
      fn = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  });
  return fn;
}

// A [rows][head_dim] 16-bit matrix read in boxes of 128 rows x 64 columns (128 bytes: the most
// the 128-byte swizzle allows per row).
bool encode_map(CUtensorMap* map, const void* ptr, std::int64_t rows, int head_dim,
                CUtensorMapDataType type) {
  auto encode = tensor_map_encoder();
  if (encode == nullptr) return false;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(head_dim), static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(head_dim) * 2};
  const cuuint32_t box[2] = {64, static_cast<cuuint32_t>(kTileKv)};
  const cuuint32_t elem_strides[2] = {1, 1};
  return encode(map, type, 2, const_cast<void*>(ptr), dims, strides, box, elem_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

template <typename T, int D, bool kOverlap, bool kPingpong, TokenRule kRule>
int launch_typed(const AttentionShape& shape, const void* q, const void* k, const void* v,
                 const KernelArgs& args, cudaStream_t stream) {
  const CUtensorMapDataType dt = std::is_same_v<T, __nv_bfloat16> ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                                  : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  CUtensorMap mq, mk, mv;
  const std::int64_t q_rows = std::int64_t{shape.batch} * shape.q_heads * shape.seq_q;
  const std::int64_t kv_rows = std::int64_t{shape.batch} * shape.kv_heads * shape.seq_kv;
  if (!encode_map(&mq, q, q_rows, D, dt) || !encode_map(&mk, k, kv_rows, D, dt) ||
      !encode_map(&mv, v, kv_rows, D, dt))
    return static_cast<int>(cudaErrorInvalidValue);
  constexpr bool kPerRow = kRowInterval<kRule>;
  constexpr TokenRule kRuleArg = kRule == kNeighborhood1d ? TokenRule::kNeighborhood
                                 : kRule == kDocumentRuns ? TokenRule::kDocument
                                                          : kRule;
  auto kernel = attention_fwd_sm90<T, D, kOverlap, kPingpong, kRuleArg, kPerRow>;
  const int smem = Layout<D>::kBytes;
  if (cudaError_t e =
          cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
      e != cudaSuccess)
    return static_cast<int>(e);
  dim3 grid((shape.seq_q + kTileQ - 1) / kTileQ, shape.q_heads, shape.batch);
  if (args.items != nullptr) {  // persistent: one CTA per SM (1 fits), at most one per item
    int device = 0, sms = 0;
    if (cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return static_cast<int>(e);
    if (cudaError_t e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
        e != cudaSuccess)
      return static_cast<int>(e);
    grid = dim3(std::max(1, std::min(args.n_items, sms * Sm90KernelGeometry::kCtasPerSm)), 1, 1);
  }
  kernel<<<grid, kThreads, smem, stream>>>(mq, mk, mv, args);
  return static_cast<int>(cudaGetLastError());
}

template <typename T, int D, TokenRule kRule>
int launch_schedule(Sm90Schedule schedule, const AttentionShape& shape, const void* q,
                    const void* k, const void* v, const KernelArgs& args, cudaStream_t stream) {
  switch (schedule) {
    case Sm90Schedule::kSerial:
      return launch_typed<T, D, false, false, kRule>(shape, q, k, v, args, stream);
    case Sm90Schedule::kOverlap:
      return launch_typed<T, D, true, false, kRule>(shape, q, k, v, args, stream);
    default:
      return launch_typed<T, D, true, true, kRule>(shape, q, k, v, args, stream);
  }
}

template <TokenRule kRule>
int launch_rule(ElementType type, Sm90Schedule schedule, const AttentionShape& shape, const void* q,
                const void* k, const void* v, const KernelArgs& args, cudaStream_t st) {
  const bool bf16 = type == ElementType::kBFloat16;
  if (shape.head_dim == 128)
    return bf16 ? launch_schedule<__nv_bfloat16, 128, kRule>(schedule, shape, q, k, v, args, st)
                : launch_schedule<__half, 128, kRule>(schedule, shape, q, k, v, args, st);
  return bf16 ? launch_schedule<__nv_bfloat16, 64, kRule>(schedule, shape, q, k, v, args, st)
              : launch_schedule<__half, 64, kRule>(schedule, shape, q, k, v, args, st);
}

KernelArgs make_args(const AttentionShape& shape, void* out, float softmax_scale) {
  KernelArgs a{};
  a.out = out;
  a.seq_q = shape.seq_q;
  a.seq_kv = shape.seq_kv;
  a.q_heads = shape.q_heads;
  a.kv_heads = shape.kv_heads;
  a.scale_log2 = softmax_scale * 1.4426950408889634f;
  a.tiles_per_block = 1;
  a.q_tiles = (shape.seq_q + kTileQ - 1) / kTileQ;
  return a;
}

int launch_sparse(ElementType type, const AttentionShape& shape, const void* q, const void* k,
                  const void* v, void* out, const BlockLists& lists, const TokenRuleParams& rule,
                  float softmax_scale, Sm90Schedule schedule, void* stream,
                  const std::int32_t* items, int n_items) {
  if (const std::string why = can_run_sparse(type, shape, lists, rule); !why.empty())
    throw std::invalid_argument("sm90 block-sparse attention: " + why);
  KernelArgs a = make_args(shape, out, softmax_scale);
  a.kv_num_blocks = lists.kv_num_blocks;
  a.kv_indices = lists.kv_indices;
  a.full_kv_num_blocks = lists.full_kv_num_blocks;
  a.full_kv_indices = lists.full_kv_indices;
  a.mask_batch = lists.mask_batch;
  a.mask_heads = lists.mask_heads;
  a.num_q_blocks = lists.num_q_blocks;
  a.num_kv_blocks = lists.num_kv_blocks;
  a.tiles_per_block = lists.block_kv / kTileKv;
  a.rule = rule;
  a.items = items;
  a.n_items = n_items;
  const auto st = static_cast<cudaStream_t>(stream);
  switch (rule.rule) {
    case TokenRule::kWindow:
      return launch_rule<TokenRule::kWindow>(type, schedule, shape, q, k, v, a, st);
    case TokenRule::kTokenMask:
      return launch_rule<TokenRule::kTokenMask>(type, schedule, shape, q, k, v, a, st);
    case TokenRule::kPrefixWindow:
      return launch_rule<TokenRule::kPrefixWindow>(type, schedule, shape, q, k, v, a, st);
    case TokenRule::kDocument:
      if (rule.document_runs != nullptr)
        return launch_rule<kDocumentRuns>(type, schedule, shape, q, k, v, a, st);
      return launch_rule<TokenRule::kDocument>(type, schedule, shape, q, k, v, a, st);
    case TokenRule::kNeighborhood:
      if (rule.grid_rank == 1 && rule.neighborhood_dilation[0] == 1)
        return launch_rule<kNeighborhood1d>(type, schedule, shape, q, k, v, a, st);
      return launch_rule<TokenRule::kNeighborhood>(type, schedule, shape, q, k, v, a, st);
    default:
      return launch_rule<TokenRule::kAllowAll>(type, schedule, shape, q, k, v, a, st);
  }
}

}  // namespace

std::string can_run_dense(ElementType type, const AttentionShape& s) {
  (void)type;
  std::string why;
  auto add = [&](const std::string& r) { why += (why.empty() ? "" : "; ") + r; };
  if (s.head_dim != 64 && s.head_dim != 128) add("head_dim must be 64 or 128");
  if (s.batch < 1 || s.q_heads < 1 || s.kv_heads < 1) add("batch and heads must be positive");
  if (s.kv_heads >= 1 && s.q_heads % s.kv_heads != 0) add("q_heads must be a multiple of kv_heads");
  if (s.seq_q < 1 || s.seq_kv < 1) add("sequence lengths must be positive");
  if (std::int64_t{s.seq_kv} > std::int64_t{kMaxKvBlocks} * kTileKv)
    add("seq_kv at most " + std::to_string(kMaxKvBlocks * kTileKv));
  // TMA coordinates and the kernel's row arithmetic are int32; the last tile may reach 127 rows
  // past the end.
  if (std::int64_t{s.batch} * s.q_heads * s.seq_q + kTileQ >= (std::int64_t{1} << 31) ||
      std::int64_t{s.batch} * s.kv_heads * s.seq_kv + kTileKv >= (std::int64_t{1} << 31))
    add("rows (batch x heads x seq) must fit in int32");
  if (s.q_heads > 65535 || s.batch > 65535) add("grid limits: heads and batch at most 65535");
  return why;
}

std::string can_run_sparse(ElementType type, const AttentionShape& shape, const BlockLists& lists,
                           const TokenRuleParams& rule) {
  std::string why = can_run_dense(type, shape);
  auto add = [&](const std::string& r) { why += (why.empty() ? "" : "; ") + r; };
  if (lists.block_q != kTileQ) add("mask block_q must be 128 (the kernel's query tile)");
  if (lists.block_kv <= 0 || lists.block_kv % kTileKv != 0)
    add("mask block_kv must be a positive multiple of 128 (the kernel's key tile)");
  if (std::int64_t{lists.num_q_blocks} * lists.block_q < shape.seq_q)
    add("the mask has too few query blocks");
  if (lists.block_kv > 0 && std::int64_t{lists.num_kv_blocks} * lists.block_kv < shape.seq_kv)
    add("the mask has too few key blocks");
  if (lists.num_kv_blocks > kMaxKvBlocks)
    add("at most " + std::to_string(kMaxKvBlocks) + " key blocks (the shared-memory block list)");
  if (lists.mask_batch != 1 && lists.mask_batch != shape.batch) add("mask batch must be 1 or B");
  if (lists.mask_heads != 1 && lists.mask_heads != shape.q_heads) add("mask heads must be 1 or H");
  if (!(lists.kv_num_blocks && lists.kv_indices && lists.full_kv_num_blocks &&
        lists.full_kv_indices))
    add("all four block-list arrays are required");
  if (const std::string rule_why = token_rule_reasons(shape, rule); !rule_why.empty())
    add(rule_why);  // the old kernel's checks: one definition of a well-formed rule
  return why;
}

int launch_dense_attention(ElementType type, const AttentionShape& shape, const void* q,
                           const void* k, const void* v, void* out, float softmax_scale,
                           Sm90Schedule schedule, void* stream) {
  if (const std::string why = can_run_dense(type, shape); !why.empty())
    throw std::invalid_argument("sm90 attention: " + why);
  return launch_rule<TokenRule::kAllowAll>(type, schedule, shape, q, k, v,
                                           make_args(shape, out, softmax_scale),
                                           static_cast<cudaStream_t>(stream));
}

int launch_sparse_attention(ElementType type, const AttentionShape& shape, const void* q,
                            const void* k, const void* v, void* out, const BlockLists& lists,
                            const TokenRuleParams& rule, float softmax_scale, Sm90Schedule schedule,
                            void* stream) {
  return launch_sparse(type, shape, q, k, v, out, lists, rule, softmax_scale, schedule, stream,
                       nullptr, 0);
}

int launch_sparse_attention_persistent(ElementType type, const AttentionShape& shape, const void* q,
                                       const void* k, const void* v, void* out,
                                       const BlockLists& lists, const TokenRuleParams& rule,
                                       float softmax_scale, const std::int32_t* order,
                                       int order_count, Sm90Schedule schedule, void* stream) {
  const std::int64_t items =
      std::int64_t{shape.batch} * shape.q_heads * ((shape.seq_q + kTileQ - 1) / kTileQ);
  if (order == nullptr || order_count != items)
    throw std::invalid_argument(
        "sm90 persistent attention: the work order must list every one of "
        "the " +
        std::to_string(items) + " (query tile, head, batch) items, got " +
        std::to_string(order_count));
  return launch_sparse(type, shape, q, k, v, out, lists, rule, softmax_scale, schedule, stream,
                       order, order_count);
}

std::vector<std::int32_t> longest_first_order(const AttentionShape& shape, int mask_batch,
                                              int mask_heads, int num_q_blocks,
                                              const std::vector<std::int32_t>& kv_num_blocks,
                                              const std::vector<std::int32_t>& full_kv_num_blocks) {
  const int q_tiles = (shape.seq_q + kTileQ - 1) / kTileQ;
  const std::size_t rows = std::size_t(mask_batch) * mask_heads * num_q_blocks;
  if (q_tiles > num_q_blocks || kv_num_blocks.size() != rows || full_kv_num_blocks.size() != rows)
    throw std::invalid_argument(
        "longest_first_order: kv_num_blocks and full_kv_num_blocks need mask_batch x mask_heads x "
        "num_q_blocks entries, num_q_blocks >= ceil(seq_q / 128)");
  std::vector<std::int32_t> order;
  order.reserve(std::size_t(shape.batch) * shape.q_heads * q_tiles);
  std::vector<std::pair<std::int64_t, int>> head;  // (visited blocks, query tile) of one head
  for (int b = 0; b < shape.batch; ++b)
    for (int h = 0; h < shape.q_heads; ++h) {
      head.clear();
      for (int qt = 0; qt < q_tiles; ++qt) {
        const std::size_t row =
            (std::size_t(mask_batch == 1 ? 0 : b) * mask_heads + (mask_heads == 1 ? 0 : h)) *
                num_q_blocks +
            qt;
        head.emplace_back(std::int64_t{kv_num_blocks[row]} + full_kv_num_blocks[row], qt);
      }
      std::stable_sort(head.begin(), head.end(),
                       [](const auto& x, const auto& y) { return x.first > y.first; });
      for (const auto& [blocks, qt] : head)
        order.push_back(
            static_cast<std::int32_t>((std::int64_t{b} * shape.q_heads + h) * q_tiles + qt));
    }
  return order;
}

}  // namespace attnsim::golden::sm90
