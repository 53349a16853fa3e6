// The top-k engine behind a small interface, so the Verilated RTL (issue 7) can replace the
// behavioural model without touching the pipeline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/action_counts.h"
#include "models/topk.h"

namespace attnsim::accel {

/// One finished job: the decision and its timing under back-pressure-free streaming.
struct TopkJobResult {
  std::vector<int> selected;            ///< positions kept, ascending (original order)
  std::int64_t latency_cycles = 0;      ///< first input beat to last output beat, inclusive
  std::int64_t first_output_cycle = 0;  ///< transfer cycle of the first output beat
  /// First read of the output pass (the cycle after the last decide); read only for an engine
  /// that overlaps jobs (models::TopkMicroarch::kOverlapped), whose RTL takes the next job then.
  std::int64_t output_start_cycle = 0;
  models::ActionCounts counts;  ///< comparisons and buffer traffic
};

/// Saturates scores to the engine's signed `score_bits` width, as the functional models saturate
/// importances before ranking them.
void saturate_scores(std::vector<std::int64_t>& scores, int score_bits);

/// Contract: jobs run one at a time in call order; the engine keeps its state (the LFSR) from one
/// job to the next, as the hardware does; 1 <= k <= n = scores.size() <= params.max_n. An
/// implementation returns exactly the `models/` decisions and cycles (the RTL is proven equal).
class TopkEngine {
 public:
  virtual ~TopkEngine() = default;
  virtual TopkJobResult run(const std::vector<std::int64_t>& scores, int k) = 0;
};

/// models::topk_select + models::topk_timing, with the LFSR carried across jobs.
class BehaviouralTopkEngine : public TopkEngine {
 public:
  explicit BehaviouralTopkEngine(const models::TopkParams& params)
      : params_(params), lfsr_(params.lfsr_seed) {}
  TopkJobResult run(const std::vector<std::int64_t>& scores, int k) override;

 private:
  models::TopkParams params_;
  std::uint16_t lfsr_;
};

/// Makes the engine for one top-k role ("value": local value pruning; "importance": token and
/// head importance). The simulator asks for one engine per role.
using TopkEngineFactory = std::function<std::unique_ptr<TopkEngine>(
    const models::TopkParams& params, const std::string& role)>;

/// The default factory: a BehaviouralTopkEngine per role.
std::unique_ptr<TopkEngine> make_behavioural_topk_engine(const models::TopkParams& params,
                                                         const std::string& role);

}  // namespace attnsim::accel
