// Lockstep-wave HBM traffic estimate.
#include "sim/gpu/memory_model.h"

#include <algorithm>
#include <numeric>

namespace attnsim::gpu {

MemoryTraffic estimate_memory(const Schedule& schedule, const VisitFunction& visit,
                              std::int64_t heads, std::int64_t q_tiles, std::int64_t kv_tiles,
                              std::int64_t seq_q, int slots, const KernelSpec& kernel,
                              const GpuSpec& gpu) {
  const auto items = static_cast<std::int64_t>(schedule.placements.size());
  std::vector<std::int64_t> by_start(items);
  std::iota(by_start.begin(), by_start.end(), 0);
  std::stable_sort(by_start.begin(), by_start.end(), [&](std::int64_t a, std::int64_t b) {
    return schedule.placements[a].start < schedule.placements[b].start;
  });

  const double element_bytes = dtype_bytes(kernel.dtype);
  const double kv_tile_bytes = 2.0 * kernel.tile_kv * kernel.head_dim * element_bytes;  // K and V
  const std::int64_t kv_heads =
      (heads + kernel.q_heads_per_kv_head - 1) / kernel.q_heads_per_kv_head;
  const std::int64_t batches = items / (heads * q_tiles);
  // Stamp per (batch, kv head, kv tile): the wave that last fetched it.
  std::vector<std::int64_t> fetched_in_wave(batches * kv_heads * kv_tiles, -1);
  std::vector<VisitedTile> tiles;
  double kv_fetches = 0;
  for (std::int64_t n = 0; n < items; ++n) {
    const std::int64_t item = by_start[n];
    const std::int64_t wave = n / slots;
    const std::int64_t bh = item / q_tiles;
    const std::int64_t b = bh / heads;
    const std::int64_t kv_head = (bh % heads) / kernel.q_heads_per_kv_head;
    std::int64_t* stamps = fetched_in_wave.data() + (b * kv_heads + kv_head) * kv_tiles;
    visit(item, tiles);
    for (const VisitedTile& tile : tiles) {
      if (stamps[tile.kv_tile] == wave) continue;
      stamps[tile.kv_tile] = wave;
      kv_fetches += 1;
    }
  }
  // Q read and O written once per query row of every (batch, head).
  const double qo_bytes = 2.0 * static_cast<double>(batches * heads * seq_q) *
                          static_cast<double>(kernel.head_dim) * element_bytes;
  MemoryTraffic traffic;
  traffic.hbm_bytes = kv_fetches * kv_tile_bytes + qo_bytes;
  traffic.hbm_us = traffic.hbm_bytes / (gpu.hbm_gb_per_s * 1e3);
  return traffic;
}

}  // namespace attnsim::gpu
