// Cost model defaults, mask-rule operation counts and per-item time.
#include "sim/gpu/cost_model.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {
namespace {

// Operation counts per element, in units of one INT32 operation at the kernel's
// mask_op_efficiency (15.8 ps of SM time on the H200 at 0.5), measured on FlexAttention on the
// H200 by the flex-costs probe (golden/results/h200/2026-12-02-flex-costs/): every visited tile
// masked, with the rule's mask_mod, with the `allow` rule and with no mask at all, on the same
// blocks, at head dims 64 and 128 (the per-element costs agree between the two within about
// 30 %: the mask's cost does not scale with the head dim). mask_rules.md, "Cost", has the table.

// The masked path itself, whatever the rule: the -inf select into the scores and the
// sequence-end test, with `allow`'s compare (measured: 19 ps per element at d64, 30 at d128).
constexpr double kMaskedPathOps = 1.6;
// A rule tilesim cannot see (a block-only mask, `custom`): about a causal window's work, a guess.
constexpr double kUnknownRuleOps = 2;
// Kernels that precompute per-row and per-column values test every rule with the same few
// operations (the golden kernel: the masked path and two compares; without a rule, 7: the
// count this kernel's calibrations were fitted with before the probe); a neighborhood adds its
// key words' staging (KernelSpec::PrecomputedNeighborhood, precomputed_neighborhood_ops).
constexpr double kPrecomputedOps = 5;
constexpr double kPrecomputedNoRuleOps = 7;

bool power_of_two(std::int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

// A neighborhood rule's grid extents (sliding_window: one, unnamed) and its dilation per
// dimension (one value applies to every dimension).
struct NeighborhoodShape {
  std::vector<std::int64_t> dims;
  std::vector<std::int64_t> dilation;
};

NeighborhoodShape neighborhood_shape(const MaskRule& rule) {
  // The rule was checked when it was parsed; its lists read as the pattern families read them.
  PatternParams params(rule.params, "rule '" + rule.text() + "'");
  const std::int64_t max_extent = std::int64_t{1} << 26;
  NeighborhoodShape shape{params.get_dims("dims", {1}, 1, max_extent),
                          params.get_dims("dilation", {1}, 1, max_extent)};
  if (shape.dilation.size() == 1) shape.dilation.assign(shape.dims.size(), shape.dilation.front());
  return shape;
}

// Neighborhood rules evaluated as an expression on every element (FlexAttention's mask_mod of
// mask_rules.md): a base per number of dimensions, more per dilated dimension (its `%` and `//`
// by the dilation) and per dilation or grid extent that is not a power of two (division by such a
// constant is a multiply-high sequence, by a power of two a shift); the stride moves only per-row
// work. The coefficients are the kernel's (KernelSpec::neighborhood_ops): the code a compiler
// makes of one rule differs between kernel configurations.
double neighborhood_expression_ops(const MaskRule& rule, const KernelSpec::NeighborhoodOps& ops) {
  const auto [dims, dilation] = neighborhood_shape(rule);
  const std::size_t n = dims.size();
  double total = ops.dims[std::min<std::size_t>(n, ops.dims.size()) - 1];
  for (std::size_t d = 0; d < n && d < dilation.size(); ++d) {
    if (dilation[d] > 1) total += ops.dilated_dim;
    if (dilation[d] > 1 && !power_of_two(dilation[d])) total += ops.non_pow2_dilation;
  }
  if (rule.name == "gna") {
    for (const std::int64_t extent : dims) {
      if (!power_of_two(extent)) total += ops.non_pow2_extent;
    }
  }
  return total;
}

// A precomputing kernel's neighborhood (KernelSpec::PrecomputedNeighborhood): the fixed test
// plus the staging of one key word per key, per grid dimension; or the interval test of an
// undilated 1-D neighborhood where the kernel has one.
double precomputed_neighborhood_ops(const MaskRule& rule,
                                    const KernelSpec::PrecomputedNeighborhood& precomputed) {
  const auto [dims, dilation] = neighborhood_shape(rule);
  const std::size_t rank = dims.size();
  const bool dilated =
      std::any_of(dilation.begin(), dilation.end(), [](std::int64_t d) { return d > 1; });
  if (rank == 1 && !dilated && precomputed.interval_1d_ops) return *precomputed.interval_1d_ops;
  return kPrecomputedOps + static_cast<double>(rank) * precomputed.word_ops_per_dim;
}

}  // namespace

double mask_rule_ops(const std::optional<MaskRule>& rule, MaskEvaluation evaluation,
                     const KernelSpec::NeighborhoodOps& neighborhood,
                     const KernelSpec::PrecomputedNeighborhood& precomputed) {
  if (evaluation == MaskEvaluation::kPrecomputed) {
    if (!rule) return kPrecomputedNoRuleOps;
    if (rule->name == "sliding_window" || rule->name == "gna")
      return precomputed_neighborhood_ops(*rule, precomputed);
    return kPrecomputedOps;
  }
  if (!rule) return kMaskedPathOps + kUnknownRuleOps;
  const std::string& n = rule->name;
  // Measured (mask_rules.md): the rule's own work beyond the masked path. Compares against the
  // query and key positions cost next to nothing: inductor computes per-row and per-column terms
  // once and the compare fuses into the select.
  double ops = kUnknownRuleOps;
  if (n == "allow" || n == "causal" || n == "prefix_lm") ops = 0;
  if (n == "band") ops = 0.4;
  if (n == "a_shape") ops = 0.8;
  if (n == "causal_window") ops = 1.0;
  if (n == "document") {
    // doc[q] per row and doc[kv] per column are gathers shared by the tile; the compare of the
    // two ids per element (and the causal compare) cost 1.9, non-causal next to nothing.
    const auto causal = rule->params.find("causal");
    ops = (causal != rule->params.end() && causal->second == "0") ? 0 : 1.9;
  }
  if (n == "sliding_window" || n == "gna") ops = neighborhood_expression_ops(*rule, neighborhood);
  return kMaskedPathOps + ops;
}

double mask_rule_ops(const std::optional<MaskRule>& rule, const KernelSpec& kernel) {
  return mask_rule_ops(rule, kernel.mask_evaluation, kernel.neighborhood_ops,
                       kernel.precomputed_neighborhood);
}

double CostParams::mask_element_us(const std::optional<MaskRule>& rule,
                                   const KernelSpec& kernel) const {
  const double op_us = has_rule_cost(rule) ? rule_op_us.at(rule->name) : mask_op_us;
  return mask_rule_ops(rule, kernel) * op_us;
}

double CostParams::masked_tile_us(const KernelSpec& kernel,
                                  const std::optional<MaskRule>& rule) const {
  const double elements = static_cast<double>(kernel.tile_q) * static_cast<double>(kernel.tile_kv);
  return tile_full_us + elements * mask_element_us(rule, kernel);
}

bool runs_unaligned_variant(const KernelSpec& kernel, const MaskGeometry& geometry) {
  return kernel.unaligned_variant &&
         (geometry.seq_q % kernel.tile_q != 0 || geometry.seq_kv % kernel.tile_kv != 0);
}

double unaligned_weight(const KernelSpec& kernel, const MaskGeometry& geometry) {
  if (!runs_unaligned_variant(kernel, geometry)) return 0.0;
  double weight = 1.0;
  std::int64_t largest = 0;
  for (const KernelSpec::UnalignedWeight& w : kernel.unaligned_weights) {
    if (w.multiple_of > largest && geometry.seq_q % w.multiple_of == 0 &&
        geometry.seq_kv % w.multiple_of == 0) {
      largest = w.multiple_of;
      weight = w.weight;
    }
  }
  return weight;
}

double mask_work_factor(const KernelSpec& kernel, const MaskGeometry& geometry,
                        const std::optional<MaskRule>& rule) {
  if (!runs_unaligned_variant(kernel, geometry)) return 1.0;
  // Measured exception (flex-costs probe, H200): the bounds-checked variant runs `allow`'s
  // masked path at no cost beyond unaligned_tile_us (its compare folds into the bounds check).
  if (rule && rule->name == "allow" && kernel.mask_evaluation == MaskEvaluation::kExpression) {
    return 0.0;
  }
  return 1.0 + (kernel.unaligned_mask_factor - 1.0) * unaligned_weight(kernel, geometry);
}

CostParams::TileTimes CostParams::tile_times(const KernelSpec& kernel, const MaskGeometry& geometry,
                                             const std::optional<MaskRule>& rule) const {
  const double extra = unaligned_tile_us * unaligned_weight(kernel, geometry);
  const double mask_us = masked_tile_us(kernel, rule) - tile_full_us;
  return {tile_full_us + extra,
          tile_full_us + extra + mask_us * mask_work_factor(kernel, geometry, rule)};
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
