// The SpAtten algorithm over a whole trace: iterations, layers, heads, queries.
#include "models/spatten_functional.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/attention.h"
#include "models/fixed_point.h"
#include "models/head_pruning.h"
#include "models/token_pruning.h"
#include "models/topk_latency.h"
#include "models/value_pruning.h"

namespace attnsim::models {
namespace {

// Caps a tensor's scale so q_frac + k_frac stays a valid shift for the softmax (<= 48 < 63) even
// for tensors of tiny magnitude; such tensors simply use fewer of their bits.
constexpr int kMaxTensorFracBits = 24;

// One head of one layer, quantized once and shared by all its queries.
struct QuantizedHead {
  CodeMatrix q;
  CodeMatrix k_full;
  CodeMatrix k_msb;
  CodeMatrix v;
  int q_frac = 0;
  int k_frac = 0;
  int v_frac = 0;
};

CodeMatrix quantize_matrix(const double* data, int rows, int cols, const FixedFormat& format) {
  CodeMatrix m{rows, cols, std::vector<std::int32_t>(static_cast<std::size_t>(rows) * cols)};
  for (std::size_t i = 0; i < m.codes.size(); ++i) m.codes[i] = quantize(data[i], format);
  return m;
}

double max_abs(const double* data, std::size_t count) {
  double m = 0;
  for (std::size_t i = 0; i < count; ++i) m = std::max(m, std::fabs(data[i]));
  return m;
}

QuantizedHead quantize_head(const AttentionTensors& t, const SpattenParams& p, int layer,
                            int head) {
  const std::size_t base = t.offset(layer, head);
  const std::size_t count = static_cast<std::size_t>(t.tokens) * t.head_dim;
  const int q_bits = p.quantize ? p.query_bits : p.dense_bits;
  const int k_bits = p.quantize ? p.key_msb_bits + p.key_lsb_bits : p.dense_bits;
  const int v_bits = p.quantize ? p.value_bits : p.dense_bits;
  QuantizedHead h;
  h.v_frac = choose_frac_bits(max_abs(&t.v[base], count), v_bits);
  if (!t.probabilities_only()) {
    h.q_frac = choose_frac_bits(max_abs(&t.q[base], count), q_bits);
    h.k_frac = choose_frac_bits(max_abs(&t.k[base], count), k_bits);
    h.q = quantize_matrix(&t.q[base], t.tokens, t.head_dim, {q_bits, h.q_frac, true});
    h.k_full = quantize_matrix(&t.k[base], t.tokens, t.head_dim, {k_bits, h.k_frac, true});
    h.k_msb =
        p.quantize && p.progressive.enabled ? msb_keys_of(h.k_full, p.key_lsb_bits) : h.k_full;
  }
  h.v = quantize_matrix(&t.v[base], t.tokens, t.head_dim, {v_bits, h.v_frac, true});
  return h;
}

// A probabilities trace: the given probabilities of query `qi` over `key_rows`, renormalised
// (softmax over a subset of keys is the full softmax renormalised) and quantized to probability
// codes. The sum runs in key order so the NumPy reference can reproduce it exactly. Counts what the
// hardware would have done for them: Q.K MACs and the softmax.
ProgressiveQuantResult given_probs(const AttentionTensors& t, int layer, int head, int qi,
                                   const std::vector<int>& key_rows, int prob_frac_bits,
                                   ActionCounts& counts) {
  const double* row =
      &t.probs[t.probs_offset(layer, head) + static_cast<std::size_t>(qi) * t.tokens];
  double sum = 0;
  for (int j : key_rows) sum += row[j];
  ProgressiveQuantResult out;
  const FixedFormat format{prob_frac_bits + 1, prob_frac_bits, false};
  for (int j : key_rows) out.probs.push_back(sum > 0 ? quantize(row[j] / sum, format) : 0);
  const auto n = static_cast<std::int64_t>(key_rows.size());
  counts.macs += n * t.head_dim;
  counts.comparisons += n - 1;
  counts.exps += n;
  counts.adds += n - 1;
  counts.divides += n;
  return out;
}

// Bytes a query moves for this head-step: Q once, K (MSBs, then LSBs on re-quantization), V rows.
void count_traffic(const SpattenParams& p, int head_dim, int keys, int values, bool requantized,
                   ActionCounts& c) {
  const int q_bits = p.quantize ? p.query_bits : p.dense_bits;
  const int k_bits = p.quantize ? p.key_msb_bits : p.dense_bits;
  const int v_bits = p.quantize ? p.value_bits : p.dense_bits;
  const std::int64_t k_bytes = packed_bytes(std::int64_t{keys} * head_dim, k_bits);
  const std::int64_t k_lsb_bytes =
      requantized ? packed_bytes(std::int64_t{keys} * head_dim, p.key_lsb_bits) : 0;
  const std::int64_t v_bytes = packed_bytes(std::int64_t{values} * head_dim, v_bits);
  const std::int64_t q_bytes = packed_bytes(head_dim, q_bits);
  c.dram_read_bytes += q_bytes + k_bytes + k_lsb_bytes + v_bytes;
  // Fetched data is written to the K/V buffers once and read by the datapath; the MSB-only try
  // and the recompute each read the keys.
  c.sram_write_bytes += k_bytes + k_lsb_bytes + v_bytes;
  c.sram_read_bytes += k_bytes + (requantized ? k_bytes + k_lsb_bytes : 0) + v_bytes;
}

}  // namespace

Violations AttentionTensors::validate(const std::string& prefix) const {
  Violations problems;
  problems.require(layers >= 1, prefix + ".layers", "at least 1", layers);
  problems.require(heads >= 1, prefix + ".heads", "at least 1", heads);
  problems.require(tokens >= 1, prefix + ".tokens", "at least 1", tokens);
  problems.require(head_dim >= 1, prefix + ".head_dim", "at least 1", head_dim);
  const std::size_t expected = static_cast<std::size_t>(std::max(layers, 0)) * std::max(heads, 0) *
                               std::max(tokens, 0) * std::max(head_dim, 0);
  const std::string shape = "layers*heads*tokens*head_dim = " + std::to_string(expected);
  if (!probabilities_only()) {
    problems.require(q.size() == expected, prefix + ".q", shape + " values", q.size());
    problems.require(k.size() == expected, prefix + ".k", shape + " values", k.size());
  }
  problems.require(v.size() == expected, prefix + ".v", shape + " values", v.size());
  if (!probs.empty()) {
    const std::size_t expected_probs = static_cast<std::size_t>(std::max(layers, 0)) *
                                       std::max(heads, 0) * std::max(tokens, 0) *
                                       std::max(tokens, 0);
    problems.require(probs.size() == expected_probs, prefix + ".probs",
                     "layers*heads*tokens*tokens = " + std::to_string(expected_probs) + " values",
                     probs.size());
  }
  if (causal) {
    problems.require(prompt_tokens >= 1 && prompt_tokens <= tokens, prefix + ".prompt_tokens",
                     "a count in [1, tokens]", prompt_tokens);
  }
  return problems;
}

Violations SpattenParams::validate(const std::string& prefix, int num_layers) const {
  Violations v;
  v.require_in_range(prefix + ".query_bits", query_bits, 2, 24);
  v.require_in_range(prefix + ".key_msb_bits", key_msb_bits, 2, 16);
  v.require_in_range(prefix + ".key_lsb_bits", key_lsb_bits, 0, 8);
  v.require_in_range(prefix + ".value_bits", value_bits, 2, 24);
  v.require_in_range(prefix + ".dense_bits", dense_bits, 2, 24);
  v.merge(softmax.validate("softmax"), prefix);
  v.require(progressive.max_prob_threshold >= 0.0 && progressive.max_prob_threshold <= 1.0,
            prefix + ".progressive.max_prob_threshold", "a probability in [0, 1]",
            progressive.max_prob_threshold);
  if (!token_schedule.keep_ratio.empty()) {
    v.merge(token_schedule.validate("token_schedule", num_layers), prefix);
  }
  if (!head_schedule.keep_ratio.empty()) {
    v.merge(head_schedule.validate("head_schedule", num_layers), prefix);
  }
  v.require(value_keep_ratio > 0.0 && value_keep_ratio <= 1.0, prefix + ".value_keep_ratio",
            "a ratio in (0, 1]", value_keep_ratio);
  v.merge(topk.validate("topk"), prefix);
  return v;
}

int choose_frac_bits(double max_abs, int bits) {
  if (!(max_abs > 0.0)) return 0;
  const double top = std::ldexp(1.0, bits - 1) - 1.0;
  int f = kMaxTensorFracBits;
  while (f > -16 && std::ldexp(max_abs, f) > top) --f;
  return f;
}

SpattenRunResult run_spatten(const AttentionTensors& t, const SpattenParams& p) {
  Violations problems = t.validate("tensors");
  problems.merge(p.validate("params", t.layers), "");
  if (!problems.ok()) throw std::invalid_argument(problems.to_string());
  if (t.tokens > p.topk.max_n) {
    throw std::invalid_argument("run_spatten: tokens exceed topk.max_n");
  }

  std::vector<std::vector<QuantizedHead>> heads(static_cast<std::size_t>(t.layers));
  for (int l = 0; l < t.layers; ++l) {
    for (int h = 0; h < t.heads; ++h) heads[l].push_back(quantize_head(t, p, l, h));
  }

  SpattenRunResult result;
  CascadeTokenPruner tokens(p.token_schedule, p.topk);
  CascadeHeadPruner head_pruner(t.heads, p.head_schedule, p.topk);
  // Two engines: one ranks token and head importance, one does local value pruning.
  std::uint16_t importance_lfsr = p.topk.lfsr_seed;
  std::uint16_t value_lfsr = p.topk.lfsr_seed;
  ProgressiveQuantParams progressive = p.progressive;
  // Without Q and K nothing can be recomputed, so a probabilities trace never re-quantizes.
  progressive.enabled = p.quantize && p.progressive.enabled && !t.probabilities_only();
  const int iterations = t.causal ? t.tokens - t.prompt_tokens + 1 : 1;

  for (int it = 0; it < iterations; ++it) {
    const int visible = t.causal ? t.prompt_tokens + it : t.tokens;
    int first_query = visible - 1;
    if (!t.causal || (it == 0 && p.prompt_all_queries)) first_query = 0;
    tokens.start_iteration(visible);
    head_pruner.start_iteration();
    for (int l = 0; l < t.layers; ++l) {
      const auto token_topk = tokens.prune_before_layer(l, importance_lfsr);
      const auto head_topk = head_pruner.prune_before_layer(l, importance_lfsr);
      if (token_topk) {
        // The importance top-k ran between the previous head-step and this layer: mark it there.
        if (!result.head_steps.empty()) {
          result.head_steps.back().token_topk_after = true;
          result.head_steps.back().token_topk_k = static_cast<int>(tokens.alive().size());
        }
        result.total += token_topk->counts;
      }
      if (head_topk) result.total += head_topk->counts;
      LayerRecord layer{it, l, tokens.alive(), head_pruner.alive(), 0, 0};
      if (token_topk) {
        layer.token_topk_cycles =
            topk_timing(*token_topk, static_cast<int>(token_topk->pass_candidates.front()),
                        static_cast<int>(tokens.alive().size()), p.topk)
                .latency_cycles;
      }
      if (head_topk) {
        layer.head_topk_cycles =
            topk_timing(*head_topk, static_cast<int>(head_topk->pass_candidates.front()),
                        static_cast<int>(head_pruner.alive().size()), p.topk)
                .latency_cycles;
      }
      result.layers.push_back(std::move(layer));

      for (int h : head_pruner.alive()) {
        const QuantizedHead& qh = heads[static_cast<std::size_t>(l)][static_cast<std::size_t>(h)];
        SoftmaxParams softmax = p.softmax;
        softmax.head_dim = t.head_dim;
        softmax.score_frac_bits = qh.q_frac + qh.k_frac;
        HeadStepRecord rec;
        rec.iteration = it;
        rec.layer = l;
        rec.head = h;
        rec.head_dim = t.head_dim;
        rec.sentence_length = visible;
        for (int qi = first_query; qi < visible; ++qi) {
          // Causal queries see the alive tokens up to their own position.
          std::vector<int> key_rows;
          for (int token : tokens.alive()) {
            if (!t.causal || token <= qi) key_rows.push_back(token);
          }
          if (key_rows.empty()) continue;  // every earlier token was pruned: nothing to attend
          ActionCounts counts;
          ProgressiveQuantResult probs;
          if (t.probabilities_only()) {
            probs = given_probs(t, l, h, qi, key_rows, p.softmax.prob_frac_bits, counts);
          } else {
            const std::vector<std::int32_t> query(qh.q.row(qi), qh.q.row(qi) + t.head_dim);
            probs = progressive_attention_probs(query, qh.k_msb, qh.k_full, key_rows, softmax,
                                                progressive, &counts);
          }
          tokens.accumulate(key_rows, probs.probs);
          counts.adds += static_cast<std::int64_t>(key_rows.size());
          const ValuePruningResult kept =
              local_value_pruning(key_rows, probs.probs, p.value_keep_ratio, p.topk, value_lfsr);
          std::int64_t topk_cycles = 0;
          std::int64_t topk_output_start = 0;
          if (kept.ran_topk) {
            counts += kept.topk.counts;
            const TopkTiming timing = topk_timing(kept.topk, static_cast<int>(key_rows.size()),
                                                  static_cast<int>(kept.rows.size()), p.topk);
            topk_cycles = timing.latency_cycles;
            topk_output_start = timing.output_start_cycle;
            rec.value_topk_cycles_total += topk_cycles;
            rec.value_topk_output_start_total += topk_output_start;
          }
          if (p.record_queries) {
            rec.query_records.push_back(QueryRecord{static_cast<int>(key_rows.size()),
                                                    probs.requantized, topk_cycles, kept.rows,
                                                    topk_output_start});
          }
          const std::vector<std::int64_t> out = prob_times_v(kept.probs, qh.v, kept.rows, &counts);
          head_pruner.accumulate(h, out, p.softmax.prob_frac_bits);
          counts.adds += t.head_dim;
          count_traffic(p, t.head_dim, static_cast<int>(key_rows.size()),
                        static_cast<int>(kept.rows.size()), probs.requantized, counts);
          ++rec.queries;
          rec.key_fetch = static_cast<int>(key_rows.size());
          rec.value_fetch = static_cast<int>(kept.rows.size());
          rec.requantized = probs.requantized;
          rec.value_rows = kept.rows;
          rec.key_fetch_total += rec.key_fetch;
          rec.value_fetch_total += rec.value_fetch;
          rec.requantized_queries += probs.requantized ? 1 : 0;
          rec.counts += counts;
        }
        result.total += rec.counts;
        result.head_steps.push_back(std::move(rec));
      }
    }
  }
  result.token_importance = tokens.importance();
  result.head_importance = head_pruner.importance();
  return result;
}

}  // namespace attnsim::models
