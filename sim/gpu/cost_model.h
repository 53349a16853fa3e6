// Timing: how long a work item and a launch take, given their tile counts (counting is separate).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "models/validation.h"
#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"
#include "sim/gpu/mask_rule.h"
#include "sim/gpu/tile_classifier.h"

namespace attnsim::gpu {

/// The calibrated cost model (times in microseconds). A masked tile (a partial tile, or an empty
/// tile a range visit computes) does the full tile's work plus its mask rule on every element:
///   t_masked(rule) = tile_full_us + tile_q * tile_kv * mask_rule_ops(rule) * scale(rule) *
///                    mask_op_us
/// so a masked tile is never cheaper than an unmasked one, and the mask's cost does not scale
/// with the head dim. A launch takes max(host_floor_us, launch_us + makespan): back-to-back
/// launches cannot issue faster than the host dispatches them.
struct CostParams {
  double tile_full_us = 0;  ///< one unmasked tile_q x tile_kv step
  double mask_op_us = 0;    ///< one per-element mask operation, for every element of a tile
  /// Fitted per rule name (`tilesim calibrate`, one run of that rule); absent: 1.
  std::map<std::string, double> rule_scale;
  double cta_us = 0;         ///< per work item: prologue, Q load, epilogue
  double launch_us = 0;      ///< per launch: launch latency, ramp-up and drain
  double host_floor_us = 0;  ///< the shortest time per launch when launches run back to back

  /// Scale of `rule`'s op count: its fitted value, or 1.
  double scale_of(const std::optional<MaskRule>& rule) const;
  /// Time of one masked tile of `kernel` under `rule`.
  double masked_tile_us(const KernelSpec& kernel, const std::optional<MaskRule>& rule) const;
  models::Violations validate() const;
};

/// Per-element operations a masked tile spends on `rule` (mask_rules.md, "Cost"): the masked
/// path's own work (the -inf select and the sequence-end check) plus the rule's broadcast
/// operations; work per query row or per key column is left out, since a tile shares it across
/// a whole row or column. No rule (a block-only mask) or `custom`: a generic estimate.
double mask_rule_ops(const std::optional<MaskRule>& rule);

/// Uncalibrated defaults: a full tile at kernel.mma_efficiency of the per-SM peak tensor rate, a
/// mask operation at kernel.mask_op_efficiency of the SM's INT32 issue rate (shared by the
/// kernel's CTAs per SM), and the kernel's fixed overheads.
CostParams default_cost_params(const GpuSpec& gpu, const KernelSpec& kernel);

/// FLOPs of one tile step: QK^T and PV, 2 * 2 * tile_q * tile_kv * head_dim.
double tile_flops(const KernelSpec& kernel);

/// Run time of one work item (fixed cost + its tiles) under the kernel's masking rule, given the
/// time of one masked tile; `problem_has_masked_tiles` feeds the global fast-path decision.
double item_time_us(const TileCounts& counts, const CostParams& cost, double masked_tile_us,
                    MaskingRule rule, bool problem_has_masked_tiles);

/// The launch time of a makespan: max(host floor, launch cost + makespan).
double launch_time_us(const CostParams& cost, double makespan_us);

}  // namespace attnsim::gpu
