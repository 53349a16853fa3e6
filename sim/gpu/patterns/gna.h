// Generalized Neighborhood Attention on 1-3-D token layouts, shared by the gna and
// sliding_window families.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {

/// Per-dimension window, stride, dilation and causality over a row-major token layout (last dim
/// fastest). stride 1 is neighborhood attention, stride = window is blocked attention, in between
/// strided.
struct GnaConfig {
  std::vector<std::int64_t> dims;
  std::vector<std::int64_t> window;
  std::vector<std::int64_t> stride;
  std::vector<std::int64_t> dilation;
  std::vector<std::int64_t> causal;  ///< 0/1 per dimension (empty: none causal)

  bool is_causal(std::size_t d) const { return !causal.empty() && causal[d] != 0; }
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

/// Keys of x along dimension d of `config`: gna_range, or for a causal dimension NATTEN's causal
/// window: the stride group's leader is its last query (clamped inside the sub-grid), and the
/// keys run from leader - window + 1 (at least 0) up to the query itself.
GnaRange gna_keys(const GnaConfig& config, std::size_t d, std::int64_t x);

/// NATTEN's multi-dimensional tiling (Hopper/Blackwell FNA with token permutation): independent
/// Q and KV tile shapes; each dimension split into its dilation groups, each group padded to a
/// tile multiple (TokenTiling). The geometry must be that layout's: seq_q / seq_kv the padded Q /
/// KV token counts, block_q / block_kv the tile volumes (natten_geometry gives it).
std::unique_ptr<PatternInstance> make_natten_gna_instance(const GnaConfig& config,
                                                          const std::vector<std::int64_t>& q_tile,
                                                          const std::vector<std::int64_t>& kv_tile,
                                                          MaskRule rule);

/// The tiling (and the geometry's seq_q, seq_kv, block_q, block_kv) of NATTEN's layout of `dims`
/// with these tile shapes and dilations.
TokenTiling natten_tiling(const std::vector<std::int64_t>& dims,
                          const std::vector<std::int64_t>& q_tile,
                          const std::vector<std::int64_t>& kv_tile,
                          const std::vector<std::int64_t>& dilation);

/// For `gen gna` with q_tile / kv_tile and no --seq: fills seq_q, seq_kv, block_q and block_kv
/// into `params` (as the geometry keys make_pattern_spec reads) from dims, the tiles and dilation.
void add_natten_geometry(std::map<std::string, std::string>& params, const std::string& source);

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
                  const std::vector<std::int64_t>& tile_dims,
                  const std::vector<std::int64_t>& q_tile = {},
                  const std::vector<std::int64_t>& kv_tile = {});

}  // namespace attnsim::gpu
