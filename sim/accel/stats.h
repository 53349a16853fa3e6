// Named counters of one simulation (gem5 ADD_STAT style: every field has its unit in its name).
#pragma once

#include <cstdint>
#include <vector>

#include "models/action_counts.h"
#include "sim/accel/hbm.h"

namespace attnsim::accel {

/// Busy time and jobs of one pipeline stage.
struct StageStats {
  std::int64_t busy_cycles = 0;
  std::int64_t jobs = 0;
};

/// DRAM traffic of one kind: payload (what the workload implies) and transferred (whole
/// transactions).
struct DramKindStats {
  std::int64_t payload_bytes = 0;
  std::int64_t transactions = 0;
};

/// The action table by the module that performed the actions (their sum is AccelStats::actions):
/// what the per-module power breakdown (report.h, module_energy_of) is built from.
struct ModuleActions {
  models::ActionCounts fetcher;     ///< DRAM reads (HBM energy, apart from the on-chip modules)
  models::ActionCounts qk;          ///< Q.K MACs, key SRAM writes (fills) and reads
  models::ActionCounts softmax;     ///< max, exp, sum and divide
  models::ActionCounts requant;     ///< progressive-quantization decision (max compare)
  models::ActionCounts topk;        ///< both top-k engines: comparisons and their buffers
  models::ActionCounts importance;  ///< token and head importance accumulators
  models::ActionCounts pv;          ///< prob x V MACs, value SRAM writes (fills) and reads
};

/// Everything a run counts. Energy, power and ratios are derived from it afterwards (report.h).
struct AccelStats {
  std::int64_t cycles = 0;  ///< first fetch to the last head output
  std::int64_t head_steps = 0;
  std::int64_t requant_steps = 0;
  DramKindStats dram_q, dram_k_msb, dram_k_lsb, dram_v;
  std::vector<ChannelStats> channels;
  StageStats fetcher, qk, softmax, softmax_divide, requant, vtopk, token_topk, pv, token_importance,
      head_importance;
  std::int64_t vtopk_queue_cycles = 0;       ///< beats waiting for the busy local-V engine
  std::int64_t vtopk_added_cycles = 0;       ///< latency the engine adds after its input stream
  std::int64_t token_topk_stall_cycles = 0;  ///< issue held until the token top-k finished
  /// A new head-step waited for a free key buffer half or a front-end slot.
  std::int64_t fetch_issue_stall_cycles = 0;
  /// Most head-steps that held key (value) SRAM at once: the pipeline's overlap depth.
  int key_buffer_peak_head_steps = 0;
  int value_buffer_peak_head_steps = 0;
  models::ActionCounts actions;
  ModuleActions module_actions;
  /// Counts `c` for `module` (a member of module_actions) and in the total.
  void count(models::ActionCounts& module, const models::ActionCounts& c) {
    module += c;
    actions += c;
  }
  std::vector<std::int64_t> vtopk_cycles_per_step;  ///< local-V engine latency per head-step
  std::vector<std::int32_t> completion_order;  ///< head-steps in the order their outputs finished
};

}  // namespace attnsim::accel
