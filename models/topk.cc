// Quick-select with an LFSR pivot over P-wide lanes, and the tie-rule output pass.
#include "models/topk.h"

#include <algorithm>
#include <stdexcept>

namespace attnsim::models {
namespace {

int bits_for(std::int64_t values) {  // ceil(log2(values)), at least 1
  int bits = 1;
  while ((std::int64_t{1} << bits) < values) ++bits;
  return bits;
}

}  // namespace

const char* to_string(TopkMicroarch microarch) {
  switch (microarch) {
    case TopkMicroarch::kPipelined:
      return "pipelined";
    case TopkMicroarch::kOverlapped:
      return "overlapped";
    case TopkMicroarch::kSequential:
      break;
  }
  return "sequential";
}

bool parse_topk_microarch(const std::string& name, TopkMicroarch& microarch) {
  for (TopkMicroarch m :
       {TopkMicroarch::kSequential, TopkMicroarch::kPipelined, TopkMicroarch::kOverlapped}) {
    if (name == to_string(m)) {
      microarch = m;
      return true;
    }
  }
  return false;
}

Violations TopkParams::validate(const std::string& prefix) const {
  Violations v;
  v.require_in_range(prefix + ".lanes", lanes, 1, kTopkMaxLanes);
  v.require_in_range(prefix + ".score_bits", score_bits, 2, 63);
  v.require_in_range(prefix + ".max_n", max_n, 1, 65536);
  v.require(lfsr_seed != 0, prefix + ".lfsr_seed", "a non-zero 16-bit value", lfsr_seed);
  v.require_in_range(prefix + ".pivot_setup_cycles", pivot_setup_cycles, 0, 64);
  v.require_in_range(prefix + ".pass_pipeline_cycles", pass_pipeline_cycles, 0, 64);
  v.require_in_range(prefix + ".pass_finish_cycles", pass_finish_cycles, 0, 64);
  v.require_in_range(prefix + ".output_pipeline_cycles", output_pipeline_cycles, 0, 64);
  return v;
}

std::int64_t TopkParams::pass_cycles(std::int64_t m) const {
  return pivot_setup_cycles + (m + lanes - 1) / lanes + pass_pipeline_cycles + pass_finish_cycles;
}

int topk_element_bits(const TopkParams& params) {
  return params.score_bits + bits_for(params.max_n);
}

TopkResult topk_select(const std::vector<std::int64_t>& scores, int k, const TopkParams& params,
                       std::uint16_t lfsr_state) {
  const auto n = static_cast<std::int64_t>(scores.size());
  if (n < 1 || n > params.max_n) throw std::invalid_argument("topk_select: n outside [1, max_n]");
  if (k < 1 || k > n) throw std::invalid_argument("topk_select: k outside [1, n]");
  if (lfsr_state == 0) throw std::invalid_argument("topk_select: LFSR state 0 locks up");
  const std::int64_t hi = (std::int64_t{1} << (params.score_bits - 1)) - 1;
  for (std::int64_t s : scores) {
    if (s < -hi - 1 || s > hi) throw std::invalid_argument("topk_select: score exceeds score_bits");
  }

  TopkResult result;
  const std::int64_t element_bytes = (topk_element_bits(params) + 7) / 8;
  // Candidate values in input order; positions are not needed until the output pass, which
  // re-reads the original buffer.
  std::vector<std::int64_t> candidates = scores;
  std::vector<std::int64_t> greater;
  std::vector<std::int64_t> lesser;
  std::int64_t rank = k;  // the wanted element is the rank-th largest among the candidates
  for (bool first = true;; first = false) {
    const auto m = static_cast<std::int64_t>(candidates.size());
    result.pass_candidates.push_back(static_cast<int>(m));
    lfsr_state = lfsr_step(lfsr_state);
    // A fused first pass must compare the first beat as it arrives, so its pivot is one of that
    // beat's elements; the selected set does not depend on the pivot, only the passes do.
    const bool fused = first && params.first_pass_fused();
    const std::int64_t span = fused ? std::min<std::int64_t>(m, params.lanes) : m;
    const std::int64_t pivot = candidates[lfsr_scale(lfsr_state, static_cast<std::uint32_t>(span))];
    greater.clear();
    lesser.clear();
    std::int64_t equal = 0;
    for (std::int64_t x : candidates) {
      if (x > pivot) {
        greater.push_back(x);
      } else if (x < pivot) {
        lesser.push_back(x);
      } else {
        ++equal;
      }
    }
    // Each lane compares against the pivot once per element (a 3-way compare counts once).
    result.counts.comparisons += m;
    // The stream plus the pivot read; a fused pass compares the input beats as they arrive.
    if (!fused) result.counts.sram_read_bytes += (m + 1) * element_bytes;
    const auto g = static_cast<std::int64_t>(greater.size());
    result.counts.sram_write_bytes +=
        (g + static_cast<std::int64_t>(lesser.size())) * element_bytes;
    if (rank <= g) {
      candidates.swap(greater);
    } else if (rank <= g + equal) {
      result.threshold = pivot;
      result.kept_equal = static_cast<int>(rank - g);
      break;
    } else {
      rank -= g + equal;
      candidates.swap(lesser);
    }
  }

  // Output pass: > threshold always; == threshold while the running equal count is below q.
  int equal_seen = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (scores[i] > result.threshold) {
      result.selected.push_back(static_cast<int>(i));
    } else if (scores[i] == result.threshold) {
      if (equal_seen < result.kept_equal) result.selected.push_back(static_cast<int>(i));
      ++equal_seen;
    }
    if (static_cast<int>(result.selected.size()) == k) break;  // the engine stops at the k-th
  }
  // Whole rows are read up to the one holding the k-th kept element.
  const std::int64_t rows_read = result.selected.back() / params.lanes + 1;
  const std::int64_t streamed = std::min(rows_read * params.lanes, n);
  result.counts.comparisons += 2 * streamed;  // > and == against the threshold
  result.counts.sram_read_bytes += streamed * element_bytes;
  result.counts.sram_write_bytes += n * element_bytes;  // the load into the original buffer
  result.lfsr_state_after = lfsr_state;
  return result;
}

TopkResult topk_select(const std::vector<std::int64_t>& scores, int k, const TopkParams& params) {
  return topk_select(scores, k, params, params.lfsr_seed);
}

}  // namespace attnsim::models
