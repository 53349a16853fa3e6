// Head-importance accumulator: adds |output| over D per head-step; the pipeline's sink, so it
// also records when the last head-step finished. Head pruning itself is already in a CSV
// workload (pruned heads have no rows), so no head top-k runs here.
#pragma once

#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: reads every head output; stats.cycles = cycle after the last one's accumulation.
class HeadImportance : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(HeadImportance);
  HeadImportance(sc_core::sc_module_name name, PipelineContext& ctx, BeatFifo& in)
      : sc_module(name), ctx_(ctx), in_(in) {
    SC_THREAD(run);
  }

 private:
  void run() {
    const std::int64_t total = static_cast<std::int64_t>(ctx_.workload.steps.size());
    for (std::int64_t done = 0; done < total; ++done) {
      const models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      const std::int64_t end =
          b.last_cycle + 1 + models::ceil_div(s.head_dim, ctx_.config.softmax.lanes);
      models::ActionCounts counts;
      counts.adds = s.head_dim;
      ctx_.stats.count(ctx_.stats.module_actions.importance, counts);
      ctx_.stats.head_importance.busy_cycles +=
          models::ceil_div(s.head_dim, ctx_.config.softmax.lanes);
      ctx_.stats.head_importance.jobs += 1;
      ctx_.stats.head_steps += 1;
      ctx_.stats.completion_order.push_back(b.step);
      if (ctx_.progress != nullptr) ctx_.progress->advance();
      ctx_.wait_until(end);
      ctx_.stats.cycles = std::max(ctx_.stats.cycles, end);
    }
  }

  PipelineContext& ctx_;
  BeatFifo& in_;
};

}  // namespace attnsim::accel
