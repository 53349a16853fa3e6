// Cycle model of the top-k engine (load, quick-select passes, output pass with beat packing).
#include "models/topk_latency.h"

#include <algorithm>

namespace attnsim::models {

TopkTiming topk_timing(const TopkResult& result, int n, int k, const TopkParams& params) {
  TopkTiming timing;
  const std::int64_t lanes = params.lanes;
  timing.load_cycles = (n + lanes - 1) / lanes;
  for (std::size_t i = 0; i < result.pass_candidates.size(); ++i) {
    const int m = result.pass_candidates[i];
    // A fused first pass reads its rows as they load: only its pipeline and finish remain.
    timing.passes_cycles += (i == 0 && params.first_pass_fused())
                                ? params.pass_pipeline_cycles + params.pass_finish_cycles
                                : params.pass_cycles(m);
  }
  timing.output_start_cycle = timing.load_cycles + timing.passes_cycles;

  // Output beat b carries kept elements [b*P, min((b+1)*P, k)); it can leave once the row holding
  // its last element has gone through the output pipeline, and at most one beat leaves per cycle
  // (a row can complete a full beat and the final partial one at once: the latter waits a cycle).
  const std::int64_t beats = (k + lanes - 1) / lanes;
  std::int64_t previous = -1;
  for (std::int64_t b = 0; b < beats; ++b) {
    const std::int64_t last_element = std::min<std::int64_t>((b + 1) * lanes, k) - 1;
    const std::int64_t row = result.selected[static_cast<std::size_t>(last_element)] / lanes;
    const std::int64_t ready = timing.output_start_cycle + row + params.output_pipeline_cycles;
    previous = std::max(ready, previous + 1);
    timing.output_beat_cycles.push_back(previous);
  }
  timing.latency_cycles = previous + 1;
  return timing;
}

std::int64_t topk_latency_cycles(const std::vector<std::int64_t>& scores, int k,
                                 const TopkParams& params, std::uint16_t lfsr_state) {
  const TopkResult result = topk_select(scores, k, params, lfsr_state);
  return topk_timing(result, static_cast<int>(scores.size()), k, params).latency_cycles;
}

std::int64_t public_model_cycles(const TopkResult& result, int lanes) {
  std::int64_t cycles = 0;
  for (int m : result.pass_candidates) cycles += (m + lanes - 1) / lanes + 3;
  return cycles;
}

}  // namespace attnsim::models
