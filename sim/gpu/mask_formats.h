// The two on-disk mask layouts, in memory: dense full/partial block arrays and FlexAttention's
// BlockMask lists; both convert to and from BlockLayout with input checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/common/npy.h"
#include "sim/gpu/block_layout.h"

namespace attnsim::gpu {

/// Format (a): `full` and `partial` flags per block, C order [batch, heads, q_blocks, kv_blocks].
/// An empty vector means the array is absent (all false).
struct DenseBlockArrays {
  MaskGeometry geometry;
  std::vector<std::uint8_t> full;
  std::vector<std::uint8_t> partial;
};

/// Format (b): PyTorch FlexAttention's BlockMask. kv_* list partial blocks (mask_mod applied),
/// full_kv_* list full blocks; counts are [batch, heads, q_blocks], indices
/// [batch, heads, q_blocks, max_kv] (max_kv = kv_blocks as BlockMask stores them). Only the first
/// num_blocks entries of each index row are meaningful.
struct FlexBlockArrays {
  MaskGeometry geometry;
  std::int64_t max_kv = 0;  ///< last dimension of the index arrays
  std::vector<std::int64_t> kv_num_blocks;
  std::vector<std::int64_t> kv_indices;
  std::vector<std::int64_t> full_kv_num_blocks;  ///< empty when the BlockMask has none
  std::vector<std::int64_t> full_kv_indices;
};

/// A bool or integer array read in place (a mask file's counts or indices, see NpyView): `size`
/// little-endian elements of `dtype` at `data`, possibly unaligned. Null data: absent.
struct IntArrayView {
  const std::uint8_t* data = nullptr;
  common::DType dtype = common::DType::kInt64;
  std::int64_t size = 0;

  /// Element i as int64 (uint64 values beyond int64 saturate at its maximum).
  std::int64_t at(std::int64_t i) const;
  static IntArrayView of(const std::vector<std::int64_t>& values);
};

/// Format (a) in place: one flag byte per block (any non-zero value set), null when absent.
struct DenseBlockFlags {
  MaskGeometry geometry;
  const std::uint8_t* full = nullptr;
  std::int64_t full_size = 0;
  const std::uint8_t* partial = nullptr;
  std::int64_t partial_size = 0;
};

/// Format (b) in place: the arrays keep their file dtype (BlockMask's int32 stays int32).
struct FlexBlockViews {
  MaskGeometry geometry;
  std::int64_t max_kv = 0;
  IntArrayView kv_num_blocks;
  IntArrayView kv_indices;
  IntArrayView full_kv_num_blocks;  ///< data null when the BlockMask has none
  IntArrayView full_kv_indices;
};

/// Converts format (a). Throws InputError naming `source` and the array for a block that is
/// both full and partial, or for array sizes that do not match the geometry.
BlockLayout layout_from_dense_arrays(const DenseBlockArrays& arrays, const std::string& source);
/// The same from flags in place. Time linear in the flag bytes, memory in the non-empty blocks.
BlockLayout layout_from_dense_flags(const DenseBlockFlags& flags, const std::string& source);

/// Converts format (b). Throws InputError naming `source`, the array and the position for counts
/// outside [0, kv_blocks], indices outside [0, kv_blocks), or a block listed twice.
BlockLayout layout_from_flex_arrays(const FlexBlockArrays& arrays, const std::string& source);
/// The same from arrays in place. Time and memory linear in the listed blocks (plus one count
/// per row): rows whose lists are sorted, as BlockMask writes them, are merged without sorting.
BlockLayout layout_from_flex_views(const FlexBlockViews& views, const std::string& source);

DenseBlockArrays dense_arrays_from_layout(const BlockLayout& layout);
FlexBlockArrays flex_arrays_from_layout(const BlockLayout& layout);

}  // namespace attnsim::gpu
