// Random top-k jobs and the RTL-versus-model comparison.
#include "rtl/topk/topk_equivalence.h"

#include <algorithm>
#include <sstream>

#include "models/beats.h"

namespace attnsim::rtl {
namespace {

std::int64_t uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

// Ascending scores with runs of repeats, spread over the whole range.
std::vector<std::int64_t> sorted_scores(std::mt19937_64& rng, int n, std::int64_t lo,
                                        std::int64_t hi) {
  std::vector<std::int64_t> s(static_cast<std::size_t>(n));
  for (auto& x : s) x = uniform(rng, lo, hi);
  std::sort(s.begin(), s.end());
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (uniform(rng, 0, 3) == 0) s[i] = s[i - 1];  // repeats: ties next to each other
  }
  return s;
}

}  // namespace

const char* to_string(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::kUniform:
      return "uniform";
    case ScoreKind::kHeavyTies:
      return "heavy-ties";
    case ScoreKind::kSorted:
      return "sorted";
    case ScoreKind::kReverseSorted:
      return "reverse-sorted";
    case ScoreKind::kAllEqual:
      return "all-equal";
  }
  return "?";
}

TopkVector make_topk_vector(std::mt19937_64& rng, int score_bits, int n, int k, ScoreKind kind) {
  const std::int64_t hi = (std::int64_t{1} << (score_bits - 1)) - 1;
  const std::int64_t lo = -hi - 1;
  TopkVector v;
  v.k = k;
  v.kind = kind;
  switch (kind) {
    case ScoreKind::kUniform:
      v.scores.resize(static_cast<std::size_t>(n));
      for (auto& x : v.scores) x = uniform(rng, lo, hi);
      break;
    case ScoreKind::kHeavyTies: {
      std::vector<std::int64_t> values(static_cast<std::size_t>(uniform(rng, 1, 6)));
      for (auto& x : values) x = uniform(rng, lo, hi);
      values.push_back(lo);  // the extremes are where sign handling breaks
      values.push_back(hi);
      v.scores.resize(static_cast<std::size_t>(n));
      for (auto& x : v.scores) {
        x = values[static_cast<std::size_t>(
            uniform(rng, 0, static_cast<std::int64_t>(values.size()) - 1))];
      }
      break;
    }
    case ScoreKind::kSorted:
      v.scores = sorted_scores(rng, n, lo, hi);
      break;
    case ScoreKind::kReverseSorted:
      v.scores = sorted_scores(rng, n, lo, hi);
      std::reverse(v.scores.begin(), v.scores.end());
      break;
    case ScoreKind::kAllEqual:
      v.scores.assign(static_cast<std::size_t>(n), uniform(rng, lo, hi));
      break;
  }
  return v;
}

TopkVector random_topk_vector(std::mt19937_64& rng, int score_bits, int max_n) {
  int n = 0;
  switch (uniform(rng, 0, 9)) {
    case 0:
      n = 1;
      break;
    case 1:
      n = max_n;
      break;
    case 2:
    case 3:
      n = static_cast<int>(uniform(rng, 1, std::min(max_n, 40)));  // 7, 15, 33 and friends
      break;
    default:
      n = static_cast<int>(uniform(rng, 1, max_n));
  }
  int k = 0;
  switch (uniform(rng, 0, 7)) {
    case 0:
      k = 1;
      break;
    case 1:
      k = n;
      break;
    default:
      k = static_cast<int>(uniform(rng, 1, n));
  }
  static constexpr ScoreKind kKinds[] = {
      ScoreKind::kUniform, ScoreKind::kUniform,       ScoreKind::kHeavyTies, ScoreKind::kHeavyTies,
      ScoreKind::kSorted,  ScoreKind::kReverseSorted, ScoreKind::kAllEqual};
  const ScoreKind kind = kKinds[uniform(rng, 0, std::size(kKinds) - 1)];
  return make_topk_vector(rng, score_bits, n, k, kind);
}

TopkEquivalence::TopkEquivalence(std::unique_ptr<TopkRtl> rtl, const TopkBackpressure& backpressure)
    : rtl_(std::move(rtl)),
      params_(topk_params_of(rtl_->build())),
      model_(params_),
      schedule_(params_),
      backpressure_free_(backpressure.input_gap == 0 && backpressure.output_stall == 0) {
  rtl_->set_backpressure(backpressure);
}

