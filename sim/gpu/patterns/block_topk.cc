// block_topk: per q block, keep the kv blocks with the highest estimated scores (top-k or a
// cumulative-mass threshold), the selection step of XAttention, SeerAttention, MoBA and NSA.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>

#include "sim/common/input_error.h"
#include "sim/common/npy.h"
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/rng.h"
#include "sim/gpu/patterns/simple_families.h"
#include "sim/gpu/patterns/topk_scores.h"

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
  // Synthetic scores: exp(-d / decay) for d in [0, NK) (the very value the score adds), and its
  // suffix maxima (max over d' >= d; exp is monotone, but the bound does not rely on it).
  std::shared_ptr<const std::vector<double>> det_by_distance;
  std::shared_ptr<const std::vector<double>> det_tail_max;
  // The fast path's scan cut-offs by level (u1 <= 2^(-level / 4)).
  std::shared_ptr<const std::vector<topk_scores::Cut>> cuts;
  std::shared_ptr<const std::vector<std::int16_t>> first_cut;  // by candidate count
};

// Candidate kb's synthetic score, the arithmetic of the reference loop in block_row (SplitMix64
// draws 2 kb and 2 kb + 1 of the row's generator, seeded with `state`). Kept out of the AVX-512
// kernels' file: a compiler may contract a x b + c there, which would change the rounding.
double exact_score(const TopkConfig& c, std::int64_t current, std::int64_t kb,
                   std::uint64_t state) {
  const auto draw = static_cast<std::uint64_t>(2 * kb);
  const double distance = std::abs(static_cast<double>(current - kb));
  return std::exp(-distance / c.decay_blocks) + (kb == 0 ? c.sink : 0.0) +
         c.noise * std::exp(c.sigma * SplitMix64::normal_of(SplitMix64::draw(state, draw),
                                                            SplitMix64::draw(state, draw + 1)));
}

// The first cut-off's level for a row of `candidates` keeping `keep`: about 12 keep candidates
// listed (u1 <= 2^(-level / 4)).
std::int64_t first_cut_level(std::int64_t candidates, std::int64_t keep) {
  return static_cast<std::int64_t>(std::lround(
      4 * std::log2(static_cast<double>(candidates) / (12.0 * static_cast<double>(keep)))));
}

// Noise at least this large keeps every noise term a normal double (noise x exp(-86) > 1e-288),
// which the relative bounds of the fast path assume.
constexpr double kFastPathMinNoise = 1e-250;

class TopkHead final : public HeadMask {
 public:
  TopkHead(const TopkConfig& config, std::int64_t head, std::uint64_t seed)
      : c_(config), head_(head), seed_(seed), bounder_(config.noise, config.sigma) {
    if (c_.det_by_distance) bounder_.det_by_distance = c_.det_by_distance->data();
  }

  void block_row(std::int64_t qb, BlockRow& row) override {
    row.clear();
    const MaskGeometry& g = c_.geometry;
    const std::int64_t nk = g.kv_blocks();
    const std::int64_t last_query = std::min(g.seq_q, (qb + 1) * g.block_q) - 1;
    // The block holding the row's last query: the "current" block every method keeps.
    const std::int64_t current = std::min(last_query / g.block_kv, nk - 1);
    const std::int64_t candidates = c_.causal ? current + 1 : nk;
    const std::uint64_t state = derive_seed(seed_, static_cast<std::uint64_t>(qb));
    if (c_.threshold || c_.scores) {
      reference_select(qb, current, candidates, state);
    } else {
      // Top-k of synthetic scores: the same selection, without a score for every candidate.
      const std::int64_t keep = std::clamp<std::int64_t>(
          c_.k > 0
              ? c_.k
              : static_cast<std::int64_t>(std::ceil(c_.density * static_cast<double>(candidates))),
          1, candidates);
      if (keep == candidates) {
        selected_.resize(static_cast<std::size_t>(candidates));
        std::iota(selected_.begin(), selected_.end(), 0);
      } else if (c_.noise == 0 || c_.sigma == 0) {
        constant_noise_select(current, candidates, keep);
      } else if (c_.noise >= kFastPathMinNoise) {
        fast_select(current, candidates, keep, state);
      } else {
        reference_select(qb, current, candidates, state);
      }
    }
    if (c_.causal && std::find(selected_.begin(), selected_.end(), current) == selected_.end()) {
      selected_.push_back(current);
    }
    // The fast path's selection is nearly sorted already (candidates in scan order, then blocks
    // 0 and current and the near ones): insertion sort for short rows.
    if (selected_.size() <= 64) {
      for (std::size_t i = 1; i < selected_.size(); ++i) {
        const std::int64_t kb = selected_[i];
        std::size_t j = i;
        for (; j > 0 && selected_[j - 1] > kb; --j) selected_[j] = selected_[j - 1];
        selected_[j] = kb;
      }
    } else {
      std::sort(selected_.begin(), selected_.end());
    }
    for (const std::int64_t kb : selected_) add_block(g, qb, kb, c_.causal, row);
  }

