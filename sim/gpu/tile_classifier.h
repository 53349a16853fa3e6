// Counting: which kernel tiles each work item visits, and whether each is full, partial or empty.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/gpu/block_layout.h"
#include "sim/gpu/kernel_spec.h"

namespace attnsim::gpu {

/// Tiles one work item (or a whole launch) computes, by class.
struct TileCounts {
  std::int64_t full = 0;
  std::int64_t partial = 0;
  std::int64_t empty_visited = 0;  ///< empty tiles a range-driven kernel still computes

  std::int64_t visited() const { return full + partial + empty_visited; }
  TileCounts& operator+=(const TileCounts& other);
};

/// Consecutive visited kernel tiles [begin, end) of one class; kEmpty marks empty tiles inside a
/// range-driven visit. Runs keep the work linear in the mask's runs of blocks, not its tiles.
struct TileRun {
  std::int32_t begin;
  std::int32_t end;
  BlockClass tile_class;
};

/// Classifies kernel tiles (tile_q x tile_kv, any size relative to the mask blocks) of a block
/// layout. Work item (b, h, i) has index (b * heads + h) * q_tiles + i and owns Q tile i.
/// Rules: a tile is EMPTY when every mask block it overlaps is empty, FULL when every block it
/// overlaps is full and no sequence end cuts it, PARTIAL otherwise; with `unmask_q_cut_covered`,
/// tiles of the last q block row whose block the layout's rule keeps entirely within the sequences
/// (BlockLayout::q_cut_rule_full) are FULL, as the kernels that skip masking on tiles their rule
/// covers run them (only where tiles subdivide the blocks). Range-driven visits span the
/// first to the last non-empty tile; on a tile-order multi-dimensional layout (TokenTiling) whose
/// tiles are the kernel's, they span that range in each dimension of the tile grid (NATTEN).
class TileClassifier {
 public:
  TileClassifier(const BlockLayout& layout, std::int64_t tile_q, std::int64_t tile_kv,
                 VisitRule visit_rule, bool unmask_q_cut_covered = false);

  std::int64_t q_tiles() const { return q_tiles_; }
  std::int64_t kv_tiles() const { return kv_tiles_; }
  std::int64_t items() const;
  /// Whether visit() is a plain walk of one block row (tiles subdivide the blocks, list-driven):
  /// then walking an item again costs no more than keeping its runs would.
  bool visits_are_row_walks() const { return aligned_ && visit_rule_ == VisitRule::kListDriven; }

  /// Tiles work item `item` visits, as runs in kv order (replaces the content of `out`);
  /// neighbouring runs differ in class or are not adjacent.
  void visit(std::int64_t item, std::vector<TileRun>& out);
  /// The class totals of visit(item)'s runs.
  TileCounts count(std::int64_t item);

 private:
  // Tiles that subdivide the mask blocks: each block maps to whole tiles of its class.
  void visit_aligned(std::int64_t item, std::vector<TileRun>& out) const;
  // visit_aligned's totals without its runs: a sum over the row's full flags.
  TileCounts count_aligned(std::int64_t item) const;
  // Whether `item`'s block row is the last one cut by seq_q and its covered blocks run unmasked:
  // then the row's classes come from q_cut_rule_full of the item's batch element (returned).
  const std::uint8_t* q_cut_covered(std::int64_t item) const;
  void visit_general(std::int64_t item, std::vector<TileRun>& out);
  // Range-driven on a tile-order layout: the box of tiles between the per-dimension extremes.
  void fill_box(std::vector<TileRun>& runs, std::vector<TileRun>& scratch) const;

  const BlockLayout& layout_;
  bool aligned_;
  std::int64_t tile_q_;
  std::int64_t tile_kv_;
  VisitRule visit_rule_;
  bool unmask_q_cut_covered_;
  std::vector<std::int64_t> tile_grid_;  // tiles per dimension when ranges are per dimension
  std::int64_t q_tiles_;
  std::int64_t kv_tiles_;
  // Scratch per kv tile, reset lazily through stamp_ so each item costs O(its blocks).
  std::vector<std::int64_t> stamp_;
  std::vector<std::int32_t> full_hits_;
  std::vector<std::int32_t> touched_;
  std::int64_t current_stamp_ = 0;
  std::vector<TileRun> scratch_;
  std::vector<TileRun> gap_scratch_;
};

/// Per work item counts for the whole layout, indexed like TileClassifier items.
std::vector<TileCounts> count_tiles(const BlockLayout& layout, std::int64_t tile_q,
                                    std::int64_t tile_kv, VisitRule visit_rule);

}  // namespace attnsim::gpu
