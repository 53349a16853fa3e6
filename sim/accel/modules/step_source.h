// Issues head-steps in workload order; after a head-step that triggers the token top-k, holds
// the next one until the top-k has picked the tokens it will fetch (cascade pruning).
#pragma once

#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: writes one pass-0 beat per head-step to `out`, in order; reads one token from
/// `topk_done` after each head-step whose shape has token_topk.
class StepSource : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(StepSource);
  StepSource(sc_core::sc_module_name name, PipelineContext& ctx, BeatFifo& out,
             sc_core::sc_fifo<int>& topk_done)
      : sc_module(name), ctx_(ctx), out_(out), topk_done_(topk_done) {
    SC_THREAD(run);
  }

 private:
  void run() {
    const int n = static_cast<int>(ctx_.workload.steps.size());
    for (int i = 0; i < n; ++i) {
      models::HeadStepBeat b;
      b.step = i;
      b.first_cycle = b.last_cycle = ctx_.now();
      out_.write(b);
      if (ctx_.step(i).token_topk) {
        const std::int64_t t0 = ctx_.now();
        topk_done_.read();
        ctx_.stats.token_topk_stall_cycles += ctx_.now() - t0;
      }
    }
  }

  PipelineContext& ctx_;
  BeatFifo& out_;
  sc_core::sc_fifo<int>& topk_done_;
};

}  // namespace attnsim::accel
