// Q x K unit: broadcasts the query and multiply-reduces multipliers/D keys per cycle as the keys
// stream in from the key SRAM.
#pragma once

#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: one score beat out per key beat in, same order. Busy for
/// max(ceil(n / (multipliers / D)), the input stream); scores trail by SRAM + multiply + reduce.
class QkUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(QkUnit);
  QkUnit(sc_core::sc_module_name name, PipelineContext& ctx, BeatFifo& in, BeatFifo& out)
      : sc_module(name), ctx_(ctx), in_(in), out_(out) {
    SC_THREAD(run);
  }

 private:
  void run() {
    const AccelConfig& c = ctx_.config;
    const std::int64_t latency =
        c.sram.read_latency_cycles + c.qk.multiply_cycles + c.qk.reduction_cycles;
    for (;;) {
      models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      const std::int64_t start = std::max(ctx_.now(), b.first_cycle);
      const std::int64_t end =
          std::max(start + models::qk_issue_cycles(s.key_fetch, c.qk.multipliers, s.head_dim),
                   b.last_cycle + 1);
      ctx_.wait_until(start);
      b.first_cycle = start + latency;
      b.last_cycle = end - 1 + latency;
      out_.write(b);
      const std::int64_t key_bits = b.pass == 0 ? s.key_msb_bits : s.key_msb_bits + s.key_lsb_bits;
      models::ActionCounts counts;
      counts.macs = static_cast<std::int64_t>(s.key_fetch) * s.head_dim;
      counts.sram_read_bytes = models::packed_bytes(
          static_cast<std::int64_t>(s.key_fetch) * s.head_dim, static_cast<int>(key_bits));
      ctx_.stats.count(ctx_.stats.module_actions.qk, counts);
      ctx_.stats.qk.busy_cycles += end - start;
      ctx_.stats.qk.jobs += 1;
      ctx_.wait_until(end);
    }
  }

  PipelineContext& ctx_;
  BeatFifo& in_;
  BeatFifo& out_;
};

}  // namespace attnsim::accel
