// The SpAtten algorithm end to end over an attention trace held in memory: quantization,
// progressive quantization, cascade token and head pruning, local value pruning, with every
// decision recorded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/action_counts.h"
#include "models/progressive_quant.h"
#include "models/pruning_schedule.h"
#include "models/softmax.h"
#include "models/topk.h"
#include "models/validation.h"

namespace attnsim::models {

/// Q, K and V of every layer and head of one forward pass over `tokens` tokens, in float64.
/// Layout of q, k, v: [layer][head][token][dim], C order.
struct AttentionTensors {
  int layers = 0;
  int heads = 0;
  int tokens = 0;
  int head_dim = 0;
  std::vector<double> q;  ///< empty in a probabilities trace
  std::vector<double> k;  ///< empty in a probabilities trace
  std::vector<double> v;
  /// Optional [layer][head][query][key] attention probabilities. Used in place of Q.K and softmax
  /// when q and k are empty (a "probabilities trace"): the probabilities over the alive keys are
  /// the given ones renormalised (softmax over a subset), and nothing is ever re-quantized.
  std::vector<double> probs;
  bool causal = true;     ///< decoder (GPT-2): query t sees keys 0..t
  int prompt_tokens = 0;  ///< causal only: iteration 0 is the prompt, then one token each

  /// Offset of (layer, head, token 0, dim 0) in q, k or v.
  std::size_t offset(int layer, int head) const {
    return (static_cast<std::size_t>(layer) * heads + head) * tokens * head_dim;
  }
  /// Offset of (layer, head, query 0, key 0) in probs.
  std::size_t probs_offset(int layer, int head) const {
    return (static_cast<std::size_t>(layer) * heads + head) * tokens * tokens;
  }
  /// True when the trace holds probabilities instead of Q and K.
  bool probabilities_only() const { return q.empty() && k.empty() && !probs.empty(); }
  /// Every reason the shapes are inconsistent.
  Violations validate(const std::string& prefix) const;
};

/// The algorithm's settings; one struct so a run's resolved config is one object.
struct SpattenParams {
  bool quantize = true;   ///< false: 16-bit Q/K/V, no progressive quantization (dense baseline)
  int query_bits = 16;    ///< Q code width
  int key_msb_bits = 6;   ///< K bits always fetched
  int key_lsb_bits = 4;   ///< K bits fetched on re-quantization
  int value_bits = 6;     ///< V code width
  int dense_bits = 16;    ///< width of every tensor when quantize is false
  SoftmaxParams softmax;  ///< score_frac_bits and head_dim are set per head from the data
  ProgressiveQuantParams progressive;
  PruningSchedule token_schedule;  ///< empty: no token pruning
  PruningSchedule head_schedule;   ///< empty: no head pruning
  double value_keep_ratio = 1.0;   ///< local value pruning; 1.0 keeps every row
  TopkParams topk;
  bool prompt_all_queries = true;  ///< iteration 0 runs every prompt query (false: only the last)
  /// Keep every query's decisions (HeadStepRecord::query_records), for a timing model that runs
  /// each query (sim/accel, issue 16). Off by default: the prompt of a long trace has thousands.
  bool record_queries = false;

  Violations validate(const std::string& prefix, int num_layers) const;
};

/// One query of a head-step, when SpattenParams::record_queries asks for them.
struct QueryRecord {
  int key_fetch = 0;                   ///< alive keys this query read (causal: up to itself)
  bool requantized = false;            ///< it re-quantized
  std::int64_t value_topk_cycles = 0;  ///< its local-V top-k latency (0: engine bypassed)
  std::vector<int> value_rows;         ///< V rows it kept (token ids, ascending)
  /// Its local-V top-k job's output-pass start (TopkTiming::output_start_cycle, from the job's
  /// first input beat; 0: engine bypassed), for the job-to-job schedule (TopkJobScheduler).
  std::int64_t value_topk_output_start = 0;
};

/// One head-step row (iteration, layer, head) as the SpAtten workload CSV describes it: the
/// numbers of the iteration's last query, plus totals over all its queries.
struct HeadStepRecord {
  int iteration = 0;
  int layer = 0;
  int head = 0;
  int head_dim = 0;
  int sentence_length = 0;        ///< tokens visible in this iteration
  int key_fetch = 0;              ///< alive keys the last query read
  int value_fetch = 0;            ///< V rows the last query read
  bool requantized = false;       ///< the last query re-fetched the K LSBs
  bool token_topk_after = false;  ///< the importance top-k runs after this head-step
  int token_topk_k = -1;          ///< its k
  int queries = 0;                ///< queries this head-step ran
  std::int64_t key_fetch_total = 0;
  std::int64_t value_fetch_total = 0;
  int requantized_queries = 0;
  /// Top-k engine cycles (topk_latency.h) of local value pruning, summed over the queries; 0 when
  /// the engine was bypassed. Real data, so a timing model can charge the real latency.
  std::int64_t value_topk_cycles_total = 0;
  /// The same jobs' output-pass starts (TopkTiming::output_start_cycle), summed over the queries.
  std::int64_t value_topk_output_start_total = 0;
  std::vector<int> value_rows;             ///< V rows of the last query (token ids)
  std::vector<QueryRecord> query_records;  ///< every query, in order (record_queries only)
  ActionCounts counts;
};

/// The alive sets in one (iteration, layer).
struct LayerRecord {
  int iteration = 0;
  int layer = 0;
  std::vector<int> alive_tokens;
  std::vector<int> alive_heads;
  std::int64_t token_topk_cycles = 0;  ///< importance top-k before this layer (0: none ran)
  std::int64_t head_topk_cycles = 0;   ///< head top-k before this layer (0: none ran)
};

/// Everything a run decided.
struct SpattenRunResult {
  std::vector<HeadStepRecord> head_steps;  ///< alive heads only, in (iteration, layer, head) order
  std::vector<LayerRecord> layers;
  std::vector<std::int64_t> token_importance;  ///< at the end of the run
  std::vector<std::int64_t> head_importance;
  ActionCounts total;
};

/// The largest f in [-16, 24] with max_abs * 2^f <= 2^(bits-1) - 1: the power-of-two,
/// per-tensor symmetric scale of a tensor whose largest magnitude is max_abs (0 -> 0).
int choose_frac_bits(double max_abs, int bits);

/// Runs the algorithm over `tensors`. Deterministic: the same inputs give the same result.
/// Throws std::invalid_argument when params or tensors do not validate.
SpattenRunResult run_spatten(const AttentionTensors& tensors, const SpattenParams& params);

}  // namespace attnsim::models
