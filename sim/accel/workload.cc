// CSV -> head-step shapes, fit checks and synthetic indices/scores for trace-driven runs.
#include "sim/accel/workload.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "sim/common/input_error.h"
#include "sim/common/spatten_derivation.h"

namespace attnsim::accel {
namespace {

using common::InputError;

int width_or_dense(int bits) { return bits < 0 ? models::kDenseBits : bits; }

// splitmix64: a small, well-mixed generator; each synthetic stream is seeded from its head-step.
std::uint64_t mix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t seed_of(std::uint64_t seed, std::uint64_t salt, int iteration, int layer, int head) {
  std::uint64_t s = seed * 0x100000001B3ULL ^ salt;
  s = mix(s) ^ static_cast<std::uint64_t>(iteration);
  s = mix(s) ^ (static_cast<std::uint64_t>(layer) << 20) ^ static_cast<std::uint64_t>(head);
  return mix(s);
}

double unit(std::uint64_t& state) { return static_cast<double>(mix(state) >> 11) * 0x1.0p-53; }

}  // namespace

AccelWorkload workload_from_csv(const common::SpattenWorkload& csv, const std::string& source) {
  if (csv.rows.empty()) throw InputError(source, "rows", "at least one head-step", "none");
  AccelWorkload w;
  w.source = source;
  w.head_dim = csv.rows.front().embedding_length_d;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    const common::SpattenWorkloadRow& r = csv.rows[i];
    if (r.embedding_length_d != w.head_dim) {
      throw InputError(source + ":" + std::to_string(i + 2), "embedding_length_D",
                       "the same head dimension in every row (" + std::to_string(w.head_dim) + ")",
                       std::to_string(r.embedding_length_d));
    }
    models::HeadStepShape s;
    s.iteration = r.iteration_id;
    s.layer = r.layer_id;
    s.head = r.head_id;
    s.head_dim = r.embedding_length_d;
    s.tokens = r.sentence_length_l;
    s.key_fetch = r.key_fetch_num;
    s.value_fetch = r.value_fetch_num;
    s.query_bits = width_or_dense(r.quant_query_bit);
    s.key_msb_bits = width_or_dense(r.quant_key_bit);
    s.requant = r.if_requant;
    s.key_lsb_bits = r.if_requant ? std::max(0, r.auto_requant_incre) : 0;
    s.value_bits = width_or_dense(r.quant_value_bit);
    s.token_topk = r.if_topk;
    s.topk_k = r.if_topk ? r.topk : 0;
    s.topk_n = r.if_topk ? (r.topk <= r.key_fetch_num ? r.key_fetch_num : r.sentence_length_l) : 0;
    w.max_tokens = std::max(w.max_tokens, s.tokens);
    const int full_key_bits = r.quant_key_bit < 0
                                  ? models::kDenseBits
                                  : s.key_msb_bits + std::max(0, r.auto_requant_incre);
    w.max_key_bits = std::max(w.max_key_bits, full_key_bits);
    w.steps.push_back(s);
  }
  return w;
}

