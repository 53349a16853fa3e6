// prob x V unit: multipliers/D kept V rows per cycle, accumulated into the head's output.
#pragma once

#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: one head-output beat per V beat, same order; frees the value buffer half on `v_free`
/// once the rows are consumed.
class PvUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(PvUnit);
  PvUnit(sc_core::sc_module_name name, PipelineContext& ctx, BeatFifo& in, BeatFifo& out,
         sc_core::sc_fifo<int>& v_free)
      : sc_module(name), ctx_(ctx), in_(in), out_(out), v_free_(v_free) {
    SC_THREAD(run);
  }

 private:
  void run() {
    const AccelConfig& c = ctx_.config;
    for (;;) {
      models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      const std::int64_t start = std::max(ctx_.now(), b.first_cycle + c.sram.read_latency_cycles);
      const std::int64_t end =
          std::max(start + models::pv_issue_cycles(s.value_fetch, c.pv.multipliers, s.head_dim),
                   b.last_cycle + 1 + c.sram.read_latency_cycles);
      models::ActionCounts counts;
      counts.macs = static_cast<std::int64_t>(s.value_fetch) * s.head_dim;
      // Every kept row is read from the buffer, fetched by this query or an earlier one.
      counts.sram_read_bytes =
          models::packed_bytes(static_cast<std::int64_t>(s.value_fetch) * s.head_dim, s.value_bits);
      ctx_.stats.count(ctx_.stats.module_actions.pv, counts);
      ctx_.stats.pv.busy_cycles += end - start;
      ctx_.stats.pv.jobs += 1;
      ctx_.wait_until(end);
      if (ctx_.last_user_of_buffers(b.step)) {
        int first = b.step;  // the head's first query allocated the buffer
        while (first > 0 && ctx_.step(first).kv_reused) --first;
        v_free_.write(first);
      }
      b.first_cycle = b.last_cycle = end - 1 + c.pv.latency_cycles;
      out_.write(b);
    }
  }

  PipelineContext& ctx_;
  BeatFifo& in_;
  BeatFifo& out_;
  sc_core::sc_fifo<int>& v_free_;
};

}  // namespace attnsim::accel
