// Cost model defaults, mask-rule operation counts and per-item time.
#include "sim/gpu/cost_model.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {
namespace {

// Per-element work of the masked path itself, whatever the rule: the select of -inf into the
// scores and the sequence-end test (FlexAttention's and the golden kernel's partial-tile path).
constexpr double kMaskedPathOps = 3;
// A rule tilesim cannot see (a block-only mask, `custom`): about a window rule's work.
constexpr double kUnknownRuleOps = 4;

// Neighborhood rules evaluated as an expression on every element (FlexAttention's mask_mod of
// mask_rules.md): effective operations per element, measured on the H200 (2026-12-02) relative
// to one another: 1-D 5, 2-D 7, 3-D 12 (coordinates by // and %, the clamped window start, the
// membership test), plus 3 for each dilated dimension of a 2-D/3-D grid (1 in 1-D), plus 5 for
// each grid extent that is not a power of two (division by such a constant is a multiply-high
// sequence, by a power of two a shift).
double neighborhood_expression_ops(const MaskRule& rule) {
  // The rule was checked when it was parsed; its lists read as the pattern families read them.
  PatternParams params(rule.params, "rule '" + rule.text() + "'");
  const std::int64_t max_extent = std::int64_t{1} << 26;
  const std::vector<std::int64_t> dims = params.get_dims("dims", {1}, 1, max_extent);
  const std::size_t n = dims.size();
  std::vector<std::int64_t> dilation = params.get_dims("dilation", {1}, 1, max_extent);
  if (dilation.size() == 1) dilation.assign(n, dilation.front());
  double ops = n == 1 ? 2 : n == 2 ? 4 : 9;
  for (std::size_t d = 0; d < n && d < dilation.size(); ++d) {
    if (dilation[d] > 1) ops += n == 1 ? 1 : 3;
  }
  if (rule.name == "gna") {
    for (const std::int64_t extent : dims) {
      if (extent > 0 && (extent & (extent - 1)) != 0) ops += 5;
    }
  }
  return ops;
}

}  // namespace

double mask_rule_ops(const std::optional<MaskRule>& rule, MaskEvaluation evaluation) {
  if (!rule) return kMaskedPathOps + kUnknownRuleOps;
  // Two compares against precomputed bounds (a window, a document id, packed coordinates).
  if (evaluation == MaskEvaluation::kPrecomputed) return kMaskedPathOps + 2;
  const std::string& n = rule->name;
  double ops = kUnknownRuleOps;
  if (n == "allow") ops = 2;          // kv - q < limit: subtract, compare
  if (n == "causal") ops = 1;         // q >= kv
  if (n == "prefix_lm") ops = 2;      // (kv < P, per column) | (q >= kv)
  if (n == "band") ops = 3;           // kv >= lo(q), kv <= hi(q), and (bounds per row)
  if (n == "causal_window") ops = 4;  // q >= kv, q - kv < W, and
  if (n == "a_shape") ops = 5;        // q >= kv, q - kv < W, | sink(kv), and
  if (n == "document") {
    // doc[q] per row and doc[kv] per column are gathers shared by the tile; one compare per
    // element, and the causal compare with its and.
    const auto causal = rule->params.find("causal");
    ops = (causal != rule->params.end() && causal->second == "0") ? 1 : 3;
  }
  if (n == "sliding_window" || n == "gna") ops = neighborhood_expression_ops(*rule);
  return kMaskedPathOps + ops;
}

double CostParams::mask_element_us(const std::optional<MaskRule>& rule,
                                   MaskEvaluation evaluation) const {
  const double op_us = has_rule_cost(rule) ? rule_op_us.at(rule->name) : mask_op_us;
  return mask_rule_ops(rule, evaluation) * op_us;
}

double CostParams::masked_tile_us(const KernelSpec& kernel,
                                  const std::optional<MaskRule>& rule) const {
  const double elements = static_cast<double>(kernel.tile_q) * static_cast<double>(kernel.tile_kv);
  return tile_full_us + elements * mask_element_us(rule, kernel.mask_evaluation);
}

