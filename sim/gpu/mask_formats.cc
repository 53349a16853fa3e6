// Conversions between BlockLayout and the two mask file layouts, with user-facing checks.
#include "sim/gpu/mask_formats.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "sim/common/input_error.h"

namespace attnsim::gpu {
namespace {

using common::InputError;

template <typename T>
T load(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);  // little-endian files on little-endian hosts
  return value;
}

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

std::int64_t IntArrayView::at(std::int64_t i) const {
  const std::uint8_t* p = data + static_cast<std::size_t>(i) * common::dtype_size(dtype);
  switch (dtype) {
    case common::DType::kBool:
      return *p != 0;
    case common::DType::kInt8:
      return static_cast<std::int8_t>(*p);
    case common::DType::kUInt8:
      return *p;
    case common::DType::kInt16:
      return load<std::int16_t>(p);
    case common::DType::kUInt16:
      return load<std::uint16_t>(p);
    case common::DType::kInt32:
      return load<std::int32_t>(p);
    case common::DType::kUInt32:
      return load<std::uint32_t>(p);
    case common::DType::kInt64:
      return load<std::int64_t>(p);
    case common::DType::kUInt64: {
      const auto v = load<std::uint64_t>(p);
      return v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                 ? std::numeric_limits<std::int64_t>::max()
                 : static_cast<std::int64_t>(v);
    }
    default:
      throw std::logic_error("IntArrayView of a non-integer dtype");
  }
}

IntArrayView IntArrayView::of(const std::vector<std::int64_t>& values) {
  return {reinterpret_cast<const std::uint8_t*>(values.data()), common::DType::kInt64,
          static_cast<std::int64_t>(values.size())};
}

BlockLayout layout_from_dense_arrays(const DenseBlockArrays& arrays, const std::string& source) {
  DenseBlockFlags flags;
  flags.geometry = arrays.geometry;
  if (!arrays.full.empty()) {
    flags.full = arrays.full.data();
    flags.full_size = static_cast<std::int64_t>(arrays.full.size());
  }
  if (!arrays.partial.empty()) {
    flags.partial = arrays.partial.data();
    flags.partial_size = static_cast<std::int64_t>(arrays.partial.size());
  }
  return layout_from_dense_flags(flags, source);
}

BlockLayout layout_from_dense_flags(const DenseBlockFlags& arrays, const std::string& source) {
  const MaskGeometry& g = arrays.geometry;
  const std::int64_t nk = g.kv_blocks();
  const auto expected = static_cast<std::size_t>(g.rows() * nk);
  for (const bool is_full : {true, false}) {
    const std::uint8_t* flags = is_full ? arrays.full : arrays.partial;
    const std::int64_t size = is_full ? arrays.full_size : arrays.partial_size;
    if (flags && static_cast<std::size_t>(size) != expected) {
      throw InputError(source, is_full ? "array 'full'" : "array 'partial'",
                       std::to_string(expected) + " elements", std::to_string(size));
    }
  }
  const std::uint8_t* full = arrays.full;
  const std::uint8_t* partial = arrays.partial;
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
  const bool has_full = !arrays.full_kv_num_blocks.empty();
  require_size(arrays.kv_num_blocks, g.rows(), source, "kv_num_blocks");
  require_size(arrays.kv_indices, g.rows() * arrays.max_kv, source, "kv_indices");
  if (has_full) {
    require_size(arrays.full_kv_num_blocks, g.rows(), source, "full_kv_num_blocks");
    require_size(arrays.full_kv_indices, g.rows() * arrays.max_kv, source, "full_kv_indices");
  }
  FlexBlockViews views;
  views.geometry = g;
  views.max_kv = arrays.max_kv;
  views.kv_num_blocks = IntArrayView::of(arrays.kv_num_blocks);
  views.kv_indices = IntArrayView::of(arrays.kv_indices);
  if (has_full) {
    views.full_kv_num_blocks = IntArrayView::of(arrays.full_kv_num_blocks);
    views.full_kv_indices = IntArrayView::of(arrays.full_kv_indices);
  }
  return layout_from_flex_views(views, source);
}

namespace {

// Copies `count` indices starting at element `first` into `out` (as int32 once checked to lie in
// [0, nk)); returns the position of the first out-of-range entry or -1, and whether the list is
// strictly increasing. One instantiation per dtype keeps the loop free of dtype switches.
template <typename T>
std::int64_t copy_indices(const std::uint8_t* data, std::int64_t first, std::int64_t count,
                          std::int64_t nk, std::int32_t* out, bool& increasing) {
  const std::uint8_t* p = data + static_cast<std::size_t>(first) * sizeof(T);
  std::int64_t previous = -1;
  for (std::int64_t e = 0; e < count; ++e, p += sizeof(T)) {
    const T raw = load<T>(p);
    if constexpr (std::is_signed_v<T>) {
      if (raw < 0) return e;
    }
    if (static_cast<std::uint64_t>(raw) >= static_cast<std::uint64_t>(nk)) return e;
    const auto k = static_cast<std::int64_t>(raw);
    increasing = increasing && k > previous;
    previous = k;
    out[e] = static_cast<std::int32_t>(k);
  }
  return -1;
}

std::int64_t copy_indices(const IntArrayView& view, std::int64_t first, std::int64_t count,
                          std::int64_t nk, std::int32_t* out, bool& increasing) {
  using common::DType;
  switch (view.dtype) {
    case DType::kInt8:
      return copy_indices<std::int8_t>(view.data, first, count, nk, out, increasing);
    case DType::kUInt8:
      return copy_indices<std::uint8_t>(view.data, first, count, nk, out, increasing);
    case DType::kInt16:
      return copy_indices<std::int16_t>(view.data, first, count, nk, out, increasing);
    case DType::kUInt16:
      return copy_indices<std::uint16_t>(view.data, first, count, nk, out, increasing);
    case DType::kInt32:
      return copy_indices<std::int32_t>(view.data, first, count, nk, out, increasing);
    case DType::kUInt32:
      return copy_indices<std::uint32_t>(view.data, first, count, nk, out, increasing);
    case DType::kInt64:
      return copy_indices<std::int64_t>(view.data, first, count, nk, out, increasing);
    case DType::kUInt64:
      return copy_indices<std::uint64_t>(view.data, first, count, nk, out, increasing);
    default:
      throw std::logic_error("index array of a non-integer dtype");
  }
}

}  // namespace

BlockLayout layout_from_flex_views(const FlexBlockViews& arrays, const std::string& source) {
  const MaskGeometry& g = arrays.geometry;
  const std::int64_t nk = g.kv_blocks();
  const std::int64_t rows = g.rows();
  const bool has_full = arrays.full_kv_num_blocks.data != nullptr;
  const auto require = [&](const IntArrayView& view, std::int64_t expected, const char* name) {
    if (view.size != expected) {
      throw InputError(source, std::string("array '") + name + "'",
                       std::to_string(expected) + " elements", std::to_string(view.size));
    }
  };
  require(arrays.kv_num_blocks, rows, "kv_num_blocks");
  require(arrays.kv_indices, rows * arrays.max_kv, "kv_indices");
  if (has_full) {
    require(arrays.full_kv_num_blocks, rows, "full_kv_num_blocks");
    require(arrays.full_kv_indices, rows * arrays.max_kv, "full_kv_indices");
  }
  const std::int64_t limit = std::min(nk, arrays.max_kv);
  // Capacity from the counts (clamped; bad ones are reported in row order below), so the
  // layout grows once and holds exactly the listed blocks.
  std::int64_t listed = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    listed += std::clamp<std::int64_t>(arrays.kv_num_blocks.at(row), 0, limit);
    if (has_full) listed += std::clamp<std::int64_t>(arrays.full_kv_num_blocks.at(row), 0, limit);
  }
  BlockLayout layout;
  layout.geometry = g;
  layout.row_begin.resize(rows + 1);
  layout.row_begin[0] = 0;
  layout.kv_block.resize(listed);
  layout.is_full.resize(listed);
  std::int32_t* out_block = layout.kv_block.data();
  std::uint8_t* out_full = layout.is_full.data();

