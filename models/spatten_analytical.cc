// Additive and bound cycle estimates of the SpAtten pipeline.
#include "models/spatten_analytical.h"

#include <algorithm>
#include <stdexcept>

namespace attnsim::models {

AnalyticalResult analytical_cycles(const std::vector<HeadStepShape>& steps,
                                   const AnalyticalParams& p,
                                   const std::vector<std::int64_t>& topk_cycles) {
  if (!topk_cycles.empty() && topk_cycles.size() != steps.size()) {
    throw std::invalid_argument("analytical_cycles: one top-k figure per head-step expected");
  }
  AnalyticalResult r;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const HeadStepShape& s = steps[i];
    const int tries = s.requant ? 2 : 1;
    const StepBytes bytes = step_payload_bytes(s);
    const std::int64_t dram = ceil_div(bytes.total(), p.dram_bytes_per_cycle);
    const std::int64_t qk = tries * qk_issue_cycles(s.key_fetch, p.qk_multipliers, s.head_dim);
    // The max/exp sub-stage makes two passes (one when the max has its own unit or none is
    // taken); the divide sub-stage, separate hardware, one more.
    const std::int64_t pass = softmax_pass_cycles(s.key_fetch, p.softmax_lanes);
    const std::int64_t sm = tries * p.softmax_busy_passes * pass;
    const std::int64_t pv = pv_issue_cycles(s.value_fetch, p.pv_multipliers, s.head_dim);
    const std::int64_t topk = topk_cycles.empty() ? 0 : topk_cycles[i];
    r.dram_cycles += dram;
    r.qk_cycles += qk;
    r.softmax_cycles += sm;
    r.pv_cycles += pv;
    r.topk_cycles += topk;
    // K fetch, then V fetch after the top-k: two DRAM round trips (three with a re-fetch).
    const std::int64_t latencies =
        (tries + 1) * p.dram_latency_cycles +
        tries * (p.qk_latency_cycles + p.softmax_latency_cycles + p.max_reduce_cycles) +
        p.pv_latency_cycles;
    r.additive_cycles += dram + qk + sm + tries * pass + pv + topk + latencies;
  }
  r.bound_cycles =
      std::max({r.dram_cycles, r.qk_cycles, r.softmax_cycles, r.pv_cycles, r.topk_cycles});
  return r;
}

}  // namespace attnsim::models
