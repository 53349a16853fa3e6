// Head-step payload, dense-baseline reduction and per-stage cycle functions.
#include "models/spatten_step.h"

#include <algorithm>
#include <map>
#include <utility>

#include "models/action_counts.h"

namespace attnsim::models {
namespace {

double ratio(std::int64_t a, std::int64_t b) {
  return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
}

// Q plus K and V of `keys` and `values` rows, all at 16 bits.
std::int64_t dense_bytes(const HeadStepShape& s, std::int64_t keys, std::int64_t values) {
  return packed_bytes(s.head_dim, kDenseBits) + packed_bytes(keys * s.head_dim, kDenseBits) +
         packed_bytes(values * s.head_dim, kDenseBits);
}

}  // namespace

StepBytes step_payload_bytes(const HeadStepShape& s) {
  StepBytes b;
  const std::int64_t key_elems = static_cast<std::int64_t>(s.key_fetch) * s.head_dim;
  b.q = packed_bytes(s.head_dim, s.query_bits);
  if (s.kv_reused) {
    b.v = packed_bytes(static_cast<std::int64_t>(s.new_value_rows) * s.head_dim, s.value_bits);
    return b;
  }
  b.k_msb = packed_bytes(key_elems, s.key_msb_bits);
  b.k_lsb = s.requant ? packed_bytes(key_elems, s.key_lsb_bits) : 0;
  b.v = packed_bytes(static_cast<std::int64_t>(s.value_fetch) * s.head_dim, s.value_bits);
  return b;
}

double DramReduction::head_factor() const { return ratio(dense_bytes, after_head_bytes); }
double DramReduction::token_factor() const { return ratio(after_head_bytes, after_token_bytes); }
double DramReduction::local_v_factor() const {
  return ratio(after_token_bytes, after_local_v_bytes);
}
double DramReduction::quant_factor() const { return ratio(after_local_v_bytes, actual_bytes); }
double DramReduction::total() const { return ratio(dense_bytes, actual_bytes); }

DramReduction dram_reduction(const std::vector<HeadStepShape>& steps) {
  DramReduction r;
  int heads = 0;
  std::map<int, int> tokens_of_iteration;
  std::map<std::pair<int, int>, int> dim_of_layer_step;
  for (const HeadStepShape& s : steps) {
    if (s.kv_reused) {
      // Only the query moves; the dense baseline reuses K and V the same way.
      const std::int64_t q_dense = packed_bytes(s.head_dim, kDenseBits);
      r.dense_bytes += q_dense;
      r.after_head_bytes += q_dense;
      r.after_token_bytes += q_dense;
      // V rows a later query adds to its head's (attention traces): local value pruning's share.
      r.after_local_v_bytes +=
          q_dense +
          packed_bytes(static_cast<std::int64_t>(s.new_value_rows) * s.head_dim, kDenseBits);
      r.actual_bytes += step_payload_bytes(s).total();
      continue;
    }
    heads = std::max(heads, s.head + 1);
    int& l = tokens_of_iteration[s.iteration];
    l = std::max(l, s.tokens);
    dim_of_layer_step[{s.iteration, s.layer}] = s.head_dim;
    r.after_head_bytes += dense_bytes(s, s.tokens, s.tokens);
    r.after_token_bytes += dense_bytes(s, s.key_fetch, s.key_fetch);
    r.after_local_v_bytes += dense_bytes(s, s.key_fetch, s.value_fetch);
    r.actual_bytes += step_payload_bytes(s).total();
  }
  for (const auto& [key, dim] : dim_of_layer_step) {
    HeadStepShape s;
    s.head_dim = dim;
    const int l = tokens_of_iteration[key.first];
    r.dense_bytes += static_cast<std::int64_t>(heads) * dense_bytes(s, l, l);
  }
  return r;
}

StepOps step_ops(const HeadStepShape& s) {
  StepOps ops;
  const std::int64_t d = s.head_dim;
  ops.executed =
      2 * d * (static_cast<std::int64_t>(s.key_fetch) * (s.requant ? 2 : 1) + s.value_fetch);
  ops.dense = 2 * d * 2 * static_cast<std::int64_t>(s.tokens);
  return ops;
}

std::int64_t qk_issue_cycles(std::int64_t keys, int multipliers, int head_dim) {
  return ceil_div(keys, std::max(1, multipliers / head_dim));
}

std::int64_t pv_issue_cycles(std::int64_t rows, int multipliers, int head_dim) {
  return ceil_div(rows, std::max(1, multipliers / head_dim));
}

std::int64_t softmax_pass_cycles(std::int64_t n, int lanes) { return ceil_div(n, lanes); }

}  // namespace attnsim::models
