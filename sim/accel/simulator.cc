// The pipeline's netlist: which FIFO connects which modules, with their depths.
#include "sim/accel/simulator.h"

#include <systemc>

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

AccelStats simulate(const AccelConfig& config, const AccelWorkload& workload) {
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
      ctx.key_indices.push_back(synthetic_key_indices(s, config.topk.synthetic_seed));
    }
  }
  ctx.value_indices.resize(workload.steps.size());

  // Every FIFO is bounded; the buffer-token FIFOs hold one token per free SRAM half.
  const int depth = config.pipeline.fifo_depth;
  BeatFifo k_req("k_req", depth), refetch("refetch", depth), v_req("v_req", depth);
  BeatFifo k_data("k_data", depth), scores("scores", depth), probs("probs", depth);
  BeatFifo to_topk("to_topk", depth), to_importance("to_importance", depth);
  BeatFifo v_data("v_data", depth), head_out("head_out", depth);
  sc_core::sc_fifo<int> k_free("k_free", 2), v_free("v_free", 2), topk_done("topk_done", 2);
  for (int i = 0; i < 2; ++i) {
    k_free.write(i);
    v_free.write(i);
  }
  BehaviouralTopkEngine value_engine(config.topk.engine), importance_engine(config.topk.engine);

  StepSource source("source", ctx, k_req, topk_done);
  QkvFetcher fetcher("fetcher", ctx, k_req, refetch, v_req, k_free, v_free, k_data, v_data);
  QkUnit qk("qk", ctx, k_data, scores);
  SoftmaxUnit softmax("softmax", ctx, scores, probs);
  RequantController requant("requant", ctx, probs, refetch, to_topk, to_importance, k_free);
  TopkUnit vtopk("vtopk", ctx, value_engine, to_topk, v_req);
  TokenImportance importance("token_importance", ctx, importance_engine, to_importance, topk_done);
  PvUnit pv("pv", ctx, v_data, head_out, v_free);
  HeadImportance head("head_importance", ctx, head_out);

  sc_core::sc_start();
  progress.finish();
  stats.channels = fetcher.hbm().channel_stats();
  return stats;
}

}  // namespace attnsim::accel
