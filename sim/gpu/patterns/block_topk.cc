// block_topk: per q block, keep the kv blocks with the highest estimated scores (top-k or a
// cumulative-mass threshold), the selection step of XAttention, SeerAttention, MoBA and NSA.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "sim/common/input_error.h"
#include "sim/common/npy.h"
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/rng.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

struct TopkConfig {
  MaskGeometry geometry;
  bool causal = true;
  bool threshold = false;  // false: top-k
  std::int64_t k = 0;      // 0: from density
  double density = 0.1;
  double tau = 0.9;
  double decay_blocks = 4.0;
  double sink = 1.0;
  double noise = 0.05;
  double sigma = 1.0;
  std::shared_ptr<const std::vector<double>> scores;  // [heads_in_file, NQ, NK] when from a file
  std::int64_t score_heads = 0;
};

class TopkHead final : public HeadMask {
 public:
  TopkHead(const TopkConfig& config, std::int64_t head, std::uint64_t seed)
      : c_(config), head_(head), seed_(seed) {}

  void block_row(std::int64_t qb, BlockRow& row) override {
    row.clear();
    const MaskGeometry& g = c_.geometry;
    const std::int64_t nk = g.kv_blocks();
    const std::int64_t last_query = std::min(g.seq_q, (qb + 1) * g.block_q) - 1;
    // The block holding the row's last query: the "current" block every method keeps.
    const std::int64_t current = std::min(last_query / g.block_kv, nk - 1);
    const std::int64_t candidates = c_.causal ? current + 1 : nk;
    scores_.resize(candidates);
    SplitMix64 rng(derive_seed(seed_, static_cast<std::uint64_t>(qb)));
    for (std::int64_t kb = 0; kb < candidates; ++kb) {
      if (c_.scores) {
        const std::int64_t h = head_ % c_.score_heads;
        scores_[kb] = (*c_.scores)[(h * g.q_blocks() + qb) * nk + kb];
      } else {
        const double distance = std::abs(static_cast<double>(current - kb));
        scores_[kb] = std::exp(-distance / c_.decay_blocks) + (kb == 0 ? c_.sink : 0.0) +
                      c_.noise * std::exp(c_.sigma * rng.normal());
      }
    }
    order_.resize(candidates);
    std::iota(order_.begin(), order_.end(), 0);
    // Decreasing score, ties by increasing index: the order a stable sort by score gives.
    const auto before = [&](std::int64_t a, std::int64_t b) {
      return scores_[a] > scores_[b] || (scores_[a] == scores_[b] && a < b);
    };
    std::int64_t keep = 0;
    if (c_.threshold) {
      std::sort(order_.begin(), order_.end(), before);
      const double total = std::accumulate(scores_.begin(), scores_.end(), 0.0);
      double mass = 0;
      while (keep < candidates && mass < c_.tau * total) mass += scores_[order_[keep++]];
    } else {
      keep =
          c_.k > 0
              ? c_.k
              : static_cast<std::int64_t>(std::ceil(c_.density * static_cast<double>(candidates)));
    }
    keep = std::clamp<std::int64_t>(keep, 1, candidates);
    // Top-k needs the first k of that order as a set, not sorted: linear selection, not a sort
    // of every candidate (rows of a 1M-token mask have up to 8192).
    if (!c_.threshold && keep < candidates) {
      std::nth_element(order_.begin(), order_.begin() + keep, order_.end(), before);
    }
    selected_.assign(order_.begin(), order_.begin() + keep);
    if (c_.causal && std::find(selected_.begin(), selected_.end(), current) == selected_.end()) {
      selected_.push_back(current);
    }
    std::sort(selected_.begin(), selected_.end());
    for (const std::int64_t kb : selected_) add_block(g, qb, kb, c_.causal, row);
  }

 private:
  const TopkConfig& c_;
  std::int64_t head_;
  std::uint64_t seed_;
  std::vector<double> scores_;
  std::vector<std::int64_t> order_;
  std::vector<std::int64_t> selected_;
};

