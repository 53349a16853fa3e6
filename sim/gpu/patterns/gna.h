// Generalized Neighborhood Attention on 1-3-D token layouts, shared by the gna and
// sliding_window families.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {

/// Per-dimension window, stride and dilation over a row-major token layout (last dim fastest).
/// stride 1 is neighborhood attention, stride = window is blocked attention, in between strided.
struct GnaConfig {
  std::vector<std::int64_t> dims;
  std::vector<std::int64_t> window;
  std::vector<std::int64_t> stride;
  std::vector<std::int64_t> dilation;
};

/// Reads window/stride/dilation (one value each, or one per dimension) for `dims`.
GnaConfig read_gna_config(PatternParams& params, std::vector<std::int64_t> dims);

/// Keys of query coordinate x along one dimension: r + dilation * [start, start + w).
/// The query's dilation group (x mod dilation) forms a sub-grid; stride groups of the sub-grid
/// share the window of their leader (group start + stride / 2), clamped inside the sub-grid.
struct GnaRange {
  std::int64_t start;  ///< first key coordinate
  std::int64_t count;  ///< number of keys
  std::int64_t step;   ///< dilation
};
GnaRange gna_range(std::int64_t x, std::int64_t n, std::int64_t window, std::int64_t stride,
                   std::int64_t dilation);

std::unique_ptr<HeadMask> make_gna_head(const GnaConfig& config, const MaskGeometry& geometry);

/// Pairs between query tile `q_tile` and key tile `kv_tile` along one dimension: the sum over the
/// tile's queries x of |keys of x in that dimension ∩ the key tile|.
std::int64_t gna_tile_pairs(std::int64_t q_tile, std::int64_t kv_tile, std::int64_t tile,
                            std::int64_t n, std::int64_t window, std::int64_t stride,
                            std::int64_t dilation);

/// The GNA pattern of `config`: in tile order (TokenTiling recorded) when tile_dims is given,
/// where a block's pairs factor into a product over dimensions, so classification never loops over
/// tokens; otherwise in token order (1-D masks use the same tile tables internally). The instance
/// reports `rule` as its token rule.
std::unique_ptr<PatternInstance> make_gna_instance(const GnaConfig& config,
                                                   const std::vector<std::int64_t>& tile_dims,
                                                   const MaskGeometry& geometry, MaskRule rule);

/// The rule text of a GNA config: window, stride and dilation written per dimension (`name` gna
/// also writes dims, and tile when the mask is in tile order).
MaskRule gna_rule(const std::string& name, const GnaConfig& config,
                  const std::vector<std::int64_t>& tile_dims);

}  // namespace attnsim::gpu
