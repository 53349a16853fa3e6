// JSON, table and CSV renderings of simulation results.
#include "sim/gpu/report.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <utility>

namespace attnsim::gpu {

boost::json::object to_json(const Result& r, ReportKind kind) {
  boost::json::object o;
  o["mask"] = r.mask;
  if (r.mask_rule.empty()) {
    o["mask_rule"] = nullptr;
  } else {
    o["mask_rule"] = r.mask_rule;
  }
  o["batch"] = r.batch;
  o["heads"] = r.heads;
  o["seq_q"] = r.seq_q;
  o["seq_kv"] = r.seq_kv;
  o["tiles_full"] = r.tiles_full;
  o["tiles_partial"] = r.tiles_partial;
  o["tiles_empty_visited"] = r.tiles_empty_visited;
  o["tiles_dense"] = r.tiles_dense;
  o["density_tokens"] = r.density_tokens;
  o["density_tokens_exact"] = r.density_tokens_exact;
  o["density_tiles"] = r.density_tiles;
  o["speedup_bound_flop"] = r.speedup_bound_flop;
  o["speedup_bound_tiles"] = r.speedup_bound_tiles;
  o["speedup_bound_sched"] = r.speedup_bound_sched;
  o["speedup_bound_worst_q"] = r.speedup_bound_worst_q;
  boost::json::array per_head;
  for (const double b : r.speedup_bound_worst_q_per_head) per_head.push_back(b);
  o["speedup_bound_worst_q_per_head"] = std::move(per_head);
  if (!r.kv_tiles_per_dim.empty()) {
    o["kv_tiles_per_dim"] = boost::json::value_from(r.kv_tiles_per_dim);
    o["worst_q_kv_tiles_per_dim"] = boost::json::value_from(r.worst_q_kv_tiles_per_dim);
  }
  if (kind == ReportKind::kPredict) {
    o["predicted_ms"] = r.predicted_ms;
    o["predicted_dense_ms"] = r.predicted_dense_ms;
    o["predicted_speedup"] = r.predicted_speedup;
    o["baseline_kernel"] = r.baseline_kernel;
    o["makespan_us"] = r.makespan_us;
    o["tile_masked_us"] = r.tile_masked_us;
    o["host_bound"] = r.host_bound;
    o["unaligned_variant"] = r.unaligned_variant;
    o["hbm_bytes"] = r.hbm_bytes;
    o["hbm_us"] = r.hbm_us;
    o["memory_bound"] = r.memory_bound;
    o["permute_bytes"] = r.permute_bytes;
    o["permute_us"] = r.permute_us;
  }
  if (!r.grid.empty()) o["grid"] = r.grid;  // a kernel with grid_choice: the grid it picked
  o["work_items"] = r.work_items;
  o["slots"] = r.slots;
  o["waves"] = r.waves;
  if (kind == ReportKind::kPredict) {
    o["wave_efficiency"] = r.wave_efficiency;
    o["tail_fraction"] = r.tail_fraction;
  }
  return o;
}

boost::json::object to_json(const GpuSpec& gpu) {
  return {{"name", gpu.name},
          {"sm_count", gpu.sm_count},
          {"clock_mhz", gpu.clock_mhz},
          {"hbm_gb_per_s", gpu.hbm_gb_per_s},
          {"l2_mib", gpu.l2_mib},
          {"peak_dense_bf16_tflops", gpu.peak_dense_bf16_tflops},
          {"int32_ops_per_clock_per_sm", gpu.int32_ops_per_clock_per_sm}};
}

boost::json::object to_json(const KernelSpec& k) {
  boost::json::object o{{"name", k.name},
                        {"tile_q", k.tile_q},
                        {"tile_kv", k.tile_kv},
                        {"visit_rule", to_string(k.visit_rule)},
                        {"masking_rule", to_string(k.masking_rule)},
                        {"scheduler", k.scheduler},
                        {"launch_order", k.launch_order.to_string()},
                        {"reverse_q", k.launch_order.reverse_q},
                        {"longest_first_q", k.launch_order.longest_first_q},
                        {"ctas_per_sm", k.ctas_per_sm},
                        {"head_dim", k.head_dim},
                        {"dtype", k.dtype},
                        {"q_heads_per_kv_head", k.q_heads_per_kv_head}};
  o["cost"] = boost::json::object{{"mma_efficiency", k.mma_efficiency},
                                  {"mask_op_efficiency", k.mask_op_efficiency},
                                  {"cta_overhead_us", k.cta_overhead_us},
                                  {"launch_overhead_us", k.launch_overhead_us},
                                  {"host_floor_us", k.host_floor_us},
                                  {"unaligned_tile_cost_ratio", k.unaligned_tile_cost_ratio},
                                  {"unaligned_mask_factor", k.unaligned_mask_factor}};
  boost::json::array weights;
  for (const KernelSpec::UnalignedWeight& w : k.unaligned_weights) {
    weights.push_back(boost::json::object{{"multiple_of", w.multiple_of}, {"weight", w.weight}});
  }
  o["cost"].as_object()["unaligned_weights"] = std::move(weights);
  const KernelSpec::NeighborhoodOps& n = k.neighborhood_ops;
  o["cost"].as_object()["neighborhood_ops"] =
      boost::json::object{{"dims", boost::json::array{n.dims[0], n.dims[1], n.dims[2]}},
                          {"dilated_dim", n.dilated_dim},
                          {"non_pow2_dilation", n.non_pow2_dilation},
                          {"non_pow2_extent", n.non_pow2_extent}};
  const KernelSpec::PrecomputedNeighborhood& pn = k.precomputed_neighborhood;
  boost::json::object precomputed{{"word_ops_per_dim", pn.word_ops_per_dim}};
  if (pn.interval_1d_ops) precomputed["interval_1d_ops"] = *pn.interval_1d_ops;
  o["cost"].as_object()["precomputed_neighborhood"] = std::move(precomputed);
  boost::json::array headroom;
  for (const KernelSpec::ClockHeadroom& h : k.clock_headroom) {
    headroom.push_back(boost::json::object{{"head_dim", h.head_dim}, {"ratio", h.ratio}});
  }
  o["clock_headroom"] = std::move(headroom);
  o["unaligned_variant"] = k.unaligned_variant;
  o["mask_evaluation"] = to_string(k.mask_evaluation);
  if (k.grid_choice) {
    o["grid_choice"] = boost::json::object{{"flat", k.grid_choice->flat.preset},
                                           {"persistent", k.grid_choice->persistent.preset}};
  }
  const KernelSpec dense = k.dense_variant();
  o["dense"] = boost::json::object{
      {"tile_q", dense.tile_q}, {"tile_kv", dense.tile_kv}, {"scheduler", dense.scheduler}};
  return o;
}

boost::json::object to_json(const CostParams& cost) {
  boost::json::object rules;
  for (const auto& [name, element_us] : cost.rule_op_us) rules[name] = element_us;
  return {{"tile_full_us", cost.tile_full_us},
          {"mask_op_us", cost.mask_op_us},
          {"rule_op_us", rules},
          {"cta_us", cost.cta_us},
          {"launch_us", cost.launch_us},
          {"host_floor_us", cost.host_floor_us},
          {"unaligned_tile_us", cost.unaligned_tile_us}};
}

std::string format_table(const std::vector<Result>& results, ReportKind kind) {
  // Mask names are printed whole (the column is as wide as the longest); each header names one
  // column: "tiles" is the visited tile count, bound_* the speedup bounds (results' JSON names).
  int width = 4;
  for (const Result& r : results) width = std::max(width, static_cast<int>(r.mask.size()));
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %6s %8s %8s %8s %10s %11s %11s %13s %7s", width, "mask",
                "heads", "seq_q", "tiles", "density", "bound_flop", "bound_tiles", "bound_sched",
                "bound_worst_q", "waves");
  out << line;
  if (kind == ReportKind::kPredict) {
    std::snprintf(line, sizeof line, " %9s %9s %7s %8s %6s", "pred_ms", "dense_ms", "speedup",
                  "wave_eff", "tail");
    out << line;
  }
  // A kernel that picks its grid per mask (grid_choice): which one, last.
  const bool grids =
      std::any_of(results.begin(), results.end(), [](const Result& r) { return !r.grid.empty(); });
  if (grids) out << " grid";
  out << '\n';
  for (const Result& r : results) {
    out << r.mask << std::string(static_cast<std::size_t>(width) - r.mask.size(), ' ');
    std::snprintf(line, sizeof line, " %6lld %8lld %8lld %8.4f %10.2f %11.2f %11.2f %13.2f %7.2f",
                  static_cast<long long>(r.heads), static_cast<long long>(r.seq_q),
                  static_cast<long long>(r.tiles_full + r.tiles_partial + r.tiles_empty_visited),
                  r.density_tokens, r.speedup_bound_flop, r.speedup_bound_tiles,
                  r.speedup_bound_sched, r.speedup_bound_worst_q, r.waves);
    out << line;
    if (kind == ReportKind::kPredict) {
      std::snprintf(line, sizeof line, " %9.4f %9.4f %7.2f %8.3f %6.3f", r.predicted_ms,
                    r.predicted_dense_ms, r.predicted_speedup, r.wave_efficiency, r.tail_fraction);
      out << line;
    }
    if (grids) out << ' ' << r.grid;
    out << '\n';
  }
  return out.str();
}

