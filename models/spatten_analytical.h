// The additive analytical model of SpAtten (fill + drain + top-k + DRAM per head-step, as in the
// public BERT behaviour model), and the overlap bound, to compare with the SystemC model.
#pragma once

#include <cstdint>
#include <vector>

#include "models/spatten_step.h"

namespace attnsim::models {

/// The machine as the analytical model sees it: rates and pipeline latencies only.
struct AnalyticalParams {
  int qk_multipliers = 512;
  int qk_latency_cycles = 11;  ///< SRAM read + multiply + reduction
  int softmax_lanes = 8;
  int softmax_latency_cycles = 87;  ///< dequant + exp + accumulate + divide + quant
  /// Passes the max/exp sub-stage is busy per try: 2 with a serial max stage, 1 when the max has
  /// its own unit or there is none (sim/accel softmax.max_stage).
  int softmax_busy_passes = 2;
  int max_reduce_cycles = 4;
  int pv_multipliers = 512;
  int pv_latency_cycles = 11;
  std::int64_t dram_bytes_per_cycle = 512;  ///< all channels together
  int dram_latency_cycles = 40;
};

/// Cycles by stage, summed over head-steps, and the two totals.
struct AnalyticalResult {
  std::int64_t dram_cycles = 0;     ///< payload / bandwidth (no latency)
  std::int64_t qk_cycles = 0;       ///< Q x K fill, both passes
  std::int64_t softmax_cycles = 0;  ///< max + exp passes of ceil(n / lanes), both tries
  std::int64_t topk_cycles = 0;     ///< the engines' latencies, as given
  std::int64_t pv_cycles = 0;       ///< prob x V fill
  /// No overlap at all: every stage of every head-step, with its pipeline latency and the DRAM
  /// latency, one after another.
  std::int64_t additive_cycles = 0;
  /// Perfect overlap: the busiest stage's total. No schedule of these steps can beat it.
  std::int64_t bound_cycles = 0;
};

/// `topk_cycles[i]`: local-V top-k engine cycles of head-step i (one engine, so its sum bounds);
/// empty means none. Throws std::invalid_argument when its size is neither 0 nor steps.size().
AnalyticalResult analytical_cycles(const std::vector<HeadStepShape>& steps,
                                   const AnalyticalParams& params,
                                   const std::vector<std::int64_t>& topk_cycles);

}  // namespace attnsim::models
