// sliding_window: 1-D neighborhood attention (symmetric window, optional dilation and stride).
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/gna.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {

const PatternFamily& sliding_window_family() {
  static const SimpleFamily family(
      "sliding_window",
      "  --window W (required): W keys around each query, shifted inward at the sequence ends\n"
      "  (NATTEN); --dilation L (1): every L-th key; --stride S (1); --causal 0|1 (0): the\n"
      "  window ends at the query (NATTEN's causal neighborhood). The 1-D case of gna.\n"
      "  Source: Hassani et al., \"Neighborhood Attention Transformer\", 2023; Hassani & Shi,\n"
      "  \"Dilated Neighborhood Attention Transformer\", 2022.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        if (g.seq_q != g.seq_kv) params.fail("seq_kv", "seq_kv equal to seq_q");
        const GnaConfig config = read_gna_config(params, {g.seq_q});
        return make_gna_instance(config, {}, g, gna_rule("sliding_window", config, {}));
      });
  return family;
}

}  // namespace attnsim::gpu
