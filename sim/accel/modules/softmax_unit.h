// Softmax unit: `lanes` scores per cycle. Two sub-stages: the max streams with Q x K and is
// followed by an exp-and-sum pass (dequant, exp, accumulate) over the buffered scores; once the
// sum is known the divide sub-stage (divide, quant) makes a third pass. The two sub-stages are
// separate hardware, so head-step i's divide overlaps head-step i+1's max and exp. Without the
// max stage (softmax.max_stage: false) the exp-and-sum pass streams with Q x K itself.
#pragma once

#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: one probability beat out per score beat in, same order. The max/exp sub-stage is
/// busy from the first score to the end of its exp pass; the divide sub-stage for one pass
/// after the sum is ready (and after its previous head-step).
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
    std::int64_t divide_free = 0;
    for (;;) {
      models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      const std::int64_t pass = models::softmax_pass_cycles(s.key_fetch, p.lanes);
      const std::int64_t start = std::max(ctx_.now(), b.first_cycle);
      const std::int64_t stream_end = std::max(start + pass, b.last_cycle + 1);
      const std::int64_t exp_end = p.max_stage ? stream_end + pass : stream_end;
      const std::int64_t divide_start = std::max(exp_end + sum_latency, divide_free);
      divide_free = divide_start + pass;
      b.first_cycle = divide_start + out_latency;
      b.last_cycle = divide_free - 1 + out_latency;
      ctx_.wait_until(start);
      out_.write(b);
      if (p.max_stage) ctx_.stats.actions.comparisons += s.key_fetch;
      ctx_.stats.actions.exps += s.key_fetch;
      ctx_.stats.actions.adds += s.key_fetch;
      ctx_.stats.actions.divides += s.key_fetch;
      ctx_.stats.softmax.busy_cycles += exp_end - start;
      ctx_.stats.softmax_divide.busy_cycles += pass;
      ctx_.stats.softmax.jobs += 1;
      ctx_.stats.softmax_divide.jobs += 1;
      ctx_.wait_until(exp_end);
    }
  }

  PipelineContext& ctx_;
  BeatFifo& in_;
  BeatFifo& out_;
};

}  // namespace attnsim::accel