TopkComparison TopkEquivalence::check(const TopkVector& vector) {
  std::vector<std::uint32_t> indices(vector.scores.size());
  for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<std::uint32_t>(i);
  const std::vector<models::TopkInBeat> in =
      models::to_in_beats(vector.scores, indices, params_.lanes);
  const models::TopkJob expected = model_.run(in, vector.k);
  const TopkRtlJob got = rtl_->run(in, vector.k);

  TopkComparison c;
  c.rtl_cycles = got.cycles;
  c.model_cycles = expected.timing.latency_cycles;
  c.input_gap_cycles = got.input_gap_cycles;
  c.output_stall_cycles = got.output_stall_cycles;
  std::ostringstream why;
  if (got.out != expected.out) {
    why << "output beats differ: RTL";
    for (const auto& b : got.out) why << ' ' << b;
    why << " vs model";
    for (const auto& b : expected.out) why << ' ' << b;
    why << "; ";
  }
  if (got.cycles != c.model_cycles + c.input_gap_cycles + c.output_stall_cycles) {
    why << "cycles: RTL " << got.cycles << " vs model " << c.model_cycles << " + "
        << c.input_gap_cycles << " gap + " << c.output_stall_cycles << " stall; ";
  } else if (backpressure_free_ && got.out_beat_cycles != expected.timing.output_beat_cycles) {
    why << "output beat cycles differ; ";
  }
  // When the engine takes the next job: overlapped, at its output pass's start (in_ready rises in
  // the cycle after the decide, stretched by input gaps); else after its last beat.
  const std::int64_t next_job = params_.overlaps_jobs()
                                    ? expected.timing.output_start_cycle + c.input_gap_cycles
                                    : got.cycles;
  if (got.next_job_cycle != next_job) {
    why << "ready for the next job in cycle " << got.next_job_cycle << " vs model " << next_job
        << "; ";
  }
  const std::int64_t element_bytes = (models::topk_element_bits(params_) + 7) / 8;
  const models::ActionCounts& counts = expected.result.counts;
  if (got.perf.comparisons != counts.comparisons ||
      got.perf.reads * element_bytes != counts.sram_read_bytes ||
      got.perf.writes * element_bytes != counts.sram_write_bytes) {
    why << "activity: RTL " << got.perf.comparisons << " cmp, " << got.perf.reads << " reads, "
        << got.perf.writes << " writes vs model " << counts.comparisons << " cmp, "
        << counts.sram_read_bytes / element_bytes << " reads, "
        << counts.sram_write_bytes / element_bytes << " writes; ";
  }
  // Keep the job schedule in step, so check() and check_batch() can follow each other.
  if (got.first_in_cycle >= schedule_.earliest_start()) {
    schedule_.place(got.first_in_cycle, got.input_gap_cycles, expected.timing.output_start_cycle,
                    expected.timing.latency_cycles, got.output_stall_cycles);
  }
  c.mismatch = why.str();
  if (!c.mismatch.empty()) {
    std::ostringstream context;
    context << "n=" << vector.scores.size() << " k=" << vector.k << " " << to_string(vector.kind)
            << " P=" << params_.lanes << ": " << c.mismatch;
    c.mismatch = context.str();
  }
  return c;
}

std::vector<TopkComparison> TopkEquivalence::check_batch(const std::vector<TopkVector>& vectors) {
  std::vector<TopkRtlInput> inputs;
  std::vector<models::TopkJob> expected;
  for (const TopkVector& v : vectors) {
    std::vector<std::uint32_t> indices(v.scores.size());
    for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<std::uint32_t>(i);
    inputs.push_back({models::to_in_beats(v.scores, indices, params_.lanes), v.k});
    expected.push_back(model_.run(inputs.back().in, v.k));
  }
  const std::vector<TopkRtlJob> got = rtl_->run_jobs(inputs);
  std::vector<TopkComparison> out;
  const std::int64_t element_bytes = (models::topk_element_bits(params_) + 7) / 8;
  for (std::size_t j = 0; j < vectors.size(); ++j) {
    const models::TopkJob& e = expected[j];
    const TopkRtlJob& g = got[j];
    TopkComparison c;
    c.rtl_cycles = g.cycles;
    c.model_cycles = e.timing.latency_cycles;
    c.input_gap_cycles = g.input_gap_cycles;
    c.output_stall_cycles = g.output_stall_cycles;
    std::ostringstream why;
    if (g.out != e.out) why << "output beats differ; ";
    const std::int64_t earliest = schedule_.earliest_start();
    // Within a batch the driver offers each first beat at once, so without back-pressure the
    // engine must take it at the model's earliest cycle (the batch's first job comes later:
    // run_jobs starts after the previous batch's last beat).
    if (g.first_in_cycle < earliest ||
        (backpressure_free_ && j > 0 && g.first_in_cycle != earliest)) {
      why << "first beat in cycle " << g.first_in_cycle << ", model's earliest " << earliest
          << "; ";
    } else {
      const models::TopkJobSlot slot =
          schedule_.place(g.first_in_cycle, g.input_gap_cycles, e.timing.output_start_cycle,
                          e.timing.latency_cycles, g.output_stall_cycles);
      const std::int64_t cycles = slot.end_cycle - slot.start_cycle;
      c.output_wait_cycles = slot.output_wait_cycles;
      if (g.cycles != cycles) {
        why << "cycles: RTL " << g.cycles << " vs scheduled " << cycles << " (latency "
            << c.model_cycles << ", " << c.input_gap_cycles << " gap, " << c.output_stall_cycles
            << " stall, " << slot.output_wait_cycles << " waiting); ";
      } else if (backpressure_free_) {
        std::vector<std::int64_t> beats;
        for (std::int64_t b : e.timing.output_beat_cycles) {
          beats.push_back(b + slot.output_wait_cycles);
        }
        if (g.out_beat_cycles != beats) why << "output beat cycles differ; ";
      }
    }
    const models::ActionCounts& counts = e.result.counts;
    if (g.perf.comparisons != counts.comparisons ||
        g.perf.reads * element_bytes != counts.sram_read_bytes ||
        g.perf.writes * element_bytes != counts.sram_write_bytes) {
      why << "activity: RTL " << g.perf.comparisons << " cmp, " << g.perf.reads << " reads, "
          << g.perf.writes << " writes vs model " << counts.comparisons << " cmp, "
          << counts.sram_read_bytes / element_bytes << " reads, "
          << counts.sram_write_bytes / element_bytes << " writes; ";
    }
    c.mismatch = why.str();
    if (!c.mismatch.empty()) {
      std::ostringstream context;
      context << "batch job " << j << ", n=" << vectors[j].scores.size() << " k=" << vectors[j].k
              << " " << to_string(vectors[j].kind) << " P=" << params_.lanes << ": " << c.mismatch;
      c.mismatch = context.str();
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace attnsim::rtl
