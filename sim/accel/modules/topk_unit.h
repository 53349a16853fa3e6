// Local value pruning: the top-k engine ranks a head-step's probabilities and its zero eliminator
// compacts the kept indices, which become the V fetch list; k = n bypasses the engine.
#pragma once

#include <deque>
#include <memory>

#include "models/topk_latency.h"
#include "models/topk_schedule.h"
#include "sim/accel/pipeline_context.h"
#include "sim/accel/topk_engine.h"

namespace attnsim::accel {

/// Contract: one V-request beat out per beat in, same order, after the engine's latency (plus a
/// cycle per input-gap cycle, as the engine's cycle model states); fills ctx.value_indices. Jobs
/// follow models::TopkJobScheduler: with topk.microarch overlapped the next job starts while this
/// one's output pass streams, for attention traces too (their jobs carry the functional models'
/// latency and output-pass start; AccelWorkload::value_topk_output_start).
class TopkUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(TopkUnit);
  TopkUnit(sc_core::sc_module_name name, PipelineContext& ctx, TopkEngine& engine, BeatFifo& in,
           BeatFifo& out)
      : sc_module(name),
        ctx_(ctx),
        engine_(engine),
        in_(in),
        out_(out),
        schedule_(ctx.config.topk.engine),
        overlapped_(ctx.config.topk.engine.overlaps_jobs()) {
    SC_THREAD(run);
    if (overlapped_) SC_THREAD(emit_pending);
  }

 private:
  void run() {
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
        emit(b);
        continue;
      }
      const std::int64_t start = job_start(b);
      std::vector<std::int64_t> scores =
          synthetic_probabilities(s, s.key_fetch, ctx_.config.topk.synthetic_seed);
      saturate_scores(scores, ctx_.config.topk.engine.score_bits);
      const TopkJobResult r = engine_.run(scores, s.value_fetch);
      values.clear();
      if (!s.kv_reused) {  // a reused query fetches no V rows
        for (int pos : r.selected) values.push_back(keys[static_cast<std::size_t>(pos)]);
      }
      ctx_.stats.count(ctx_.stats.module_actions.topk, r.counts);
      ctx_.stats.vtopk_cycles_per_step.push_back(r.latency_cycles);
      place_and_send(b, start, s.key_fetch, r.output_start_cycle, r.latency_cycles);
    }
  }

  // The cycle a job's first beat transfers: when both the beat and the engine are there (the
  // engine's wait counted as queueing).
  std::int64_t job_start(const models::HeadStepBeat& b) {
    const std::int64_t start = std::max(ctx_.now(), b.first_cycle);
    if (ctx_.now() > b.first_cycle) ctx_.stats.vtopk_queue_cycles += ctx_.now() - b.first_cycle;
    return start;
  }

  // Places a job of `n` inputs that starts at `start` (its own schedule: output pass at
  // `output_start`, last beat at `latency`), counts it and sends its beat on, for the synthetic
  // and the trace-driven jobs alike. Input arriving slower than P per cycle stretches the load
  // phase one cycle per gap.
  void place_and_send(models::HeadStepBeat b, std::int64_t start, int n, std::int64_t output_start,
                      std::int64_t latency) {
    const std::int64_t gaps = std::max<std::int64_t>(
        0, b.last_cycle + 1 - (start + models::ceil_div(n, ctx_.config.topk.engine.lanes)));
    const std::int64_t end = schedule_.place(start, gaps, output_start, latency).end_cycle;
    // Busy while the engine cannot take the next job (overlapped: its quick-select datapath).
    ctx_.stats.vtopk.busy_cycles += schedule_.earliest_start() - start;
    ctx_.stats.vtopk.jobs += 1;
    ctx_.stats.vtopk_added_cycles += std::max<std::int64_t>(0, end - (b.last_cycle + 1));
    b.first_cycle = b.last_cycle = end;
    if (overlapped_) {
      emit(b);  // leaves at `end` from emit_pending, while the next job starts
      ctx_.wait_until(schedule_.earliest_start());
      return;
    }
    ctx_.wait_until(end);
    out_.write(b);
  }

  // One-job-at-a-time engines write a beat as it is ready; overlapped, beats queue in order for
  // emit_pending, which writes each at its first_cycle. A full V-request FIFO delays the queued
  // beats but not later jobs' passes; the RTL would also hold a decided job behind its stalled
  // output unit, which this unit does not model.
  void emit(const models::HeadStepBeat& b) {
    if (!overlapped_) {
      out_.write(b);
      return;
    }
    pending_.push_back(b);
    pending_event_.notify(sc_core::SC_ZERO_TIME);
  }

  void emit_pending() {
    for (;;) {
      while (pending_.empty()) sc_core::wait(pending_event_);
      const models::HeadStepBeat b = pending_.front();
      pending_.pop_front();
      ctx_.wait_until(b.first_cycle);
      out_.write(b);
    }
  }

  // Attention traces: the functional models' kept rows and their engine timing on the real
  // probabilities (latency 0 when the engine was bypassed), placed by the same job-to-job schedule
  // as the synthetic jobs above. The comparisons are in the trace's action counts, not here.
  void run_real(models::HeadStepBeat b) {
    const std::size_t i = static_cast<std::size_t>(b.step);
    ctx_.value_indices[i] = ctx_.workload.value_rows[i];
    const std::int64_t latency = ctx_.workload.value_topk_cycles[i];
    ctx_.stats.vtopk_cycles_per_step.push_back(latency);
    if (latency == 0) {
      emit(b);
      return;
    }
    const std::int64_t start = job_start(b);
    place_and_send(b, start, ctx_.step(b.step).key_fetch, ctx_.workload.value_topk_output_start[i],
                   latency);
  }

  PipelineContext& ctx_;
  TopkEngine& engine_;
  BeatFifo& in_;
  BeatFifo& out_;
  models::TopkJobScheduler schedule_;
  bool overlapped_;
  std::deque<models::HeadStepBeat> pending_;  ///< overlapped: beats waiting for their cycle
  sc_core::sc_event pending_event_;
};

}  // namespace attnsim::accel
