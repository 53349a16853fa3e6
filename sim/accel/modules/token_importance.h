// Token-importance accumulator: adds every probability to its token's importance; after the
// head-step that closes a pruning point it runs the importance top-k engine and releases the
// step source.
#pragma once

#include "sim/accel/pipeline_context.h"
#include "sim/accel/topk_engine.h"

namespace attnsim::accel {

/// Contract: reads every head-step's final probability beat in order; writes one token to
/// `topk_done` per head-step with token_topk, when its top-k has finished.
class TokenImportance : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(TokenImportance);
  TokenImportance(sc_core::sc_module_name name, PipelineContext& ctx, TopkEngine& engine,
                  BeatFifo& in, sc_core::sc_fifo<int>& topk_done)
      : sc_module(name), ctx_(ctx), engine_(engine), in_(in), topk_done_(topk_done) {
    SC_THREAD(run);
  }

 private:
  void run() {
    for (;;) {
      const models::HeadStepBeat b = in_.read();
      const models::HeadStepShape& s = ctx_.step(b.step);
      // The adders keep pace with the softmax lanes.
      const std::int64_t add_end =
          b.last_cycle + 1 + models::softmax_pass_cycles(s.key_fetch, ctx_.config.softmax.lanes);
      models::ActionCounts counts;
      counts.adds = s.key_fetch;
      ctx_.stats.count(ctx_.stats.module_actions.importance, counts);
      ctx_.stats.token_importance.busy_cycles +=
          models::softmax_pass_cycles(s.key_fetch, ctx_.config.softmax.lanes);
      ctx_.stats.token_importance.jobs += 1;
      if (!s.token_topk) continue;
      if (ctx_.workload.from_trace) {
        // The functional models' importance top-k latency on the real importances.
        const std::int64_t latency =
            ctx_.workload.importance_topk_cycles[static_cast<std::size_t>(b.step)];
        const std::int64_t end = std::max(ctx_.now(), add_end) + latency;
        ctx_.stats.token_topk.busy_cycles += latency;
        ctx_.stats.token_topk.jobs += 1;
        ctx_.wait_until(end);
        topk_done_.write(b.step);
        continue;
      }
      const int n = std::max(s.topk_n, 1);
      const int k = std::min(std::max(s.topk_k, 1), n);
      std::vector<std::int64_t> scores =
          synthetic_importances(s, n, ctx_.config.topk.synthetic_seed);
      saturate_scores(scores, ctx_.config.topk.engine.score_bits);
      const TopkJobResult r = engine_.run(scores, k);
      const std::int64_t start = std::max(ctx_.now(), add_end);
      const std::int64_t end = start + r.latency_cycles;
      ctx_.stats.count(ctx_.stats.module_actions.topk, r.counts);
      ctx_.stats.token_topk.busy_cycles += r.latency_cycles;
      ctx_.stats.token_topk.jobs += 1;
      ctx_.wait_until(end);
      topk_done_.write(b.step);
    }
  }

  PipelineContext& ctx_;
  TopkEngine& engine_;
  BeatFifo& in_;
  sc_core::sc_fifo<int>& topk_done_;
};

}  // namespace attnsim::accel
