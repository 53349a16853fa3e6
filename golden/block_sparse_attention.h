// Host API of the golden block-sparse attention forward kernel (FlashAttention-2 style, mma.sync).
// Plain C++: callers need no CUDA headers; device pointers travel as void*.
#pragma once

#include <cstdint>
#include <string>

namespace attnsim::golden {

enum class ElementType { kBFloat16, kFloat16 };

/// What PARTIAL tiles apply per token (FULL tiles apply nothing; EMPTY tiles are never visited).
/// Positions are absolute, top-left aligned (FlexAttention's q_idx/kv_idx); the names of
/// sim/gpu/mask_rules.md map onto these as golden/token_rule_from_mask_rule.h says.
/// - kAllowAll: every key (the masked path without removing keys).
/// - kWindow: q - window_left <= kv <= q + window_right (causal: {seq_kv, 0}; band; causal_window).
/// - kTokenMask: bit (kv % 32) of word [q * token_mask_words_per_row + kv / 32], shared by every
///   batch and head.
/// - kPrefixWindow: kv < prefix (and kv <= q when prefix_causal), or the kWindow interval
///   (prefix_lm: {seq_kv, 0, prefix}; a_shape: {window - 1, 0, sinks, prefix_causal}).
/// - kDocument: document_ids[b][q] == document_ids[b][kv] and the kWindow interval (causal
///   documents: {seq_kv, 0}; non-causal: {seq_kv, seq_kv}); needs seq_q == seq_kv.
/// - kNeighborhood: NATTEN / GNA on a row-major grid of grid_rank dimensions (product = seq_q =
///   seq_kv): in every dimension the key's coordinate is in gna_range(query's coordinate)
///   (golden/gna_range.h; mask_rules.md's sliding_window is rank 1, gna rank 2 or 3).
/// Keys at kv >= seq_kv are never allowed, whatever the rule.
enum class TokenRule { kAllowAll, kWindow, kTokenMask, kPrefixWindow, kDocument, kNeighborhood };

struct TokenRuleParams {
  TokenRule rule = TokenRule::kAllowAll;
  int window_left = 0;                        ///< kWindow, kPrefixWindow, kDocument
  int window_right = 0;                       ///< kWindow, kPrefixWindow, kDocument
  const std::uint32_t* token_mask = nullptr;  ///< device pointer, for kTokenMask
  std::int64_t token_mask_words_per_row = 0;
  int prefix = 0;              ///< kPrefixWindow: keys kv < prefix are kept as well
  bool prefix_causal = false;  ///< kPrefixWindow: ... but only those with kv <= q (a_shape's sinks)
  const std::int32_t* document_ids = nullptr;  ///< kDocument: device int32 [batch, seq_kv]
  /// kDocument, optional: device int32 [batch, seq_kv, 2], each position's document's first and
  /// last position (document_runs() on the host). Valid only when every document id occupies one
  /// contiguous run of positions (documents packed one after another, mask_rules.md's `lengths`):
  /// then a row keeps one interval of keys, and the sm_90a kernel tests that interval instead of
  /// the ids. The golden kernel and the reference ignore it.
  const std::int32_t* document_runs = nullptr;
  int grid_rank = 0;                         ///< kNeighborhood: 1, 2 or 3 dimensions
  int grid_dims[3] = {0, 0, 0};              ///< kNeighborhood: sizes, slowest first
  int neighborhood_window[3] = {0, 0, 0};    ///< per dimension, >= 1
  int neighborhood_stride[3] = {1, 1, 1};    ///< per dimension, >= 1
  int neighborhood_dilation[3] = {1, 1, 1};  ///< per dimension, >= 1
};

/// Problem shape. Q and O are [batch, q_heads, seq_q, head_dim], K and V are
/// [batch, kv_heads, seq_kv, head_dim], all contiguous; q_heads is a multiple of kv_heads (GQA).
struct AttentionShape {
  int batch = 1;
  int q_heads = 1;
  int kv_heads = 1;
  int seq_q = 0;
  int seq_kv = 0;
  int head_dim = 128;  ///< 64 or 128
};

/// FlexAttention BlockMask lists on the device (int32): kv_num_blocks [mask_batch, mask_heads, NQ],
/// kv_indices [mask_batch, mask_heads, NQ, NK] for PARTIAL blocks; full_* the same for FULL blocks.
/// mask_batch is 1 or batch, mask_heads 1 or q_heads (1 broadcasts, as BlockMask allows).
struct BlockLists {
  const std::int32_t* kv_num_blocks = nullptr;
  const std::int32_t* kv_indices = nullptr;
  const std::int32_t* full_kv_num_blocks = nullptr;
  const std::int32_t* full_kv_indices = nullptr;
  int mask_batch = 1;
  int mask_heads = 1;
  int num_q_blocks = 0;   ///< NQ
  int num_kv_blocks = 0;  ///< NK (the last dimension of the index arrays)
  int block_q = 128;      ///< must equal the kernel's query tile (128)
  int block_kv = 128;     ///< a multiple of the kernel's KV tile (64)
};

/// The kernel's geometry, for tilesim's `golden` preset and the docs: 128x64 tiles, 4 warps of 32
/// query rows, 2 CTAs per SM (at d=64 and d=128).
struct GoldenKernelGeometry {
  static constexpr int kTileQ = 128;
  static constexpr int kTileKv = 64;
  static constexpr int kCtasPerSm = 2;
};

/// Empty string if `rule` is well formed for `shape`, else every reason it is not (the token-rule
/// half of can_run, shared with the sm_90a kernel's can_run_sparse).
std::string token_rule_reasons(const AttentionShape& shape, const TokenRuleParams& rule);

/// Empty string if the arguments can run, else every reason they cannot.
std::string can_run(ElementType type, const AttentionShape& shape, const BlockLists& lists,
                    const TokenRuleParams& rule);

/// Launches the forward pass on `stream` (a cudaStream_t, or nullptr for the default stream).
/// Grid (NQ, q_heads, batch), blockIdx.x fastest: FlexAttention's order. Each CTA walks its PARTIAL
/// blocks, then its FULL blocks. Returns the launch's cudaError_t as an int (0 = success);
/// throws std::invalid_argument with can_run's reasons first.
int launch_block_sparse_attention(ElementType type, const AttentionShape& shape, const void* q,
                                  const void* k, const void* v, void* out, const BlockLists& lists,
                                  const TokenRuleParams& rule, float softmax_scale,
                                  void* stream = nullptr);

/// Naive float32 reference (one warp per query row, two passes), independent of the lists walk:
/// `block_class` is a dense [mask_batch, mask_heads, NQ, NK] uint8 map (0 empty, 1 partial,
/// 2 full) on the device. Output is float32 [batch, q_heads, seq_q, head_dim].
int launch_reference_attention(ElementType type, const AttentionShape& shape, const void* q,
                               const void* k, const void* v, float* out,
                               const std::uint8_t* block_class, int mask_batch, int mask_heads,
                               int num_q_blocks, int num_kv_blocks, int block_q, int block_kv,
                               const TokenRuleParams& rule, float softmax_scale,
                               void* stream = nullptr);

}  // namespace attnsim::golden
