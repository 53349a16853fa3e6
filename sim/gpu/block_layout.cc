// BlockLayout construction and conversions.
#include "sim/gpu/block_layout.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "sim/common/huge_pages.h"
#include "sim/common/memory_limit.h"

namespace attnsim::gpu {

bool MaskGeometry::operator==(const MaskGeometry& other) const {
  return batch == other.batch && heads == other.heads && seq_q == other.seq_q &&
         seq_kv == other.seq_kv && block_q == other.block_q && block_kv == other.block_kv;
}

namespace {

// Tiles per dimension for tile shape `tile`: each dilation group padded to a tile multiple.
std::vector<std::int64_t> tiles_per_dim(const TokenTiling& t,
                                        const std::vector<std::int64_t>& tile) {
  std::vector<std::int64_t> tiles(t.token_dims.size());
  for (std::size_t d = 0; d < tiles.size(); ++d) {
    const std::int64_t groups = t.dilation.empty() ? 1 : t.dilation[d];
    tiles[d] = groups * ceil_div(ceil_div(t.token_dims[d], groups), tile[d]);
  }
  return tiles;
}

std::int64_t padded_tokens(const std::vector<std::int64_t>& grid,
                           const std::vector<std::int64_t>& tile) {
  std::int64_t tokens = 1;
  for (std::size_t d = 0; d < grid.size(); ++d) tokens *= grid[d] * tile[d];
  return tokens;
}

}  // namespace

std::vector<std::int64_t> TokenTiling::grid() const { return tiles_per_dim(*this, tile_dims); }

std::vector<std::int64_t> TokenTiling::q_grid() const { return tiles_per_dim(*this, q_tile()); }

std::int64_t TokenTiling::tokens() const {
  std::int64_t tokens = 1;
  for (const std::int64_t n : token_dims) tokens *= n;
  return tokens;
}

std::int64_t TokenTiling::padded_q_tokens() const { return padded_tokens(q_grid(), q_tile()); }

std::int64_t TokenTiling::padded_kv_tokens() const { return padded_tokens(grid(), tile_dims); }

BlockClass BlockLayout::block_class(std::int64_t row, std::int64_t kv) const {
  const auto first = kv_block.begin() + row_begin[row];
  const auto last = kv_block.begin() + row_begin[row + 1];
  const auto it = std::lower_bound(first, last, static_cast<std::int32_t>(kv));
  if (it == last || *it != kv) return BlockClass::kEmpty;
  return is_full[it - kv_block.begin()] ? BlockClass::kFull : BlockClass::kPartial;
}

bool BlockLayout::operator==(const BlockLayout& other) const {
  return geometry == other.geometry && row_begin == other.row_begin && kv_block == other.kv_block &&
         is_full == other.is_full && allowed_pairs == other.allowed_pairs && rule == other.rule &&
         q_cut_rule_full == other.q_cut_rule_full;
}

BlockLayoutBuilder::BlockLayoutBuilder(const MaskGeometry& geometry)
    : kv_blocks_(geometry.kv_blocks()) {
  layout_.geometry = geometry;
  check_bytes(0);
  common::reserve_huge(layout_.row_begin, geometry.rows() + 1);
}

void BlockLayoutBuilder::check_bytes(std::uint64_t entries) const {
  const MaskGeometry& g = layout_.geometry;
  const std::uint64_t rows = static_cast<std::uint64_t>(std::max<std::int64_t>(0, g.rows())) + 1;
  std::uint64_t bytes = 0, row_bytes = 0, entry_bytes = 0;
  const bool overflow = __builtin_mul_overflow(rows, kBytesPerRow, &row_bytes) ||
                        __builtin_mul_overflow(entries, kBytesPerEntry, &entry_bytes) ||
                        __builtin_add_overflow(row_bytes, entry_bytes, &bytes);
  common::check_memory(overflow ? std::numeric_limits<std::uint64_t>::max() : bytes,
                       "mask of " + std::to_string(g.batch) + " x " + std::to_string(g.heads) +
                           " x " + std::to_string(g.q_blocks()) + " x " +
                           std::to_string(g.kv_blocks()) + " blocks",
                       "block layout");
}

void BlockLayoutBuilder::grow() {
  const std::uint64_t next = std::max<std::uint64_t>(1024, 2 * layout_.kv_block.capacity());
  check_bytes(next);
  layout_.kv_block.reserve(next);
  layout_.is_full.reserve(next);
}

void BlockLayoutBuilder::reject(std::int32_t kv_block) const {
  throw std::logic_error("BlockLayoutBuilder: kv block " + std::to_string(kv_block) +
                         " out of range or out of order");
}

void BlockLayoutBuilder::reserve(std::int64_t entries) {
  check_bytes(static_cast<std::uint64_t>(std::max<std::int64_t>(0, entries)));
  common::reserve_huge(layout_.kv_block, entries);
  common::reserve_huge(layout_.is_full, entries);
}

void BlockLayoutBuilder::end_row() {
  layout_.row_begin.push_back(static_cast<std::int64_t>(layout_.kv_block.size()));
}

void BlockLayoutBuilder::repeat_rows(std::int64_t first_row, std::int64_t count) {
  std::vector<std::int64_t>& rb = layout_.row_begin;
  const auto ended = static_cast<std::int64_t>(rb.size()) - 1;
  if (first_row < 0 || count < 0 || first_row + count > ended ||
      static_cast<std::int64_t>(layout_.kv_block.size()) != rb.back()) {
    throw std::logic_error("BlockLayoutBuilder::repeat_rows: rows not ended or out of range");
  }
  const std::int64_t begin = rb[first_row];
  const std::int64_t entries = rb[first_row + count] - begin;
  const auto at = layout_.kv_block.size();
  check_bytes(static_cast<std::uint64_t>(at) + static_cast<std::uint64_t>(entries));
  // Resized first, then copied: the source stays valid (inserting a vector's own range into it
  // is undefined).
  layout_.kv_block.resize(at + entries);
  layout_.is_full.resize(at + entries);
  std::copy_n(layout_.kv_block.begin() + begin, entries, layout_.kv_block.begin() + at);
  std::copy_n(layout_.is_full.begin() + begin, entries, layout_.is_full.begin() + at);
  const std::int64_t shift = static_cast<std::int64_t>(at) - begin;
  for (std::int64_t row = first_row; row < first_row + count; ++row) {
    rb.push_back(rb[row + 1] + shift);
  }
}

BlockLayout BlockLayoutBuilder::finish() {
  if (static_cast<std::int64_t>(layout_.row_begin.size()) != layout_.geometry.rows() + 1) {
    throw std::logic_error("BlockLayoutBuilder: " + std::to_string(layout_.row_begin.size() - 1) +
                           " rows ended, geometry has " + std::to_string(layout_.geometry.rows()));
  }
  return std::move(layout_);
}

BlockLayout layout_from_dense_classes(const MaskGeometry& geometry,
                                      const std::vector<std::uint8_t>& classes) {
  const std::int64_t nk = geometry.kv_blocks();
  if (static_cast<std::int64_t>(classes.size()) != geometry.rows() * nk) {
    throw std::logic_error("layout_from_dense_classes: size does not match the geometry");
  }
  BlockLayoutBuilder builder(geometry);
  for (std::int64_t row = 0; row < geometry.rows(); ++row) {
    const std::uint8_t* cls = classes.data() + row * nk;
    for (std::int64_t k = 0; k < nk; ++k) {
      builder.add(static_cast<std::int32_t>(k), static_cast<BlockClass>(cls[k]));
    }
    builder.end_row();
  }
  return builder.finish();
}

std::vector<std::uint8_t> dense_classes(const BlockLayout& layout) {
  const std::int64_t nk = layout.geometry.kv_blocks();
  std::vector<std::uint8_t> classes(layout.geometry.rows() * nk, 0);
  for (std::int64_t row = 0; row < layout.geometry.rows(); ++row) {
    for (std::int64_t e = layout.row_begin[row]; e < layout.row_begin[row + 1]; ++e) {
      classes[row * nk + layout.kv_block[e]] = layout.is_full[e] ? 2 : 1;
    }
  }
  return classes;
}

std::optional<BlockLayout> broadcast_layout(const BlockLayout& layout, std::int64_t batch,
                                            std::int64_t heads) {
  const MaskGeometry& from = layout.geometry;
  const auto fits = [](std::int64_t have, std::int64_t want) { return have == want || have == 1; };
  if (!fits(from.batch, batch) || !fits(from.heads, heads)) return std::nullopt;
  MaskGeometry to = from;
  to.batch = batch;
  to.heads = heads;
  BlockLayoutBuilder builder(to);
  std::vector<std::int64_t> allowed;
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t h = 0; h < heads; ++h) {
      const std::int64_t source =
          (from.batch == 1 ? 0 : b) * from.heads + (from.heads == 1 ? 0 : h);
      if (layout.allowed_pairs) allowed.push_back((*layout.allowed_pairs)[source]);
      for (std::int64_t qb = 0; qb < from.q_blocks(); ++qb) {
        const std::int64_t row = source * from.q_blocks() + qb;
        for (std::int64_t e = layout.row_begin[row]; e < layout.row_begin[row + 1]; ++e) {
          builder.add(layout.kv_block[e],
                      layout.is_full[e] ? BlockClass::kFull : BlockClass::kPartial);
        }
        builder.end_row();
      }
    }
  }
  BlockLayout out = builder.finish();
  if (layout.allowed_pairs) out.allowed_pairs = std::move(allowed);
  out.tiling = layout.tiling;
  out.rule = layout.rule;
  if (!layout.q_cut_rule_full.empty()) {  // per batch element: broadcast as the rows are
    const std::int64_t nk = from.kv_blocks();
    for (std::int64_t b = 0; b < batch; ++b) {
      const auto begin = layout.q_cut_rule_full.begin() + (from.batch == 1 ? 0 : b) * nk;
      out.q_cut_rule_full.insert(out.q_cut_rule_full.end(), begin, begin + nk);
    }
  }
  return out;
}

