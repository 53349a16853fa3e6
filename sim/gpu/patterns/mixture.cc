// mixture: per-head mixture of dense, streaming (a_shape) and block-sparse (block_topk) heads.
#include <cmath>

#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

class MixtureInstance final : public PatternInstance {
 public:
  MixtureInstance(std::int64_t heads, std::int64_t dense_heads, std::int64_t streaming_heads,
                  std::unique_ptr<PatternInstance> dense,
                  std::unique_ptr<PatternInstance> streaming,
                  std::unique_ptr<PatternInstance> sparse)
      : heads_(heads),
        dense_heads_(dense_heads),
        streaming_heads_(streaming_heads),
        dense_(std::move(dense)),
        streaming_(std::move(streaming)),
        sparse_(std::move(sparse)) {}

  std::unique_ptr<HeadMask> make_head(std::int64_t head, std::uint64_t seed) const override {
    const std::int64_t h = head % heads_;
    if (h < dense_heads_) return dense_->make_head(head, seed);
    if (h < dense_heads_ + streaming_heads_) return streaming_->make_head(head, seed);
    return sparse_->make_head(head, seed);
  }

 private:
  std::int64_t heads_, dense_heads_, streaming_heads_;
  std::unique_ptr<PatternInstance> dense_, streaming_, sparse_;
};

}  // namespace

const PatternFamily& mixture_family() {
  static const SimpleFamily family(
      "mixture",
      "  Heads 0 .. D-1 dense (causal), the next S streaming (a_shape: --sinks, --window), the\n"
      "  rest block-sparse (block_topk: --k, --density, --select, --tau, --scores, ...), with\n"
      "  D = round(--dense-heads (0.25) x heads) and S = round(--streaming-heads (0.5) x heads).\n"
      "  Source: Xiao et al., \"DuoAttention\", 2024 (retrieval vs streaming heads);\n"
      "  mit-han-lab Block-Sparse-Attention (per-head dense / streaming / block-sparse).\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const double dense_share = params.get_double("dense_heads", 0.25, 0.0, 1.0);
        const double streaming_share = params.get_double("streaming_heads", 0.5, 0.0, 1.0);
        if (dense_share + streaming_share > 1.0) {
          params.fail("streaming_heads", "dense_heads + streaming_heads <= 1");
        }
        const auto dense_heads = static_cast<std::int64_t>(std::lround(dense_share * g.heads));
        const auto streaming_heads =
            std::min(static_cast<std::int64_t>(std::lround(streaming_share * g.heads)),
                     g.heads - dense_heads);
        PatternParams no_params({}, params.source());
        return std::make_unique<MixtureInstance>(
            g.heads, dense_heads, streaming_heads, causal_family().configure(no_params, g),
            a_shape_family().configure(params, g), block_topk_family().configure(params, g));
      });
  return family;
}

}  // namespace attnsim::gpu
