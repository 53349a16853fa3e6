// causal_window: query q attends the `window` most recent keys, itself included.
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {

const PatternFamily& causal_window_family() {
  static const SimpleFamily family(
      "causal_window",
      "  --window W (1024): keys q-W+1 .. q.\n"
      "  Source: Beltagy et al., \"Longformer\", 2020; Jiang et al., \"Mistral 7B\", 2023\n"
      "  (sliding-window attention).\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::int64_t window = params.get_int("window", 1024, 1, g.seq_kv);
        return std::make_unique<LambdaInstance>(
            [g, window](std::int64_t, std::uint64_t) {
              return std::make_unique<BandMask>(g, 0, window - 1);  // keys q-W+1 .. q
            },
            make_rule("causal_window", {{"window", std::to_string(window)}}),
            LambdaInstance::Heads::kAlike);
      });
  return family;
}

}  // namespace attnsim::gpu
