// Host API of the Hopper-native (sm_90a) attention forward kernel, issue #18's first increment:
// TMA bulk tensor copies into shared memory behind an mbarrier pipeline, wgmma for QK^T and PV, a
// producer warpgroup and two consumer warpgroups with setmaxnreg, online softmax.
// Dense problems, and block-sparse ones over the FlexAttention BlockMask lists with every token
// rule of the old kernel (golden/token_rule_device.cuh holds the device code both run), on
// FlexAttention's grid or on a persistent grid in longest-first order. Plain C++: callers need no
// CUDA headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/block_sparse_attention.h"  // ElementType, AttentionShape

namespace attnsim::golden::sm90 {

/// The kernel's geometry: a CTA is 128 queries (two consumer warpgroups of 64 rows) and walks
/// 128-key tiles through a 2-stage K/V pipeline; 1 CTA per SM (160 KB shared memory at d=128).
struct Sm90KernelGeometry {
  static constexpr int kTileQ = 128;
  static constexpr int kTileKv = 128;
  static constexpr int kStages = 2;
  static constexpr int kCtasPerSm = 1;
  static constexpr int kMaxKvBlocks = 1024;  ///< key blocks per mask row (a shared-memory list)
};

/// How the consumer warpgroups schedule their two GEMMs.
/// - kSerial: QK^T, softmax, PV, one after another per tile (the two consumer warpgroups still
///   overlap each other).
/// - kOverlap: FlashAttention-3's intra-warpgroup pipelining: tile j+1's QK^T and tile j's PV are
///   in flight while tile j+1's softmax runs.
/// - kPingpong: kOverlap, and the two consumer warpgroups take turns issuing their GEMMs (named
///   barriers), so one warpgroup's softmax runs under the other's GEMMs.
enum class Sm90Schedule { kSerial, kOverlap, kPingpong };

/// Empty string if a dense problem can run, else every reason it cannot: head_dim 64 or 128,
/// q_heads a multiple of kv_heads, seq_kv <= 1024 * 128. Any lengths (keys past seq_kv are
/// masked, rows past seq_q not written). The device must be compute capability 9.0.
std::string can_run_dense(ElementType type, const AttentionShape& shape);

/// As can_run_dense, and for the lists: block_q 128, block_kv a multiple of 128, at most 1024
/// key blocks, mask batch/heads 1 or B/H; every token rule, checked as the old kernel checks it
/// (golden::token_rule_reasons).
std::string can_run_sparse(ElementType type, const AttentionShape& shape, const BlockLists& lists,
                           const TokenRuleParams& rule);

/// Dense forward pass: Q, O [batch, q_heads, seq_q, head_dim], K, V [batch, kv_heads, seq_kv,
/// head_dim], contiguous. Returns a cudaError_t as an int (0 = success); throws
/// std::invalid_argument with can_run_dense's reasons.
int launch_dense_attention(ElementType type, const AttentionShape& shape, const void* q,
                           const void* k, const void* v, void* out, float softmax_scale,
                           Sm90Schedule schedule = Sm90Schedule::kPingpong, void* stream = nullptr);

/// Block-sparse forward pass over FlexAttention BlockMask lists, as the old kernel reads them
/// (golden/block_sparse_attention.h): each CTA (128 queries of one head) visits its PARTIAL
/// blocks, then its FULL blocks; PARTIAL tiles apply the token rule, FULL tiles nothing; keys past
/// seq_kv are always masked; rows with no allowed key output 0.
int launch_sparse_attention(ElementType type, const AttentionShape& shape, const void* q,
                            const void* k, const void* v, void* out, const BlockLists& lists,
                            const TokenRuleParams& rule, float softmax_scale,
                            Sm90Schedule schedule = Sm90Schedule::kPingpong,
                            void* stream = nullptr);

/// The persistent grid's work order: every (query tile, head, batch) item of `shape` as
/// (batch * q_heads + head) * ceil(seq_q / 128) + query tile; heads in grid order, and within each
/// head the query tiles longest first, by the key blocks they visit (PARTIAL + FULL, from the host
/// copies of the lists' counts [mask_batch, mask_heads, num_q_blocks]; ties in grid order). Within
/// a head, so the CTAs in flight share a few heads' K/V in L2 (a global sort put every head's
/// longest tile side by side and lost that: causal d128 1.26x FlexAttention against the flat
/// grid's 1.39x, 2026-12-03-sm90-dataset); causal masks start each head with its last tiles.
std::vector<std::int32_t> longest_first_order(const AttentionShape& shape, int mask_batch,
                                              int mask_heads, int num_q_blocks,
                                              const std::vector<std::int32_t>& kv_num_blocks,
                                              const std::vector<std::int32_t>& full_kv_num_blocks);

/// launch_sparse_attention on a persistent grid: min(items, SMs) CTAs, CTA c running items
/// order[c], order[c + grid], ... (`order`: device int32, longest_first_order's layout and
/// length, batch * q_heads * ceil(seq_q / 128)); between items a CTA reloads Q and its block
/// list while nothing else is in flight. Throws std::invalid_argument for a wrong-length order.
int launch_sparse_attention_persistent(ElementType type, const AttentionShape& shape, const void* q,
                                       const void* k, const void* v, void* out,
                                       const BlockLists& lists, const TokenRuleParams& rule,
                                       float softmax_scale, const std::int32_t* order,
                                       int order_count,
                                       Sm90Schedule schedule = Sm90Schedule::kPingpong,
                                       void* stream = nullptr);

}  // namespace attnsim::golden::sm90
