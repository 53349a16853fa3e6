// One SpAtten head-step as the timing model sees it (shape and fetch counts), its DRAM payload,
// the dense-baseline comparison, and the per-stage cycle functions every timing model shares.
#pragma once

#include <cstdint>
#include <vector>

namespace attnsim::models {

/// Bits of a value stored unquantized (the dense baseline and "-1" widths in the workload CSV).
inline constexpr int kDenseBits = 16;

/// What one (iteration, layer, head) does to memory and compute, one query per head-step.
struct HeadStepShape {
  int iteration = 0;
  int layer = 0;
  int head = 0;
  int head_dim = 64;    ///< D
  int tokens = 0;       ///< L: tokens visible in this iteration
  int key_fetch = 0;    ///< keys alive after token pruning (fetched)
  int value_fetch = 0;  ///< V rows kept by local value pruning (fetched)
  int query_bits = kDenseBits;
  int key_msb_bits = kDenseBits;  ///< K bits fetched first
  int key_lsb_bits = 0;           ///< K bits fetched on re-quantization
  bool requant = false;           ///< this head-step re-fetches the K LSBs
  int value_bits = kDenseBits;
  bool token_topk = false;  ///< the token-importance top-k runs after this head-step
  int topk_k = 0;           ///< its k
  int topk_n = 0;           ///< its n (candidates)
  /// Another query of the same (iteration, layer, head) as the previous head-step: its K and V
  /// are already in the buffers, so only Q is fetched (BERT-style heads, all queries at once).
  bool kv_reused = false;
  /// kv_reused only: V rows this query fetches that no earlier query of its head fetched (an
  /// attention trace's per-query kept rows; 0 for CSV workloads, whose heads fetch V once).
  int new_value_rows = 0;
};

/// DRAM payload of one head-step, bytes, packed densely (before transaction rounding).
struct StepBytes {
  std::int64_t q = 0;
  std::int64_t k_msb = 0;
  std::int64_t k_lsb = 0;  ///< zero unless re-quantized
  std::int64_t v = 0;
  std::int64_t total() const { return q + k_msb + k_lsb + v; }
};

StepBytes step_payload_bytes(const HeadStepShape& s);

/// The DRAM reduction against the dense baseline (every head, every token, every V row, 16 bits),
/// split into factors applied in this order: head pruning, token pruning, local V pruning,
/// quantization (including LSB re-fetches). The factors multiply to `total`.
struct DramReduction {
  std::int64_t dense_bytes = 0;          ///< all heads of every (iteration, layer), L keys, 16 bit
  std::int64_t after_head_bytes = 0;     ///< only the head-steps present
  std::int64_t after_token_bytes = 0;    ///< K and V for the alive keys only
  std::int64_t after_local_v_bytes = 0;  ///< V for the kept rows only
  std::int64_t actual_bytes = 0;         ///< at the fetched widths: the workload's payload
  double head_factor() const;
  double token_factor() const;
  double local_v_factor() const;
  double quant_factor() const;
  double total() const;
};

/// Heads per layer are taken as 1 + the largest head index; L per iteration as the largest L.
DramReduction dram_reduction(const std::vector<HeadStepShape>& steps);

/// Executed and dense-equivalent operations (2 per MAC) of the attention: Q.K over the fetched keys
/// (twice when re-quantized) and prob x V over the kept rows; dense: 2 x L x D each.
struct StepOps {
  std::int64_t executed = 0;
  std::int64_t dense = 0;
};
StepOps step_ops(const HeadStepShape& s);

/// ceil(a / b) for a >= 0, b > 0.
inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// Cycles the Q x K unit issues for n keys: ceil(n / (multipliers / D)) (the fill time).
std::int64_t qk_issue_cycles(std::int64_t keys, int multipliers, int head_dim);
/// Cycles the prob x V unit issues for n kept rows: ceil(n / (multipliers / D)).
std::int64_t pv_issue_cycles(std::int64_t rows, int multipliers, int head_dim);
/// Cycles of one softmax pass over n scores: ceil(n / lanes).
std::int64_t softmax_pass_cycles(std::int64_t n, int lanes);

}  // namespace attnsim::models
