// The canonical in-memory mask: which (batch, head, q block, kv block) blocks are full or partial.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/gpu/mask_rule.h"

namespace attnsim::gpu {

/// Rounds up a / b for positive b.
constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// What a block (or a kernel tile) of the attention matrix contains.
enum class BlockClass : std::uint8_t { kEmpty = 0, kPartial = 1, kFull = 2 };

/// Shape of a masked attention problem and the granularity its mask is stored at.
struct MaskGeometry {
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t seq_q = 0;
  std::int64_t seq_kv = 0;
  std::int64_t block_q = 128;
  std::int64_t block_kv = 128;

  std::int64_t q_blocks() const { return ceil_div(seq_q, block_q); }
  std::int64_t kv_blocks() const { return ceil_div(seq_kv, block_kv); }
  /// Number of (batch, head, q block) rows.
  std::int64_t rows() const { return batch * heads * q_blocks(); }
  bool operator==(const MaskGeometry& other) const;
};

/// A multi-dimensional token layout stored in tile order, as NATTEN runs it: tokens are numbered
/// tile by tile (tiles row-major over the tile grid, tokens row-major inside a tile), so mask
/// block b is the tile at row-major grid position b and range-driven kernels can take ranges per
/// dimension of the tile grid. Q and KV may have different tile shapes (rows are Q tiles, columns
/// KV tiles). As NATTEN's token permutation does, each dimension is split into its dilation
/// groups (group r holds coordinates r, r + dilation, ...; every group gets ceil(n / dilation)
/// slots) and each group is padded to a multiple of the tile; padding tokens attend to nothing
/// and are attended by nothing, but the kernel computes the tiles they sit in.
struct TokenTiling {
  std::vector<std::int64_t> token_dims;   ///< e.g. {16, 48, 48} for T x H x W (real tokens)
  std::vector<std::int64_t> tile_dims;    ///< KV tile shape; product = block_kv
  std::vector<std::int64_t> q_tile_dims;  ///< Q tile shape (product = block_q); empty: tile_dims
  std::vector<std::int64_t> dilation;     ///< dilation groups per dimension; empty: all 1

  /// KV tiles per dimension (dilation groups x padded tiles per group).
  std::vector<std::int64_t> grid() const;
  /// Q tiles per dimension.
  std::vector<std::int64_t> q_grid() const;
  /// Real tokens (product of token_dims), and the padded counts the kernel runs on.
  std::int64_t tokens() const;
  std::int64_t padded_q_tokens() const;
  std::int64_t padded_kv_tokens() const;
  const std::vector<std::int64_t>& q_tile() const {
    return q_tile_dims.empty() ? tile_dims : q_tile_dims;
  }
  bool operator==(const TokenTiling& other) const {
    return token_dims == other.token_dims && tile_dims == other.tile_dims &&
           q_tile() == other.q_tile() && dilation == other.dilation;
  }
};

/// Block mask stored as sorted lists of non-empty kv blocks per (batch, head, q block) row, so
/// memory and time grow with the non-empty blocks, not with NQ x NK.
/// Contract: row r = (b * heads + h) * q_blocks + qb spans entries [row_begin[r], row_begin[r+1]);
/// kv_block is strictly increasing within a row and in [0, kv_blocks). Loaders check this for
/// user input; BlockLayoutBuilder enforces it for generated masks.
struct BlockLayout {
  MaskGeometry geometry;
  std::vector<std::int64_t> row_begin{0};
  std::vector<std::int32_t> kv_block;
  std::vector<std::uint8_t> is_full;
  /// Allowed (query, key) pairs per (batch, head), when the token-level mask is known (generated
  /// masks); absent for block-only inputs, where partial blocks then count as fully allowed.
  std::optional<std::vector<std::int64_t>> allowed_pairs;
  /// Present when the mask is in tile order of a multi-dimensional layout (see TokenTiling).
  std::optional<TokenTiling> tiling;
  /// The token-level rule the partial blocks apply (mask_rules.md), when known. Set through
  /// apply_mask_rule (which also makes allowed_pairs exact) or by generate_pattern.
  std::optional<MaskRule> rule;
  /// [batch, kv blocks], set by apply_mask_rule when seq_q cuts the last q block row: 1 where
  /// the rule keeps every pair of that row's block that lies inside the sequences. Lists mark such
  /// a block PARTIAL (create_block_mask pads the rows past seq_q with False), but a kernel that
  /// tests per tile whether its rule covers the tile's rows (KernelSpec::unmasked_covered_rules)
  /// runs it unmasked. Empty otherwise.
  std::vector<std::uint8_t> q_cut_rule_full;

