// What every pipeline module shares: the config, the workload, the clock, the counters and the
// per-head-step index lists, plus the transaction-level wait helper.
#pragma once

#include <systemc>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/spatten_beats.h"
#include "sim/accel/clock.h"
#include "sim/accel/config.h"
#include "sim/accel/stats.h"
#include "sim/accel/workload.h"
#include "sim/common/progress.h"

namespace attnsim::accel {

/// Shared state of one simulation. Modules read the workload and write only their own counters.
struct PipelineContext {
  const AccelConfig& config;
  const AccelWorkload& workload;
  const Clock& clock;
  AccelStats& stats;
  std::vector<std::vector<int>> key_indices;    ///< per head-step: fetched keys, ascending
  std::vector<std::vector<int>> value_indices;  ///< per head-step: kept V rows (set by the top-k)
  common::ProgressLine* progress = nullptr;     ///< advanced once per finished head-step

  std::int64_t now() const { return static_cast<std::int64_t>(clock.now_cycles()); }
  /// Waits (in the calling SC_THREAD) until cycle `c`; returns at once if it has passed.
  void wait_until(std::int64_t c) const {
    const std::int64_t t = now();
    if (c > t) sc_core::wait(clock.cycles(static_cast<std::uint64_t>(c - t)));
  }
  /// Whether head-step i is the last user of its buffer halves: the next head-step does not
  /// reuse its K and V. Buffer halves are taken by the first query of a head, freed after the last.
  bool last_user_of_buffers(int i) const {
    const std::size_t next = static_cast<std::size_t>(i) + 1;
    return next >= workload.steps.size() || !workload.steps[next].kv_reused;
  }
  const models::HeadStepShape& step(int i) const {
    return workload.steps[static_cast<std::size_t>(i)];
  }
};

/// The one beat type of every pipeline FIFO.
using BeatFifo = sc_core::sc_fifo<models::HeadStepBeat>;

}  // namespace attnsim::accel
