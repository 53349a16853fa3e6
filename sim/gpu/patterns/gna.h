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

}  // namespace attnsim::gpu