class TopkInstance final : public PatternInstance {
 public:
  explicit TopkInstance(TopkConfig config) : config_(std::move(config)) {}
  std::unique_ptr<HeadMask> make_head(std::int64_t head, std::uint64_t seed) const override {
    return std::make_unique<TopkHead>(config_, head, seed);
  }
  // Causal selections cut their diagonal blocks by the causal rule; the others keep whole blocks.
  std::optional<MaskRule> rule() const override {
    if (!config_.causal) return std::nullopt;
    return MaskRule{"causal", {}};
  }

 private:
  TopkConfig config_;
};

std::shared_ptr<const std::vector<double>> read_scores(const std::string& path,
                                                       const MaskGeometry& g, std::int64_t& heads) {
  const common::NpyArray array = common::read_npy(path);
  const std::vector<std::int64_t>& s = array.shape;
  const bool fits = (s.size() == 3 || s.size() == 4) && s[s.size() - 2] == g.q_blocks() &&
                    s.back() == g.kv_blocks();
  if (!fits) {
    throw common::InputError(path, "array",
                             "block scores of shape [H, NQ, NK] or [B, H, NQ, NK]"
                             " with NQ = " +
                                 std::to_string(g.q_blocks()) +
                                 ", NK = " + std::to_string(g.kv_blocks()),
                             "another shape");
  }
  heads = s.size() == 3 ? s[0] : s[0] * s[1];
  auto values = std::make_shared<std::vector<double>>(array.to_float64(path, "array"));
  for (const double v : *values) {
    if (!std::isfinite(v)) throw common::InputError(path, "array", "finite scores", "NaN or Inf");
  }
  return values;
}

}  // namespace

std::unique_ptr<PatternInstance> configure_block_topk(PatternParams& params,
                                                      const MaskGeometry& g) {
  TopkConfig c;
  c.geometry = g;
  c.causal = params.get_bool("causal", true);
  const std::string select = params.get_string("select", "topk");
  if (select != "topk" && select != "threshold") params.fail("select", "topk or threshold");
  c.threshold = select == "threshold";
  c.k = params.get_int("k", 0, 1, g.kv_blocks());
  c.density = params.get_double("density", 0.1, 0.0, 1.0);
  c.tau = params.get_double("tau", 0.9, 0.0, 1.0);
  c.decay_blocks = params.get_double("decay", 4.0, 1e-6, 1e9);
  c.sink = params.get_double("sink", 1.0, 0.0, 1e9);
  c.noise = params.get_double("noise", 0.05, 0.0, 1e9);
  c.sigma = params.get_double("sigma", 1.0, 0.0, 10.0);
  const std::string scores = params.get_string("scores", "");
  if (!scores.empty()) {
    c.scores = read_scores(scores, g, c.score_heads);
    if (c.score_heads != g.heads && c.score_heads != g.batch * g.heads && c.score_heads != 1) {
      throw common::InputError(scores, "array", "scores for 1, H or B x H heads",
                               std::to_string(c.score_heads) + " heads");
    }
  }
  return std::make_unique<TopkInstance>(std::move(c));
}

const PatternFamily& block_topk_family() {
  static const SimpleFamily family(
      "block_topk",
      "  Per q block, rank candidate kv blocks (kb <= current block when --causal true, the\n"
      "  default) by a score and keep --k K of them (default ceil(--density P x candidates),\n"
      "  P = 0.1), or with --select threshold the fewest whose scores reach --tau (0.9) of the\n"
      "  row's total (XAttention). The current (diagonal) block is always kept when causal.\n"
      "  Scores: --scores FILE.npy ([H, NQ, NK] or [B, H, NQ, NK] floats, e.g. antidiagonal sums\n"
      "  or gate outputs), or synthesised: exp(-d / --decay) (4 blocks) + --sink (1.0) for block\n"
      "  0 + --noise (0.05) x lognormal(0, --sigma (1.0)), d = distance to the current block.\n"
      "  Source: Xu et al., \"XAttention\", 2025; Gao et al., \"SeerAttention\", 2024; Lu et al.,\n"
      "  \"MoBA\", 2025; Yuan et al., \"Native Sparse Attention\" (NSA), 2025; Lai et al.,\n"
      "  \"FlexPrefill\", 2025.\n",
      configure_block_topk);
  return family;
}

}  // namespace attnsim::gpu
