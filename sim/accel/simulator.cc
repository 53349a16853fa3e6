// The pipeline's netlist: which FIFO connects which modules, with their depths.
#include "sim/accel/simulator.h"

#include <systemc>

#include <stdexcept>
#include <string>

#include "sim/accel/modules/head_importance.h"
#include "sim/accel/modules/pv_unit.h"
#include "sim/accel/modules/qk_unit.h"
#include "sim/accel/modules/qkv_fetcher.h"
#include "sim/accel/modules/requant_controller.h"
#include "sim/accel/modules/softmax_unit.h"
#include "sim/accel/modules/step_source.h"
#include "sim/accel/modules/token_importance.h"
#include "sim/accel/modules/topk_unit.h"

namespace attnsim::accel {

AccelStats simulate(const AccelConfig& config, const AccelWorkload& workload,
                    const TopkEngineFactory& make_topk_engine) {
  AccelStats stats;
  const Clock clock(config.clock_hz);
  // Head-steps done, on stderr when it is a terminal (long workloads take seconds).
  common::ProgressLine progress =
      common::ProgressLine::for_stderr("spatten-sim: head-steps", workload.steps.size());
  PipelineContext ctx{config, workload, clock, stats, {}, {}, &progress};
  // A trace's keys are the functional models' decisions; a CSV has counts only.
  if (workload.from_trace) {
    ctx.key_indices = workload.key_rows;
  } else {
    ctx.key_indices.reserve(workload.steps.size());
    for (const models::HeadStepShape& s : workload.steps) {
      // A query reusing its head's K and V fetches no rows: no list to keep.
      ctx.key_indices.push_back(s.kv_reused ? std::vector<int>{}
                                            : synthetic_key_indices(s, config.topk.synthetic_seed));
    }
  }
  ctx.value_indices.resize(workload.steps.size());

  // Every FIFO is bounded; the buffer-token FIFOs hold one token per free SRAM half.
  const int depth = config.pipeline.fifo_depth;
  BeatFifo k_req("k_req", depth), refetch("refetch", depth), v_req("v_req", depth);
  BeatFifo k_data("k_data", depth), scores("scores", depth), probs("probs", depth);
  BeatFifo to_topk("to_topk", depth), to_importance("to_importance", depth);
  BeatFifo v_data("v_data", depth), head_out("head_out", depth);
  // Release notices (head-step ids) back to the fetcher's buffer allocators: at most one per
  // live allocation, so writers never block.
  const int live = config.pipeline.buffer_allocation == BufferAllocation::kRing
                       ? config.pipeline.ring_handles
                       : 2;
  sc_core::sc_fifo<int> k_free("k_free", live), v_free("v_free", live), topk_done("topk_done", 2);
  // Head-step passes between the fetcher and the controller's decision. The loop holds
  // k_data + Q x K + scores + softmax + probs = 3 x depth + 2 beats, so with at most 3 x depth
  // passes inside, the fetcher never waits forever on k_data while the controller waits on it
  // (through the V path). Queries that reuse their head's K, and head-steps sharing a ring
  // (pipeline.buffer_allocation: ring), can reach the bound; two key buffer halves limit the
  // others to two.
  sc_core::sc_fifo<int> slots("slots", 3 * depth);
  for (int i = 0; i < 3 * depth; ++i) slots.write(i);
  const std::unique_ptr<TopkEngine> value_engine = make_topk_engine(config.topk.engine, "value");
  const std::unique_ptr<TopkEngine> importance_engine =
      make_topk_engine(config.topk.engine, "importance");

  StepSource source("source", ctx, k_req, topk_done);
  QkvFetcher fetcher("fetcher", ctx, k_req, refetch, v_req, slots, k_free, v_free, k_data, v_data);
  QkUnit qk("qk", ctx, k_data, scores);
  SoftmaxUnit softmax("softmax", ctx, scores, probs);
  RequantController requant("requant", ctx, probs, refetch, to_topk, to_importance, slots, k_free);
  TopkUnit vtopk("vtopk", ctx, *value_engine, to_topk, v_req);
  TokenImportance importance("token_importance", ctx, *importance_engine, to_importance, topk_done);
  PvUnit pv("pv", ctx, v_data, head_out, v_free);
  HeadImportance head("head_importance", ctx, head_out);

  sc_core::sc_start();
  progress.finish();
  // Every thread blocked before the last head-step finished: a modelling bug, never a result.
  if (stats.head_steps != static_cast<std::int64_t>(workload.steps.size())) {
    throw std::logic_error("spatten-sim: pipeline deadlock at cycle " +
                           std::to_string(clock.now_cycles()) + " after " +
                           std::to_string(stats.head_steps) + " of " +
                           std::to_string(workload.steps.size()) + " head-steps");
  }
  stats.channels = fetcher.hbm().channel_stats();
  return stats;
}

}  // namespace attnsim::accel
