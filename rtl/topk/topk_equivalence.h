// RTL-versus-model checking of the top-k engine: random jobs (including heavy ties, sorted and
// reverse-sorted scores, odd sizes) run through the Verilated attn_topk and models::TopkEngine
// side by side, compared on the selected indices, the cycles and the activity counts.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "models/topk_engine.h"
#include "models/topk_schedule.h"
#include "rtl/topk/topk_rtl.h"

namespace attnsim::rtl {

/// How a job's scores are drawn.
enum class ScoreKind {
  kUniform,        ///< uniform over the whole signed score range
  kHeavyTies,      ///< 1..6 distinct values
  kSorted,         ///< ascending, with some repeats
  kReverseSorted,  ///< descending, with some repeats
  kAllEqual,       ///< one value
};
const char* to_string(ScoreKind kind);

/// One job: scores (position i carries index i) and k.
struct TopkVector {
  std::vector<std::int64_t> scores;
  int k = 0;
  ScoreKind kind = ScoreKind::kUniform;
};

/// A job of n scores of `kind` and this k; n and k must satisfy 1 <= k <= n <= max_n.
TopkVector make_topk_vector(std::mt19937_64& rng, int score_bits, int n, int k, ScoreKind kind);
/// A job with n, k and the kind all random: n over [1, max_n] (odd sizes and the extremes 1 and
/// max_n included), k over [1, n] (1 and n included).
TopkVector random_topk_vector(std::mt19937_64& rng, int score_bits, int max_n);

/// The outcome of one job on both sides.
struct TopkComparison {
  std::string mismatch;  ///< empty when RTL and model agree on everything
  std::int64_t rtl_cycles = 0;
  std::int64_t model_cycles = 0;  ///< models/ latency under back-pressure-free timing
  std::int64_t input_gap_cycles = 0;
  std::int64_t output_stall_cycles = 0;
  std::int64_t output_wait_cycles = 0;  ///< check_batch: output pass waiting for the previous job
};

/// Runs jobs on an RTL engine and on models::TopkEngine with the same parameters; both carry
/// their LFSR from job to job.
class TopkEquivalence {
 public:
  TopkEquivalence(std::unique_ptr<TopkRtl> rtl, const TopkBackpressure& backpressure);
  /// Checks: output beats identical (indices, counts, last); RTL cycles == model latency + input
  /// gap cycles + output stall cycles (and every beat's cycle when nothing stalled); the activity
  /// counters equal the model's action counts.
  TopkComparison check(const TopkVector& vector);
  /// The same checks on jobs run back to back (TopkRtl::run_jobs), each job's cycles predicted by
  /// models::TopkJobScheduler from its first-beat cycle, input gaps and output stalls: for an
  /// overlapped build the next job loads while this one's output streams. One comparison per job.
  std::vector<TopkComparison> check_batch(const std::vector<TopkVector>& vectors);
  TopkRtl& rtl() { return *rtl_; }
  const models::TopkParams& params() const { return params_; }

 private:
  std::unique_ptr<TopkRtl> rtl_;
  models::TopkParams params_;
  models::TopkEngine model_;
  models::TopkJobScheduler schedule_;
  bool backpressure_free_;
};

}  // namespace attnsim::rtl