 private:
  // Decreasing score, ties by increasing index: the order a stable sort by score gives.
  bool before(std::int64_t a, std::int64_t b) const {
    return scores_[a] > scores_[b] || (scores_[a] == scores_[b] && a < b);
  }

  // Every candidate's score, then the selection: the definition the other paths reproduce
  // (and the only path for --select threshold and --scores).
  void reference_select(std::int64_t qb, std::int64_t current, std::int64_t candidates,
                        std::uint64_t state) {
    const MaskGeometry& g = c_.geometry;
    const std::int64_t nk = g.kv_blocks();
    scores_.resize(candidates);
    SplitMix64 rng(state);
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
    const auto before = [&](std::int64_t a, std::int64_t b) { return this->before(a, b); };
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
  }

  // --noise 0 or --sigma 0: every candidate's noise term is the same number (0 x exp(.) = 0,
  // noise x exp(0) = noise), so no draw is needed; the scores are the reference's.
  void constant_noise_select(std::int64_t current, std::int64_t candidates, std::int64_t keep) {
    const double noise = c_.sigma == 0 ? c_.noise : 0.0;
    const std::vector<double>& det = *c_.det_by_distance;
    scores_.resize(candidates);
    for (std::int64_t kb = 0; kb < candidates; ++kb) {
      scores_[kb] = det[std::abs(current - kb)] + (kb == 0 ? c_.sink : 0.0) + noise;
    }
    order_.resize(candidates);
    std::iota(order_.begin(), order_.end(), 0);
    std::nth_element(order_.begin(), order_.begin() + keep, order_.end(),
                     [&](std::int64_t a, std::int64_t b) { return before(a, b); });
    selected_.assign(order_.begin(), order_.begin() + keep);
  }

  // The keep-th largest lower bound among bounded_[from ..)'s candidates with lo > floor, if
  // there are keep of them.
  bool kth_lower_bound(std::int64_t keep, double floor, double& level, std::int64_t from = 0) {
    if (levels_.size() < static_cast<std::size_t>(bounded_.size + 8))
      levels_.resize(bounded_.size + 8);
    std::int64_t count = 0;
    for (std::int64_t i = from; i < bounded_.size; ++i) {  // without branches to mispredict
      levels_[count] = bounded_.lo[i];
      count += bounded_.lo[i] > floor ? 1 : 0;
    }
    if (count < keep) return false;
    level = topk_scores::kth_largest(levels_.data(), count, keep);
    return true;
  }

