// Timing: how long a work item and a launch take, given their tile counts (counting is separate).
#pragma once

#include "models/validation.h"
#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"
#include "sim/gpu/tile_classifier.h"

namespace attnsim::gpu {

/// The four numbers of the calibrated cost model (all in microseconds).
struct CostParams {
  double tile_full_us = 0;     ///< one unmasked tile_q x tile_kv step
  double tile_partial_us = 0;  ///< one masked step (partial tiles, empty tiles a range visits)
  double cta_us = 0;           ///< per work item: prologue, Q load, epilogue
  double launch_us = 0;        ///< per launch

  models::Violations validate() const;
};

/// Uncalibrated defaults: a full tile at kernel.mma_efficiency of the per-SM peak rate,
/// partial tiles partial_tile_cost_ratio times that, and the kernel's fixed overheads.
CostParams default_cost_params(const GpuSpec& gpu, const KernelSpec& kernel);

/// FLOPs of one tile step: QK^T and PV, 2 * 2 * tile_q * tile_kv * head_dim.
double tile_flops(const KernelSpec& kernel);

/// Run time of one work item (fixed cost + its tiles) under the kernel's masking rule;
/// `problem_has_masked_tiles` feeds the global fast-path decision.
double item_time_us(const TileCounts& counts, const CostParams& cost, MaskingRule rule,
                    bool problem_has_masked_tiles);

}  // namespace attnsim::gpu
