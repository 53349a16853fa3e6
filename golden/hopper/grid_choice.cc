#include "golden/hopper/grid_choice.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>

namespace attnsim::golden::sm90 {

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

}  // namespace attnsim::golden::sm90
