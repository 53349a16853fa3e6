// causal: query q attends keys k <= q (decoder self-attention).
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {

const PatternFamily& causal_family() {
  static const SimpleFamily family(
      "causal",
      "  --align top_left|bottom_right (top_left): with seq_kv > seq_q, bottom_right lets the\n"
      "  last query see every key (prefill after a cache), as FlashAttention does.\n"
      "  Source: Vaswani et al., \"Attention Is All You Need\", 2017.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::string align = params.get_string("align", "top_left");
        if (align != "top_left" && align != "bottom_right") {
          params.fail("align", "top_left or bottom_right");
        }
        const std::int64_t offset = align == "bottom_right" ? g.seq_kv - g.seq_q : 0;
        // Rules are top-left aligned: a bottom-right diagonal above it is the band q - seq_kv ..
        // q + offset; one below it (seq_kv < seq_q) has no rule of the vocabulary.
        std::optional<MaskRule> rule;
        if (offset == 0) rule = make_rule("causal");
        if (offset > 0) {
          rule = make_rule("band",
                           {{"left", std::to_string(g.seq_kv)}, {"right", std::to_string(offset)}});
        }
        return std::make_unique<LambdaInstance>(
            [g, offset](std::int64_t, std::uint64_t) {
              return std::make_unique<FunctionTokenMask>(
                  g, [g, offset](std::int64_t q, std::vector<KeyInterval>& out) {
                    push_interval(out, 0, q + offset + 1, g.seq_kv);
                  });
            },
            rule, LambdaInstance::Heads::kAlike);
      });
  return family;
}

}  // namespace attnsim::gpu