BlockLayout dense_layout(const MaskGeometry& geometry) {
  BlockLayoutBuilder builder(geometry);
  for (std::int64_t row = 0; row < geometry.rows(); ++row) {
    for (std::int64_t k = 0; k < geometry.kv_blocks(); ++k) {
      builder.add(static_cast<std::int32_t>(k), BlockClass::kFull);
    }
    builder.end_row();
  }
  BlockLayout layout = builder.finish();
  layout.allowed_pairs =
      std::vector<std::int64_t>(geometry.batch * geometry.heads, geometry.seq_q * geometry.seq_kv);
  return layout;
}

std::int64_t allowed_pairs_total(const BlockLayout& layout) {
  if (layout.allowed_pairs) {
    return std::accumulate(layout.allowed_pairs->begin(), layout.allowed_pairs->end(),
                           std::int64_t{0});
  }
  const MaskGeometry& g = layout.geometry;
  const std::int64_t nq = g.q_blocks();
  std::int64_t total = 0;
  for (std::int64_t row = 0; row < g.rows(); ++row) {
    const std::int64_t qb = row % nq;
    const std::int64_t rows_in_block = std::min(g.seq_q, (qb + 1) * g.block_q) - qb * g.block_q;
    for (std::int64_t e = layout.row_begin[row]; e < layout.row_begin[row + 1]; ++e) {
      const std::int64_t kb = layout.kv_block[e];
      total += rows_in_block * (std::min(g.seq_kv, (kb + 1) * g.block_kv) - kb * g.block_kv);
    }
  }
  return total;
}

}  // namespace attnsim::gpu
