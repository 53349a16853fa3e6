// Top-k selection exactly as the top-k engine does it: LFSR-pivot quick-select, then an output
// pass with the tie rule. The cycle model lives in topk_latency.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/action_counts.h"
#include "models/lfsr.h"
#include "models/validation.h"

namespace attnsim::models {

/// Most lanes the engine (and a beat, beats.h) can have.
inline constexpr int kTopkMaxLanes = 64;

/// How the engine schedules its phases (models/README.md, "Micro-architecture and cycle model").
enum class TopkMicroarch {
  /// Load the whole job, then one pass after another, each from its own pivot read.
  kSequential,
  /// The first pass streams with the load: its pivot comes from the first input beat, so the
  /// comparators keep pace with the incoming scores (the paper: P = 16 matches the Q x K rate).
  /// Later passes read their pivot through a second buffer port, alongside their first row
  /// (pivot_setup_cycles 0 in the RTL).
  kPipelined,
  /// kPipelined per job, and jobs overlap as in the public design's TopK (a quick-select unit and
  /// a separate output-pass datapath over its own copy of the scores): the next job's load and
  /// passes run while this job's output pass streams, with the original buffer in two banks.
  /// RTL: attn_topk Overlap = 1 (models/README.md, "Job overlap").
  kOverlapped,
};
const char* to_string(TopkMicroarch microarch);
/// The micro-architecture named `name` ("sequential", "pipelined", "overlapped"); false if none.
bool parse_topk_microarch(const std::string& name, TopkMicroarch& microarch);

/// Parameters of the top-k engine (the RTL's attn_topk parameters plus its cycle constants).
/// models/README.md ("Top-k engine") defines the micro-architecture these constants time.
struct TopkParams {
  TopkMicroarch microarch = TopkMicroarch::kSequential;
  int lanes = 16;                              ///< P: comparators, and elements per beat
  int score_bits = 32;                         ///< signed score width; inputs must fit
  int max_n = 4096;                            ///< buffer capacity in elements
  std::uint16_t lfsr_seed = kLfsrDefaultSeed;  ///< LFSR state after reset
  int pivot_setup_cycles = 2;                  ///< per pass: pivot index (LFSR x m), pivot read
  int pass_pipeline_cycles = 3;    ///< per pass: compare, zero-eliminate, FIFO write after a read
  int pass_finish_cycles = 1;      ///< per pass: flush the partial FIFO row and decide
  int output_pipeline_cycles = 4;  ///< output pass: read to output-beat transfer

  Violations validate(const std::string& prefix) const;
  /// Cycles of one quick-select pass over m candidates that reads its candidates from a buffer.
  std::int64_t pass_cycles(std::int64_t m) const;
  /// Whether the first pass streams with the load (kPipelined, kOverlapped).
  bool first_pass_fused() const { return microarch != TopkMicroarch::kSequential; }
  /// Whether the next job may start while this one's output pass streams (kOverlapped).
  bool overlaps_jobs() const { return microarch == TopkMicroarch::kOverlapped; }
};

/// Everything the engine decided for one job, and what the cycle model needs.
struct TopkResult {
  std::vector<int> selected;           ///< positions of the k kept elements, ascending
  std::int64_t threshold = 0;          ///< the k-th largest value
  int kept_equal = 0;                  ///< q: how many elements equal to threshold were kept (>= 1)
  std::vector<int> pass_candidates;    ///< m of each quick-select pass, in order
  std::uint16_t lfsr_state_after = 0;  ///< LFSR state when the job ends (the next job starts here)
  ActionCounts counts;                 ///< comparisons and buffer traffic of this job
};

/// Selects the k largest of `scores` (1 <= k <= n <= max_n) as the engine does: repeated passes
/// with pivot candidates[lfsr_scale(lfsr_step(state), m)] (for a fused first pass, m is the first
/// beat's min(n, lanes) elements), recursing into the greater or lesser
/// side until the k-th largest lies among the elements equal to the pivot; then keeps every
/// element greater than that threshold plus the first q equal ones in input order.
/// Throws std::invalid_argument when k, n or a score is out of range for `params`.
TopkResult topk_select(const std::vector<std::int64_t>& scores, int k, const TopkParams& params,
                       std::uint16_t lfsr_state);

/// topk_select starting from the reset state params.lfsr_seed.
TopkResult topk_select(const std::vector<std::int64_t>& scores, int k, const TopkParams& params);

/// Bits of one element in the engine's buffers: the score plus an index of ceil(log2(max_n)) bits.
int topk_element_bits(const TopkParams& params);

}  // namespace attnsim::models
