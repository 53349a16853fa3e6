// Softmax unit: `lanes` scores per cycle. Two sub-stages: the max streams with Q x K and is
// followed by an exp-and-sum pass (dequant, exp, accumulate) over the buffered scores; once the
// sum is known the divide sub-stage (divide, quant) makes a third pass. The two sub-stages are
// separate hardware, so head-step i's divide overlaps head-step i+1's max and exp.
// softmax.max_stage: `serial` as above; `pipelined` gives the max its own unit and row buffer (the
// public design's commented-out FindMax stage), so head-step i+1's max streams while i's exp pass
// runs; `none` has no max pass: the exp-and-sum pass streams with Q x K itself.
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
    std::int64_t exp_free = 0;  // pipelined max stage: when the exp unit takes its next head-step
    for (;;) {
      models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      const std::int64_t pass = models::softmax_pass_cycles(s.key_fetch, p.lanes);
      const std::int64_t start = std::max(ctx_.now(), b.first_cycle);
      const std::int64_t stream_end = std::max(start + pass, b.last_cycle + 1);
      // This thread is the unit the scores stream into: max + exp (serial), the max unit
      // (pipelined: free again once it hands its row to the exp unit) or exp (none).
      std::int64_t exp_start = start;
      std::int64_t exp_end = stream_end;
      std::int64_t busy_until = stream_end;
      if (p.max_stage == MaxStage::kSerial) {
        exp_end = busy_until = stream_end + pass;
      } else if (p.max_stage == MaxStage::kPipelined) {
        exp_start = busy_until = std::max(stream_end, exp_free);
        exp_end = exp_free = exp_start + pass;
      }
      const std::int64_t divide_start = std::max(exp_end + sum_latency, divide_free);
      divide_free = divide_start + pass;
      b.first_cycle = divide_start + out_latency;
      b.last_cycle = divide_free - 1 + out_latency;
      ctx_.wait_until(start);
      out_.write(b);
      models::ActionCounts counts;
      if (p.max_stage != MaxStage::kNone) counts.comparisons = s.key_fetch;
      counts.exps = s.key_fetch;
      counts.adds = s.key_fetch;
      counts.divides = s.key_fetch;
      ctx_.stats.count(ctx_.stats.module_actions.softmax, counts);
      // Busy: the exp-and-sum unit (with the max pass when serial).
      ctx_.stats.softmax.busy_cycles += exp_end - exp_start;
      ctx_.stats.softmax_divide.busy_cycles += pass;
      ctx_.stats.softmax.jobs += 1;
      ctx_.stats.softmax_divide.jobs += 1;
      ctx_.wait_until(busy_until);
    }
  }

  PipelineContext& ctx_;
  BeatFifo& in_;
  BeatFifo& out_;
};

}  // namespace attnsim::accel
