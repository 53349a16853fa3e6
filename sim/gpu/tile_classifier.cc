// Kernel-tile classification over a BlockLayout, linear in the non-empty blocks.
#include "sim/gpu/tile_classifier.h"

#include <algorithm>
#include <cstring>

namespace attnsim::gpu {

TileCounts& TileCounts::operator+=(const TileCounts& other) {
  full += other.full;
  partial += other.partial;
  empty_visited += other.empty_visited;
  return *this;
}

TileClassifier::TileClassifier(const BlockLayout& layout, std::int64_t tile_q, std::int64_t tile_kv,
                               VisitRule visit_rule, bool unmask_q_cut_covered)
    : layout_(layout),
      aligned_(layout.geometry.block_q % tile_q == 0 && layout.geometry.block_kv % tile_kv == 0),
      tile_q_(tile_q),
      tile_kv_(tile_kv),
      visit_rule_(visit_rule),
      unmask_q_cut_covered_(unmask_q_cut_covered && !layout.q_cut_rule_full.empty()),
      q_tiles_(ceil_div(layout.geometry.seq_q, tile_q)),
      kv_tiles_(ceil_div(layout.geometry.seq_kv, tile_kv)),
      stamp_(aligned_ ? 0 : kv_tiles_, -1),
      full_hits_(aligned_ ? 0 : kv_tiles_, 0) {
  const MaskGeometry& g = layout.geometry;
  if (visit_rule == VisitRule::kRangeDriven && layout.tiling && tile_q == g.block_q &&
      tile_kv == g.block_kv) {
    tile_grid_ = layout.tiling->grid();
  }
}

std::int64_t TileClassifier::items() const {
  return layout_.geometry.batch * layout_.geometry.heads * q_tiles_;
}

namespace {

// Appends a run, merging it into the previous one when adjacent and of the same class.
void append_run(std::vector<TileRun>& out, std::int32_t begin, std::int32_t end,
                BlockClass tile_class) {
  if (!out.empty() && out.back().end == begin && out.back().tile_class == tile_class) {
    out.back().end = end;
  } else {
    out.push_back({begin, end, tile_class});
  }
}

// Range-driven kernels also compute the empty tiles between the first and last non-empty one.
void fill_gaps(std::vector<TileRun>& runs, std::vector<TileRun>& scratch) {
  scratch.clear();
  for (const TileRun& run : runs) {
    if (!scratch.empty() && scratch.back().end < run.begin) {
      scratch.push_back({scratch.back().end, run.begin, BlockClass::kEmpty});
    }
    append_run(scratch, run.begin, run.end, run.tile_class);
  }
  runs.swap(scratch);
}

}  // namespace

void TileClassifier::visit(std::int64_t item, std::vector<TileRun>& out) {
  out.clear();
  if (aligned_) {
    visit_aligned(item, out);
  } else {
    visit_general(item, out);
  }
  if (visit_rule_ != VisitRule::kRangeDriven || out.empty()) return;
  if (!tile_grid_.empty()) {
    fill_box(out, gap_scratch_);
  } else if (out.size() > 1) {
    fill_gaps(out, gap_scratch_);
  }
}

void TileClassifier::fill_box(std::vector<TileRun>& runs, std::vector<TileRun>& scratch) const {
  const std::size_t rank = tile_grid_.size();
  std::int64_t lo[8], hi[8], coord[8];
  for (std::size_t d = 0; d < rank; ++d) {
    lo[d] = tile_grid_[d];
    hi[d] = -1;
  }
  for (const TileRun& run : runs) {
    for (std::int32_t j = run.begin; j < run.end; ++j) {
      std::int64_t rest = j;
      for (std::size_t d = rank; d-- > 0;) {
        const std::int64_t c = rest % tile_grid_[d];
        rest /= tile_grid_[d];
        lo[d] = std::min(lo[d], c);
        hi[d] = std::max(hi[d], c);
      }
    }
  }
  // Row-major walk of the box gives increasing tile indices; the runs are walked alongside.
  scratch.clear();
  for (std::size_t d = 0; d < rank; ++d) coord[d] = lo[d];
  std::size_t next_run = 0;
  while (true) {
    std::int64_t j = 0;
    for (std::size_t d = 0; d < rank; ++d) j = j * tile_grid_[d] + coord[d];
    while (next_run < runs.size() && runs[next_run].end <= j) ++next_run;
    const bool listed = next_run < runs.size() && runs[next_run].begin <= j;
    append_run(scratch, static_cast<std::int32_t>(j), static_cast<std::int32_t>(j + 1),
               listed ? runs[next_run].tile_class : BlockClass::kEmpty);
    std::size_t d = rank;
    while (d > 0 && ++coord[d - 1] > hi[d - 1]) {
      --d;
      coord[d] = lo[d];
    }
    if (d == 0) break;
  }
  runs.swap(scratch);
}

const std::uint8_t* TileClassifier::q_cut_covered(std::int64_t item) const {
  const MaskGeometry& g = layout_.geometry;
  if (!unmask_q_cut_covered_) return nullptr;
  const std::int64_t i = item % q_tiles_;
  if ((i * tile_q_) / g.block_q != g.q_blocks() - 1) return nullptr;
  return layout_.q_cut_rule_full.data() + item / q_tiles_ / g.heads * g.kv_blocks();
}

void TileClassifier::visit_aligned(std::int64_t item, std::vector<TileRun>& out) const {
  const MaskGeometry& g = layout_.geometry;
  const std::int64_t i = item % q_tiles_;
  const std::int64_t row = item / q_tiles_ * g.q_blocks() + i * tile_q_ / g.block_q;
  const bool q_cut = (i + 1) * tile_q_ > g.seq_q;
  const std::uint8_t* covered = q_cut_covered(item);
  const auto per_block = static_cast<std::int32_t>(g.block_kv / tile_kv_);
  const auto kv_tiles = static_cast<std::int32_t>(kv_tiles_);
  // The current run lives in locals and is flushed when the class changes or a gap appears:
  // this loop runs once per non-empty block of the mask.
  TileRun run{0, 0, BlockClass::kEmpty};
  const std::int32_t* kv = layout_.kv_block.data();
  const std::uint8_t* is_full = layout_.is_full.data();
  const std::int64_t last = layout_.row_begin[row + 1];
  for (std::int64_t e = layout_.row_begin[row]; e < last;) {
    const std::int32_t begin = kv[e] * per_block;
    const bool full = covered ? covered[kv[e]] != 0 : is_full[e] != 0 && !q_cut;
    const BlockClass tile_class = full ? BlockClass::kFull : BlockClass::kPartial;
    if (begin != run.end || tile_class != run.tile_class) {
      if (run.end > run.begin) out.push_back(run);
      run = {begin, begin, tile_class};
    }
    // Dense stretches (causal rows, windows) step 8 blocks at a time: a row's blocks increase
    // strictly, so 8 entries are adjacent blocks when the 8th lies 7 past the first, and they
    // share the class when their flags do (any flags when a sequence end cuts the Q tile).
    std::int64_t stretch = 1;
    const std::uint64_t same_flags = full ? 0x0101010101010101ull : 0;
    while (!covered && e + stretch + 8 <= last && kv[e + stretch + 7] - kv[e] == stretch + 7) {
      std::uint64_t flags = 0;
      std::memcpy(&flags, is_full + e + stretch, sizeof flags);
      if (!q_cut && flags != same_flags) break;
      stretch += 8;
    }
    run.end = begin + static_cast<std::int32_t>(stretch) * per_block;
    e += stretch;
  }
  if (run.end > run.begin) {
    run.end = std::min(run.end, kv_tiles);
    out.push_back(run);
  }
  // A tile cut by the kv sequence end is partial even inside a full block.
  const bool kv_cut = g.seq_kv % tile_kv_ != 0;
  if (kv_cut && !out.empty() && out.back().end == kv_tiles &&
      out.back().tile_class == BlockClass::kFull) {
    if (--out.back().end == out.back().begin) out.pop_back();
    append_run(out, kv_tiles - 1, kv_tiles, BlockClass::kPartial);
  }
}

TileCounts TileClassifier::count_aligned(std::int64_t item) const {
  const MaskGeometry& g = layout_.geometry;
  const std::int64_t i = item % q_tiles_;
  const std::int64_t row = item / q_tiles_ * g.q_blocks() + i * tile_q_ / g.block_q;
  const bool q_cut = (i + 1) * tile_q_ > g.seq_q;
  const std::uint8_t* covered = q_cut_covered(item);
  const std::int64_t per_block = g.block_kv / tile_kv_;
  const std::int64_t first = layout_.row_begin[row];
  const std::int64_t last = layout_.row_begin[row + 1];
  TileCounts counts;
  if (first == last) return counts;
  std::int64_t full_blocks = 0;
  if (covered) {
    for (std::int64_t e = first; e < last; ++e) full_blocks += covered[layout_.kv_block[e]];
  } else if (!q_cut) {
    for (std::int64_t e = first; e < last; ++e) full_blocks += layout_.is_full[e] != 0 ? 1 : 0;
  }
  counts.full = full_blocks * per_block;
  counts.partial = (last - first - full_blocks) * per_block;
  // As visit_aligned: only the row's last block can reach past the last kv tile (its run is cut
  // there), and a kv tile cut by the sequence end is partial even inside a full block.
  const std::int64_t last_end = (layout_.kv_block[last - 1] + 1) * per_block;
  const bool last_full =
      covered ? covered[layout_.kv_block[last - 1]] != 0 : layout_.is_full[last - 1] != 0 && !q_cut;
  if (last_end >= kv_tiles_) {
    (last_full ? counts.full : counts.partial) -= last_end - kv_tiles_;
    if (last_full && g.seq_kv % tile_kv_ != 0) {
      counts.full -= 1;
      counts.partial += 1;
    }
  }
  return counts;
}

void TileClassifier::visit_general(std::int64_t item, std::vector<TileRun>& out) {
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
          full_hits_[j] = 0;
          touched_.push_back(static_cast<std::int32_t>(j));
        }
        full_hits_[j] += layout_.is_full[e];
      }
    }
  }
  // One Q block's entries arrive in kv order; several Q blocks interleave and need a sort.
  if (qb_end - qb_begin > 1) std::sort(touched_.begin(), touched_.end());
  const std::int64_t q_blocks_covered = qb_end - qb_begin;
  for (const std::int32_t j : touched_) {
    const std::int64_t kv_begin = j * tile_kv_;
    const std::int64_t kv_end = std::min(g.seq_kv, kv_begin + tile_kv_);
    const bool cut = q_cut || kv_end - kv_begin < tile_kv_;
    const std::int64_t kv_blocks_covered = ceil_div(kv_end, g.block_kv) - kv_begin / g.block_kv;
    const bool all_full = full_hits_[j] == q_blocks_covered * kv_blocks_covered;
    append_run(out, j, j + 1, all_full && !cut ? BlockClass::kFull : BlockClass::kPartial);
  }
}

TileCounts TileClassifier::count(std::int64_t item) {
  if (aligned_ && visit_rule_ != VisitRule::kRangeDriven) return count_aligned(item);
  visit(item, scratch_);
  TileCounts counts;
  for (const TileRun& run : scratch_) {
    const std::int64_t length = run.end - run.begin;
    switch (run.tile_class) {
      case BlockClass::kFull:
        counts.full += length;
        break;
      case BlockClass::kPartial:
        counts.partial += length;
        break;
      case BlockClass::kEmpty:
        counts.empty_visited += length;
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
