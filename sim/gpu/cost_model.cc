// Cost model defaults, mask-rule operation counts and per-item time.
#include "sim/gpu/cost_model.h"

#include <algorithm>
#include <cstdlib>

namespace attnsim::gpu {
namespace {

// Per-element work of the masked path itself, whatever the rule: the select of -inf into the
// scores and the sequence-end test (FlexAttention's and the golden kernel's partial-tile path).
constexpr double kMaskedPathOps = 3;
// A rule tilesim cannot see (a block-only mask, `custom`): about a window rule's work.
constexpr double kUnknownRuleOps = 4;

// The number of dimensions and whether any dimension is dilated, from a gna rule's parameters.
void gna_shape(const MaskRule& rule, int& dims, bool& dilated) {
  dims = 1;
  dilated = false;
  const auto find = rule.params.find("dims");
  if (find != rule.params.end()) {
    dims = 1 + static_cast<int>(std::count(find->second.begin(), find->second.end(), 'x'));
  }
  const auto dilation = rule.params.find("dilation");
  if (dilation != rule.params.end()) {
    // "1", "1x2x1", ...: dilated when any entry differs from 1.
    std::string entry;
    for (const char c : dilation->second + "x") {
      if (c != 'x') {
        entry += c;
        continue;
      }
      if (!entry.empty() && std::atoll(entry.c_str()) > 1) dilated = true;
      entry.clear();
    }
  }
}

}  // namespace

double mask_rule_ops(const std::optional<MaskRule>& rule) {
  if (!rule) return kMaskedPathOps + kUnknownRuleOps;
  const std::string& n = rule->name;
  double ops = kUnknownRuleOps;
  if (n == "allow") ops = 2;  // kv - q < limit: subtract, compare
  if (n == "causal") ops = 1;  // q >= kv
  if (n == "prefix_lm") ops = 2;  // (kv < P, per column) | (q >= kv)
  if (n == "band") ops = 3;  // kv >= lo(q), kv <= hi(q), and (bounds per row)
  if (n == "causal_window") ops = 4;  // q >= kv, q - kv < W, and
  if (n == "a_shape") ops = 5;  // q >= kv, q - kv < W, | sink(kv), and
  if (n == "document") {
    // doc[q] per row and doc[kv] per column are gathers shared by the tile; one compare per
    // element, and the causal compare with its and.
    const auto causal = rule->params.find("causal");
    ops = (causal != rule->params.end() && causal->second == "0") ? 1 : 3;
  }
  if (n == "sliding_window" || n == "gna") {
    // Per dimension: the key coordinate within the query's [start, end): two compares and an
    // and; dilated, also the residue compare and its and; dimensions joined by ands.
    int dims = 1;
    bool dilated = false;
    gna_shape(*rule, dims, dilated);
    ops = dims * (dilated ? 5.0 : 3.0) + (dims - 1);
  }
  return kMaskedPathOps + ops;
}

double CostParams::scale_of(const std::optional<MaskRule>& rule) const {
  if (!rule) return 1.0;
  const auto found = rule_scale.find(rule->name);
  return found == rule_scale.end() ? 1.0 : found->second;
}

double CostParams::masked_tile_us(const KernelSpec& kernel,
                                  const std::optional<MaskRule>& rule) const {
  const double elements = static_cast<double>(kernel.tile_q) * static_cast<double>(kernel.tile_kv);
  return tile_full_us + elements * mask_rule_ops(rule) * scale_of(rule) * mask_op_us;
}

models::Violations CostParams::validate() const {
  models::Violations v;
  v.require(tile_full_us >= 0, "tile_full_us", "a non-negative number", tile_full_us);
  v.require(mask_op_us >= 0, "mask_op_us", "a non-negative number", mask_op_us);
  for (const auto& [name, scale] : rule_scale) {
    v.require(scale >= 0, "rule_scale." + name, "a non-negative number", scale);
  }
  v.require(cta_us >= 0, "cta_us", "a non-negative number", cta_us);
  v.require(launch_us >= 0, "launch_us", "a non-negative number", launch_us);
  v.require(host_floor_us >= 0, "host_floor_us", "a non-negative number", host_floor_us);
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
  // A slot is one CTA; the CTAs resident on an SM share its INT32 pipes.
  const double sm_int_ops_per_us = gpu.int32_ops_per_clock_per_sm * gpu.clock_mhz;
  CostParams cost;
  cost.tile_full_us = tile_flops(kernel) / (sm_flops_per_us * kernel.mma_efficiency);
  cost.mask_op_us = kernel.ctas_per_sm / (sm_int_ops_per_us * kernel.mask_op_efficiency);
  cost.cta_us = kernel.cta_overhead_us;
  cost.launch_us = kernel.launch_overhead_us;
  cost.host_floor_us = kernel.host_floor_us;
  return cost;
}

double item_time_us(const TileCounts& counts, const CostParams& cost, double masked_tile_us,
                    MaskingRule rule, bool problem_has_masked_tiles) {
  const bool mask_everything = rule == MaskingRule::kAlwaysMask ||
                               (rule == MaskingRule::kGlobalFastPath && problem_has_masked_tiles);
  const double masked = static_cast<double>(counts.partial + counts.empty_visited);
  const double full = static_cast<double>(counts.full);
  if (mask_everything) return cost.cta_us + (full + masked) * masked_tile_us;
  return cost.cta_us + full * cost.tile_full_us + masked * masked_tile_us;
}

double launch_time_us(const CostParams& cost, double makespan_us) {
  return std::max(cost.host_floor_us, cost.launch_us + makespan_us);
}

}  // namespace attnsim::gpu
