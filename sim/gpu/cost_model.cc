// Cost model defaults and per-item time.
#include "sim/gpu/cost_model.h"

namespace attnsim::gpu {

models::Violations CostParams::validate() const {
  models::Violations v;
  v.require(tile_full_us >= 0, "tile_full_us", "a non-negative number", tile_full_us);
  v.require(tile_partial_us >= 0, "tile_partial_us", "a non-negative number", tile_partial_us);
  v.require(cta_us >= 0, "cta_us", "a non-negative number", cta_us);
  v.require(launch_us >= 0, "launch_us", "a non-negative number", launch_us);
  return v;
}

double tile_flops(const KernelSpec& kernel) {
  return 4.0 * static_cast<double>(kernel.tile_q) * static_cast<double>(kernel.tile_kv) *
         static_cast<double>(kernel.head_dim);
}

CostParams default_cost_params(const GpuSpec& gpu, const KernelSpec& kernel) {
  // Tensor-core rate scales inversely with element size (fp8 doubles bf16's rate).
  const double dtype_speedup = 2.0 / dtype_bytes(kernel.dtype);
  const double sm_flops_per_us = gpu.peak_dense_bf16_tflops * 1e6 * dtype_speedup / gpu.sm_count;
  CostParams cost;
  cost.tile_full_us = tile_flops(kernel) / (sm_flops_per_us * kernel.mma_efficiency);
  cost.tile_partial_us = cost.tile_full_us * kernel.partial_tile_cost_ratio;
  cost.cta_us = kernel.cta_overhead_us;
  cost.launch_us = kernel.launch_overhead_us;
  return cost;
}

double item_time_us(const TileCounts& counts, const CostParams& cost, MaskingRule rule,
                    bool problem_has_masked_tiles) {
  const bool mask_everything = rule == MaskingRule::kAlwaysMask ||
                               (rule == MaskingRule::kGlobalFastPath && problem_has_masked_tiles);
  const double masked = static_cast<double>(counts.partial + counts.empty_visited);
  const double full = static_cast<double>(counts.full);
  if (mask_everything) return cost.cta_us + (full + masked) * cost.tile_partial_us;
  return cost.cta_us + full * cost.tile_full_us + masked * cost.tile_partial_us;
}

}  // namespace attnsim::gpu
