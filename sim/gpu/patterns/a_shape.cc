// a_shape: attention sinks plus a causal local window (streaming heads).
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {

const PatternFamily& a_shape_family() {
  static const SimpleFamily family(
      "a_shape",
      "  --sinks N (128): the first N keys, seen by every query at or after them;\n"
      "  --window W (1024): keys q-W+1 .. q.\n"
      "  Source: Xiao et al., \"Efficient Streaming Language Models with Attention Sinks\"\n"
      "  (StreamingLLM), 2023; Xiao et al., \"DuoAttention\", 2024 (streaming heads);\n"
      "  Jiang et al., \"MInference\", 2024 (A-shape heads).\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::int64_t sinks = params.get_int("sinks", 128, 0, g.seq_kv);
        const std::int64_t window = params.get_int("window", 1024, 1, g.seq_kv);
        return std::make_unique<LambdaInstance>(
            [g, sinks, window](std::int64_t, std::uint64_t) {
              // Keys q-W+1 .. q and the first `sinks` keys (those at or before q).
              return std::make_unique<BandMask>(g, 0, window - 1, sinks);
            },
            make_rule("a_shape",
                      {{"sinks", std::to_string(sinks)}, {"window", std::to_string(window)}}),
            LambdaInstance::Heads::kAlike);
      });
  return family;
}

}  // namespace attnsim::gpu
