// band: query q attends keys q-left .. q+right (an asymmetric local window; right 0 is causal).
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {

const PatternFamily& band_family() {
  static const SimpleFamily family(
      "band",
      "  --left L (1024), --right R (0): keys q-L .. q+R, clipped at the sequence ends (no\n"
      "  shift, unlike sliding_window). The golden kernel's window:LEFT:RIGHT token rule.\n"
      "  Source: Beltagy et al., \"Longformer\", 2020 (local windows); golden/README.md.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::int64_t left = params.get_int("left", 1024, 0, g.seq_kv);
        const std::int64_t right = params.get_int("right", 0, 0, g.seq_kv);
        return std::make_unique<LambdaInstance>(
            [=](std::int64_t, std::uint64_t) {
              return std::make_unique<BandMask>(g, -right, left);  // keys q-L .. q+R
            },
            make_rule("band", {{"left", std::to_string(left)}, {"right", std::to_string(right)}}),
            LambdaInstance::Heads::kAlike);
      });
  return family;
}

}  // namespace attnsim::gpu
