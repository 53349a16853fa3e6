// stats.json and the table: derived figures (energy, power, area, reduction, utilization).
#include "sim/accel/report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "models/spatten_step.h"

namespace attnsim::accel {
namespace {

namespace json = boost::json;

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

json::object stage(const StageStats& s, std::int64_t cycles) {
  return {{"busy_cycles", s.busy_cycles},
          {"jobs", s.jobs},
          {"utilization", ratio(s.busy_cycles, cycles)}};
}

}  // namespace

EnergyBreakdown energy_of(const AccelConfig& config, const AccelStats& stats) {
  const EnergyParams& e = config.energy;
  const models::ActionCounts& a = stats.actions;
  constexpr double kPj = 1e-12;
  EnergyBreakdown b;
  b.mac_j = static_cast<double>(a.macs) * e.mac_pj * kPj;
  b.compare_j = static_cast<double>(a.comparisons) * e.compare_pj * kPj;
  b.add_j = static_cast<double>(a.adds) * e.add_pj * kPj;
  b.exp_j = static_cast<double>(a.exps) * e.exp_pj * kPj;
  b.divide_j = static_cast<double>(a.divides) * e.divide_pj * kPj;
  b.sram_j = (static_cast<double>(a.sram_read_bytes) * e.sram_read_pj_per_byte +
              static_cast<double>(a.sram_write_bytes) * e.sram_write_pj_per_byte) *
             kPj;
  // DRAM energy is charged on whole transactions: that is what the channels move.
  std::int64_t transferred = 0;
  for (const ChannelStats& c : stats.channels) transferred += c.transactions;
  b.dram_j =
      static_cast<double>(transferred * config.hbm.transaction_bytes) * e.dram_pj_per_byte * kPj;
  const double seconds = static_cast<double>(stats.cycles) / config.clock_hz;
  b.static_j = e.static_power_w * seconds;
  // Leakage: SRAM by capacity, the rest by the area that is not SRAM.
  const double kib = sram_kib(config);
  b.sram_leakage_j = e.sram_leakage_mw_per_kib * 1e-3 * kib * seconds;
  const double logic_mm2 = std::max(0.0, area_mm2(config) - kib * config.area.sram_mm2_per_kib);
  b.logic_leakage_j = e.logic_leakage_mw_per_mm2 * 1e-3 * logic_mm2 * seconds;
  // Clock tree and control scale with the switching activity the action table counts.
  b.clock_j = e.clock_fraction * b.dynamic_j();
  b.control_j = e.control_fraction * b.dynamic_j();
  return b;
}

namespace {

// Bits of the engine's four buffers: the original one (score and index) and three candidate
// buffers (scores), as the RTL holds them; an overlapped engine keeps the original buffer in two
// banks (one job loads while the previous one's output pass reads).
double topk_buffer_bits(const models::TopkParams& p) {
  const double n = p.max_n;
  const double original_banks = p.overlaps_jobs() ? 2 : 1;
  return original_banks * n * models::topk_element_bits(p) + 3 * n * p.score_bits;
}

}  // namespace

double topk_engine_area_mm2(const AccelConfig& c) {
  const AreaParams& a = c.area;
  models::TopkParams reference;  // the engine topk_engine_mm2 describes
  reference.lanes = 16;
  reference.max_n = 4096;
  reference.score_bits = 32;
  const models::TopkParams& engine = c.topk.engine;
  return a.topk_engine_mm2 *
         (a.topk_logic_share * engine.lanes / reference.lanes +
          (1 - a.topk_logic_share) * topk_buffer_bits(engine) / topk_buffer_bits(reference));
}

double sram_kib(const AccelConfig& c) {
  return static_cast<double>(c.sram.key_bytes + c.sram.value_bytes) / 1024.0 +
         2 * topk_buffer_bits(c.topk.engine) / 8.0 / 1024.0;
}

namespace {

double dynamic_j(const EnergyParams& e, const models::ActionCounts& a) {
  return (static_cast<double>(a.macs) * e.mac_pj +
          static_cast<double>(a.comparisons) * e.compare_pj +
          static_cast<double>(a.adds) * e.add_pj + static_cast<double>(a.exps) * e.exp_pj +
          static_cast<double>(a.divides) * e.divide_pj +
          static_cast<double>(a.sram_read_bytes) * e.sram_read_pj_per_byte +
          static_cast<double>(a.sram_write_bytes) * e.sram_write_pj_per_byte) *
         1e-12;
}

}  // namespace

std::vector<ModuleCost> module_costs(const AccelConfig& c, const AccelStats& stats) {
  const AreaParams& a = c.area;
  const EnergyBreakdown total = energy_of(c, stats);
  const ModuleActions& m = stats.module_actions;
  models::ActionCounts softmax = m.softmax;
  softmax += m.requant;
  const double key_kib = static_cast<double>(c.sram.key_bytes) / 1024.0;
  const double value_kib = static_cast<double>(c.sram.value_bytes) / 1024.0;
  const double topk_kib = 2 * topk_buffer_bits(c.topk.engine) / 8.0 / 1024.0;
  const double topk_area = 2 * topk_engine_area_mm2(c);
  const double topk_logic = 2 * a.topk_engine_mm2 * a.topk_logic_share * c.topk.engine.lanes / 16.0;
  struct Part {
    const char* name;
    const models::ActionCounts* actions;
    double kib, area, sram_area, logic_area;
  };
  const double qk_mult = c.qk.multipliers * a.multiplier_mm2;
  const double pv_mult = c.pv.multipliers * a.multiplier_mm2;
  const double softmax_area = c.softmax.lanes * a.softmax_lane_mm2;
  const Part parts[] = {
      {"qk", &m.qk, key_kib, qk_mult + key_kib * a.sram_mm2_per_kib, key_kib * a.sram_mm2_per_kib,
       qk_mult},
      {"pv", &m.pv, value_kib, pv_mult + value_kib * a.sram_mm2_per_kib,
       value_kib * a.sram_mm2_per_kib, pv_mult},
      {"softmax", &softmax, 0, softmax_area, 0, softmax_area},
      {"topk", &m.topk, topk_kib, topk_area, topk_area - topk_logic, topk_logic},
      {"fetcher", &m.fetcher, 0, a.fetcher_mm2, 0, a.fetcher_mm2},
      {"other", &m.importance, 0, a.other_mm2, 0, a.other_mm2},
  };
  double kib = 0, logic = 0;
  for (const Part& p : parts) {
    kib += p.kib;
    logic += p.logic_area;
  }
  const double dynamic = total.dynamic_j();
  const double overhead = dynamic > 0 ? (total.clock_j + total.control_j) / dynamic : 0.0;
  std::vector<ModuleCost> out;
  for (const Part& p : parts) {
    ModuleCost cost{p.name};
    cost.energy_j = dynamic_j(c.energy, *p.actions) * (1 + overhead) +
                    ratio(p.kib, kib) * total.sram_leakage_j +
                    ratio(p.logic_area, logic) * (total.logic_leakage_j + total.static_j);
    cost.area_mm2 = p.area;
    cost.sram_mm2 = p.sram_area;
    out.push_back(cost);
  }
  return out;
}

double area_mm2(const AccelConfig& c) {
  const AreaParams& a = c.area;
  return (c.qk.multipliers + c.pv.multipliers) * a.multiplier_mm2 +
         static_cast<double>(c.sram.key_bytes + c.sram.value_bytes) / 1024.0 * a.sram_mm2_per_kib +
         c.softmax.lanes * a.softmax_lane_mm2 + 2 * topk_engine_area_mm2(c) + a.fetcher_mm2 +
         a.other_mm2;
}

models::AnalyticalParams analytical_params(const AccelConfig& c) {
  models::AnalyticalParams p;
  p.qk_multipliers = c.qk.multipliers;
  p.qk_latency_cycles = c.sram.read_latency_cycles + c.qk.multiply_cycles + c.qk.reduction_cycles;
  p.softmax_lanes = c.softmax.lanes;
  p.softmax_busy_passes = c.softmax.max_stage == MaxStage::kSerial ? 2 : 1;
  p.softmax_latency_cycles = c.softmax.dequant_cycles + c.softmax.exp_cycles +
                             c.softmax.accumulate_cycles + c.softmax.divide_cycles +
                             c.softmax.quant_cycles;
  p.max_reduce_cycles = c.progressive_quant.max_reduce_cycles;
  p.pv_multipliers = c.pv.multipliers;
  p.pv_latency_cycles = c.sram.read_latency_cycles + c.pv.latency_cycles;
  p.dram_bytes_per_cycle =
      static_cast<std::int64_t>(c.hbm.channels) * c.hbm.bytes_per_cycle_per_channel;
  p.dram_latency_cycles = c.hbm.latency_cycles + 2 * c.fetcher.crossbar_latency_cycles;
  return p;
}

json::object stats_to_json(const AccelConfig& config, const AccelWorkload& workload,
                           const AccelStats& stats) {
  const double seconds = static_cast<double>(stats.cycles) / config.clock_hz;
  const int tb = config.hbm.transaction_bytes;
  auto kind = [&](const DramKindStats& k) {
    return json::object{{"payload_bytes", k.payload_bytes},
                        {"transactions", k.transactions},
                        {"transferred_bytes", k.transactions * tb}};
  };
  const std::int64_t payload = stats.dram_q.payload_bytes + stats.dram_k_msb.payload_bytes +
                               stats.dram_k_lsb.payload_bytes + stats.dram_v.payload_bytes;
  std::int64_t transactions = 0, busy = 0, hits = 0, misses = 0, conflicts = 0;
  json::array per_channel;
  for (const ChannelStats& c : stats.channels) {
    per_channel.push_back(c.transactions);
    transactions += c.transactions;
    busy += c.busy_cycles;
    hits += c.row_hits;
    misses += c.row_misses;
    conflicts += c.row_conflicts;
  }
  const models::DramReduction red = models::dram_reduction(workload.steps);
  std::int64_t executed = 0, dense = 0;
  for (const models::HeadStepShape& s : workload.steps) {
    const models::StepOps ops = models::step_ops(s);
    executed += ops.executed;
    dense += ops.dense;
  }
  const EnergyBreakdown e = energy_of(config, stats);
  const models::AnalyticalResult an = models::analytical_cycles(
      workload.steps, analytical_params(config),
      stats.vtopk_cycles_per_step.size() == workload.steps.size() ? stats.vtopk_cycles_per_step
                                                                  : std::vector<std::int64_t>{});
  const AreaParams& a = config.area;
  const models::ActionCounts& act = stats.actions;
  json::object modules_json;
  for (const ModuleCost& m : module_costs(config, stats)) {
    modules_json[m.name] = json::object{{"energy_j", m.energy_j},
                                        {"power_w", ratio(m.energy_j, seconds)},
                                        {"area_mm2", m.area_mm2},
                                        {"sram_mm2", m.sram_mm2}};
  }

  json::object dram{
      {"bytes_by_kind", json::object{{"q", kind(stats.dram_q)},
                                     {"k_msb", kind(stats.dram_k_msb)},
                                     {"k_lsb_refetch", kind(stats.dram_k_lsb)},
                                     {"v", kind(stats.dram_v)}}},
      {"payload_bytes", payload},
      {"transferred_bytes", transactions * tb},
      {"transactions", transactions},
      {"transactions_per_channel", per_channel},
      {"row_hits", hits},
      {"row_misses", misses},
      {"row_conflicts", conflicts},
      {"bandwidth_utilization",
       ratio(static_cast<double>(busy), static_cast<double>(stats.cycles) * config.hbm.channels)},
      {"dense_baseline_bytes", red.dense_bytes},
      {"reduction",
       json::object{
           {"total", ratio(static_cast<double>(red.dense_bytes), static_cast<double>(payload))},
           {"head_pruning", red.head_factor()},
           {"token_pruning", red.token_factor()},
           {"local_v_pruning", red.local_v_factor()},
           {"quantization", red.quant_factor()},
           {"total_vs_transferred",
            ratio(static_cast<double>(red.dense_bytes), static_cast<double>(transactions * tb))}}}};
  json::object out{
      {"workload", workload.source},
      {"workload_kind", workload.from_trace ? "attention-trace" : "csv"},
      {"config", config.name},
      {"cycles", stats.cycles},
      {"seconds", seconds},
      {"head_steps", stats.head_steps},
      {"requant_head_steps", stats.requant_steps},
      {"dram", dram},
      {"utilization",
       json::object{{"fetcher", stage(stats.fetcher, stats.cycles)},
                    {"qk", stage(stats.qk, stats.cycles)},
                    {"softmax", stage(stats.softmax, stats.cycles)},
                    {"softmax_divide", stage(stats.softmax_divide, stats.cycles)},
                    {"requant_controller", stage(stats.requant, stats.cycles)},
                    {"local_v_topk", stage(stats.vtopk, stats.cycles)},
                    {"token_topk", stage(stats.token_topk, stats.cycles)},
                    {"token_importance", stage(stats.token_importance, stats.cycles)},
                    {"pv", stage(stats.pv, stats.cycles)},
                    {"head_importance", stage(stats.head_importance, stats.cycles)}}},
      {"topk", json::object{{"local_v_jobs", stats.vtopk.jobs},
                            {"local_v_busy_cycles", stats.vtopk.busy_cycles},
                            {"local_v_queue_cycles", stats.vtopk_queue_cycles},
                            {"local_v_added_latency_cycles", stats.vtopk_added_cycles},
                            {"token_jobs", stats.token_topk.jobs},
                            {"token_busy_cycles", stats.token_topk.busy_cycles},
                            {"token_issue_stall_cycles", stats.token_topk_stall_cycles}}},
      {"fetch_issue_stall_cycles", stats.fetch_issue_stall_cycles},
      {"key_buffer_peak_head_steps", stats.key_buffer_peak_head_steps},
      {"value_buffer_peak_head_steps", stats.value_buffer_peak_head_steps},
      {"ops",
       json::object{{"executed", executed},
                    {"dense_equivalent", dense},
                    {"executed_ops_per_s", ratio(static_cast<double>(executed), seconds)},
                    {"dense_equivalent_ops_per_s", ratio(static_cast<double>(dense), seconds)}}},
      {"actions", json::object{{"macs", act.macs},
                               {"comparisons", act.comparisons},
                               {"adds", act.adds},
                               {"exps", act.exps},
                               {"divides", act.divides},
                               {"sram_read_bytes", act.sram_read_bytes},
                               {"sram_write_bytes", act.sram_write_bytes},
                               {"dram_read_bytes", act.dram_read_bytes}}},
      {"energy_j", json::object{{"mac", e.mac_j},
                                {"compare", e.compare_j},
                                {"add", e.add_j},
                                {"exp", e.exp_j},
                                {"divide", e.divide_j},
                                {"sram", e.sram_j},
                                {"static", e.static_j},
                                {"sram_leakage", e.sram_leakage_j},
                                {"logic_leakage", e.logic_leakage_j},
                                {"clock", e.clock_j},
                                {"control", e.control_j},
                                {"on_chip", e.on_chip_j()},
                                {"dram", e.dram_j},
                                {"total", e.total_j()}}},
      {"power_w", json::object{{"on_chip", ratio(e.on_chip_j(), seconds)},
                               {"dram", ratio(e.dram_j, seconds)},
                               {"total", ratio(e.total_j(), seconds)}}},
      {"area_mm2",
       json::object{
           {"multipliers", (config.qk.multipliers + config.pv.multipliers) * a.multiplier_mm2},
           {"sram", static_cast<double>(config.sram.key_bytes + config.sram.value_bytes) / 1024.0 *
                        a.sram_mm2_per_kib},
           {"softmax", config.softmax.lanes * a.softmax_lane_mm2},
           {"topk_engines", 2 * topk_engine_area_mm2(config)},
           {"fetcher", a.fetcher_mm2},
           {"other", a.other_mm2},
           {"total", area_mm2(config)}}},
      {"modules", modules_json},
      {"analytical",
       json::object{{"additive_cycles", an.additive_cycles},
                    {"bound_cycles", an.bound_cycles},
                    {"dram_cycles", an.dram_cycles},
                    {"qk_cycles", an.qk_cycles},
                    {"softmax_cycles", an.softmax_cycles},
                    {"local_v_topk_cycles", an.topk_cycles},
                    {"pv_cycles", an.pv_cycles},
                    {"systemc_over_additive", ratio(static_cast<double>(stats.cycles),
                                                    static_cast<double>(an.additive_cycles))}}}};
  return out;
}

std::string stats_table(const json::object& s) {
  auto num = [](const json::value& v) {
    return v.is_double() ? v.as_double() : static_cast<double>(v.as_int64());
  };
  const json::object& dram = s.at("dram").as_object();
  const json::object& red = dram.at("reduction").as_object();
  const json::object& kinds = dram.at("bytes_by_kind").as_object();
  std::ostringstream o;
  char line[256];
  auto row = [&](const char* label, const char* fmt, double v) {
    std::snprintf(line, sizeof line, fmt, v);
    o << "  " << label << std::string(34 - std::string(label).size(), ' ') << line << '\n';
  };
  o << "spatten-sim: " << s.at("workload").as_string().c_str() << " on "
    << s.at("config").as_string().c_str() << '\n';
  row("cycles", "%.0f", num(s.at("cycles")));
  row("time (ms)", "%.4f", num(s.at("seconds")) * 1e3);
  row("head-steps", "%.0f", num(s.at("head_steps")));
  row("LSB re-fetch head-steps", "%.0f", num(s.at("requant_head_steps")));
  for (const char* k : {"q", "k_msb", "k_lsb_refetch", "v"}) {
    row((std::string("DRAM ") + k + " (MB payload)").c_str(), "%.3f",
        num(kinds.at(k).as_object().at("payload_bytes")) / 1e6);
  }
  row("DRAM transferred (MB)", "%.3f", num(dram.at("transferred_bytes")) / 1e6);
  row("dense baseline (MB)", "%.3f", num(dram.at("dense_baseline_bytes")) / 1e6);
  row("DRAM reduction (x)", "%.2f", num(red.at("total")));
  row("  from head pruning (x)", "%.3f", num(red.at("head_pruning")));
  row("  from token pruning (x)", "%.3f", num(red.at("token_pruning")));
  row("  from local V pruning (x)", "%.3f", num(red.at("local_v_pruning")));
  row("  from quantization (x)", "%.3f", num(red.at("quantization")));
  row("DRAM bandwidth utilization", "%.3f", num(dram.at("bandwidth_utilization")));
  const json::object& ops = s.at("ops").as_object();
  row("executed TOPS", "%.4f", num(ops.at("executed_ops_per_s")) / 1e12);
  row("dense-equivalent TOPS", "%.4f", num(ops.at("dense_equivalent_ops_per_s")) / 1e12);
  const json::object& util = s.at("utilization").as_object();
  for (const auto& kv : util) {
    row((std::string("utilization ") + std::string(kv.key())).c_str(), "%.3f",
        num(kv.value().as_object().at("utilization")));
  }
  const json::object& topk = s.at("topk").as_object();
  row("local-V top-k added latency (cyc)", "%.0f", num(topk.at("local_v_added_latency_cycles")));
  row("token top-k issue stalls (cyc)", "%.0f", num(topk.at("token_issue_stall_cycles")));
  const json::object& p = s.at("power_w").as_object();
  row("power on chip (W)", "%.3f", num(p.at("on_chip")));
  row("power DRAM (W)", "%.3f", num(p.at("dram")));
  row("energy total (mJ)", "%.4f", num(s.at("energy_j").as_object().at("total")) * 1e3);
  row("area (mm^2)", "%.2f", num(s.at("area_mm2").as_object().at("total")));
  const json::object& an = s.at("analytical").as_object();
  row("analytical additive (cycles)", "%.0f", num(an.at("additive_cycles")));
  row("analytical bound (cycles)", "%.0f", num(an.at("bound_cycles")));
  return o.str();
}

}  // namespace attnsim::accel