namespace {

// Every query of a multi-query head-step (the prompt of a causal trace with prompt_all_queries,
// every query of a bidirectional one) becomes its own head-step, as expand_queries does for CSV
// rows, but with the functional models' per-query decisions: its key count (causal: the alive
// tokens up to its position) for Q x K and softmax, its local-V top-k latency and output-pass
// start, its kept V rows for prob x V. The first query fetches the head's keys (the last query's
// alive set, which holds every earlier query's) and, if any query of the head re-quantized, their
// LSBs once; every query fetches the kept V rows no earlier query of its head fetched.
void expand_trace_queries(AccelWorkload& w, const models::SpattenRunResult& run,
                          const models::SpattenParams& p) {
  std::vector<models::HeadStepShape> steps;
  std::vector<std::vector<int>> keys, values;
  std::vector<std::int64_t> value_cycles, value_output_start, importance_cycles;
  for (std::size_t i = 0; i < w.steps.size(); ++i) {
    const models::HeadStepRecord& r = run.head_steps[i];
    const auto queries = r.query_records.size();
    std::vector<char> fetched(static_cast<std::size_t>(r.sentence_length), 0);
    for (std::size_t q = 0; q < std::max<std::size_t>(queries, 1); ++q) {
      models::HeadStepShape s = w.steps[i];
      std::vector<int> rows = w.value_rows[i];
      std::int64_t cycles = w.value_topk_cycles[i];
      std::int64_t output_start = w.value_topk_output_start[i];
      if (queries > 0) {
        const models::QueryRecord& qr = r.query_records[q];
        cycles = qr.value_topk_cycles;
        output_start = qr.value_topk_output_start;
        s.value_fetch = static_cast<int>(qr.value_rows.size());
        rows.clear();
        for (int t : qr.value_rows) {
          if (fetched[static_cast<std::size_t>(t)]) continue;
          fetched[static_cast<std::size_t>(t)] = 1;
          rows.push_back(t);
        }
      }
      if (q == 0) {
        s.requant = r.requantized_queries > 0;
        s.key_lsb_bits = s.requant && p.quantize ? p.key_lsb_bits : 0;
      } else {
        s.kv_reused = true;
        s.key_fetch = r.query_records[q].key_fetch;
        s.requant = false;  // the head's LSBs are in the buffer since its first query
        s.new_value_rows = static_cast<int>(rows.size());
      }
      const bool last = q + 1 >= queries;
      s.token_topk = last && s.token_topk;
      steps.push_back(s);
      keys.push_back(q == 0 ? w.key_rows[i] : std::vector<int>{});
      values.push_back(std::move(rows));
      value_cycles.push_back(cycles);
      value_output_start.push_back(output_start);
      importance_cycles.push_back(last ? w.importance_topk_cycles[i] : 0);
    }
  }
  w.steps = std::move(steps);
  w.key_rows = std::move(keys);
  w.value_rows = std::move(values);
  w.value_topk_cycles = std::move(value_cycles);
  w.value_topk_output_start = std::move(value_output_start);
  w.importance_topk_cycles = std::move(importance_cycles);
}

}  // namespace

AccelWorkload workload_from_trace(const AccelConfig& config, const models::AttentionTensors& trace,
                                  const std::string& source, const std::string& config_source) {
  const AlgorithmParams& a = config.algorithm;
  models::SpattenParams p;
  p.quantize = a.quantize;
  p.query_bits = a.query_bits;
  p.key_msb_bits = a.key_msb_bits;
  p.key_lsb_bits = a.key_lsb_bits;
  p.value_bits = a.value_bits;
  p.softmax.prob_frac_bits = a.prob_frac_bits;
  p.progressive.enabled = a.progressive;
  p.progressive.max_prob_threshold = a.requant_threshold;
  p.token_schedule.keep_ratio = a.token_keep;
  p.head_schedule.keep_ratio = a.head_keep;
  p.value_keep_ratio = a.value_keep;
  p.prompt_all_queries = a.prompt_all_queries;
  p.record_queries = a.prompt_all_queries;  // every prompt query becomes a head-step (below)
  p.topk = config.topk.engine;
  p.topk.max_n = std::max({p.topk.max_n, trace.tokens, trace.heads});
  const models::Violations v = p.validate("algorithm", trace.layers);
  if (!v.ok()) throw InputError(config_source, "cannot run " + source + ":\n" + v.to_string());

  const models::SpattenRunResult run = models::run_spatten(trace, p);
  AccelWorkload w = workload_from_csv(common::to_spatten_workload(run, p, source), source);
  w.from_trace = true;
  for (const models::HeadStepRecord& r : run.head_steps) {
    // The last query (position L - 1) reads the alive tokens it can see.
    std::vector<int> keys;
    for (const models::LayerRecord& l : run.layers) {
      if (l.iteration != r.iteration || l.layer != r.layer) continue;
      for (int t : l.alive_tokens) {
        if (t < r.sentence_length) keys.push_back(t);
      }
    }
    std::sort(keys.begin(), keys.end());
    if (static_cast<int>(keys.size()) != r.key_fetch) {
      throw std::logic_error("workload_from_trace: alive tokens disagree with the key fetch count");
    }
    std::vector<int> values = r.value_rows;
    std::sort(values.begin(), values.end());
    w.key_rows.push_back(std::move(keys));
    w.value_rows.push_back(std::move(values));
  }
  if (w.key_rows.size() != w.steps.size()) {
    throw std::logic_error("workload_from_trace: one CSV row per head-step expected");
  }
  for (const models::HeadStepRecord& r : run.head_steps) {
    w.value_topk_cycles.push_back(r.queries > 0 ? r.value_topk_cycles_total / r.queries : 0);
    w.value_topk_output_start.push_back(r.queries > 0 ? r.value_topk_output_start_total / r.queries
                                                      : 0);
  }
  // The importance top-k before layer (it, l) runs after the last head-step that precedes it.
  w.importance_topk_cycles.assign(w.steps.size(), 0);
  std::size_t next = 0;
  for (const models::LayerRecord& l : run.layers) {
    while (next < w.steps.size() && std::make_pair(w.steps[next].iteration, w.steps[next].layer) <
                                        std::make_pair(l.iteration, l.layer)) {
      ++next;
    }
    const std::int64_t cycles = l.token_topk_cycles + l.head_topk_cycles;
    if (cycles == 0 || next == 0) continue;  // nothing ran, or nothing precedes the first layer
    w.importance_topk_cycles[next - 1] += cycles;
    w.steps[next - 1].token_topk = true;  // head-only top-k points hold the issue too
  }
  if (p.record_queries) expand_trace_queries(w, run, p);
  return w;
}

