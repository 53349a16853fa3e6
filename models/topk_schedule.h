// The top-k engine's job-to-job schedule: when the next job may start and when a job's output
// beats leave, for the one-job-at-a-time engines and the overlapped one (models/README.md).
#pragma once

#include <cstdint>

#include "models/topk.h"

namespace attnsim::models {

/// Where one job landed in the engine's sequence of jobs (cycles of one clock).
struct TopkJobSlot {
  std::int64_t start_cycle = 0;         ///< its first input beat
  std::int64_t output_start_cycle = 0;  ///< the first read of its output pass
  std::int64_t end_cycle = 0;           ///< its last output beat + 1
  /// Cycles its output pass waited for the previous job's to end (kOverlapped only; else 0).
  std::int64_t output_wait_cycles = 0;
};

/// Contract: jobs are placed in order, each with start_cycle >= earliest_start(); gap_cycles are
/// the job's input-gap cycles (its load took ceil(n / P) + gap_cycles cycles), which delay its
/// passes and output one for one, and stall_cycles the cycles its output beat waited for ready,
/// which delay its end one for one (models/README.md).
/// kSequential / kPipelined: the next job's first beat transfers at the earliest in the cycle
/// after this job's last output beat. kOverlapped: a job's output pass starts in the cycle after
/// its last decide, or in the cycle after the previous job's last output beat if that is later
/// (the job waits with its threshold in a register meanwhile); the next job's first beat can
/// transfer from that same cycle (the quick-select datapath is free, and so is the
/// original-buffer bank of the job before: it has ended).
class TopkJobScheduler {
 public:
  explicit TopkJobScheduler(const TopkParams& params);

  /// The earliest cycle the next job's first input beat can transfer.
  std::int64_t earliest_start() const { return next_start_; }

  /// Places a job whose own schedule (topk_timing, from cycle 0) has output pass start
  /// `output_start_cycle` and latency `latency_cycles`.
  TopkJobSlot place(std::int64_t start_cycle, std::int64_t gap_cycles,
                    std::int64_t output_start_cycle, std::int64_t latency_cycles,
                    std::int64_t stall_cycles = 0);

 private:
  bool overlapped_;
  std::int64_t next_start_ = 0;
  std::int64_t previous_end_ = 0;  ///< end_cycle of the last job placed
};

}  // namespace attnsim::models
