// Progressive-quantization controller: max-reduces the probabilities; a head-step that needs its
// K LSBs goes back to the fetcher (re-entering the pipeline) and every later head-step waits
// behind it, so head-steps leave in order.
#pragma once

#include <deque>

#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: reads probability beats; for a pass-0 beat of a re-quantized head-step writes a
/// pass-1 beat to `refetch`; forwards each head-step's final beat, in workload order, to
/// `to_topk` and `to_importance`, and then returns its front-end slot on `slots` and, after the
/// last query of a head, the key buffer allocation (named by the head's first head-step) on
/// `k_free`.
class RequantController : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(RequantController);
  RequantController(sc_core::sc_module_name name, PipelineContext& ctx, BeatFifo& in,
                    BeatFifo& refetch, BeatFifo& to_topk, BeatFifo& to_importance,
                    sc_core::sc_fifo<int>& slots, sc_core::sc_fifo<int>& k_free)
      : sc_module(name),
        ctx_(ctx),
        in_(in),
        refetch_(refetch),
        to_topk_(to_topk),
        to_importance_(to_importance),
        slots_(slots),
        k_free_(k_free) {
    SC_THREAD(run);
  }

 private:
  // The head-step that allocated the buffer this one uses (the head's first query).
  int first_query_of(int step) const {
    while (step > 0 && ctx_.step(step).kv_reused) --step;
    return step;
  }

  bool needs_refetch(const models::HeadStepBeat& b) const {
    return b.pass == 0 && ctx_.config.progressive_quant.enabled && ctx_.step(b.step).requant;
  }

  // Decides one beat that is next in order: re-fetch (returns true) or forward.
  bool decide(models::HeadStepBeat b) {
    const std::int64_t decision = b.last_cycle + ctx_.config.progressive_quant.max_reduce_cycles;
    ctx_.wait_until(decision);
    models::ActionCounts counts;
    counts.comparisons = ctx_.step(b.step).key_fetch;
    ctx_.stats.count(ctx_.stats.module_actions.requant, counts);
    ctx_.stats.requant.jobs += 1;
    ctx_.stats.requant.busy_cycles += ctx_.config.progressive_quant.max_reduce_cycles;
    if (needs_refetch(b)) {
      b.pass = 1;
      b.first_cycle = b.last_cycle = decision;
      ctx_.stats.requant_steps += 1;
      refetch_.write(b);
      return true;
    }
    b.last_cycle = decision;
    to_topk_.write(b);
    to_importance_.write(b);
    slots_.write(1);
    if (ctx_.last_user_of_buffers(b.step)) k_free_.write(first_query_of(b.step));
    return false;
  }

  void run() {
    bool waiting = false;  // a re-fetch is in flight; later beats are held
    for (;;) {
      const models::HeadStepBeat b = in_.read();
      if (waiting && b.pass == 0) {
        held_.push_back(b);
        continue;
      }
      waiting = decide(b);
      while (!waiting && !held_.empty()) {
        const models::HeadStepBeat next = held_.front();
        held_.pop_front();
        waiting = decide(next);
      }
    }
  }

  PipelineContext& ctx_;
  BeatFifo& in_;
  BeatFifo& refetch_;
  BeatFifo& to_topk_;
  BeatFifo& to_importance_;
  sc_core::sc_fifo<int>& slots_;
  sc_core::sc_fifo<int>& k_free_;
  // A member, not a local of run(): SystemC never unwinds a thread still blocked when the
  // simulation ends, so a local would leak (LeakSanitizer reports it).
  std::deque<models::HeadStepBeat> held_;
};

}  // namespace attnsim::accel
