// The simulator's entry point: a mask on a kernel on a GPU -> bounds, prediction, schedule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/gpu/block_layout.h"
#include "sim/gpu/cost_model.h"
#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"
#include "sim/gpu/schedulers/scheduler.h"
#include "sim/gpu/tile_classifier.h"

namespace attnsim::gpu {

/// One attention problem: its name (usually the mask file) and its mask.
struct Workload {
  std::string name;
  BlockLayout mask;
};

/// One work item's run on the GPU, for the occupancy timeline.
struct TimelineEntry {
  std::int64_t batch = 0;
  std::int64_t head = 0;
  std::int64_t q_tile = 0;
  std::int32_t slot = 0;
  std::int32_t sm = 0;
  double start_us = 0;
  double end_us = 0;
  TileCounts tiles;
};

/// Everything tilesim reports for one mask (JSON field names in result_json.cc match these).
struct Result {
  std::string mask;
  std::string mask_rule;  ///< the mask's token rule, canonical text (mask_rules.md); empty: none
  std::int64_t batch = 0;
  std::int64_t heads = 0;
  std::int64_t seq_q = 0;
  std::int64_t seq_kv = 0;

  std::int64_t tiles_full = 0;
  std::int64_t tiles_partial = 0;
  std::int64_t tiles_empty_visited = 0;
  std::int64_t tiles_dense = 0;       ///< tiles of the same tiling without a mask
  double density_tokens = 0;          ///< allowed pairs / all pairs
  bool density_tokens_exact = false;  ///< false: partial blocks counted as fully allowed
  double density_tiles = 0;           ///< non-empty tiles / all tiles

  double speedup_bound_flop = 0;
  double speedup_bound_tiles = 0;
  double speedup_bound_sched = 0;
  /// NATTENSim's bound (GNA paper): dense KV tiles of one Q tile / the most KV tiles any one Q tile
  /// visits, overall and per head (index h). Kernels run as fast as their slowest Q tile when
  /// the Q tiles fill whole waves, so it never exceeds speedup_bound_tiles (which averages).
  double speedup_bound_worst_q = 0;
  std::vector<double> speedup_bound_worst_q_per_head;
  /// Tile-order layouts (TokenTiling): KV tiles per dimension of the grid, and the per-dimension
  /// extent (last - first + 1) of the KV tiles the worst Q tile visits. Empty otherwise.
  std::vector<std::int64_t> kv_tiles_per_dim;
  std::vector<std::int64_t> worst_q_kv_tiles_per_dim;

  double predicted_ms = 0;
  double predicted_dense_ms = 0;
  double predicted_speedup = 0;
  std::string baseline_kernel;  ///< the kernel of predicted_dense_ms (--baseline), else the kernel
  /// The grid a kernel with grid_choice (sm90_auto) picked for this mask: "flat" or "persistent";
  /// empty for a kernel with one grid.
  std::string grid;
  double makespan_us = 0;
  double tile_masked_us = 0;       ///< one masked tile under this mask's rule (cost_model.h)
  bool host_bound = false;         ///< the host floor, not the GPU, sets the launch time
  bool unaligned_variant = false;  ///< the kernel runs its unaligned-length variant
  /// What the slot that finishes last ran, as the cost model charges it: the makespan is
  /// critical_full_tiles x t_full + critical_masked_tiles x t_masked + critical_items x t_cta.
  double critical_full_tiles = 0;
  double critical_masked_tiles = 0;
  double critical_items = 0;
  double hbm_bytes = 0;
  double hbm_us = 0;
  bool memory_bound = false;
  /// NATTEN's token permutation around a tile-order layout (multi-dimensional, dilated or padded):
  /// Q, K and V gathered into tile order and padded, O scattered back; bytes moved and their time
  /// at the GPU's HBM bandwidth (a memory-bound floor). Reported apart from predicted_ms, which is
  /// the attention kernel alone. Zero when no permutation is needed (1-D without dilation or
  /// padding, or no tile-order layout).
  double permute_bytes = 0;
  double permute_us = 0;

  std::int64_t work_items = 0;
  std::int64_t slots = 0;
  double waves = 0;            ///< work items / slots
  double wave_efficiency = 0;  ///< busy slot time / (slots x makespan)
  double tail_fraction = 0;    ///< share of the makespan after the first slot ran dry for good

  std::vector<TimelineEntry> timeline;  ///< filled when asked for, in launch order
};

/// Another kernel as the dense baseline (`--baseline`): its dense configuration and cost model.
struct Baseline {
  KernelSpec kernel;
  CostParams cost;
};

struct SimulationOptions {
  bool record_timeline = false;
  /// The dense baseline of predicted_dense_ms / predicted_speedup; none: the kernel's own dense
  /// configuration with the same cost model. The speed-of-light bounds keep the kernel's own.
  const Baseline* baseline = nullptr;
  /// false: the bounds only (what `tilesim bounds` reports): the timed launch, its memory model
  /// and the dense baseline are skipped, and their Result fields stay 0. The bounds themselves
  /// are the same either way.
  bool timing = true;
};

/// What a workload must satisfy to run under `kernel` (e.g. heads a multiple of the GQA group);
/// fields named as a user sees them.
models::Violations check_workload(const Workload& workload, const KernelSpec& kernel);

/// Simulates `workload` under `kernel` on `gpu` with the cost model `cost`. A kernel with
/// grid_choice is simulated on the grid it picks for the mask (Result::grid).
/// Contract: gpu, kernel and cost have passed validate(), the workload check_workload(); the
/// mask is well-formed.
Result simulate(const Workload& workload, const GpuSpec& gpu, const KernelSpec& kernel,
                const CostParams& cost, const SimulationOptions& options = {});

/// Makespan statistics of one schedule of per-item work (exposed for tests and calibration).
struct ScheduleStats {
  double makespan = 0;
  double busy = 0;
  double waves = 0;
  double wave_efficiency = 0;
  double tail_fraction = 0;
};
ScheduleStats schedule_stats(const Schedule& schedule, const std::vector<double>& work);

/// Tile counts per work item of the dense problem (every tile visited; tiles cut by a sequence
/// end are partial), indexed like TileClassifier items.
std::vector<TileCounts> dense_tile_counts(const MaskGeometry& geometry, std::int64_t tile_q,
                                          std::int64_t tile_kv);

}  // namespace attnsim::gpu