bool runs_unaligned_variant(const KernelSpec& kernel, const MaskGeometry& geometry) {
  return kernel.unaligned_variant &&
         (geometry.seq_q % kernel.tile_q != 0 || geometry.seq_kv % kernel.tile_kv != 0);
}

CostParams::TileTimes CostParams::tile_times(const KernelSpec& kernel, const MaskGeometry& geometry,
                                             const std::optional<MaskRule>& rule) const {
  const double extra = runs_unaligned_variant(kernel, geometry) ? unaligned_tile_us : 0.0;
  return {tile_full_us + extra, masked_tile_us(kernel, rule) + extra};
}

models::Violations CostParams::validate() const {
  models::Violations v;
  v.require(tile_full_us >= 0, "tile_full_us", "a non-negative number", tile_full_us);
  v.require(mask_op_us >= 0, "mask_op_us", "a non-negative number", mask_op_us);
  for (const auto& [name, op_us] : rule_op_us) {
    v.require(op_us >= 0, "rule_op_us." + name, "a non-negative number", op_us);
  }
  v.require(cta_us >= 0, "cta_us", "a non-negative number", cta_us);
  v.require(launch_us >= 0, "launch_us", "a non-negative number", launch_us);
  v.require(host_floor_us >= 0, "host_floor_us", "a non-negative number", host_floor_us);
  v.require(unaligned_tile_us >= 0, "unaligned_tile_us", "a non-negative number",
            unaligned_tile_us);
  return v;
}

double tile_flops(const KernelSpec& kernel) {
  return 4.0 * static_cast<double>(kernel.tile_q) * static_cast<double>(kernel.tile_kv) *
         static_cast<double>(kernel.head_dim);
}

CostParams default_cost_params(const GpuSpec& gpu, const KernelSpec& kernel) {
  // Tensor-core rate scales inversely with element size (fp8 doubles bf16's rate).
  const double dtype_speedup = 2.0 / dtype_bytes(kernel.dtype);
  const double sm_flops_per_us = gpu.peak_dense_bf16_tflops * 1e6 * dtype_speedup / gpu.sm_count;
  // A slot is one CTA; the CTAs resident on an SM share its tensor cores and INT32 pipes, so
  // mma_efficiency is the SM's achieved rate (as a dense run measures it), not one CTA's.
  const double sm_int_ops_per_us = gpu.int32_ops_per_clock_per_sm * gpu.clock_mhz;
  CostParams cost;
  cost.tile_full_us =
      kernel.ctas_per_sm * tile_flops(kernel) / (sm_flops_per_us * kernel.mma_efficiency);
  cost.mask_op_us = kernel.ctas_per_sm / (sm_int_ops_per_us * kernel.mask_op_efficiency);
  cost.cta_us = kernel.cta_overhead_us;
  cost.launch_us = kernel.launch_overhead_us;
  cost.host_floor_us = kernel.host_floor_us;
  cost.unaligned_tile_us = cost.tile_full_us * kernel.unaligned_tile_cost_ratio;
  return cost;
}

double item_time_us(const TileCounts& counts, double cta_us, const CostParams::TileTimes& tiles,
                    MaskingRule rule, bool problem_has_masked_tiles) {
  const bool mask_everything = rule == MaskingRule::kAlwaysMask ||
                               (rule == MaskingRule::kGlobalFastPath && problem_has_masked_tiles);
  const double masked = static_cast<double>(counts.partial + counts.empty_visited);
  const double full = static_cast<double>(counts.full);
  if (mask_everything) return cta_us + (full + masked) * tiles.masked_us;
  return cta_us + full * tiles.full_us + masked * tiles.masked_us;
}

double launch_time_us(const CostParams& cost, double makespan_us) {
  return std::max(cost.host_floor_us, cost.launch_us + makespan_us);
}

}  // namespace attnsim::gpu
