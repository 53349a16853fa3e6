// gna: Generalized Neighborhood Attention (neighborhood, strided, blocked; 1-D to 3-D).
#include "sim/gpu/patterns/gna.h"

#include <algorithm>

#include "sim/common/input_error.h"
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

std::vector<std::int64_t> per_dim(PatternParams& params, const std::string& key,
                                  std::int64_t fallback, const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> values =
      params.get_dims(key, {fallback}, 1, *std::max_element(dims.begin(), dims.end()));
  if (values.size() == 1) values.assign(dims.size(), values.front());
  if (values.size() != dims.size()) {
    params.fail(key, "one value or one per dimension of " + std::to_string(dims.size()));
  }
  return values;
}

class GnaHead final : public TokenMask {
 public:
  GnaHead(const GnaConfig& config, const MaskGeometry& geometry)
      : TokenMask(geometry), config_(config) {}

 protected:
  void key_intervals(std::int64_t q, std::vector<KeyInterval>& out) override {
    out.clear();
    // Layouts are padded to 3 dimensions with leading size-1 ones; coordinates of q, last
    // dimension fastest.
    const std::size_t pad = 3 - config_.dims.size();
    std::int64_t n[3] = {1, 1, 1};
    GnaRange ranges[3] = {{0, 1, 1}, {0, 1, 1}, {0, 1, 1}};
    std::int64_t rest = q;
    for (std::size_t d = 3; d-- > pad;) {
      const std::size_t c = d - pad;
      n[d] = config_.dims[c];
      const std::int64_t x = rest % n[d];
      rest /= n[d];
      ranges[d] = gna_range(x, n[d], config_.window[c], config_.stride[c], config_.dilation[c]);
    }
    // Outer dimensions in increasing order, so intervals come out sorted.
    for (std::int64_t i0 = 0; i0 < ranges[0].count; ++i0) {
      const std::int64_t k0 = ranges[0].start + i0 * ranges[0].step;
      for (std::int64_t i1 = 0; i1 < ranges[1].count; ++i1) {
        const std::int64_t k1 = ranges[1].start + i1 * ranges[1].step;
        const std::int64_t base = (k0 * n[1] + k1) * n[2] + ranges[2].start;
        if (ranges[2].step == 1) {
          append(out, base, base + ranges[2].count);
          continue;
        }
        for (std::int64_t i2 = 0; i2 < ranges[2].count; ++i2) {
          append(out, base + i2 * ranges[2].step, base + i2 * ranges[2].step + 1);
        }
      }
    }
  }

 private:
  static void append(std::vector<KeyInterval>& out, std::int64_t begin, std::int64_t end) {
    if (!out.empty() && out.back().end == begin) {
      out.back().end = end;  // rows of a full-width window join into one run
    } else {
      out.push_back({begin, end});
    }
  }

  GnaConfig config_;
};

}  // namespace

GnaRange gna_range(std::int64_t x, std::int64_t n, std::int64_t window, std::int64_t stride,
                   std::int64_t dilation) {
  const std::int64_t residue = x % dilation;
  const std::int64_t m = x / dilation;
  const std::int64_t sub_n = (n - residue + dilation - 1) / dilation;
  const std::int64_t w = std::min(window, sub_n);
  const std::int64_t group_start = (m / stride) * stride;
  const std::int64_t leader = std::min(group_start + stride / 2, sub_n - 1);
  const std::int64_t start = std::clamp<std::int64_t>(leader - window / 2, 0, sub_n - w);
  return {residue + start * dilation, w, dilation};
}

GnaConfig read_gna_config(PatternParams& params, std::vector<std::int64_t> dims) {
  GnaConfig config;
  config.dims = std::move(dims);
  config.window = per_dim(params, "window", 0, config.dims);
  if (!params.has("window")) params.fail("window", "a window size (e.g. 512 or 8x16x16)");
  config.stride = per_dim(params, "stride", 1, config.dims);
  config.dilation = per_dim(params, "dilation", 1, config.dims);
  for (std::size_t d = 0; d < config.dims.size(); ++d) {
    if (config.window[d] * config.dilation[d] > config.dims[d]) {
      params.fail("window", "window x dilation within each dimension (" +
                                std::to_string(config.dims[d]) + " tokens in dimension " +
                                std::to_string(d) + ")");
    }
    if (config.stride[d] > config.window[d]) {
      params.fail("stride", "a stride no larger than the window in each dimension");
    }
  }
  return config;
}

std::unique_ptr<HeadMask> make_gna_head(const GnaConfig& config, const MaskGeometry& geometry) {
  return std::make_unique<GnaHead>(config, geometry);
}

const PatternFamily& gna_family() {
  static const SimpleFamily family(
      "gna",
      "  --dims D or DxD or DxDxD (seq): token layout, last dimension fastest (video: TxHxW);\n"
      "  --window W (required), --stride S (1), --dilation L (1): one value or one per\n"
      "  dimension. stride 1 = neighborhood attention, stride = window = blocked attention,\n"
      "  in between = strided. Queries in one stride group share the window of their leader\n"
      "  (group start + S/2), clamped inside the layout (NATTEN's boundary behaviour).\n"
      "  Needs seq_q = seq_kv = product of dims.\n"
      "  Source: Hassani et al., \"Generalized Neighborhood Attention\", arXiv 2504.16922, 2025;\n"
      "  Hassani et al., \"Neighborhood Attention Transformer\", 2023; Hassani & Shi, \"Dilated\n"
      "  Neighborhood Attention Transformer\", 2022.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        const std::vector<std::int64_t> dims = params.get_dims("dims", {g.seq_q}, 1, g.seq_q);
        std::int64_t tokens = 1;
        for (const std::int64_t d : dims) tokens *= d;
        if (tokens != g.seq_q || g.seq_q != g.seq_kv) {
          params.fail("dims",
                      "a layout whose product equals seq_q = seq_kv = " + std::to_string(g.seq_q));
        }
        const GnaConfig config = read_gna_config(params, dims);
        return std::make_unique<LambdaInstance>(
            [config, g](std::int64_t, std::uint64_t) { return make_gna_head(config, g); });
      });
  return family;
}

}  // namespace attnsim::gpu