  // Top-k of synthetic scores from bounds. A scan lists the candidates whose first draw gives
  // u1 <= U0, a cut-off with about 12 keep of the row's candidates below it (one hash each); all
  // others have N <= sqrt(-2 ln u1) < sqrt(-2 ln U0), so a noise term below the cut's floor. The
  // screen drops listed candidates whose score is below the floor for sure (topk_scores.h), the
  // rest get bounds (and blocks 0 and current always). Their keep-th largest lower bound, the
  // level, exceeds every other candidate's score once those whose deterministic part could lift
  // them to it (near the current block) are bounded too. The top k are then among the candidates
  // with hi >= level: when exactly keep of them are, they are the top k; otherwise their exact
  // scores decide, by the reference's order. Rows without such a level retry with an eight
  // times larger cut-off, up to every candidate.
  void fast_select(std::int64_t current, std::int64_t candidates, std::int64_t keep,
                   std::uint64_t state) {
    using topk_scores::bound_scores;
    bounder_.current = current;
    bounder_.det0 = (*c_.det_by_distance)[current] + c_.sink;
    const std::vector<double>& tail = *c_.det_tail_max;
    const std::vector<topk_scores::Cut>& cuts = *c_.cuts;
    std::int64_t cut_level = (*c_.first_cut)[candidates];
    double level = 0;
    bool retried = false;
    bool all = false;
    for (;; retried = true) {
      all = cut_level < 1;
      std::int64_t count = 0;
      double floor = 0;
      bounded_.size = 0;
      if (all) {
        if (list_.size() < static_cast<std::size_t>(candidates)) list_.resize(candidates);
        std::iota(list_.begin(), list_.begin() + candidates, 0);
        count = candidates;
        bounded_.reserve(count);
        bound_scores(state, list_.data(), count, bounder_, floor, bounded_);
      } else {
        const topk_scores::Cut& cut =
            cuts[std::min<std::size_t>(static_cast<std::size_t>(cut_level), cuts.size() - 1)];
        floor = cut.floor;
        count = topk_scores::scan_first_draws(state, candidates, cut.threshold, list_);
        const std::int64_t room = count + 18 + 2 * near_guess_;
        if (screened_.size() < static_cast<std::size_t>(room)) screened_.resize(room);
        std::int64_t kept =
            topk_scores::screen(state, list_.data(), count, cut, current, screened_.data());
        // Block 0, and the unlisted candidates at distances below the previous row's near
        // distance (levels of neighbouring rows are alike), current included: bounded in the
        // same pass whatever their first draw.
        if (count == 0 || list_[0] != 0) screened_[kept++] = 0;
        kept += unlisted(current - (near_guess_ - 1), current + (near_guess_ - 1), candidates,
                         count, screened_.data() + kept);
        bounded_.reserve(kept);
        bound_scores(state, screened_.data(), kept, bounder_, floor, bounded_);
      }
      // The level must exceed every dropped candidate's score (<= floor) and the noise of every
      // unlisted one.
      if (!kth_lower_bound(keep, floor, level) || !(level > floor * (1 + 1e-12))) {
        cut_level -= 12;
        continue;
      }
      if (all) break;
      // An unlisted candidate at distance d scores <= (det(d) + floor)(1 + 1e-12): bound every
      // one whose bound reaches the level.
      const auto reaches = [&](double det) { return (det + floor) * (1 + 1e-12) >= level; };
      const std::int64_t near =
          std::partition_point(tail.begin() + 1, tail.end(), reaches) - tail.begin();
      if (near > 1024) {
        cut_level = 0;
        continue;
      }
      const std::int64_t guessed = near_guess_;
      near_guess_ = near;
      if (near > guessed) {
        if (near_.size() < static_cast<std::size_t>(2 * near)) near_.resize(2 * near);
        std::int64_t more =
            unlisted(current - (near - 1), current - guessed, candidates, count, near_.data());
        more += unlisted(current + guessed, current + (near - 1), candidates, count,
                         near_.data() + more);
        const std::int64_t before_near = bounded_.size;
        bounded_.reserve(bounded_.size + more);
        bound_scores(state, near_.data(), more, bounder_, floor, bounded_);
        // The level only rises: the new one is the keep-th largest of the lower bounds >= the
        // old one (at least keep of them).
        bool rises = false;
        for (std::int64_t i = before_near; i < bounded_.size; ++i) rises |= bounded_.lo[i] > level;
        if (rises) kth_lower_bound(keep, level * (1 - 1e-15) - 1e-300, level);
      }
      break;
    }
    // The top k are among the candidates with hi >= level.
    if (near_.size() < static_cast<std::size_t>(bounded_.size + 16))
      near_.resize(bounded_.size + 16);
    const std::int64_t count = topk_scores::reaching(bounded_, level, near_.data());
    selected_.assign(near_.begin(), near_.begin() + count);
    const bool exact = count != keep;
    topk_scores::count_path(retried, all, exact);
    if (!exact) return;
    // Some bounds overlap the level: exact scores of those candidates, the reference's order.
    scores_.resize(candidates);
    for (const std::int64_t kb : selected_) scores_[kb] = exact_score(c_, current, kb, state);
    std::nth_element(selected_.begin(), selected_.begin() + keep, selected_.end(),
                     [&](std::int64_t a, std::int64_t b) { return before(a, b); });
    selected_.resize(keep);
  }

