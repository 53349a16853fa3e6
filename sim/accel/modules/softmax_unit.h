// Softmax unit: `lanes` scores per cycle; the max streams with Q x K, then an exp-and-sum pass
// (dequant, exp, accumulate) and, once the sum is known, a divide pass (divide, quant).
#pragma once

#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: one probability beat out per score beat in, same order. Busy from the first score
/// to the end of the divide pass's issue; the divide pipeline's latency overlaps the next beat.
class SoftmaxUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(SoftmaxUnit);
  SoftmaxUnit(sc_core::sc_module_name name, PipelineContext& ctx, BeatFifo& in, BeatFifo& out)
      : sc_module(name), ctx_(ctx), in_(in), out_(out) {
    SC_THREAD(run);
  }

 private:
  void run() {
    const SoftmaxParams& p = ctx_.config.softmax;
    const std::int64_t sum_latency = p.dequant_cycles + p.exp_cycles + p.accumulate_cycles;
    const std::int64_t out_latency = p.divide_cycles + p.quant_cycles;
    for (;;) {
      models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      const std::int64_t pass = models::softmax_pass_cycles(s.key_fetch, p.lanes);
      const std::int64_t start = std::max(ctx_.now(), b.first_cycle);
      const std::int64_t max_end = std::max(start + pass, b.last_cycle + 1);
      const std::int64_t divide_start = max_end + pass + sum_latency;
      const std::int64_t end = divide_start + pass;
      b.first_cycle = divide_start + out_latency;
      b.last_cycle = end - 1 + out_latency;
      ctx_.wait_until(start);
      out_.write(b);
      ctx_.stats.actions.comparisons += s.key_fetch;
      ctx_.stats.actions.exps += s.key_fetch;
      ctx_.stats.actions.adds += s.key_fetch;
      ctx_.stats.actions.divides += s.key_fetch;
      ctx_.stats.softmax.busy_cycles += end - start;
      ctx_.stats.softmax.jobs += 1;
      ctx_.wait_until(end);
    }
  }

  PipelineContext& ctx_;
  BeatFifo& in_;
  BeatFifo& out_;
};

}  // namespace attnsim::accel
