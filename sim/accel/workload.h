// The accelerator's workload: head-step shapes from a SpAtten workload CSV, checks against a
// config, and the synthetic data a trace-driven run needs (token indices, top-k scores).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/spatten_functional.h"
#include "models/spatten_step.h"
#include "sim/accel/config.h"
#include "sim/common/spatten_workload_csv.h"

namespace attnsim::accel {

/// Head-steps in issue order plus the figures the config checks need.
struct AccelWorkload {
  std::string source;  ///< file it came from, for messages
  std::vector<models::HeadStepShape> steps;
  int head_dim = 0;      ///< D (the same for every head-step)
  int max_tokens = 0;    ///< largest L
  int max_key_bits = 0;  ///< largest MSB + LSB key width
  /// Attention-trace workloads only (empty for CSV): per head-step, the keys the last query read
  /// and the V rows local value pruning kept, as the functional models decided (token ids,
  /// ascending).
  std::vector<std::vector<int>> key_rows;
  std::vector<std::vector<int>> value_rows;
  /// Attention-trace workloads only: the real top-k engine latencies the functional models
  /// computed (models::topk_timing on the real scores): the local-V job of each head-step's query
  /// (mean over its queries; exact for one) and that job's output-pass start (its
  /// output_start_cycle, the same mean; the job-to-job schedule of models::TopkJobScheduler needs
  /// both), and the importance top-k (tokens and heads) that runs after a head-step, 0 where none
  /// does.
  std::vector<std::int64_t> value_topk_cycles;
  std::vector<std::int64_t> value_topk_output_start;
  std::vector<std::int64_t> importance_topk_cycles;
  bool from_trace = false;
};

/// One head-step per CSV row, in file order. Widths of -1 become 16 bits; the token top-k of a row
/// ranks the alive keys (n = key_fetch_num), or all L tokens when its k exceeds them (the
/// iteration-end re-ranking the public files carry on the last layer). Throws InputError for
/// mixed head dimensions or an empty workload.
AccelWorkload workload_from_csv(const common::SpattenWorkload& csv, const std::string& source);

/// Every head-step becomes `queries` head-steps of one query each; all but the first reuse its K
/// and V (HeadStepShape::kv_reused), and the token top-k (if any) follows the last. Models heads
/// that run all their queries at once (BERT). Throws InputError for queries outside [1, 4096].
void expand_queries(AccelWorkload& workload, int queries);

/// The same head-steps with every width at 16 bits and no LSB re-fetch: the pruned workload
/// without quantization, to separate the two in the speedup breakdown.
void drop_quantization(AccelWorkload& workload);

/// Runs the functional models (models::run_spatten with config.algorithm) over an attention trace
/// and returns its head-steps with the real fetch counts, re-fetch decisions, kept keys and kept
/// V rows. Rows are those `spatten-trace derive` writes (sim/common/spatten_derivation.h).
/// Throws InputError naming `config_source` for algorithm settings the trace cannot use.
AccelWorkload workload_from_trace(const AccelConfig& config, const models::AttentionTensors& trace,
                                  const std::string& source, const std::string& config_source);

/// Throws InputError naming the config fields that cannot run this workload (multipliers not a
/// multiple of D, buffers smaller than one head's keys, top-k capacity below L).
void check_workload_fits(const AccelConfig& config, const AccelWorkload& workload,
                         const std::string& config_source);

/// Trace-driven runs know counts, not indices: the kept keys of a layer are a deterministic
/// pseudo-random subset of size key_fetch of the L tokens (the same for every head of an
/// (iteration, layer), as cascade pruning keeps tokens for all heads), ascending.
std::vector<int> synthetic_key_indices(const models::HeadStepShape& step, std::uint64_t seed);

/// Deterministic pseudo-random 12-bit probability codes for the local-V top-k of a head-step
/// (heavy-tailed: most near zero, as attention is), n of them.
std::vector<std::int64_t> synthetic_probabilities(const models::HeadStepShape& step, int n,
                                                  std::uint64_t seed);

/// Deterministic pseudo-random token importances (sums of probability codes) for a token top-k.
std::vector<std::int64_t> synthetic_importances(const models::HeadStepShape& step, int n,
                                                std::uint64_t seed);

/// What a DRAM region of a head holds.
enum class Plane { kQuery = 0, kKeyMsb = 1, kKeyLsb = 2, kValue = 3 };

/// Appends the transaction addresses (units of `transaction_bytes`) that fetching `rows` (each
/// `row_bits` wide, stored densely from token 0) of a (layer, head, plane) region touches. A block
/// shared by two fetched rows is read once; rows must be ascending.
void append_row_blocks(std::vector<std::uint64_t>& blocks, const models::HeadStepShape& step,
                       Plane plane, const std::vector<int>& rows, int row_bits,
                       int transaction_bytes);

}  // namespace attnsim::accel
