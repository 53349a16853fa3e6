// permuted_block_sparse: keys permuted within segments so important keys cluster, then blocks
// selected by how many important keys they hold (fewer blocks for the same coverage).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/rng.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

class PermutedHead final : public HeadMask {
 public:
  PermutedHead(const MaskGeometry& g, std::int64_t segment, std::int64_t k, bool permute,
               double important, std::uint64_t seed)
      : g_(g), segment_blocks_(segment / g.block_kv), k_(k), importance_(g.kv_blocks(), 0) {
    SplitMix64 rng(seed);
    // Important keys: each key independently with probability `important`.
    std::vector<std::int64_t> per_segment(ceil_div(g.seq_kv, segment), 0);
    for (std::int64_t key = 0; key < g.seq_kv; ++key) {
      if (rng.uniform() >= important) continue;
      if (permute) {
        ++per_segment[key / segment];
      } else {
        ++importance_[key / g.block_kv];
      }
    }
    if (!permute) return;
    // The permutation moves a segment's important keys to its front blocks.
    for (std::size_t s = 0; s < per_segment.size(); ++s) {
      std::int64_t left = per_segment[s];
      for (std::int64_t b = 0; b < segment_blocks_ && left > 0; ++b) {
        const std::int64_t kb = static_cast<std::int64_t>(s) * segment_blocks_ + b;
        if (kb >= g.kv_blocks()) break;
        importance_[kb] = std::min(left, g.block_kv);
        left -= importance_[kb];
      }
    }
  }

  void block_row(std::int64_t qb, BlockRow& row) override {
    row.clear();
    const std::int64_t last_query = std::min(g_.seq_q, (qb + 1) * g_.block_q) - 1;
    const std::int64_t current = std::min(last_query / g_.block_kv, g_.kv_blocks() - 1);
    // The query's own segment is attended causally in full; earlier segments by selection.
    const std::int64_t own_segment_start = (current / segment_blocks_) * segment_blocks_;
    std::vector<std::int64_t> candidates(own_segment_start);
    std::iota(candidates.begin(), candidates.end(), 0);
    std::stable_sort(candidates.begin(), candidates.end(), [&](std::int64_t a, std::int64_t b) {
      return importance_[a] > importance_[b];
    });
    std::vector<std::int64_t> selected;
    for (const std::int64_t kb : candidates) {
      if (static_cast<std::int64_t>(selected.size()) == k_ || importance_[kb] == 0) break;
      selected.push_back(kb);
    }
    std::sort(selected.begin(), selected.end());
    for (const std::int64_t kb : selected) add_block(g_, qb, kb, true, row);
    for (std::int64_t kb = own_segment_start; kb <= current; ++kb) add_block(g_, qb, kb, true, row);
  }

 private:
  MaskGeometry g_;
  std::int64_t segment_blocks_;
  std::int64_t k_;
  std::vector<std::int64_t> importance_;  // important keys per kv block, after permutation
};

}  // namespace

const PatternFamily& permuted_block_sparse_family() {
  static const SimpleFamily family(
      "permuted_block_sparse",
      "  Causal. Keys are important independently with probability --important (0.02), per head\n"
      "  from --seed. With --permute true (default) keys are permuted within segments of\n"
      "  --segment (2048) tokens, a multiple of block_kv, so a segment's important keys fill its\n"
      "  first blocks; --permute false keeps them scattered (the unpermuted baseline). Each q\n"
      "  block attends its own segment causally and the --k (16) earlier blocks holding the most\n"
      "  important keys.\n"
      "  Source: Wang et al., \"Sparser Block-Sparse Attention via Token Permutation\"\n"
      "  (PBS-Attn), arXiv 2510.21270, 2025.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::int64_t segment = params.get_int("segment", 2048, g.block_kv, g.seq_kv);
        if (segment % g.block_kv != 0) params.fail("segment", "a multiple of block_kv");
        const std::int64_t k = params.get_int("k", 16, 0, g.kv_blocks());
        const bool permute = params.get_bool("permute", true);
        const double important = params.get_double("important", 0.02, 0.0, 1.0);
        return std::make_unique<LambdaInstance>([=](std::int64_t, std::uint64_t seed) {
          return std::make_unique<PermutedHead>(g, segment, k, permute, important, seed);
        });
      });
  return family;
}

}  // namespace attnsim::gpu
