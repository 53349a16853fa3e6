// Kernel-tile classification over a BlockLayout, linear in the non-empty blocks.
#include "sim/gpu/tile_classifier.h"

#include <algorithm>

namespace attnsim::gpu {

TileCounts& TileCounts::operator+=(const TileCounts& other) {
  full += other.full;
  partial += other.partial;
  empty_visited += other.empty_visited;
  return *this;
}

TileClassifier::TileClassifier(const BlockLayout& layout, std::int64_t tile_q, std::int64_t tile_kv,
                               VisitRule visit_rule)
    : layout_(layout),
      tile_q_(tile_q),
      tile_kv_(tile_kv),
      visit_rule_(visit_rule),
      q_tiles_(ceil_div(layout.geometry.seq_q, tile_q)),
      kv_tiles_(ceil_div(layout.geometry.seq_kv, tile_kv)),
      stamp_(kv_tiles_, -1),
      nonempty_hits_(kv_tiles_, 0),
      full_hits_(kv_tiles_, 0) {}

std::int64_t TileClassifier::items() const {
  return layout_.geometry.batch * layout_.geometry.heads * q_tiles_;
}

void TileClassifier::visit(std::int64_t item, std::vector<VisitedTile>& out) {
  out.clear();
  const MaskGeometry& g = layout_.geometry;
  const std::int64_t bh = item / q_tiles_;
  const std::int64_t i = item % q_tiles_;
  const std::int64_t q_begin = i * tile_q_;
  const std::int64_t q_end = std::min(g.seq_q, q_begin + tile_q_);
  const bool q_cut = q_end - q_begin < tile_q_;
  const std::int64_t qb_begin = q_begin / g.block_q;
  const std::int64_t qb_end = ceil_div(q_end, g.block_q);

  ++current_stamp_;
  touched_.clear();
  for (std::int64_t qb = qb_begin; qb < qb_end; ++qb) {
    const std::int64_t row = bh * g.q_blocks() + qb;
    for (std::int64_t e = layout_.row_begin[row]; e < layout_.row_begin[row + 1]; ++e) {
      const std::int64_t kv_begin = layout_.kv_block[e] * g.block_kv;
      const std::int64_t kv_end = std::min(g.seq_kv, kv_begin + g.block_kv);
      const std::int64_t j_end = ceil_div(kv_end, tile_kv_);
      for (std::int64_t j = kv_begin / tile_kv_; j < j_end; ++j) {
        if (stamp_[j] != current_stamp_) {
          stamp_[j] = current_stamp_;
          nonempty_hits_[j] = 0;
          full_hits_[j] = 0;
          touched_.push_back(static_cast<std::int32_t>(j));
        }
        ++nonempty_hits_[j];
        full_hits_[j] += layout_.is_full[e];
      }
    }
  }
  if (touched_.empty()) return;
  // One Q block's entries arrive in kv order; several Q blocks interleave and need a sort.
  if (qb_end - qb_begin > 1) std::sort(touched_.begin(), touched_.end());

  const std::int64_t q_blocks_covered = qb_end - qb_begin;
  auto classify = [&](std::int64_t j) {
    const std::int64_t kv_begin = j * tile_kv_;
    const std::int64_t kv_end = std::min(g.seq_kv, kv_begin + tile_kv_);
    const bool cut = q_cut || kv_end - kv_begin < tile_kv_;
    const std::int64_t kv_blocks_covered = ceil_div(kv_end, g.block_kv) - kv_begin / g.block_kv;
    const bool all_full = full_hits_[j] == q_blocks_covered * kv_blocks_covered;
    return all_full && !cut ? BlockClass::kFull : BlockClass::kPartial;
  };

  if (visit_rule_ == VisitRule::kListDriven) {
    for (const std::int32_t j : touched_) out.push_back({j, classify(j)});
    return;
  }
  std::size_t next_touched = 0;
  for (std::int32_t j = touched_.front(); j <= touched_.back(); ++j) {
    if (touched_[next_touched] == j) {
      out.push_back({j, classify(j)});
      ++next_touched;
    } else {
      out.push_back({j, BlockClass::kEmpty});
    }
  }
}

TileCounts TileClassifier::count(std::int64_t item) {
  visit(item, scratch_);
  TileCounts counts;
  for (const VisitedTile& tile : scratch_) {
    switch (tile.tile_class) {
      case BlockClass::kFull:
        ++counts.full;
        break;
      case BlockClass::kPartial:
        ++counts.partial;
        break;
      case BlockClass::kEmpty:
        ++counts.empty_visited;
        break;
    }
  }
  return counts;
}

std::vector<TileCounts> count_tiles(const BlockLayout& layout, std::int64_t tile_q,
                                    std::int64_t tile_kv, VisitRule visit_rule) {
  TileClassifier classifier(layout, tile_q, tile_kv, visit_rule);
  std::vector<TileCounts> counts(classifier.items());
  for (std::int64_t item = 0; item < classifier.items(); ++item) {
    counts[item] = classifier.count(item);
  }
  return counts;
}

}  // namespace attnsim::gpu
