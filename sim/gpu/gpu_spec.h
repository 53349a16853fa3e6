// GpuSpec: the GPU facts the tile model needs (SMs, clock, HBM, L2, peak tensor rate).
#pragma once

#include <string>

#include "models/validation.h"

namespace attnsim::gpu {

/// One GPU model. Field names carry units; presets cite a datasheet or a measurement per number.
struct GpuSpec {
  std::string name;
  int sm_count = 0;
  double clock_mhz = 0;
  double hbm_gb_per_s = 0;  ///< sustained HBM bandwidth, 1e9 bytes per second
  double l2_mib = 0;
  double peak_dense_bf16_tflops = 0;  ///< dense (not 2:4 sparse) bf16 tensor-core rate
  /// INT32 operations an SM issues per clock (the rate mask rules run at): 64 on Volta to Hopper.
  double int32_ops_per_clock_per_sm = 64;

  /// Every reason this spec is unusable, fields named as in the YAML.
  models::Violations validate() const;
};

}  // namespace attnsim::gpu
