// Timing: how long a work item and a launch take, given their tile counts (counting is separate).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "models/validation.h"
#include "sim/gpu/block_layout.h"
#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"
#include "sim/gpu/mask_rule.h"
#include "sim/gpu/tile_classifier.h"

namespace attnsim::gpu {

/// The calibrated cost model (times in microseconds). A masked tile (a partial tile, or an empty
/// tile a range visit computes) does the full tile's work plus its mask rule on every element:
///   t_masked(rule) = tile_full_us + tile_q * tile_kv * mask_rule_ops(rule) * op_us(rule),
///   op_us(rule) = rule_op_us[rule name] when calibrated from a run of that rule, else the
///                 generic mask_op_us,
/// so a masked tile is never cheaper than an unmasked one, and the mask's cost does not scale
/// with the head dim. Kernels that compile a bounds-checked variant for sequence lengths that are
/// not a multiple of their tile (KernelSpec::unaligned_variant) add unaligned_tile_us to every
/// tile of such a launch and multiply a masked tile's mask work by the kernel's
/// unaligned_mask_factor, both scaled by unaligned_weight (lengths that are multiples of 64 cost
/// FlexAttention d64 a third as much). A launch takes max(host_floor_us, launch_us + makespan):
/// back-to-back launches cannot issue faster than the host dispatches them.
struct CostParams {
  double tile_full_us = 0;  ///< one unmasked tile_q x tile_kv step
  double mask_op_us = 0;    ///< one per-element mask operation, for every element of a tile
  /// The cost of one mask operation of a rule, fitted per rule name (`tilesim calibrate`, one
  /// run of that rule); the op count still follows each mask's parameters (a 3-D neighborhood
  /// costs more than the 2-D one its rule was calibrated on). Rules without one: mask_op_us.
  std::map<std::string, double> rule_op_us;
  double cta_us = 0;             ///< per work item: prologue, Q load, epilogue
  double launch_us = 0;          ///< per launch: launch latency, ramp-up and drain
  double host_floor_us = 0;      ///< the shortest time per launch when launches run back to back
  double unaligned_tile_us = 0;  ///< extra per tile in a launch of the unaligned variant

  /// The mask work per element of `rule` under `evaluation` (see above).
  double mask_element_us(const std::optional<MaskRule>& rule, const KernelSpec& kernel) const;
  /// Whether `rule` has its own fitted cost.
  bool has_rule_cost(const std::optional<MaskRule>& rule) const {
    return rule && rule_op_us.count(rule->name) != 0;
  }
  /// Time of one masked tile of `kernel` under `rule` (aligned lengths).
  double masked_tile_us(const KernelSpec& kernel, const std::optional<MaskRule>& rule) const;
  /// Full and masked tile times of `kernel` on a problem of `geometry` under `rule`.
  struct TileTimes {
    double full_us = 0;
    double masked_us = 0;
  };
  TileTimes tile_times(const KernelSpec& kernel, const MaskGeometry& geometry,
                       const std::optional<MaskRule>& rule) const;
  models::Violations validate() const;
};

/// Per-element operations a masked tile spends on `rule` (mask_rules.md, "Cost"): the masked
/// path's own work (the -inf select and the sequence-end check) plus the rule's broadcast
/// operations; work per query row or per key column is left out, since a tile shares it across
/// a whole row or column. No rule (a block-only mask) or `custom`: a generic estimate. A kernel
/// that precomputes per-row and per-column values tests every rule with the same few operations,
/// plus, for a neighborhood, its key words' staging per grid dimension (`precomputed`).
/// Neighborhood rules (sliding_window, gna) count the kernel's `neighborhood` coefficients.
double mask_rule_ops(const std::optional<MaskRule>& rule,
                     MaskEvaluation evaluation = MaskEvaluation::kExpression,
                     const KernelSpec::NeighborhoodOps& neighborhood = {},
                     const KernelSpec::PrecomputedNeighborhood& precomputed = {});

/// mask_rule_ops with `kernel`'s evaluation and op counts.
double mask_rule_ops(const std::optional<MaskRule>& rule, const KernelSpec& kernel);

/// Uncalibrated defaults: a full tile at kernel.mma_efficiency of the per-SM peak tensor rate and
/// a mask operation at kernel.mask_op_efficiency of the SM's INT32 issue rate, both shared by the
/// kernel's CTAs per SM, and the kernel's fixed overheads.
CostParams default_cost_params(const GpuSpec& gpu, const KernelSpec& kernel);

/// FLOPs of one tile step: QK^T and PV, 2 * 2 * tile_q * tile_kv * head_dim.
double tile_flops(const KernelSpec& kernel);

/// Whether `kernel` runs its unaligned variant on `geometry` (a length not a multiple of a tile).
bool runs_unaligned_variant(const KernelSpec& kernel, const MaskGeometry& geometry);

/// The share of its unaligned variant's cost a launch on `geometry` pays (KernelSpec::
/// unaligned_weights): 0 on aligned lengths, else the weight of the largest listed multiple that
/// divides both lengths, or 1.
double unaligned_weight(const KernelSpec& kernel, const MaskGeometry& geometry);

/// What a masked tile's mask work under `rule` is multiplied by on `geometry`: in the kernel's
/// unaligned variant 1 + (unaligned_mask_factor - 1) x unaligned_weight (0 for `allow`, whose
/// compare the bounds check absorbs: measured), else 1.
double mask_work_factor(const KernelSpec& kernel, const MaskGeometry& geometry,
                        const std::optional<MaskRule>& rule);

/// Run time of one work item (fixed cost + its tiles) under the kernel's masking rule, given the
/// tile times; `problem_has_masked_tiles` feeds the global fast-path decision.
double item_time_us(const TileCounts& counts, double cta_us, const CostParams::TileTimes& tiles,
                    MaskingRule rule, bool problem_has_masked_tiles);

/// The launch time of a makespan: max(host floor, launch cost + makespan).
double launch_time_us(const CostParams& cost, double makespan_us);

}  // namespace attnsim::gpu
