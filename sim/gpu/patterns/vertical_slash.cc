// vertical_slash: MInference's pattern: a few key columns every query sees plus a few diagonals.
#include <algorithm>
#include <cmath>

#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/rng.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

// Sorted, merged runs of a sorted set of integers.
std::vector<KeyInterval> runs_of(std::vector<std::int64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<KeyInterval> runs;
  for (const std::int64_t v : values) {
    if (!runs.empty() && runs.back().end == v) {
      ++runs.back().end;
    } else {
      runs.push_back({v, v + 1});
    }
  }
  return runs;
}

// Classifies a block row directly from the pattern's structure instead of query by query (a
// query sees up to verticals + slashes separate keys, so the per-query route cost
// block_q x 2000 interval steps per row and tens of seconds per head at 1M tokens):
//  - a slash run (offsets [b, e)) covers pairs with b <= q - k < e: a band, counted per block in
//    closed form; different runs never share a pair;
//  - a column c is seen by the queries q >= c of the row;
//  - a pair on a column and a diagonal at once is counted once: per column, the offsets that
//    land on it, from a prefix count of the offsets.
// Cost per row: O(slash runs + visible columns), no kv_blocks-sized scan.
class VerticalSlashHead final : public HeadMask {
 public:
  VerticalSlashHead(const MaskGeometry& g, std::vector<KeyInterval> columns,
                    std::vector<KeyInterval> offsets)
      : g_(g),
        columns_(std::move(columns)),
        offsets_(std::move(offsets)),
        pairs_(g.kv_blocks(), 0),
        stamp_(g.kv_blocks(), -1),
        offsets_below_(g.seq_kv + 1, 0) {
    for (const KeyInterval& run : offsets_) {
      for (std::int64_t o = run.begin; o < run.end; ++o) offsets_below_[o + 1] = 1;
    }
    for (std::int64_t o = 1; o <= g.seq_kv; ++o) offsets_below_[o] += offsets_below_[o - 1];
  }

  void block_row(std::int64_t qb, BlockRow& row) override {
    row.clear();
    ++call_;
    const std::int64_t bk = g_.block_kv;
    const std::int64_t q0 = qb * g_.block_q;
    const std::int64_t q1 = std::min(g_.seq_q, q0 + g_.block_q);
    // Slashes, largest offsets (leftmost keys) first: their blocks come in increasing order.
    slash_blocks_.clear();
    for (auto run = offsets_.rbegin(); run != offsets_.rend(); ++run) {
      const std::int64_t key_lo = std::max<std::int64_t>(q0 - run->end + 1, 0);
      const std::int64_t key_hi = std::min(q1 - 1 - run->begin, g_.seq_kv - 1);
      if (key_hi < key_lo) continue;
      for (std::int64_t kb = key_lo / bk; kb <= key_hi / bk; ++kb) {
        const std::int64_t k0 = kb * bk;
        const std::int64_t width = std::min(g_.seq_kv, k0 + bk) - k0;
        const std::int64_t pairs = pairs_at_distance(q0, q1, k0, width, run->begin) -
                                   pairs_at_distance(q0, q1, k0, width, run->end);
        add(kb, pairs, slash_blocks_);
      }
    }
    // Columns the row can see (c < q1), in increasing order, less their pairs on a diagonal.
    column_blocks_.clear();
    for (const KeyInterval& run : columns_) {
      if (run.begin >= q1) break;
      for (std::int64_t c = run.begin; c < std::min(run.end, q1); ++c) {
        const std::int64_t first_q = std::max(q0, c);
        const std::int64_t seen = q1 - first_q;
        const std::int64_t on_diagonal = below(q1 - c) - below(first_q - c);
        add(c / bk, seen - on_diagonal, column_blocks_);
      }
    }
    // Both lists are increasing and disjoint (a block is listed where it was first touched).
    std::size_t a = 0, b = 0;
    while (a < slash_blocks_.size() || b < column_blocks_.size()) {
      const bool take_slash = b == column_blocks_.size() ||
                              (a < slash_blocks_.size() && slash_blocks_[a] < column_blocks_[b]);
      const std::int64_t kb = take_slash ? slash_blocks_[a++] : column_blocks_[b++];
      const std::int64_t pairs = pairs_[kb];
      pairs_[kb] = 0;
      if (pairs > 0)
        row.push_back({static_cast<std::int32_t>(kb), block_class_of(g_, pairs), pairs});
    }
  }

 private:
  void add(std::int64_t kb, std::int64_t pairs, std::vector<std::int64_t>& list) {
    if (stamp_[kb] != call_) {
      stamp_[kb] = call_;
      list.push_back(kb);
    }
    pairs_[kb] += pairs;
  }
  // Offsets below x (x clamped to [0, seq_kv]).
  std::int64_t below(std::int64_t x) const {
    return offsets_below_[std::clamp<std::int64_t>(x, 0, g_.seq_kv)];
  }

  const MaskGeometry g_;
  std::vector<KeyInterval> columns_;
  std::vector<KeyInterval> offsets_;
  std::vector<std::int64_t> pairs_;
  std::vector<std::int64_t> stamp_;
  std::vector<std::int32_t> offsets_below_;  // prefix count of the offsets
  std::vector<std::int64_t> slash_blocks_;
  std::vector<std::int64_t> column_blocks_;
  std::int64_t call_ = 0;
};

}  // namespace

const PatternFamily& vertical_slash_family() {
  static const SimpleFamily family(
      "vertical_slash",
      "  Causal. --verticals V (1000): key columns every later query sees; the first --sinks N\n"
      "  (64) keys, the rest uniform at random. --slashes S (1000): diagonals q-o; offsets\n"
      "  0..--local L (64) always, the rest drawn log-uniformly in [L, seq) (attention decays\n"
      "  with distance). Per head, from --seed.\n"
      "  Source: Jiang et al., \"MInference 1.0\", NeurIPS 2024 (vertical-slash heads).\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::int64_t verticals = params.get_int("verticals", 1000, 0, g.seq_kv);
        const std::int64_t slashes = params.get_int("slashes", 1000, 0, g.seq_kv);
        const std::int64_t sinks = params.get_int("sinks", 64, 0, g.seq_kv);
        const std::int64_t local = params.get_int("local", 64, 0, g.seq_kv);
        return std::make_unique<LambdaInstance>([=](std::int64_t, std::uint64_t seed) {
          SplitMix64 rng(seed);
          std::vector<std::int64_t> columns, offsets;
          for (std::int64_t k = 0; k < std::min(sinks, verticals); ++k) columns.push_back(k);
          while (static_cast<std::int64_t>(columns.size()) < verticals) {
            columns.push_back(static_cast<std::int64_t>(rng.below(g.seq_kv)));
          }
          for (std::int64_t o = 0; o < std::min(local, slashes); ++o) offsets.push_back(o);
          const double log_span =
              std::log(static_cast<double>(g.seq_kv) / std::max<std::int64_t>(local, 1));
          while (static_cast<std::int64_t>(offsets.size()) < slashes) {
            const double o = std::max<std::int64_t>(local, 1) * std::exp(rng.uniform() * log_span);
            offsets.push_back(std::min(static_cast<std::int64_t>(o), g.seq_kv - 1));
          }
          return std::make_unique<VerticalSlashHead>(g, runs_of(columns), runs_of(offsets));
        });
      });
  return family;
}

}  // namespace attnsim::gpu