  std::int64_t entries() const { return static_cast<std::int64_t>(kv_block.size()); }
  std::int64_t row_size(std::int64_t row) const { return row_begin[row + 1] - row_begin[row]; }
  /// Class of one block (binary search within its row).
  BlockClass block_class(std::int64_t row, std::int64_t kv) const;
  bool operator==(const BlockLayout& other) const;
};

/// Appends rows in order; each row's blocks must arrive with increasing kv index.
class BlockLayoutBuilder {
 public:
  /// What the layout holds: a row offset per row (plus one), a kv index and a class per entry.
  static constexpr std::uint64_t kBytesPerRow = 8;
  static constexpr std::uint64_t kBytesPerEntry = 5;

  explicit BlockLayoutBuilder(const MaskGeometry& geometry);
  /// Adds a non-empty block to the current row (throws std::logic_error when out of order).
  /// Inline: generated and loaded masks call it once per block.
  void add(std::int32_t kv_block, BlockClass block_class) {
    if (block_class == BlockClass::kEmpty) return;
    const bool row_has_entries =
        static_cast<std::int64_t>(layout_.kv_block.size()) > layout_.row_begin.back();
    if (kv_block < 0 || kv_block >= kv_blocks_ ||
        (row_has_entries && layout_.kv_block.back() >= kv_block)) {
      reject(kv_block);
    }
    if (layout_.kv_block.size() == layout_.kv_block.capacity()) grow();
    layout_.kv_block.push_back(kv_block);
    layout_.is_full.push_back(block_class == BlockClass::kFull ? 1 : 0);
  }
  /// Capacity for `entries` blocks in all, to avoid regrowing large layouts. Like every growth,
  /// checked against the memory limit (common/memory_limit.h): InputError, not an allocation.
  void reserve(std::int64_t entries);
  /// Blocks added so far.
  std::int64_t entries() const { return static_cast<std::int64_t>(layout_.kv_block.size()); }
  /// Closes the current row and starts the next one.
  void end_row();
  /// Appends copies of the ended rows [first_row, first_row + count) as new rows (a head whose
  /// mask equals an earlier one's); the current row must be empty.
  void repeat_rows(std::int64_t first_row, std::int64_t count);
  /// All rows must have been ended.
  BlockLayout finish();

 private:
  [[noreturn]] void reject(std::int32_t kv_block) const;
  // Doubles the capacity after checking the bytes it would take.
  void grow();
  void check_bytes(std::uint64_t entries) const;

  BlockLayout layout_;
  std::int64_t kv_blocks_;
};

/// Layout from a dense class array in C order [batch, heads, q_blocks, kv_blocks].
BlockLayout layout_from_dense_classes(const MaskGeometry& geometry,
                                      const std::vector<std::uint8_t>& classes);

/// Dense class array [batch, heads, q_blocks, kv_blocks] (0 empty, 1 partial, 2 full).
std::vector<std::uint8_t> dense_classes(const BlockLayout& layout);

/// The mask repeated over `batch` x `heads` when it has a batch or head count of 1 (a broadcast
/// BlockMask, as PyTorch and the golden kernel accept). Returns nullopt when a dimension is
/// neither 1 nor the requested size.
std::optional<BlockLayout> broadcast_layout(const BlockLayout& layout, std::int64_t batch,
                                            std::int64_t heads);

/// Every block full (the dense baseline of a geometry).
BlockLayout dense_layout(const MaskGeometry& geometry);

/// Allowed pairs of the whole mask: exact when layout.allowed_pairs is known, otherwise every
/// non-empty block counted as fully allowed (clipped to the sequence ends).
std::int64_t allowed_pairs_total(const BlockLayout& layout);

}  // namespace attnsim::gpu
