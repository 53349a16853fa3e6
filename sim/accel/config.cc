// AccelConfig: validation, the YAML loader (with preset inheritance) and the resolved-config JSON.
// One field table per section serves the loader, the unknown-key check and the JSON writer, so a
// new parameter is added in exactly one place.
#include "sim/accel/config.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "sim/common/input_error.h"
#include "sim/common/yaml_reader.h"

namespace attnsim::accel {
namespace {

namespace fs = std::filesystem;
using common::InputError;
using common::YamlReader;

// A config field: its YAML name and where its value lives.
struct Field {
  const char* name;
  std::variant<int*, std::int64_t*, std::uint64_t*, double*, bool*, std::string*,
               std::vector<double>*>
      target;
};

struct Section {
  const char* name;  // "" for top-level scalars
  std::vector<Field> fields;
};

// The single description of the file format. HbmParams::timing and the top-k LFSR seed (16-bit)
// are special-cased in the loader because their YAML forms are a name and a bounded integer.
std::vector<Section> sections(AccelConfig& c, std::int64_t& lfsr_seed, std::string& timing,
                              std::string& microarch, std::string& allocation,
                              std::string& max_stage) {
  models::TopkParams& t = c.topk.engine;
  return {
      {"", {{"name", &c.name}, {"clock_hz", &c.clock_hz}, {"detailed", &c.detailed}}},
      {"hbm",
       {{"timing", &timing},
        {"channels", &c.hbm.channels},
        {"transaction_bytes", &c.hbm.transaction_bytes},
        {"bytes_per_cycle_per_channel", &c.hbm.bytes_per_cycle_per_channel},
        {"latency_cycles", &c.hbm.latency_cycles},
        {"pseudo_channels", &c.hbm.pseudo_channels},
        {"banks_per_channel", &c.hbm.banks_per_channel},
        {"bank_groups", &c.hbm.bank_groups},
        {"row_bytes", &c.hbm.row_bytes},
        {"t_rcd_cycles", &c.hbm.t_rcd_cycles},
        {"t_rp_cycles", &c.hbm.t_rp_cycles},
        {"t_cl_cycles", &c.hbm.t_cl_cycles},
        {"t_ras_cycles", &c.hbm.t_ras_cycles},
        {"t_rrd_cycles", &c.hbm.t_rrd_cycles},
        {"t_rrd_s_cycles", &c.hbm.t_rrd_s_cycles},
        {"t_ccd_l_cycles", &c.hbm.t_ccd_l_cycles},
        {"t_ccd_s_cycles", &c.hbm.t_ccd_s_cycles},
        {"t_faw_cycles", &c.hbm.t_faw_cycles},
        {"t_refi_cycles", &c.hbm.t_refi_cycles},
        {"t_rfc_cycles", &c.hbm.t_rfc_cycles}}},
      {"fetcher",
       {{"address_ports", &c.fetcher.address_ports},
        {"data_ports", &c.fetcher.data_ports},
        {"crossbar_latency_cycles", &c.fetcher.crossbar_latency_cycles}}},
      {"sram",
       {{"key_bytes", &c.sram.key_bytes},
        {"value_bytes", &c.sram.value_bytes},
        {"read_latency_cycles", &c.sram.read_latency_cycles}}},
      {"qk",
       {{"multipliers", &c.qk.multipliers},
        {"multiply_cycles", &c.qk.multiply_cycles},
        {"reduction_cycles", &c.qk.reduction_cycles}}},
      {"softmax",
       {{"max_stage", &max_stage},
        {"lanes", &c.softmax.lanes},
        {"dequant_cycles", &c.softmax.dequant_cycles},
        {"exp_cycles", &c.softmax.exp_cycles},
        {"accumulate_cycles", &c.softmax.accumulate_cycles},
        {"divide_cycles", &c.softmax.divide_cycles},
        {"quant_cycles", &c.softmax.quant_cycles}}},
      {"progressive_quant",
       {{"enabled", &c.progressive_quant.enabled},
        {"max_reduce_cycles", &c.progressive_quant.max_reduce_cycles}}},
      {"topk",
       {{"microarch", &microarch},
        {"lanes", &t.lanes},
        {"score_bits", &t.score_bits},
        {"max_n", &t.max_n},
        {"lfsr_seed", &lfsr_seed},
        {"pivot_setup_cycles", &t.pivot_setup_cycles},
        {"pass_pipeline_cycles", &t.pass_pipeline_cycles},
        {"pass_finish_cycles", &t.pass_finish_cycles},
        {"output_pipeline_cycles", &t.output_pipeline_cycles},
        {"synthetic_seed", &c.topk.synthetic_seed}}},
      {"pv", {{"multipliers", &c.pv.multipliers}, {"latency_cycles", &c.pv.latency_cycles}}},
      {"pipeline",
       {{"fifo_depth", &c.pipeline.fifo_depth},
        {"buffer_allocation", &allocation},
        {"ring_handles", &c.pipeline.ring_handles}}},
      {"energy",
       {{"mac_pj", &c.energy.mac_pj},
        {"compare_pj", &c.energy.compare_pj},
        {"add_pj", &c.energy.add_pj},
        {"exp_pj", &c.energy.exp_pj},
        {"divide_pj", &c.energy.divide_pj},
        {"sram_read_pj_per_byte", &c.energy.sram_read_pj_per_byte},
        {"sram_write_pj_per_byte", &c.energy.sram_write_pj_per_byte},
        {"dram_pj_per_byte", &c.energy.dram_pj_per_byte},
        {"static_power_w", &c.energy.static_power_w},
        {"sram_leakage_mw_per_kib", &c.energy.sram_leakage_mw_per_kib},
        {"logic_leakage_mw_per_mm2", &c.energy.logic_leakage_mw_per_mm2},
        {"clock_fraction", &c.energy.clock_fraction},
        {"control_fraction", &c.energy.control_fraction}}},
      {"area",
       {{"multiplier_mm2", &c.area.multiplier_mm2},
        {"sram_mm2_per_kib", &c.area.sram_mm2_per_kib},
        {"softmax_lane_mm2", &c.area.softmax_lane_mm2},
        {"topk_engine_mm2", &c.area.topk_engine_mm2},
        {"topk_logic_share", &c.area.topk_logic_share},
        {"fetcher_mm2", &c.area.fetcher_mm2},
        {"other_mm2", &c.area.other_mm2}}},
      {"algorithm",
       {{"token_keep", &c.algorithm.token_keep},
        {"head_keep", &c.algorithm.head_keep},
        {"value_keep", &c.algorithm.value_keep},
        {"quantize", &c.algorithm.quantize},
        {"progressive", &c.algorithm.progressive},
        {"requant_threshold", &c.algorithm.requant_threshold},
        {"query_bits", &c.algorithm.query_bits},
        {"key_msb_bits", &c.algorithm.key_msb_bits},
        {"key_lsb_bits", &c.algorithm.key_lsb_bits},
        {"value_bits", &c.algorithm.value_bits},
        {"prob_frac_bits", &c.algorithm.prob_frac_bits},
        {"prompt_all_queries", &c.algorithm.prompt_all_queries}}},
  };
}

template <typename T>
void read_value(const YamlReader& parent, const char* name, T* target) {
  *target = parent.child(name).as<T>();
}

void read_value(const YamlReader& parent, const char* name, std::vector<double>* target) {
  target->clear();
  for (const YamlReader& item : parent.list(name)) target->push_back(item.as<double>());
}

void read_field(const YamlReader& parent, const Field& field) {
  std::visit([&](auto* target) { read_value(parent, field.name, target); }, field.target);
}

void check_keys(const YamlReader& node, const std::vector<Field>& fields,
                const std::set<std::string>& extra) {
  if (!node.node().IsMap()) node.fail("a mapping", "another kind of node");
  for (const auto& entry : node.node()) {
    const std::string key = entry.first.as<std::string>();
    bool known = extra.count(key) > 0;
    for (const Field& f : fields) known = known || key == f.name;
    if (known) continue;
    std::string names;
    for (const Field& f : fields) names += (names.empty() ? "" : ", ") + std::string(f.name);
    for (const std::string& e : extra) names += ", " + e;
    node.child(key).fail("one of the keys {" + names + "}", "unknown key '" + key + "'");
  }
}

// `referrer` names who asked for the file: "" for the command line's config, else the
// "<file>:<line>: inherits" entry, so a bad inherited name points at the YAML that holds it.
fs::path resolve(const std::string& name_or_path, const fs::path& preset_dir,
                 const std::string& referrer) {
  const bool is_path =
      name_or_path.find('/') != std::string::npos ||
      (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".yaml");
  const fs::path file = is_path ? fs::path(name_or_path) : preset_dir / (name_or_path + ".yaml");
  std::error_code status;
  if (!fs::is_regular_file(file, status)) {
    std::string known;
    std::error_code ec;
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(preset_dir, ec)) {
      if (e.path().extension() == ".yaml") names.insert(e.path().stem().string());
    }
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    const std::string got = status ? "'" + name_or_path + "': " + status.message()
                                   : "'" + name_or_path + "': no such file";
    if (referrer.empty()) {
      throw InputError(name_or_path, "config", "a YAML file or a preset name (" + known + ")",
                       status ? status.message() : "no such file");
    }
    throw InputError(referrer, "inherits", "a YAML file or a preset name (" + known + ")", got);
  }
  return file;
}

// Fills `config` from the file, after its parent when it inherits one.
void load_into(AccelConfig& config, const std::string& name_or_path, const fs::path& preset_dir,
               int depth, const std::string& referrer) {
  const fs::path file = resolve(name_or_path, preset_dir, referrer);
  if (depth > 8) throw InputError(file.string(), "inherits", "a chain of at most 8", "a cycle");
  const YamlReader root = YamlReader::load_file(file);
  if (root.has("inherits")) {
    const YamlReader base = root.child("inherits");
    load_into(config, base.as<std::string>(), preset_dir, depth + 1, base.location());
  }
  std::int64_t lfsr_seed = config.topk.engine.lfsr_seed;
  std::string timing = hbm_timing_name(config.hbm.timing);
  std::string microarch = models::to_string(config.topk.engine.microarch);
  std::string allocation = to_string(config.pipeline.buffer_allocation);
  std::string max_stage = to_string(config.softmax.max_stage);
  const std::vector<Section> all =
      sections(config, lfsr_seed, timing, microarch, allocation, max_stage);
  std::set<std::string> top_keys = {"inherits"};
  std::vector<Field> top_fields;
  for (const Section& s : all) {
    if (std::string(s.name).empty()) {
      top_fields = s.fields;
    } else {
      top_keys.insert(s.name);
    }
  }
  check_keys(root, top_fields, top_keys);
  for (const Section& s : all) {
    const bool top = std::string(s.name).empty();
    if (!top && !root.has(s.name)) continue;
    const YamlReader node = top ? root : root.child(s.name);
    if (!top) check_keys(node, s.fields, {});
    for (const Field& f : s.fields) {
      if (node.has(f.name)) read_field(node, f);
    }
  }
  if (timing == "plain") {
    config.hbm.timing = HbmTiming::kPlain;
  } else if (timing == "banked") {
    config.hbm.timing = HbmTiming::kBanked;
  } else {
    root.child("hbm").child("timing").fail("'plain' or 'banked'", "'" + timing + "'");
  }
  if (!models::parse_topk_microarch(microarch, config.topk.engine.microarch)) {
    root.child("topk")
        .child("microarch")
        .fail("'sequential', 'pipelined' or 'overlapped'", "'" + microarch + "'");
  }
  if (max_stage == "serial") {
    config.softmax.max_stage = MaxStage::kSerial;
  } else if (max_stage == "pipelined") {
    config.softmax.max_stage = MaxStage::kPipelined;
  } else if (max_stage == "none") {
    config.softmax.max_stage = MaxStage::kNone;
  } else {
    root.child("softmax")
        .child("max_stage")
        .fail("'serial', 'pipelined' or 'none'", "'" + max_stage + "'");
  }
  if (allocation == "halves") {
    config.pipeline.buffer_allocation = BufferAllocation::kHalves;
  } else if (allocation == "ring") {
    config.pipeline.buffer_allocation = BufferAllocation::kRing;
  } else {
    root.child("pipeline")
        .child("buffer_allocation")
        .fail("'halves' or 'ring'", "'" + allocation + "'");
  }
  if (lfsr_seed < 1 || lfsr_seed > 0xFFFF) {
    root.child("topk")
        .child("lfsr_seed")
        .fail("an integer in [1, 65535] (an LFSR state)", std::to_string(lfsr_seed));
  }
  config.topk.engine.lfsr_seed = static_cast<std::uint16_t>(lfsr_seed);
}

bool is_power_of_two(std::int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

}  // namespace

const char* to_string(MaxStage stage) {
  switch (stage) {
    case MaxStage::kPipelined:
      return "pipelined";
    case MaxStage::kNone:
      return "none";
    default:
      return "serial";
  }
}

const char* to_string(BufferAllocation allocation) {
  return allocation == BufferAllocation::kRing ? "ring" : "halves";
}

const char* hbm_timing_name(HbmTiming timing) {
  return timing == HbmTiming::kPlain ? "plain" : "banked";
}

models::Violations HbmParams::validate() const {
  models::Violations v;
  v.require_in_range("channels", channels, 1, 1024);
  v.require(is_power_of_two(transaction_bytes) && transaction_bytes <= 4096, "transaction_bytes",
            "a power of two in [1, 4096]", transaction_bytes);
  v.require_in_range("bytes_per_cycle_per_channel", bytes_per_cycle_per_channel, 1, 4096);
  v.require_in_range("latency_cycles", latency_cycles, 0, 100000);
  v.require_in_range("pseudo_channels", pseudo_channels, 1, 16);
  v.require_in_range("banks_per_channel", banks_per_channel, 1, 1024);
  v.require_in_range("bank_groups", bank_groups, 1, 1024);
  // Only between valid counts: a 0 would divide by zero.
  if (pseudo_channels >= 1 && pseudo_channels <= 16) {
    v.require(bytes_per_cycle_per_channel % pseudo_channels == 0, "bytes_per_cycle_per_channel",
              "a multiple of pseudo_channels (" + std::to_string(pseudo_channels) + ")",
              bytes_per_cycle_per_channel);
    v.require(banks_per_channel % pseudo_channels == 0, "banks_per_channel",
              "a multiple of pseudo_channels (" + std::to_string(pseudo_channels) + ")",
              banks_per_channel);
    if (bank_groups >= 1 && banks_per_channel % pseudo_channels == 0) {
      v.require((banks_per_channel / pseudo_channels) % bank_groups == 0, "bank_groups",
                "a divisor of banks_per_channel / pseudo_channels (" +
                    std::to_string(banks_per_channel / pseudo_channels) + ")",
                bank_groups);
    }
  }
  // Only against a valid transaction size: a 0 would divide by zero (SIGFPE, found by a probe).
  if (transaction_bytes > 0) {
    v.require(row_bytes >= transaction_bytes && row_bytes % transaction_bytes == 0, "row_bytes",
              "a multiple of transaction_bytes", row_bytes);
  }
  v.require_in_range("t_rcd_cycles", t_rcd_cycles, 0, 10000);
  v.require_in_range("t_rp_cycles", t_rp_cycles, 0, 10000);
  v.require_in_range("t_cl_cycles", t_cl_cycles, 0, 10000);
  v.require_in_range("t_ras_cycles", t_ras_cycles, 0, 10000);
  v.require_in_range("t_rrd_cycles", t_rrd_cycles, 0, 10000);
  v.require_in_range("t_ccd_l_cycles", t_ccd_l_cycles, 0, 10000);
  // The short (other bank group) spacing never exceeds the long one (JESD235; Ramulator 2's
  // HBM2 preset: nRRDS 2 <= nRRDL 3, nCCDS 1 <= nCCDL 2).
  v.require(t_rrd_s_cycles >= 0 && t_rrd_s_cycles <= std::max(t_rrd_cycles, 0), "t_rrd_s_cycles",
            "in [0, t_rrd_cycles]", t_rrd_s_cycles);
  v.require(t_ccd_s_cycles >= 0 && t_ccd_s_cycles <= std::max(t_ccd_l_cycles, 0), "t_ccd_s_cycles",
            "in [0, t_ccd_l_cycles]", t_ccd_s_cycles);
  v.require_in_range("t_faw_cycles", t_faw_cycles, 0, 10000);
  v.require_in_range("t_refi_cycles", t_refi_cycles, 0, 1000000);
  v.require(
      t_refi_cycles == 0 ? t_rfc_cycles == 0 : t_rfc_cycles > 0 && t_rfc_cycles < t_refi_cycles,
      "t_rfc_cycles", "0 without refresh, else in [1, t_refi_cycles)", t_rfc_cycles);
  return v;
}

models::Violations AccelConfig::validate() const {
  models::Violations v;
  // SystemC time has a 1 ps resolution: the period must be a whole number of picoseconds, else
  // cycle counts would drift (sim/accel/clock.h).
  const double period_ps = clock_hz > 0 ? 1e12 / clock_hz : 0;
  v.require(clock_hz > 0 && std::isfinite(clock_hz) && clock_hz <= 1e12 &&
                std::abs(period_ps - std::round(period_ps)) <= 1e-6 * period_ps,
            "clock_hz", "a frequency in (0, 1e12] Hz whose period is a whole number of ps",
            clock_hz);
  v.merge(hbm.validate(), "hbm");
  v.require_in_range("fetcher.address_ports", fetcher.address_ports, 1, 4096);
  v.require_in_range("fetcher.data_ports", fetcher.data_ports, 1, 4096);
  v.require_in_range("fetcher.crossbar_latency_cycles", fetcher.crossbar_latency_cycles, 0, 1000);
  v.require(sram.key_bytes > 0, "sram.key_bytes", "a positive byte count", sram.key_bytes);
  v.require(sram.value_bytes > 0, "sram.value_bytes", "a positive byte count", sram.value_bytes);
  v.require_in_range("sram.read_latency_cycles", sram.read_latency_cycles, 0, 1000);
  v.require_in_range("qk.multipliers", qk.multipliers, 1, 1 << 20);
  v.require_in_range("qk.multiply_cycles", qk.multiply_cycles, 0, 1000);
  v.require_in_range("qk.reduction_cycles", qk.reduction_cycles, 0, 1000);
  v.require_in_range("softmax.lanes", softmax.lanes, 1, 4096);
  for (const auto& [field, value] :
       {std::pair<const char*, int>{"dequant_cycles", softmax.dequant_cycles},
        {"exp_cycles", softmax.exp_cycles},
        {"accumulate_cycles", softmax.accumulate_cycles},
        {"divide_cycles", softmax.divide_cycles},
        {"quant_cycles", softmax.quant_cycles}}) {
    v.require_in_range(std::string("softmax.") + field, value, 0, 1000);
  }
  v.require_in_range("progressive_quant.max_reduce_cycles", progressive_quant.max_reduce_cycles, 0,
                     1000);
  v.merge(topk.engine.validate("topk"), "");
  v.require_in_range("pv.multipliers", pv.multipliers, 1, 1 << 20);
  v.require_in_range("pv.latency_cycles", pv.latency_cycles, 0, 1000);
  // Up to two head-steps (one per key buffer half) sit between the fetcher and the controller;
  // shallower FIFOs could deadlock the re-fetch loop (the fetcher blocked on a full FIFO).
  v.require_in_range("pipeline.fifo_depth", pipeline.fifo_depth, 2, 1024);
  v.require_in_range("pipeline.ring_handles", pipeline.ring_handles, 1, 4096);
  const EnergyParams& e = energy;
  for (const auto& [field, value] : {std::pair<const char*, double>{"mac_pj", e.mac_pj},
                                     {"compare_pj", e.compare_pj},
                                     {"add_pj", e.add_pj},
                                     {"exp_pj", e.exp_pj},
                                     {"divide_pj", e.divide_pj},
                                     {"sram_read_pj_per_byte", e.sram_read_pj_per_byte},
                                     {"sram_write_pj_per_byte", e.sram_write_pj_per_byte},
                                     {"dram_pj_per_byte", e.dram_pj_per_byte},
                                     {"static_power_w", e.static_power_w},
                                     {"sram_leakage_mw_per_kib", e.sram_leakage_mw_per_kib},
                                     {"logic_leakage_mw_per_mm2", e.logic_leakage_mw_per_mm2},
                                     {"clock_fraction", e.clock_fraction},
                                     {"control_fraction", e.control_fraction}}) {
    v.require(value >= 0 && std::isfinite(value), std::string("energy.") + field,
              "a non-negative number", value);
  }
  const AreaParams& a = area;
  for (const auto& [field, value] :
       {std::pair<const char*, double>{"multiplier_mm2", a.multiplier_mm2},
        {"sram_mm2_per_kib", a.sram_mm2_per_kib},
        {"softmax_lane_mm2", a.softmax_lane_mm2},
        {"topk_engine_mm2", a.topk_engine_mm2},
        {"fetcher_mm2", a.fetcher_mm2},
        {"other_mm2", a.other_mm2}}) {
    v.require(value >= 0 && std::isfinite(value), std::string("area.") + field,
              "a non-negative number", value);
  }
  v.require(a.topk_logic_share >= 0 && a.topk_logic_share <= 1, "area.topk_logic_share",
            "a share in [0, 1]", a.topk_logic_share);
  const AlgorithmParams& al = algorithm;
  v.require(al.value_keep > 0 && al.value_keep <= 1, "algorithm.value_keep", "a ratio in (0, 1]",
            al.value_keep);
  v.require(al.requant_threshold >= 0 && al.requant_threshold <= 1, "algorithm.requant_threshold",
            "a probability in [0, 1]", al.requant_threshold);
  v.require_in_range("algorithm.query_bits", al.query_bits, 2, 16);
  v.require_in_range("algorithm.key_msb_bits", al.key_msb_bits, 1, 16);
  v.require_in_range("algorithm.key_lsb_bits", al.key_lsb_bits, 0, 15);
  v.require_in_range("algorithm.value_bits", al.value_bits, 2, 16);
  v.require_in_range("algorithm.prob_frac_bits", al.prob_frac_bits, 4, 16);
  return v;
}

models::Violations AccelConfig::validate_for_shape(int head_dim, int max_tokens,
                                                   int key_bits) const {
  models::Violations v;
  const std::string d = " (D = " + std::to_string(head_dim) + ")";
  v.require(qk.multipliers % head_dim == 0, "qk.multipliers",
            "a multiple of the head dimension" + d, qk.multipliers);
  v.require(pv.multipliers % head_dim == 0, "pv.multipliers",
            "a multiple of the head dimension" + d, pv.multipliers);
  // Double-buffered: each half must hold one head's keys (or values) at full precision; a ring
  // must hold one head's.
  const std::int64_t one_head =
      (static_cast<std::int64_t>(max_tokens) * head_dim * key_bits + 7) / 8;
  const int copies = pipeline.buffer_allocation == BufferAllocation::kHalves ? 2 : 1;
  const std::string need = "at least " + std::to_string(copies) + " x " + std::to_string(one_head) +
                           " bytes (" + std::to_string(copies) + " buffer(s) of " +
                           std::to_string(max_tokens) + " tokens x " + std::to_string(head_dim) +
                           " dims x " + std::to_string(key_bits) + " bits)";
  v.require(sram.key_bytes >= copies * one_head, "sram.key_bytes", need, sram.key_bytes);
  v.require(sram.value_bytes >= copies * one_head, "sram.value_bytes", need, sram.value_bytes);
  v.require(topk.engine.max_n >= max_tokens, "topk.max_n",
            "at least the longest sentence (" + std::to_string(max_tokens) + " tokens)",
            topk.engine.max_n);
  return v;
}

AccelConfig load_accel_config(const std::string& name_or_path, const fs::path& preset_dir) {
  AccelConfig config;
  load_into(config, name_or_path, preset_dir, 0, "");
  const models::Violations v = config.validate();
  if (!v.ok()) throw InputError(resolve(name_or_path, preset_dir, "").string(), v.to_string());
  return config;
}

boost::json::object config_to_json(const AccelConfig& config) {
  AccelConfig copy = config;
  std::int64_t lfsr_seed = copy.topk.engine.lfsr_seed;
  std::string timing = hbm_timing_name(copy.hbm.timing);
  std::string microarch = models::to_string(copy.topk.engine.microarch);
  std::string allocation = to_string(copy.pipeline.buffer_allocation);
  std::string max_stage = to_string(copy.softmax.max_stage);
  boost::json::object out;
  for (const Section& s : sections(copy, lfsr_seed, timing, microarch, allocation, max_stage)) {
    boost::json::object fields;
    for (const Field& f : s.fields) {
      boost::json::value value;
      std::visit([&](auto* target) { value = boost::json::value_from(*target); }, f.target);
      fields[f.name] = value;
    }
    if (std::string(s.name).empty()) {
      for (auto& kv : fields) out[kv.key()] = kv.value();
    } else {
      out[s.name] = fields;
    }
  }
  return out;
}

}  // namespace attnsim::accel
