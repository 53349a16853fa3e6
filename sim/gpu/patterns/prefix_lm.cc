// prefix_lm: a bidirectional prefix (every query sees it) followed by causal attention.
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {

const PatternFamily& prefix_lm_family() {
  static const SimpleFamily family(
      "prefix_lm",
      "  --prefix P (required): keys kv < P (the prefix, seen by every query, also by queries\n"
      "  inside it) or kv <= q (causal after it).\n"
      "  Source: Raffel et al., \"Exploring the Limits of Transfer Learning with a Unified\n"
      "  Text-to-Text Transformer\" (T5), JMLR 2020 (prefix LM); Dong et al., \"Unified Language\n"
      "  Model Pre-training\" (UniLM), NeurIPS 2019.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        if (!params.has("prefix")) params.fail("prefix", "a prefix length --prefix P");
        const std::int64_t prefix = params.get_int("prefix", 0, 0, g.seq_kv);
        return std::make_unique<LambdaInstance>(
            [=](std::int64_t, std::uint64_t) {
              return std::make_unique<FunctionTokenMask>(
                  g, [=](std::int64_t q, std::vector<KeyInterval>& out) {
                    push_interval(out, 0, std::max(prefix, q + 1), g.seq_kv);
                  });
            },
            make_rule("prefix_lm", {{"prefix", std::to_string(prefix)}}),
            LambdaInstance::Heads::kAlike);
      });
  return family;
}

}  // namespace attnsim::gpu
