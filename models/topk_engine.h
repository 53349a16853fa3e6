// The top-k engine as a stream component sees it: a job of input beats in, output beats and their
// cycles out, the LFSR carried from job to job as in the RTL. What sim/accel wraps in a module.
#pragma once

#include <cstdint>
#include <vector>

#include "models/beats.h"
#include "models/topk.h"
#include "models/topk_latency.h"

namespace attnsim::models {

/// One job's outcome.
struct TopkJob {
  std::vector<TopkOutBeat> out;  ///< ceil(k / P) beats of selected indices, original order
  TopkResult result;             ///< the decisions (positions, threshold, passes)
  TopkTiming timing;             ///< cycles under back-pressure-free timing
};

/// Stateful wrapper of topk_select + topk_timing.
/// Contract: a job is the beats of one input stream (every beat but the last carries exactly P
/// elements, the last carries 1..P and has `last` set); the k selected elements' `index` fields
/// leave in input order. The LFSR state persists across jobs until reset().
class TopkEngine {
 public:
  /// Throws std::invalid_argument listing every violation when params do not validate.
  explicit TopkEngine(const TopkParams& params);

  /// Runs one job. Throws std::invalid_argument for a malformed beat sequence or a bad k.
  TopkJob run(const std::vector<TopkInBeat>& in, int k);

  /// The LFSR state the next job starts from.
  std::uint16_t lfsr_state() const { return lfsr_; }
  /// Back to the reset state (params.lfsr_seed).
  void reset() { lfsr_ = params_.lfsr_seed; }
  const TopkParams& params() const { return params_; }

 private:
  TopkParams params_;
  std::uint16_t lfsr_;
};

}  // namespace attnsim::models