  // Writes the candidates in [from, to] (clipped to [1, candidates)) that the scan did not list
  // (list_[0 .. listed), sorted) and returns their number: one search, then a merge.
  std::int64_t unlisted(std::int64_t from, std::int64_t to, std::int64_t candidates,
                        std::int64_t listed, std::int32_t* out) const {
    from = std::max<std::int64_t>(from, 1);
    to = std::min(to, candidates - 1);
    std::int64_t n = 0;
    auto it = std::lower_bound(list_.begin(), list_.begin() + listed, from);
    const auto end = list_.begin() + listed;
    for (std::int64_t kb = from; kb <= to; ++kb) {
      while (it != end && *it < kb) ++it;
      if (it == end || *it != kb) out[n++] = static_cast<std::int32_t>(kb);
    }
    return n;
  }

  const TopkConfig& c_;
  std::int64_t head_;
  std::uint64_t seed_;
  topk_scores::Bounder bounder_;
  std::vector<double> scores_;
  std::vector<std::int64_t> order_;
  std::vector<std::int64_t> selected_;
  std::vector<std::int32_t> list_;
  std::vector<std::int32_t> screened_;
  std::vector<std::int32_t> near_;
  topk_scores::Bounded bounded_;
  std::vector<double> levels_;
  std::int64_t near_guess_ = 1;  // the previous row's near distance
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
  if (scores.empty()) {
    auto det = std::make_shared<std::vector<double>>(g.kv_blocks());
    auto tail = std::make_shared<std::vector<double>>(g.kv_blocks() + 1, 0.0);
    for (std::int64_t d = 0; d < g.kv_blocks(); ++d) {
      (*det)[d] = std::exp(-static_cast<double>(d) / c.decay_blocks);
    }
    for (std::int64_t d = g.kv_blocks() - 1; d >= 0; --d) {
      (*tail)[d] = std::max((*det)[d], (*tail)[d + 1]);
    }
    auto cuts = std::make_shared<std::vector<topk_scores::Cut>>();
    if (!c.threshold && c.noise > 0 && c.sigma > 0) {
      for (int level = 0; level <= 4 * 50; ++level) {
        cuts->push_back(topk_scores::make_cut(std::max(level, 1), c.noise, c.sigma, *tail));
      }
    }
    // First cut levels by the row's candidate count (keep is a function of it).
    auto first = std::make_shared<std::vector<std::int16_t>>(g.kv_blocks() + 1, 0);
    for (std::int64_t n = 1; n <= g.kv_blocks(); ++n) {
      const std::int64_t keep = std::clamp<std::int64_t>(
          c.k > 0 ? c.k : static_cast<std::int64_t>(std::ceil(c.density * static_cast<double>(n))),
          1, n);
      (*first)[n] = static_cast<std::int16_t>(first_cut_level(n, keep));
    }
    c.det_by_distance = std::move(det);
    c.det_tail_max = std::move(tail);
    c.cuts = std::move(cuts);
    c.first_cut = std::move(first);
  } else {
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
