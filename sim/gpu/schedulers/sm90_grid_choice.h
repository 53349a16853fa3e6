// Which of the sm90 kernel's two grids runs a block mask faster (bsattn-bench --grid auto),
// estimated on the host from the block lists' counts before anything is launched. Plain C++ in
// attnsim::gpu, so the one estimate serves the kernel's bench (golden/tools/bsattn_bench_main.cu,
// built only with nvcc) and tilesim's sm90_auto preset (simulate.cc), which must pick the grid the
// bench picks. Tested on the CPU (tests/sim/gpu/sm90_grid_choice_test.cc).
//
// The flat grid (one CTA per query tile, head and batch) balances unequal work items well, since
// the hardware hands the next CTA to whichever SM frees first, but every item pays a CTA's launch,
// prologue and epilogue with nothing to hide them at one CTA per SM. The persistent grid (one CTA
// per SM, items in longest-first order, dealt round robin) pays less per item but cannot move
// work between CTAs, so a tail-heavy mask leaves SMs idle. Measured on the H200
// (golden/results/h200/2026-12-03-verify/), each grid is the faster one on about half the masks at
// d64: the persistent grid by up to 12 % on short, uniform items, the flat grid by up to 1.5x on
// head mixtures.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/gpu/block_layout.h"
#include "sim/gpu/kernel_spec.h"

namespace attnsim::gpu::sm90 {

enum class Sm90Grid { kFlat, kPersistent };
const char* to_string(Sm90Grid grid);

/// Fixed cost of one work item on each grid, in 128 x 128 key tiles of the same head dim.
struct GridItemCosts {
  double flat_tiles = 0;
  double persistent_tiles = 0;
};

/// The H200's item costs per head dim (64 and 128; other head dims get d128's), fitted to the
/// flat and persistent runs of the 52-mask dataset in 2026-12-03-sm90-dataset/visit2 by
/// `python3 -m attnsim.grid_choice --fit` (a test checks these against it).
GridItemCosts h200_grid_item_costs(int head_dim);

/// The flat grid's makespan in tiles: `item_tiles` (key tiles per item, in grid order) dispatched
/// in that order, each to the SM that frees first, one CTA per SM, each item item_cost more.
double flat_grid_makespan(const std::vector<std::int64_t>& item_tiles, int sm_count,
                          double item_cost);

/// The persistent grid's makespan in tiles: min(items, SMs) CTAs, CTA c running items order[c],
/// order[c + CTAs], ... (`order`: indices into item_tiles, e.g. longest_first_order's).
double persistent_grid_makespan(const std::vector<std::int64_t>& item_tiles,
                                const std::vector<std::int32_t>& order, int sm_count,
                                double item_cost);

/// The grid with the shorter estimated makespan; the flat grid on a tie or without items.
Sm90Grid choose_grid(const std::vector<std::int64_t>& item_tiles,
                     const std::vector<std::int32_t>& order, int sm_count,
                     const GridItemCosts& costs);

/// The grid `kernel` (a preset with grid_choice, e.g. sm90_auto) runs `mask` on, picked as
/// bsattn-bench --grid auto picks it: choose_grid on each item's visited key tiles in the flat
/// grid's launch order, the persistent grid's order (each head's items longest first, ties in grid
/// order: the kernel's longest_first_order), `sm_count` SMs and
/// h200_grid_item_costs(kernel.head_dim). An item's tiles are what the bench counts from the
/// mask's lists: its row's PARTIAL + FULL blocks times the key tiles per block; a layout the
/// kernel cannot run (query blocks other than its query tile, key blocks not a multiple of its key
/// tile) counts the tiles the TileClassifier visits. Keeps at most 20 bytes per item while it
/// runs (the tiles, the order and, while that is built, the launch sequence), less than the
/// simulation of a persistent launch keeps.
/// Throws std::invalid_argument when `kernel` has no grid_choice.
Sm90Grid choose_grid(const BlockLayout& mask, const KernelSpec& kernel, int sm_count);

}  // namespace attnsim::gpu::sm90