void expand_queries(AccelWorkload& workload, int queries) {
  if (queries < 1 || queries > 4096) {
    throw InputError("command line", "--queries-per-head-step", "an integer in [1, 4096]",
                     std::to_string(queries));
  }
  if (queries == 1) return;
  // Every head-step costs about 100 bytes of shape and bookkeeping: stay within a few GB.
  constexpr std::size_t kMaxHeadSteps = std::size_t{1} << 24;
  if (workload.steps.size() * static_cast<std::size_t>(queries) > kMaxHeadSteps) {
    throw InputError("command line", "--queries-per-head-step",
                     "at most " + std::to_string(kMaxHeadSteps) + " head-steps in all (" +
                         std::to_string(workload.steps.size()) + " rows)",
                     std::to_string(queries));
  }
  std::vector<models::HeadStepShape> out;
  out.reserve(workload.steps.size() * static_cast<std::size_t>(queries));
  std::vector<std::vector<int>> keys, values;
  std::vector<std::int64_t> value_cycles, value_output_start, importance_cycles;
  for (std::size_t i = 0; i < workload.steps.size(); ++i) {
    for (int q = 0; q < queries; ++q) {
      models::HeadStepShape s = workload.steps[i];
      s.kv_reused = q > 0;
      s.requant = q == 0 && s.requant;  // a re-fetch brings the LSBs in for every later query
      s.token_topk = q == queries - 1 && s.token_topk;
      out.push_back(s);
      if (workload.from_trace) {
        // Only the first query fetches; the others need no row lists.
        keys.push_back(q == 0 ? workload.key_rows[i] : std::vector<int>{});
        values.push_back(q == 0 ? workload.value_rows[i] : std::vector<int>{});
        value_cycles.push_back(workload.value_topk_cycles[i]);
        value_output_start.push_back(workload.value_topk_output_start[i]);
        importance_cycles.push_back(q == queries - 1 ? workload.importance_topk_cycles[i] : 0);
      }
    }
  }
  workload.steps = std::move(out);
  workload.key_rows = std::move(keys);
  workload.value_rows = std::move(values);
  workload.value_topk_cycles = std::move(value_cycles);
  workload.value_topk_output_start = std::move(value_output_start);
  workload.importance_topk_cycles = std::move(importance_cycles);
}

