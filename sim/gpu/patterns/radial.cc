// radial: video attention whose spatial window halves as the temporal distance doubles.
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {

const PatternFamily& radial_family() {
  static const SimpleFamily family(
      "radial",
      "  --frames F (required): seq = F x T tokens, frame-major. A query at spatial position p of\n"
      "  frame i sees, in frame j at distance d = |i - j|: the whole frame for d = 0, else keys\n"
      "  p-h .. p+h with h = max(T / 2^(floor(log2 d) + 1), --min-half-width) (0).\n"
      "  Source: Li et al., \"Radial Attention: O(n log n) Sparse Attention with Energy Decay\n"
      "  for Long Video Generation\", 2025.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::int64_t frames = params.get_int("frames", 0, 1, g.seq_q);
        const std::int64_t min_half = params.get_int("min_half_width", 0, 0, g.seq_q);
        if (frames == 0) params.fail("frames", "the number of frames");
        if (g.seq_q != g.seq_kv || g.seq_q % frames != 0) {
          params.fail("frames", "a divisor of seq_q = seq_kv = " + std::to_string(g.seq_q));
        }
        const std::int64_t t = g.seq_q / frames;
        return std::make_unique<LambdaInstance>(
            [=](std::int64_t, std::uint64_t) {
              return std::make_unique<FunctionTokenMask>(
                  g, [=](std::int64_t q, std::vector<KeyInterval>& out) {
                    const std::int64_t frame = q / t, p = q % t;
                    for (std::int64_t j = 0; j < frames; ++j) {
                      const std::int64_t d = j > frame ? j - frame : frame - j;
                      std::int64_t half = t;
                      if (d > 0) {
                        int log2d = 0;
                        while ((std::int64_t{2} << log2d) <= d) ++log2d;
                        half = std::max(t >> (log2d + 1), min_half);
                      }
                      const std::int64_t lo = std::max<std::int64_t>(p - half, 0);
                      const std::int64_t hi = std::min(p + half + 1, t);
                      if (!out.empty() && out.back().end == j * t + lo) {
                        out.back().end = j * t + hi;
                      } else {
                        out.push_back({j * t + lo, j * t + hi});
                      }
                    }
                  });
            },
            std::nullopt, LambdaInstance::Heads::kAlike);
      });
  return family;
}

}  // namespace attnsim::gpu
