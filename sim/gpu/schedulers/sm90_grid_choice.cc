#include "sim/gpu/schedulers/sm90_grid_choice.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <stdexcept>

#include "sim/gpu/launch_order.h"
#include "sim/gpu/tile_classifier.h"

namespace attnsim::gpu::sm90 {

const char* to_string(Sm90Grid grid) { return grid == Sm90Grid::kFlat ? "flat" : "persistent"; }

GridItemCosts h200_grid_item_costs(int head_dim) {
  if (head_dim == 64) return {4.0, 3.5};
  return {9.0, 8.5};
}

double flat_grid_makespan(const std::vector<std::int64_t>& item_tiles, int sm_count,
                          double item_cost) {
  if (sm_count < 1) throw std::invalid_argument("flat_grid_makespan: sm_count must be >= 1");
  // Each SM's finishing time, the earliest on top.
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int s = 0; s < sm_count; ++s) free_at.push(0.0);
  double makespan = 0;
  for (const std::int64_t tiles : item_tiles) {
    const double end = free_at.top() + static_cast<double>(tiles) + item_cost;
    free_at.pop();
    free_at.push(end);
    makespan = std::max(makespan, end);
  }
  return makespan;
}

double persistent_grid_makespan(const std::vector<std::int64_t>& item_tiles,
                                const std::vector<std::int32_t>& order, int sm_count,
                                double item_cost) {
  if (sm_count < 1) throw std::invalid_argument("persistent_grid_makespan: sm_count must be >= 1");
  const std::size_t ctas = std::min<std::size_t>(order.size(), static_cast<std::size_t>(sm_count));
  std::vector<double> load(ctas, 0.0);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto item = static_cast<std::size_t>(order[i]);
    if (item >= item_tiles.size())
      throw std::invalid_argument("persistent_grid_makespan: order names an item past the list");
    load[i % ctas] += static_cast<double>(item_tiles[item]) + item_cost;
  }
  return load.empty() ? 0.0 : *std::max_element(load.begin(), load.end());
}

Sm90Grid choose_grid(const std::vector<std::int64_t>& item_tiles,
                     const std::vector<std::int32_t>& order, int sm_count,
                     const GridItemCosts& costs) {
  const double flat = flat_grid_makespan(item_tiles, sm_count, costs.flat_tiles);
  const double persistent =
      persistent_grid_makespan(item_tiles, order, sm_count, costs.persistent_tiles);
  return persistent < flat ? Sm90Grid::kPersistent : Sm90Grid::kFlat;
}

Sm90Grid choose_grid(const BlockLayout& mask, const KernelSpec& kernel, int sm_count) {
  if (!kernel.grid_choice)
    throw std::invalid_argument("choose_grid: kernel '" + kernel.name + "' has no grid_choice");
  const KernelSpec::GridChoice& grids = *kernel.grid_choice;
  const MaskGeometry& g = mask.geometry;
  const std::int64_t q_tiles = ceil_div(g.seq_q, kernel.tile_q);
  const std::int64_t items = g.batch * g.heads * q_tiles;
  if (items > std::numeric_limits<std::int32_t>::max())
    throw std::invalid_argument("choose_grid: more work items than the kernel's order holds");
  // The bench's count: with 128-query blocks a work item is a row of the lists.
  const bool rows = g.block_q == kernel.tile_q && g.block_kv % kernel.tile_kv == 0;
  const std::int64_t tiles_per_block = rows ? g.block_kv / kernel.tile_kv : 0;
  std::optional<TileClassifier> classifier;
  if (!rows) classifier.emplace(mask, kernel.tile_q, kernel.tile_kv, kernel.visit_rule);
  const auto tiles_of = [&](std::int64_t item) {
    return rows ? mask.row_size(item) * tiles_per_block : classifier->count(item).visited();
  };
  // Each item's tiles in the flat grid's launch order (sm90's q,h,b is item order, "grid order").
  std::vector<std::int64_t> tiles;
  tiles.reserve(static_cast<std::size_t>(items));
  bool item_order = true;
  for_each_launch(g.batch, g.heads, q_tiles, grids.flat.launch_order, [&](std::int64_t item) {
    item_order = item_order && item == static_cast<std::int64_t>(tiles.size());
    tiles.push_back(tiles_of(item));
  });
  std::vector<std::int32_t> position;  // item -> its place in the flat launch; empty: the item
  if (!item_order) {
    position.resize(static_cast<std::size_t>(items));
    std::int32_t next = 0;
    for_each_launch(g.batch, g.heads, q_tiles, grids.flat.launch_order,
                    [&](std::int64_t item) { position[item] = next++; });
  }
  const auto place = [&](std::int64_t item) {
    return position.empty() ? static_cast<std::int32_t>(item) : position[item];
  };
  // The persistent grid's order, as its preset launches it (launch_sequence's longest_first_q).
  std::vector<std::int32_t> order;
  {
    const std::vector<std::int64_t> sequence =
        launch_sequence(g.batch, g.heads, q_tiles, grids.persistent.launch_order,
                        [&](std::int64_t item) { return static_cast<double>(tiles[place(item)]); });
    order.reserve(sequence.size());
    for (const std::int64_t item : sequence) order.push_back(place(item));
  }
  return choose_grid(tiles, order, sm_count,
                     h200_grid_item_costs(static_cast<int>(kernel.head_dim)));
}

}  // namespace attnsim::gpu::sm90
