// random: each block kept independently with probability `density` (block-sparse at random).
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/rng.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

class RandomHead final : public HeadMask {
 public:
  RandomHead(const MaskGeometry& g, double density, bool causal, bool diagonal, std::uint64_t seed)
      : g_(g), density_(density), causal_(causal), diagonal_(diagonal), seed_(seed) {}
  void block_row(std::int64_t qb, BlockRow& row) override {
    row.clear();
    // One stream per row: rows can be generated in any order with the same result.
    SplitMix64 rng(derive_seed(seed_, static_cast<std::uint64_t>(qb)));
    const std::int64_t last = causal_ ? std::min(g_.kv_blocks() - 1, qb) : g_.kv_blocks() - 1;
    for (std::int64_t kb = 0; kb <= last; ++kb) {
      const bool keep = rng.uniform() < density_ || (diagonal_ && kb == qb);
      if (keep) add_block(g_, qb, kb, causal_, row);
    }
  }

 private:
  MaskGeometry g_;
  double density_;
  bool causal_;
  bool diagonal_;
  std::uint64_t seed_;
};

}  // namespace

const PatternFamily& random_family() {
  static const SimpleFamily family(
      "random",
      "  --density P (0.1): each block kept with probability P (of the causal blocks when\n"
      "  --causal true); --causal true|false (false); --diagonal true|false (true): always keep\n"
      "  the diagonal block. Per head and row from --seed.\n"
      "  Source: Zaheer et al., \"Big Bird\", NeurIPS 2020 (random block attention).\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const double density = params.get_double("density", 0.1, 0.0, 1.0);
        const bool causal = params.get_bool("causal", false);
        const bool diagonal = params.get_bool("diagonal", true);
        return std::make_unique<LambdaInstance>(
            [=](std::int64_t, std::uint64_t seed) {
              return std::make_unique<RandomHead>(g, density, causal, diagonal, seed);
            },
            causal ? std::optional<MaskRule>(make_rule("causal")) : std::nullopt);
      });
  return family;
}

}  // namespace attnsim::gpu