  // One row's indices: [0] partial, [1] full, each followed by a sentinel above every index.
  std::vector<std::int32_t> lists[2];
  lists[0].resize(limit + 1);
  lists[1].resize(limit + 1);
  std::vector<std::pair<std::int32_t, BlockClass>> unsorted;
  // The index rows are read where the file is mapped, a few short prefixes of rows 1-8 KB apart:
  // too irregular for the hardware prefetcher, so each row's listed prefix is requested some
  // rows ahead (this loop was memory-latency bound, ~10 ns per listed block).
  constexpr std::int64_t kPrefetchRows = 4;
  const auto prefetch_row = [&](std::int64_t row) {
    for (int full = 0; full < (has_full ? 2 : 1); ++full) {
      const IntArrayView& count_view = full ? arrays.full_kv_num_blocks : arrays.kv_num_blocks;
      const IntArrayView& index_view = full ? arrays.full_kv_indices : arrays.kv_indices;
      const std::int64_t count = std::clamp<std::int64_t>(count_view.at(row), 0, limit);
      const std::size_t element = common::dtype_size(index_view.dtype);
      const std::uint8_t* first =
          index_view.data + static_cast<std::size_t>(row * arrays.max_kv) * element;
      for (std::size_t at = 0; at < static_cast<std::size_t>(count) * element; at += 64) {
        __builtin_prefetch(first + at);
      }
    }
  };
  for (std::int64_t row = 0; row < std::min(rows, kPrefetchRows); ++row) prefetch_row(row);
  std::int64_t n = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    if (row + kPrefetchRows < rows) prefetch_row(row + kPrefetchRows);
    std::int64_t counts[2] = {0, 0};
    bool increasing[2] = {true, true};
    for (int full = 0; full < (has_full ? 2 : 1); ++full) {
      const IntArrayView& count_view = full ? arrays.full_kv_num_blocks : arrays.kv_num_blocks;
      const IntArrayView& index_view = full ? arrays.full_kv_indices : arrays.kv_indices;
      const char* prefix = full ? "full_kv_" : "kv_";
      const std::int64_t count = count_view.at(row);
      if (count < 0 || count > limit) {
        throw InputError(
            source, std::string("array '") + prefix + "num_blocks' at " + position(row, g) + "]",
            "a block count in [0, " + std::to_string(limit) + "] (NK = " + std::to_string(nk) + ")",
            std::to_string(count));
      }
      const std::int64_t bad = copy_indices(index_view, row * arrays.max_kv, count, nk,
                                            lists[full].data(), increasing[full]);
      if (bad >= 0) {
        throw InputError(source,
                         std::string("array '") + prefix + "indices' at " + position(row, g) +
                             ", " + std::to_string(bad) + "]",
                         "a kv block index in [0, " + std::to_string(nk) + ")",
                         std::to_string(index_view.at(row * arrays.max_kv + bad)));
      }
      counts[full] = count;
    }
    const auto duplicate = [&](std::int32_t k) {
      return InputError(
          source, "kv block " + std::to_string(k) + " in row " + position(row, g) + "]",
          "each block listed once across kv_indices and full_kv_indices", "listed twice");
    };
    const std::int64_t total = counts[0] + counts[1];
    if (increasing[0] && increasing[1]) {
      // BlockMask lists each row in increasing order: merge the two lists, without branches on
      // the data (which list comes next is a coin flip for mixed rows), against sentinels.
      const std::int32_t* a = lists[0].data();
      const std::int32_t* b = lists[1].data();
      lists[0][counts[0]] = std::numeric_limits<std::int32_t>::max();
      lists[1][counts[1]] = std::numeric_limits<std::int32_t>::max();
      bool same = false;
      for (std::int64_t e = 0; e < total; ++e) {
        const std::int32_t x = *a;
        const std::int32_t y = *b;
        const bool take_full = y < x;
        same |= x == y;
        out_block[n + e] = take_full ? y : x;
        out_full[n + e] = take_full ? 1 : 0;
        a += take_full ? 0 : 1;
        b += take_full ? 1 : 0;
      }
      if (same) {
        for (std::int64_t e = 1; e < total; ++e) {
          if (out_block[n + e] == out_block[n + e - 1]) throw duplicate(out_block[n + e]);
        }
      }
    } else {
      unsorted.clear();
      for (int full = 0; full < 2; ++full) {
        for (std::int64_t e = 0; e < counts[full]; ++e) {
          unsorted.push_back({lists[full][e], full ? BlockClass::kFull : BlockClass::kPartial});
        }
      }
      std::sort(unsorted.begin(), unsorted.end());
      for (std::size_t i = 0; i < unsorted.size(); ++i) {
        if (i > 0 && unsorted[i].first == unsorted[i - 1].first) throw duplicate(unsorted[i].first);
        out_block[n + static_cast<std::int64_t>(i)] = unsorted[i].first;
        out_full[n + static_cast<std::int64_t>(i)] = unsorted[i].second == BlockClass::kFull;
      }
    }
    n += total;
    layout.row_begin[row + 1] = n;
  }
  return layout;
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
