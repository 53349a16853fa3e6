// Checks topk_timing against a cycle-by-cycle simulation of the micro-architecture that
// models/README.md describes (pipeline registers advanced once per cycle), written from that
// table rather than from the closed form, so an off-by-one in either shows up.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <optional>
#include <random>

#include "models/topk.h"
#include "models/topk_latency.h"

namespace attnsim::models {
namespace {

// What leaves one pipeline stage for the next: a row (its number), or nothing.
using Slot = std::optional<int>;

struct SteppedTiming {
  std::int64_t latency = 0;
  std::vector<std::int64_t> beat_cycles;
};

SteppedTiming step_engine(const std::vector<std::int64_t>& scores, int k, const TopkParams& p) {
  const TopkResult decisions = topk_select(scores, k, p);  // what each pass sees; timing is ours
  const int n = static_cast<int>(scores.size());
  const int lanes = p.lanes;
  std::int64_t cycle = 0;
  // Load: one beat per cycle; the beat carrying `last` is in cycle ceil(n/P) - 1.
  for (int beat = 0; beat < (n + lanes - 1) / lanes; ++beat) ++cycle;

  for (int m : decisions.pass_candidates) {
    cycle += 2;  // pivot index, pivot read
    const int rows = (m + lanes - 1) / lanes;
    // Stages after the read: compare, zero-eliminate, pack. Step until every row is packed.
    std::array<Slot, 3> stage{};
    int next_row = 0;
    int packed = 0;
    while (packed < rows) {
      // Advance the pipeline by one cycle: pack what was zero-eliminated, etc.
      if (stage[2]) ++packed;
      stage[2] = stage[1];
      stage[1] = stage[0];
      stage[0] = Slot{};
      if (next_row < rows) stage[0] = next_row++;  // this cycle's read feeds compare next cycle
      ++cycle;
    }
    // `cycle` is now the cycle after the last pack: the finish cycle (flush the partial FIFO
    // rows, decide). The next pass starts after it.
    cycle += 1;
  }

  // Output pass: row r read in cycle s + r; compare, zero-eliminate, pack, then the output
  // register.
  SteppedTiming t;
  const std::int64_t start = cycle;
  std::vector<int> kept_per_row((n + lanes - 1) / lanes, 0);
  for (int position : decisions.selected)
    ++kept_per_row[static_cast<std::size_t>(position / lanes)];
  const int last_row = decisions.selected.back() / lanes;
  std::array<Slot, 3> stage{};
  int next_row = 0;
  int in_packer = 0;
  int emitted = 0;
  int packed_total = 0;
  std::deque<int> pending_beats;  // beats formed in the packer, waiting for the output register
  for (std::int64_t c = start; emitted < k; ++c) {
    // The output register transfers the oldest formed beat (one per cycle).
    if (!pending_beats.empty()) {
      emitted += pending_beats.front();
      pending_beats.pop_front();
      t.beat_cycles.push_back(c);
      if (emitted == k) {
        t.latency = c + 1;
        break;
      }
    }
    // Pack stage: append this row's kept elements; form full beats, and the final one at k.
    if (stage[2]) {
      in_packer += kept_per_row[static_cast<std::size_t>(*stage[2])];
      packed_total += kept_per_row[static_cast<std::size_t>(*stage[2])];
      while (in_packer >= lanes) {
        pending_beats.push_back(lanes);
        in_packer -= lanes;
      }
      if (packed_total == k && in_packer > 0) {
        pending_beats.push_back(in_packer);
        in_packer = 0;
      }
    }
    stage[2] = stage[1];
    stage[1] = stage[0];
    stage[0] = Slot{};
    if (next_row <= last_row) stage[0] = next_row++;
  }
  return t;
}

TEST(TopkCycleStepper, ClosedFormEqualsTheSteppedMicroArchitecture) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 2000; ++trial) {
    TopkParams p;
    p.lanes = 1 + static_cast<int>(rng() % 20);
    p.max_n = 600;
    const int n = 1 + static_cast<int>(rng() % 600);
    const int distinct = 1 + static_cast<int>(rng() % 50);
    std::vector<std::int64_t> s(static_cast<std::size_t>(n));
    for (auto& x : s) x = static_cast<std::int64_t>(rng() % distinct);
    const int k = 1 + static_cast<int>(rng() % n);
    const SteppedTiming stepped = step_engine(s, k, p);
    const TopkTiming timing = topk_timing(topk_select(s, k, p), n, k, p);
    ASSERT_EQ(timing.output_beat_cycles, stepped.beat_cycles)
        << "P=" << p.lanes << " n=" << n << " k=" << k;
    ASSERT_EQ(timing.latency_cycles, stepped.latency);
  }
}

}  // namespace
}  // namespace attnsim::models