std::string format_timeline_csv(const std::vector<Result>& results) {
  std::ostringstream out;
  out << "mask,slot,sm,batch,head,q_tile,start_us,end_us,tiles_full,tiles_partial,"
         "tiles_empty_visited\n";
  char numbers[256];
  for (const Result& r : results) {
    for (const TimelineEntry& e : r.timeline) {
      std::snprintf(numbers, sizeof numbers, ",%d,%d,%lld,%lld,%lld,%.6f,%.6f,%lld,%lld,%lld\n",
                    e.slot, e.sm, static_cast<long long>(e.batch), static_cast<long long>(e.head),
                    static_cast<long long>(e.q_tile), e.start_us, e.end_us,
                    static_cast<long long>(e.tiles.full), static_cast<long long>(e.tiles.partial),
                    static_cast<long long>(e.tiles.empty_visited));
      // Mask names are paths: quote them so commas in names cannot break the columns.
      out << '"' << r.mask << '"' << numbers;
    }
  }
  return out.str();
}

boost::json::object timeline_chrome_trace(const std::vector<Result>& results) {
  boost::json::array events;
  const bool several = results.size() > 1;
  std::int64_t work_items = 0;
  for (std::size_t m = 0; m < results.size(); ++m) {
    const Result& r = results[m];
    // Process ids: the SM, offset per mask when there are several.
    const std::int64_t base = several ? static_cast<std::int64_t>(m) * 1000000 : 0;
    std::set<std::int32_t> sms;
    std::set<std::pair<std::int32_t, std::int32_t>> slots;
    for (const TimelineEntry& e : r.timeline) {
      sms.insert(e.sm);
      slots.insert({e.sm, e.slot});
    }
    for (const std::int32_t sm : sms) {
      const std::string name =
          (several ? r.mask + ": " : std::string()) + "SM " + std::to_string(sm);
      events.push_back({{"ph", "M"},
                        {"name", "process_name"},
                        {"pid", base + sm},
                        {"tid", 0},
                        {"args", {{"name", name}}}});
      events.push_back({{"ph", "M"},
                        {"name", "process_sort_index"},
                        {"pid", base + sm},
                        {"tid", 0},
                        {"args", {{"sort_index", base + sm}}}});
    }
    for (const auto& [sm, slot] : slots) {
      events.push_back({{"ph", "M"},
                        {"name", "thread_name"},
                        {"pid", base + sm},
                        {"tid", slot},
                        {"args", {{"name", "slot " + std::to_string(slot)}}}});
    }
    for (const TimelineEntry& e : r.timeline) {
      events.push_back({{"ph", "X"},
                        {"cat", "work_item"},
                        {"pid", base + e.sm},
                        {"tid", e.slot},
                        {"ts", e.start_us},
                        {"dur", e.end_us - e.start_us},
                        {"name", "b" + std::to_string(e.batch) + " h" + std::to_string(e.head) +
                                     " q" + std::to_string(e.q_tile)},
                        {"args",
                         {{"batch", e.batch},
                          {"head", e.head},
                          {"q_tile", e.q_tile},
                          {"tiles_full", e.tiles.full},
                          {"tiles_partial", e.tiles.partial},
                          {"tiles_empty_visited", e.tiles.empty_visited}}}});
    }
    work_items += static_cast<std::int64_t>(r.timeline.size());
  }
  return {{"traceEvents", std::move(events)},
          {"displayTimeUnit", "ns"},
          {"otherData",
           {{"source", several           ? std::string("tilesim")
                       : results.empty() ? ""
                                         : results[0].mask},
            {"work_items", work_items}}}};
}

}  // namespace attnsim::gpu
