// document: packed sequences (several documents in one row); a query sees only its own document.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/rng.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

// Document start offsets per batch element, plus seq as the last entry.
using Starts = std::vector<std::vector<std::int64_t>>;

// "a1xa2/b1xb2" -> lists of lengths; each list must sum to seq.
std::vector<std::vector<std::int64_t>> parse_lengths(PatternParams& params, std::int64_t seq,
                                                     std::int64_t batch) {
  const std::string text = params.get_string("lengths", "");
  const std::string expected =
      "document lengths L1xL2x... summing to seq = " + std::to_string(seq) +
      ", one list or one per batch element (" + std::to_string(batch) + ") separated by '/'";
  std::vector<std::vector<std::int64_t>> lists;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = text.find('/', start);
    const std::string list = text.substr(start, slash == std::string::npos ? slash : slash - start);
    std::vector<std::int64_t> lengths;
    std::int64_t sum = 0;
    std::size_t at = 0;
    while (true) {
      const std::size_t x = list.find('x', at);
      const std::string item = list.substr(at, x == std::string::npos ? x : x - at);
      char* end = nullptr;
      const long long value = item.empty() ? 0 : std::strtoll(item.c_str(), &end, 10);
      if (item.empty() || *end != '\0' || value < 1 || value > seq)
        params.fail("lengths", expected);
      lengths.push_back(value);
      sum += value;
      if (x == std::string::npos) break;
      at = x + 1;
    }
    if (sum != seq) params.fail("lengths", expected);
    lists.push_back(std::move(lengths));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (lists.size() != 1 && static_cast<std::int64_t>(lists.size()) != batch) {
    params.fail("lengths", expected);
  }
  return lists;
}

// Lengths drawn with mean `mean` until the sequence is full (the last document is cut).
std::vector<std::int64_t> draw_lengths(const std::string& dist, std::int64_t mean, double sigma,
                                       std::int64_t seq, std::uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<std::int64_t> lengths;
  std::int64_t left = seq;
  while (left > 0) {
    double length = static_cast<double>(mean);
    if (dist == "uniform") {
      length = 1.0 + static_cast<double>(rng.below(static_cast<std::uint64_t>(2 * mean - 1)));
    } else if (dist == "lognormal") {
      const double mu = std::log(static_cast<double>(mean)) - sigma * sigma / 2;
      length = std::max(1.0, std::round(std::exp(mu + sigma * rng.normal())));
    }
    const std::int64_t take =
        length >= static_cast<double>(left) ? left : static_cast<std::int64_t>(length);
    lengths.push_back(take);
    left -= take;
  }
  return lengths;
}

std::string lengths_text(const std::vector<std::vector<std::int64_t>>& lists) {
  const bool same = std::all_of(lists.begin(), lists.end(),
                                [&](const std::vector<std::int64_t>& l) { return l == lists[0]; });
  std::string text;
  for (std::size_t b = 0; b < (same ? 1 : lists.size()); ++b) {
    text += (b ? "/" : "") + join_dims(lists[b]);
  }
  return text;
}

class DocumentHead final : public TokenMask {
 public:
  DocumentHead(const MaskGeometry& g, std::vector<std::int64_t> starts, bool causal)
      : TokenMask(g), starts_(std::move(starts)), causal_(causal) {}

 protected:
  void key_intervals(std::int64_t q, std::vector<KeyInterval>& out) override {
    out.clear();
    // starts_ is increasing from 0 and ends with seq: the document of q begins at the last
    // start <= q.
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), q);
    const std::int64_t begin = *(it - 1);
    const std::int64_t end = causal_ ? q + 1 : *it;
    out.push_back({begin, end});
  }

 private:
  std::vector<std::int64_t> starts_;
  bool causal_;
};

class DocumentInstance final : public PatternInstance {
 public:
  DocumentInstance(const MaskGeometry& g, Starts starts, bool causal, MaskRule rule)
      : g_(g), starts_(std::move(starts)), causal_(causal), rule_(std::move(rule)) {}
  std::unique_ptr<HeadMask> make_head(std::int64_t head, std::uint64_t) const override {
    const std::size_t b = static_cast<std::size_t>(head / g_.heads);
    return std::make_unique<DocumentHead>(g_, starts_[starts_.size() == 1 ? 0 : b], causal_);
  }
  std::optional<MaskRule> rule() const override { return rule_; }

 private:
  MaskGeometry g_;
  Starts starts_;
  bool causal_;
  MaskRule rule_;
};

}  // namespace

const PatternFamily& document_family() {
  static const SimpleFamily family(
      "document",
      "  Document packing: a query attends only keys of its own document (causally with\n"
      "  --causal 1, the default; --causal 0 attends the whole document). Needs seq_q = seq_kv.\n"
      "  --lengths L1xL2x... (summing to seq; one list per batch element separated by '/', or\n"
      "  one list for all), or generated lengths: --doc-mean M with --doc-dist fixed|uniform|\n"
      "  lognormal (fixed; uniform draws 1 .. 2M-1, lognormal has mean M and --doc-sigma S\n"
      "  (1.0)), the last document cut at the sequence end; per batch element from --seed.\n"
      "  The written rule lists the lengths explicitly.\n"
      "  Source: Krell et al., \"Efficient Sequence Packing without Cross-contamination\",\n"
      "  2021; Dubey et al., \"The Llama 3 Herd of Models\", 2024 (document masks in\n"
      "  pre-training); PyTorch FlexAttention document masking (Dong et al., 2024).\n",
      [](PatternParams& params, const MaskGeometry& g) {
        if (g.seq_q != g.seq_kv) params.fail("seq_kv", "seq_kv equal to seq_q");
        const bool causal = params.get_bool("causal", true);
        std::vector<std::vector<std::int64_t>> lists;
        if (params.has("lengths")) {
          if (params.has("doc_mean") || params.has("doc_dist") || params.has("doc_sigma")) {
            params.fail("doc_mean", "either lengths or doc_mean/doc_dist/doc_sigma, not both");
          }
          lists = parse_lengths(params, g.seq_q, g.batch);
        } else {
          if (!params.has("doc_mean")) {
            params.fail("lengths", "lengths L1xL2x... or a mean length --doc-mean M");
          }
          const std::int64_t mean = params.get_int("doc_mean", 0, 1, g.seq_q);
          const std::string dist = params.get_string("doc_dist", "fixed");
          if (dist != "fixed" && dist != "uniform" && dist != "lognormal") {
            params.fail("doc_dist", "fixed, uniform or lognormal");
          }
          const double sigma = params.get_double("doc_sigma", 1.0, 0.0, 10.0);
          for (std::int64_t b = 0; b < g.batch; ++b) {
            lists.push_back(
                draw_lengths(dist, mean, sigma, g.seq_q,
                             derive_seed(params.seed(), static_cast<std::uint64_t>(b), 0x646f63)));
          }
        }
        Starts starts;
        for (const std::vector<std::int64_t>& lengths : lists) {
          std::vector<std::int64_t> s{0};
          for (const std::int64_t l : lengths) s.push_back(s.back() + l);
          starts.push_back(std::move(s));
        }
        MaskRule rule{"document",
                      {{"causal", causal ? "1" : "0"}, {"lengths", lengths_text(lists)}}};
        return std::make_unique<DocumentInstance>(g, std::move(starts), causal, std::move(rule));
      });
  return family;
}

}  // namespace attnsim::gpu
