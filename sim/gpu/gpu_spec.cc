// GpuSpec validation.
#include "sim/gpu/gpu_spec.h"

namespace attnsim::gpu {

models::Violations GpuSpec::validate() const {
  models::Violations v;
  v.require_in_range("sm_count", sm_count, 1, 4096);
  v.require(clock_mhz > 0, "clock_mhz", "a positive number", clock_mhz);
  v.require(hbm_gb_per_s > 0, "hbm_gb_per_s", "a positive number", hbm_gb_per_s);
  v.require(l2_mib > 0, "l2_mib", "a positive number", l2_mib);
  v.require(peak_dense_bf16_tflops > 0, "peak_dense_bf16_tflops", "a positive number",
            peak_dense_bf16_tflops);
  v.require(int32_ops_per_clock_per_sm > 0, "int32_ops_per_clock_per_sm", "a positive number",
            int32_ops_per_clock_per_sm);
  return v;
}

}  // namespace attnsim::gpu
