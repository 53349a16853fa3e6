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

class VerticalSlashHead final : public TokenMask {
 public:
  VerticalSlashHead(const MaskGeometry& g, std::vector<KeyInterval> columns,
                    std::vector<KeyInterval> offsets)
      : TokenMask(g), columns_(std::move(columns)), offsets_(std::move(offsets)) {}

 protected:
  void key_intervals(std::int64_t q, std::vector<KeyInterval>& out) override {
    out.clear();
    slash_.clear();
    // Offsets o in [b, e) put keys q-e+1 .. q-b; increasing offsets give decreasing keys.
    for (auto it = offsets_.rbegin(); it != offsets_.rend(); ++it) {
      push_interval(slash_, q - it->end + 1, q - it->begin + 1, q + 1);
    }
    std::size_t c = 0, s = 0;
    while (c < columns_.size() || s < slash_.size()) {
      KeyInterval next;
      if (s == slash_.size() || (c < columns_.size() && columns_[c].begin < slash_[s].begin)) {
        next = columns_[c++];
        if (next.begin > q) {
          c = columns_.size();  // columns are sorted: none of the rest is visible to q
          continue;
        }
        next.end = std::min(next.end, q + 1);
      } else {
        next = slash_[s++];
      }
      if (!out.empty() && out.back().end >= next.begin) {
        out.back().end = std::max(out.back().end, next.end);
      } else {
        out.push_back(next);
      }
    }
  }

 private:
  std::vector<KeyInterval> columns_;
  std::vector<KeyInterval> offsets_;
  std::vector<KeyInterval> slash_;
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
