// The behavioural top-k engine: the models/ algorithm and cycle model.
#include "sim/accel/topk_engine.h"

#include <algorithm>

#include "models/topk_latency.h"

namespace attnsim::accel {

void saturate_scores(std::vector<std::int64_t>& scores, int score_bits) {
  const std::int64_t hi = (std::int64_t{1} << (score_bits - 1)) - 1;
  for (std::int64_t& x : scores) x = std::min(x, hi);
}

TopkJobResult BehaviouralTopkEngine::run(const std::vector<std::int64_t>& scores, int k) {
  const models::TopkResult result = models::topk_select(scores, k, params_, lfsr_);
  lfsr_ = result.lfsr_state_after;
  const models::TopkTiming timing =
      models::topk_timing(result, static_cast<int>(scores.size()), k, params_);
  TopkJobResult out;
  out.selected = result.selected;
  out.latency_cycles = timing.latency_cycles;
  out.first_output_cycle =
      timing.output_beat_cycles.empty() ? timing.latency_cycles - 1 : timing.output_beat_cycles[0];
  out.output_start_cycle = timing.output_start_cycle;
  out.counts = result.counts;
  return out;
}

std::unique_ptr<TopkEngine> make_behavioural_topk_engine(const models::TopkParams& params,
                                                         const std::string& /*role*/) {
  return std::make_unique<BehaviouralTopkEngine>(params);
}

}  // namespace attnsim::accel