void drop_quantization(AccelWorkload& workload) {
  for (models::HeadStepShape& s : workload.steps) {
    s.query_bits = s.key_msb_bits = s.value_bits = models::kDenseBits;
    s.key_lsb_bits = 0;
    s.requant = false;
  }
  workload.max_key_bits = models::kDenseBits;
}

void check_workload_fits(const AccelConfig& config, const AccelWorkload& workload,
                         const std::string& config_source) {
  const models::Violations v =
      config.validate_for_shape(workload.head_dim, workload.max_tokens, workload.max_key_bits);
  if (!v.ok()) {
    throw InputError(config_source, "cannot run " + workload.source + ":\n" + v.to_string());
  }
}

std::vector<int> synthetic_key_indices(const models::HeadStepShape& step, std::uint64_t seed) {
  std::vector<int> out;
  out.reserve(static_cast<std::size_t>(step.key_fetch));
  if (step.key_fetch >= step.tokens) {
    for (int j = 0; j < step.tokens; ++j) out.push_back(j);
    return out;
  }
  // Selection sampling (Knuth's algorithm S): every subset of the size equally likely, ascending.
  std::uint64_t state = seed_of(seed, 0x4B45595355ULL, step.iteration, step.layer, 0);
  int needed = step.key_fetch;
  for (int j = 0; j < step.tokens && needed > 0; ++j) {
    const int left = step.tokens - j;
    if (unit(state) * left < needed) {
      out.push_back(j);
      --needed;
    }
  }
  return out;
}

namespace {

// n values floor(scale * u^power), u uniform in [0, 1) from the step's own stream: a heavy head of
// small values and a few large ones, like real scores. The multiplications run left to right, as
// the two callers' original expressions did, so the synthetic data (and the goldens) are unchanged.
std::vector<std::int64_t> skewed_values(const models::HeadStepShape& step, int n,
                                        std::uint64_t seed, std::uint64_t salt, double scale,
                                        int power) {
  std::uint64_t state = seed_of(seed, salt, step.iteration, step.layer, step.head);
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (auto& x : p) {
    const double u = unit(state);
    double v = scale * u;
    for (int i = 1; i < power; ++i) v *= u;
    x = static_cast<std::int64_t>(std::floor(v));
  }
  return p;
}

}  // namespace

std::vector<std::int64_t> synthetic_probabilities(const models::HeadStepShape& step, int n,
                                                  std::uint64_t seed) {
  return skewed_values(step, n, seed, 0x50524F42ULL, 4095.0, 4);
}

std::vector<std::int64_t> synthetic_importances(const models::HeadStepShape& step, int n,
                                                std::uint64_t seed) {
  return skewed_values(step, n, seed, 0x494D50ULL, 1048575.0, 3);
}

void append_row_blocks(std::vector<std::uint64_t>& blocks, const models::HeadStepShape& step,
                       Plane plane, const std::vector<int>& rows, int row_bits,
                       int transaction_bytes) {
  // 64 MiB per (layer, head, plane): room for 4096 tokens x 1024 dims x 16 bits; regions start on
  // row-buffer boundaries so one head's stream does not straddle another's rows.
  constexpr std::uint64_t kRegionBytes = std::uint64_t{1} << 26;
  const std::uint64_t region =
      ((static_cast<std::uint64_t>(step.layer) << 10 | static_cast<std::uint64_t>(step.head))
       << 2) |
      static_cast<std::uint64_t>(plane);
  const std::uint64_t base_bits = region * kRegionBytes * 8;
  const std::uint64_t block_bits = static_cast<std::uint64_t>(transaction_bytes) * 8;
  bool have_last = false;
  std::uint64_t last = 0;
  for (int r : rows) {
    const std::uint64_t begin = base_bits + static_cast<std::uint64_t>(r) * row_bits;
    const std::uint64_t end = begin + static_cast<std::uint64_t>(row_bits) - 1;
    for (std::uint64_t b = begin / block_bits; b <= end / block_bits; ++b) {
      if (have_last && b <= last) continue;
      blocks.push_back(b);
      last = b;
      have_last = true;
    }
  }
}

}  // namespace attnsim::accel
