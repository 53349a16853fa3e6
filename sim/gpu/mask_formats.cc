// Conversions between BlockLayout and the two mask file layouts, with user-facing checks.
#include "sim/gpu/mask_formats.h"

#include <algorithm>
#include <cstring>

#include "sim/common/input_error.h"

namespace attnsim::gpu {
namespace {

using common::InputError;

std::string position(std::int64_t row, const MaskGeometry& g) {
  const std::int64_t nq = g.q_blocks();
  const std::int64_t b = row / nq / g.heads;
  const std::int64_t h = row / nq % g.heads;
  return "[" + std::to_string(b) + ", " + std::to_string(h) + ", " + std::to_string(row % nq);
}

void require_size(const std::vector<std::int64_t>& values, std::int64_t expected,
                  const std::string& source, const std::string& name) {
  if (static_cast<std::int64_t>(values.size()) != expected) {
    throw InputError(source, "array '" + name + "'", std::to_string(expected) + " elements",
                     std::to_string(values.size()));
  }
}

}  // namespace

BlockLayout layout_from_dense_arrays(const DenseBlockArrays& arrays, const std::string& source) {
  const MaskGeometry& g = arrays.geometry;
  const std::int64_t nk = g.kv_blocks();
  const auto expected = static_cast<std::size_t>(g.rows() * nk);
  for (const auto* array : {&arrays.full, &arrays.partial}) {
    if (!array->empty() && array->size() != expected) {
      throw InputError(source, array == &arrays.full ? "array 'full'" : "array 'partial'",
                       std::to_string(expected) + " elements", std::to_string(array->size()));
    }
  }
  const std::uint8_t* full = arrays.full.empty() ? nullptr : arrays.full.data();
  const std::uint8_t* partial = arrays.partial.empty() ? nullptr : arrays.partial.data();
  const auto nonzero = [&](const std::uint8_t* flags) {
    return flags ? static_cast<std::int64_t>(expected) -
                       std::count(flags, flags + expected, std::uint8_t{0})
                 : std::int64_t{0};
  };
  // Filled directly rather than through BlockLayoutBuilder: the scan yields each row's blocks
  // in increasing order by construction, and this loop runs once per block of the file.
  BlockLayout layout;
  layout.geometry = g;
  layout.row_begin.assign(g.rows() + 1, 0);
  layout.kv_block.resize(nonzero(full) + nonzero(partial));
  layout.is_full.resize(layout.kv_block.size());
  const auto word_at = [](const std::uint8_t* flags, std::size_t at) {
    std::uint64_t word = 0;
    if (flags) std::memcpy(&word, flags + at, sizeof word);
    return word;
  };
  std::int64_t n = 0;
  for (std::int64_t row = 0; row < g.rows(); ++row) {
    const std::size_t row_at = static_cast<std::size_t>(row * nk);
    for (std::int64_t k = 0; k < nk; ++k) {
      // Sparse masks are mostly zero bytes: skip them eight at a time.
      if (k % 8 == 0 && k + 8 <= nk &&
          (word_at(full, row_at + k) | word_at(partial, row_at + k)) == 0) {
        k += 7;
        continue;
      }
      const bool is_full = full && full[row_at + k] != 0;
      const bool is_partial = partial && partial[row_at + k] != 0;
      if (!is_full && !is_partial) continue;
      if (is_full && is_partial) {
        throw InputError(
            source,
            "arrays 'full' and 'partial' at " + position(row, g) + ", " + std::to_string(k) + "]",
            "a block marked full or partial, not both", "both");
      }
      layout.kv_block[n] = static_cast<std::int32_t>(k);
      layout.is_full[n] = is_full ? 1 : 0;
      ++n;
    }
    layout.row_begin[row + 1] = n;
  }
  return layout;
}

BlockLayout layout_from_flex_arrays(const FlexBlockArrays& arrays, const std::string& source) {
  const MaskGeometry& g = arrays.geometry;
  const std::int64_t nk = g.kv_blocks();
  const bool has_full = !arrays.full_kv_num_blocks.empty();
  require_size(arrays.kv_num_blocks, g.rows(), source, "kv_num_blocks");
  require_size(arrays.kv_indices, g.rows() * arrays.max_kv, source, "kv_indices");
  if (has_full) {
    require_size(arrays.full_kv_num_blocks, g.rows(), source, "full_kv_num_blocks");
    require_size(arrays.full_kv_indices, g.rows() * arrays.max_kv, source, "full_kv_indices");
  }

  BlockLayoutBuilder builder(g);
  std::vector<std::pair<std::int32_t, BlockClass>> row_blocks;
  for (std::int64_t row = 0; row < g.rows(); ++row) {
    row_blocks.clear();
    auto take = [&](const std::vector<std::int64_t>& counts,
                    const std::vector<std::int64_t>& indices, const std::string& prefix,
                    BlockClass block_class) {
      const std::int64_t count = counts[row];
      const std::int64_t limit = std::min(nk, arrays.max_kv);
      if (count < 0 || count > limit) {
        throw InputError(
            source, "array '" + prefix + "num_blocks' at " + position(row, g) + "]",
            "a block count in [0, " + std::to_string(limit) + "] (NK = " + std::to_string(nk) + ")",
            std::to_string(count));
      }
      for (std::int64_t e = 0; e < count; ++e) {
        const std::int64_t k = indices[row * arrays.max_kv + e];
        if (k < 0 || k >= nk) {
          throw InputError(source,
                           "array '" + prefix + "indices' at " + position(row, g) + ", " +
                               std::to_string(e) + "]",
                           "a kv block index in [0, " + std::to_string(nk) + ")",
                           std::to_string(k));
        }
        row_blocks.push_back({static_cast<std::int32_t>(k), block_class});
      }
    };
    take(arrays.kv_num_blocks, arrays.kv_indices, "kv_", BlockClass::kPartial);
    if (has_full) {
      take(arrays.full_kv_num_blocks, arrays.full_kv_indices, "full_kv_", BlockClass::kFull);
    }
    std::sort(row_blocks.begin(), row_blocks.end());
    for (std::size_t i = 0; i < row_blocks.size(); ++i) {
      if (i > 0 && row_blocks[i].first == row_blocks[i - 1].first) {
        throw InputError(
            source,
            "kv block " + std::to_string(row_blocks[i].first) + " in row " + position(row, g) + "]",
            "each block listed once across kv_indices and full_kv_indices", "listed twice");
      }
      builder.add(row_blocks[i].first, row_blocks[i].second);
    }
    builder.end_row();
  }
  return builder.finish();
}

DenseBlockArrays dense_arrays_from_layout(const BlockLayout& layout) {
  DenseBlockArrays arrays;
  arrays.geometry = layout.geometry;
  const std::vector<std::uint8_t> classes = dense_classes(layout);
  arrays.full.resize(classes.size());
  arrays.partial.resize(classes.size());
  for (std::size_t i = 0; i < classes.size(); ++i) {
    arrays.full[i] = classes[i] == static_cast<std::uint8_t>(BlockClass::kFull);
    arrays.partial[i] = classes[i] == static_cast<std::uint8_t>(BlockClass::kPartial);
  }
  return arrays;
}

FlexBlockArrays flex_arrays_from_layout(const BlockLayout& layout) {
  const MaskGeometry& g = layout.geometry;
  FlexBlockArrays arrays;
  arrays.geometry = g;
  arrays.max_kv = g.kv_blocks();
  arrays.kv_num_blocks.assign(g.rows(), 0);
  arrays.full_kv_num_blocks.assign(g.rows(), 0);
  // Unused index slots hold 0, as BlockMask pads them.
  arrays.kv_indices.assign(g.rows() * arrays.max_kv, 0);
  arrays.full_kv_indices.assign(g.rows() * arrays.max_kv, 0);
  for (std::int64_t row = 0; row < g.rows(); ++row) {
    for (std::int64_t e = layout.row_begin[row]; e < layout.row_begin[row + 1]; ++e) {
      auto& counts = layout.is_full[e] ? arrays.full_kv_num_blocks : arrays.kv_num_blocks;
      auto& indices = layout.is_full[e] ? arrays.full_kv_indices : arrays.kv_indices;
      indices[row * arrays.max_kv + counts[row]++] = layout.kv_block[e];
    }
  }
  return arrays;
}

}  // namespace attnsim::gpu
