// Local value pruning: the top-k engine ranks a head-step's probabilities and its zero eliminator
// compacts the kept indices, which become the V fetch list; k = n bypasses the engine.
#pragma once

#include <memory>

#include "models/topk_latency.h"
#include "sim/accel/pipeline_context.h"
#include "sim/accel/topk_engine.h"

namespace attnsim::accel {

/// Contract: one V-request beat out per beat in, same order, after the engine's latency (plus a
/// cycle per input-gap cycle, as the engine's cycle model states); fills ctx.value_indices.
class TopkUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(TopkUnit);
  TopkUnit(sc_core::sc_module_name name, PipelineContext& ctx, TopkEngine& engine, BeatFifo& in,
           BeatFifo& out)
      : sc_module(name), ctx_(ctx), engine_(engine), in_(in), out_(out) {
    SC_THREAD(run);
  }

 private:
  void run() {
    const int lanes = ctx_.config.topk.engine.lanes;
    for (;;) {
      models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      const std::vector<int>& keys = ctx_.key_indices[static_cast<std::size_t>(b.step)];
      std::vector<int>& values = ctx_.value_indices[static_cast<std::size_t>(b.step)];
      if (ctx_.workload.from_trace) {
        run_real(b);
        continue;
      }
      if (s.value_fetch >= s.key_fetch || s.value_fetch == 0) {
        // Bypass: every alive key's V row is fetched (or none at all).
        values = s.value_fetch == 0 ? std::vector<int>{} : keys;
        ctx_.stats.vtopk_cycles_per_step.push_back(0);
        out_.write(b);
        continue;
      }
      const std::int64_t start = std::max(ctx_.now(), b.first_cycle);
      if (ctx_.now() > b.first_cycle) ctx_.stats.vtopk_queue_cycles += ctx_.now() - b.first_cycle;
      std::vector<std::int64_t> scores =
          synthetic_probabilities(s, s.key_fetch, ctx_.config.topk.synthetic_seed);
      saturate_scores(scores, ctx_.config.topk.engine.score_bits);
      const TopkJobResult r = engine_.run(scores, s.value_fetch);
      // Input arriving slower than P per cycle stretches the load phase one cycle per gap.
      const std::int64_t gaps = std::max<std::int64_t>(
          0, b.last_cycle + 1 - (start + models::ceil_div(s.key_fetch, lanes)));
      const std::int64_t end = start + r.latency_cycles + gaps;
      values.clear();
      if (ctx_.workload.from_trace) {
        // The functional models kept these rows; the engine above supplies the timing only.
        values = ctx_.workload.value_rows[static_cast<std::size_t>(b.step)];
      } else if (!s.kv_reused) {  // a reused query fetches no V rows
        for (int pos : r.selected) values.push_back(keys[static_cast<std::size_t>(pos)]);
      }
      ctx_.stats.actions += r.counts;
      ctx_.stats.vtopk.busy_cycles += end - start;
      ctx_.stats.vtopk.jobs += 1;
      ctx_.stats.vtopk_added_cycles += std::max<std::int64_t>(0, end - (b.last_cycle + 1));
      ctx_.stats.vtopk_cycles_per_step.push_back(r.latency_cycles);
      ctx_.wait_until(end);
      b.first_cycle = b.last_cycle = end;
      out_.write(b);
    }
  }

  // Attention traces: the functional models' kept rows and their engine latency on the real
  // probabilities (0 when the engine was bypassed). The comparisons are in the trace's action
  // counts, not here.
  void run_real(models::HeadStepBeat b) {
    const std::size_t i = static_cast<std::size_t>(b.step);
    ctx_.value_indices[i] = ctx_.workload.value_rows[i];
    const std::int64_t latency = ctx_.workload.value_topk_cycles[i];
    ctx_.stats.vtopk_cycles_per_step.push_back(latency);
    if (latency == 0) {
      out_.write(b);
      return;
    }
    const int n = ctx_.step(b.step).key_fetch;
    const std::int64_t start = std::max(ctx_.now(), b.first_cycle);
    if (ctx_.now() > b.first_cycle) ctx_.stats.vtopk_queue_cycles += ctx_.now() - b.first_cycle;
    const std::int64_t gaps = std::max<std::int64_t>(
        0, b.last_cycle + 1 - (start + models::ceil_div(n, ctx_.config.topk.engine.lanes)));
    const std::int64_t end = start + latency + gaps;
    ctx_.stats.vtopk.busy_cycles += end - start;
    ctx_.stats.vtopk.jobs += 1;
    ctx_.stats.vtopk_added_cycles += std::max<std::int64_t>(0, end - (b.last_cycle + 1));
    ctx_.wait_until(end);
    b.first_cycle = b.last_cycle = end;
    out_.write(b);
  }

  PipelineContext& ctx_;
  TopkEngine& engine_;
  BeatFifo& in_;
  BeatFifo& out_;
};

}  // namespace attnsim::accel
