// KernelSpec names, parsing and validation.
#include "sim/gpu/kernel_spec.h"

#include <algorithm>

#include "sim/gpu/schedulers/scheduler.h"

namespace attnsim::gpu {

bool KernelSpec::runs_covered_tiles_unmasked(const std::string& rule) const {
  return std::find(unmasked_covered_rules.begin(), unmasked_covered_rules.end(), rule) !=
         unmasked_covered_rules.end();
}

std::string to_string(VisitRule rule) { return rule == VisitRule::kListDriven ? "list" : "range"; }

std::string to_string(MaskingRule rule) {
  switch (rule) {
    case MaskingRule::kPerTile:
      return "per_tile";
    case MaskingRule::kGlobalFastPath:
      return "global_fast_path";
    case MaskingRule::kAlwaysMask:
      return "always_mask";
  }
  return "?";
}

std::string to_string(MaskEvaluation evaluation) {
  return evaluation == MaskEvaluation::kExpression ? "expression" : "precomputed";
}

std::optional<MaskEvaluation> parse_mask_evaluation(const std::string& text) {
  if (text == "expression") return MaskEvaluation::kExpression;
  if (text == "precomputed") return MaskEvaluation::kPrecomputed;
  return std::nullopt;
}

std::optional<VisitRule> parse_visit_rule(const std::string& text) {
  if (text == "list") return VisitRule::kListDriven;
  if (text == "range") return VisitRule::kRangeDriven;
  return std::nullopt;
}

std::optional<MaskingRule> parse_masking_rule(const std::string& text) {
  for (MaskingRule rule :
       {MaskingRule::kPerTile, MaskingRule::kGlobalFastPath, MaskingRule::kAlwaysMask}) {
    if (to_string(rule) == text) return rule;
  }
  return std::nullopt;
}

int dtype_bytes(const std::string& dtype) {
  if (dtype == "bf16" || dtype == "fp16") return 2;
  if (dtype == "fp8") return 1;
  if (dtype == "fp32") return 4;
  return 0;
}

KernelSpec KernelSpec::dense_variant() const {
  KernelSpec dense = *this;
  dense.tile_q = dense_tile_q.value_or(tile_q);
  dense.tile_kv = dense_tile_kv.value_or(tile_kv);
  dense.scheduler = dense_scheduler.value_or(scheduler);
  return dense;
}

KernelSpec KernelSpec::on_grid(const Grid& grid) const {
  KernelSpec on = *this;
  on.scheduler = grid.scheduler;
  on.launch_order = grid.launch_order;
  on.dense_scheduler = grid.dense_scheduler;
  on.item_overhead_ratio = grid.item_overhead_ratio;
  on.grid_choice.reset();
  return on;
}

models::Violations KernelSpec::validate() const {
  models::Violations v;
  const std::int64_t max_tile = 1 << 16;
  v.require_in_range<std::int64_t>("tile_q", tile_q, 1, max_tile);
  v.require_in_range<std::int64_t>("tile_kv", tile_kv, 1, max_tile);
  if (dense_tile_q) v.require_in_range<std::int64_t>("dense.tile_q", *dense_tile_q, 1, max_tile);
  if (dense_tile_kv) {
    v.require_in_range<std::int64_t>("dense.tile_kv", *dense_tile_kv, 1, max_tile);
  }
  const std::string schedulers = "one of " + scheduler_names();
  v.require(is_scheduler_name(scheduler), "scheduler", schedulers, scheduler);
  if (dense_scheduler) {
    v.require(is_scheduler_name(*dense_scheduler), "dense.scheduler", schedulers, *dense_scheduler);
  }
  if (launch_order.longest_first_q) {
    v.require(launch_order.dims[0] == 'q' && !launch_order.reverse_q, "longest_first_q",
              "launch_order with q first (each head's Q tiles side by side) and no reverse_q",
              launch_order.to_string() + (launch_order.reverse_q ? " with reverse_q" : ""));
  }
  if (grid_choice) {
    // The estimate models these two schedules (sm90_grid_choice.h): greedy dispatch in launch
    // order, and round robin over each head's items longest first.
    const Grid& flat = grid_choice->flat;
    const Grid& persistent = grid_choice->persistent;
    v.require(flat.scheduler == "non_persistent" && !flat.launch_order.longest_first_q,
              "grid_choice.flat", "a non_persistent preset without longest_first_q",
              "'" + flat.preset + "' (" + flat.scheduler + ")");
    v.require(
        persistent.scheduler == "static_persistent" && persistent.launch_order.longest_first_q,
        "grid_choice.persistent", "a static_persistent preset with longest_first_q",
        "'" + persistent.preset + "' (" + persistent.scheduler + ")");
  }
  v.require_in_range("ctas_per_sm", ctas_per_sm, 1, 64);
  v.require_in_range<std::int64_t>("head_dim", head_dim, 1, 1024);
  v.require(dtype_bytes(dtype) > 0, "dtype", "one of bf16, fp16, fp8, fp32", dtype);
  v.require_in_range("q_heads_per_kv_head", q_heads_per_kv_head, 1, 1024);
  v.require(mma_efficiency > 0 && mma_efficiency <= 1, "cost.mma_efficiency",
            "a fraction in (0, 1]", mma_efficiency);
  v.require(mask_op_efficiency > 0 && mask_op_efficiency <= 1, "cost.mask_op_efficiency",
            "a fraction in (0, 1]", mask_op_efficiency);
  v.require(host_floor_us >= 0, "cost.host_floor_us", "a non-negative number", host_floor_us);
  v.require(item_overhead_ratio > 0 && item_overhead_ratio <= 2, "item_overhead_ratio",
            "a ratio in (0, 2]", item_overhead_ratio);
  v.require(unaligned_tile_cost_ratio >= 0, "cost.unaligned_tile_cost_ratio",
            "a non-negative number", unaligned_tile_cost_ratio);
  v.require(unaligned_mask_factor >= 1, "cost.unaligned_mask_factor", "a number >= 1",
            unaligned_mask_factor);
  for (std::size_t i = 0; i < neighborhood_ops.dims.size(); ++i) {
    v.require(neighborhood_ops.dims[i] >= 0,
              "cost.neighborhood_ops.dims[" + std::to_string(i) + "]", "a non-negative number",
              neighborhood_ops.dims[i]);
  }
  v.require(neighborhood_ops.dilated_dim >= 0, "cost.neighborhood_ops.dilated_dim",
            "a non-negative number", neighborhood_ops.dilated_dim);
  v.require(neighborhood_ops.non_pow2_dilation >= 0, "cost.neighborhood_ops.non_pow2_dilation",
            "a non-negative number", neighborhood_ops.non_pow2_dilation);
  v.require(neighborhood_ops.non_pow2_extent >= 0, "cost.neighborhood_ops.non_pow2_extent",
            "a non-negative number", neighborhood_ops.non_pow2_extent);
  v.require(precomputed_neighborhood.word_ops_per_dim >= 0,
            "cost.precomputed_neighborhood.word_ops_per_dim", "a non-negative number",
            precomputed_neighborhood.word_ops_per_dim);
  if (precomputed_neighborhood.interval_1d_ops) {
    v.require(*precomputed_neighborhood.interval_1d_ops >= 0,
              "cost.precomputed_neighborhood.interval_1d_ops", "a non-negative number",
              *precomputed_neighborhood.interval_1d_ops);
  }
  for (std::size_t i = 0; i < unaligned_weights.size(); ++i) {
    const std::string at = "cost.unaligned_weights[" + std::to_string(i) + "]";
    const std::int64_t m = unaligned_weights[i].multiple_of;
    v.require(m >= 2 && (m & (m - 1)) == 0, at + ".multiple_of", "a power of two >= 2", m);
    v.require(unaligned_weights[i].weight >= 0, at + ".weight", "a non-negative number",
              unaligned_weights[i].weight);
  }
  for (std::size_t i = 0; i < clock_headroom.size(); ++i) {
    const std::string at = "clock_headroom[" + std::to_string(i) + "]";
    v.require(clock_headroom[i].head_dim > 0, at + ".head_dim", "a positive head dim",
              clock_headroom[i].head_dim);
    v.require(clock_headroom[i].ratio >= 1 && clock_headroom[i].ratio <= 2, at + ".ratio",
              "a ratio in [1, 2] (maximum clock over the clock under full load)",
              clock_headroom[i].ratio);
    for (std::size_t j = 0; j < i; ++j) {
      v.require(clock_headroom[j].head_dim != clock_headroom[i].head_dim, at + ".head_dim",
                "a head dim listed once", clock_headroom[i].head_dim);
    }
  }
  v.require(cta_overhead_us >= 0, "cost.cta_overhead_us", "a non-negative number", cta_overhead_us);
  v.require(launch_overhead_us >= 0, "cost.launch_overhead_us", "a non-negative number",
            launch_overhead_us);
  return v;
}

double KernelSpec::clock_headroom_ratio() const {
  for (const ClockHeadroom& h : clock_headroom) {
    if (h.head_dim == head_dim) return h.ratio;
  }
  return 1.0;
}

}  // namespace attnsim::gpu
