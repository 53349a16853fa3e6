// The top-k engine's cycle model: exact cycles of the RTL for given data, P and LFSR state.
#pragma once

#include <cstdint>
#include <vector>

#include "models/topk.h"

namespace attnsim::models {

/// Cycle-level schedule of one top-k job under back-pressure-free timing (one input beat per
/// cycle from the first, output always ready). Cycle 0 is the cycle of the first input beat.
struct TopkTiming {
  std::int64_t load_cycles = 0;         ///< ceil(n / P) input beats
  std::int64_t passes_cycles = 0;       ///< sum of pass_cycles(m) over the quick-select passes
  std::int64_t output_start_cycle = 0;  ///< first read of the output pass
  std::vector<std::int64_t> output_beat_cycles;  ///< transfer cycle of each output beat
  /// From the first input beat to the last output beat, both included: last beat cycle + 1.
  std::int64_t latency_cycles = 0;
};

/// The schedule the engine follows for a job whose decisions are `result` (from topk_select on
/// n scores with this k and params). See models/README.md for the micro-architecture.
TopkTiming topk_timing(const TopkResult& result, int n, int k, const TopkParams& params);

/// Exact cycle count of the engine for these scores, k, P (params.lanes) and LFSR state.
std::int64_t topk_latency_cycles(const std::vector<std::int64_t>& scores, int k,
                                 const TopkParams& params, std::uint16_t lfsr_state);

/// The public SpAtten latency model on the same decisions: ceil(m / P) + 3 per pass, no load and
/// no output pass. Kept only to compare with the figures quoted from it.
std::int64_t public_model_cycles(const TopkResult& result, int lanes);

}  // namespace attnsim::models
