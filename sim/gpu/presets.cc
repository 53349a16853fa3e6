// YAML presets -> GpuSpec / KernelSpec.
#include "sim/gpu/presets.h"

#include <algorithm>
#include <set>

#include "sim/common/input_error.h"
#include "sim/gpu/mask_rule.h"

namespace attnsim::gpu {
namespace {

namespace fs = std::filesystem;
using common::InputError;
using common::YamlReader;

bool looks_like_path(const std::string& text) {
  return text.find('/') != std::string::npos || fs::path(text).extension() == ".yaml";
}

// Reads the fields of `node` over `kernel`, so missing fields keep inherited values.
void read_kernel_fields(const YamlReader& node, KernelSpec& kernel) {
  node.reject_unknown_keys({"name",
                            "inherits",
                            "description",
                            "tile_q",
                            "tile_kv",
                            "visit_rule",
                            "masking_rule",
                            "scheduler",
                            "launch_order",
                            "reverse_q",
                            "longest_first_q",
                            "ctas_per_sm",
                            "head_dim",
                            "dtype",
                            "q_heads_per_kv_head",
                            "unaligned_variant",
                            "mask_evaluation",
                            "calibrated_as",
                            "grid_choice",
                            "clock_headroom",
                            "unmasked_covered_rules",
                            "item_overhead_ratio",
                            "cost",
                            "dense"});
  kernel.name = node.get_or<std::string>("name", kernel.name);
  kernel.tile_q = node.get_or<std::int64_t>("tile_q", kernel.tile_q);
  kernel.tile_kv = node.get_or<std::int64_t>("tile_kv", kernel.tile_kv);
  if (node.has("visit_rule")) {
    const YamlReader field = node.child("visit_rule");
    const auto rule = parse_visit_rule(field.as<std::string>());
    if (!rule) field.fail("one of list, range", "'" + field.as<std::string>() + "'");
    kernel.visit_rule = *rule;
  }
  if (node.has("masking_rule")) {
    const YamlReader field = node.child("masking_rule");
    const auto rule = parse_masking_rule(field.as<std::string>());
    if (!rule) {
      field.fail("one of per_tile, global_fast_path, always_mask",
                 "'" + field.as<std::string>() + "'");
    }
    kernel.masking_rule = *rule;
  }
  kernel.scheduler = node.get_or<std::string>("scheduler", kernel.scheduler);
  const bool reverse_q = node.get_or<bool>("reverse_q", kernel.launch_order.reverse_q);
  kernel.launch_order.reverse_q = reverse_q;
  if (node.has("launch_order")) {
    const YamlReader field = node.child("launch_order");
    const auto order = parse_launch_order(field.as<std::string>(), reverse_q);
    if (!order) {
      field.fail("a permutation of q,b,h, fastest first (e.g. q,b,h)",
                 "'" + field.as<std::string>() + "'");
    }
    kernel.launch_order = *order;
  }
  kernel.launch_order.longest_first_q =
      node.get_or<bool>("longest_first_q", kernel.launch_order.longest_first_q);
  kernel.ctas_per_sm = node.get_or<int>("ctas_per_sm", kernel.ctas_per_sm);
  kernel.head_dim = node.get_or<std::int64_t>("head_dim", kernel.head_dim);
  kernel.dtype = node.get_or<std::string>("dtype", kernel.dtype);
  kernel.q_heads_per_kv_head = node.get_or<int>("q_heads_per_kv_head", kernel.q_heads_per_kv_head);
  kernel.unaligned_variant = node.get_or<bool>("unaligned_variant", kernel.unaligned_variant);
  kernel.calibrated_as = node.get_or<std::string>("calibrated_as", kernel.calibrated_as);
  kernel.item_overhead_ratio =
      node.get_or<double>("item_overhead_ratio", kernel.item_overhead_ratio);
  if (node.has("clock_headroom")) {
    kernel.clock_headroom.clear();
    for (const YamlReader& entry : node.list("clock_headroom")) {
      entry.reject_unknown_keys({"head_dim", "ratio"});
      kernel.clock_headroom.push_back(
          {entry.get<std::int64_t>("head_dim"), entry.get<double>("ratio")});
    }
  }
  if (node.has("unmasked_covered_rules")) {
    kernel.unmasked_covered_rules.clear();
    for (const YamlReader& entry : node.list("unmasked_covered_rules")) {
      const std::string rule = entry.as<std::string>();
      if (!is_mask_rule_name(rule))
        entry.fail("a mask rule name (mask_rules.md)", "'" + rule + "'");
      kernel.unmasked_covered_rules.push_back(rule);
    }
  }
  if (node.has("mask_evaluation")) {
    const YamlReader field = node.child("mask_evaluation");
    const auto evaluation = parse_mask_evaluation(field.as<std::string>());
    if (!evaluation) {
      field.fail("expression or precomputed", "'" + field.as<std::string>() + "'");
    }
    kernel.mask_evaluation = *evaluation;
  }
  if (node.has("cost")) {
    const YamlReader cost = node.child("cost");
    cost.reject_unknown_keys({"mma_efficiency", "mask_op_efficiency", "cta_overhead_us",
                              "launch_overhead_us", "host_floor_us", "unaligned_tile_cost_ratio",
                              "unaligned_mask_factor", "unaligned_weights", "neighborhood_ops",
                              "precomputed_neighborhood"});
    kernel.mma_efficiency = cost.get_or<double>("mma_efficiency", kernel.mma_efficiency);
    kernel.mask_op_efficiency =
        cost.get_or<double>("mask_op_efficiency", kernel.mask_op_efficiency);
    kernel.host_floor_us = cost.get_or<double>("host_floor_us", kernel.host_floor_us);
    kernel.unaligned_tile_cost_ratio =
        cost.get_or<double>("unaligned_tile_cost_ratio", kernel.unaligned_tile_cost_ratio);
    kernel.unaligned_mask_factor =
        cost.get_or<double>("unaligned_mask_factor", kernel.unaligned_mask_factor);
    if (cost.has("unaligned_weights")) {
      kernel.unaligned_weights.clear();
      for (const YamlReader& entry : cost.list("unaligned_weights")) {
        entry.reject_unknown_keys({"multiple_of", "weight"});
        kernel.unaligned_weights.push_back(
            {entry.get<std::int64_t>("multiple_of"), entry.get<double>("weight")});
      }
    }
    if (cost.has("neighborhood_ops")) {
      const YamlReader ops = cost.child("neighborhood_ops");
      ops.reject_unknown_keys({"dims", "dilated_dim", "non_pow2_dilation", "non_pow2_extent"});
      KernelSpec::NeighborhoodOps& n = kernel.neighborhood_ops;
      if (ops.has("dims")) {
        const std::vector<YamlReader> dims = ops.list("dims");
        if (dims.size() != n.dims.size()) {
          ops.child("dims").fail("a list of 3 numbers (1-D, 2-D, 3-D)",
                                 std::to_string(dims.size()) + " entries");
        }
        for (std::size_t i = 0; i < dims.size(); ++i) n.dims[i] = dims[i].as<double>();
      }
      n.dilated_dim = ops.get_or<double>("dilated_dim", n.dilated_dim);
      n.non_pow2_dilation = ops.get_or<double>("non_pow2_dilation", n.non_pow2_dilation);
      n.non_pow2_extent = ops.get_or<double>("non_pow2_extent", n.non_pow2_extent);
    }
    if (cost.has("precomputed_neighborhood")) {
      const YamlReader ops = cost.child("precomputed_neighborhood");
      ops.reject_unknown_keys({"word_ops_per_dim", "interval_1d_ops"});
      KernelSpec::PrecomputedNeighborhood& p = kernel.precomputed_neighborhood;
      p.word_ops_per_dim = ops.get_or<double>("word_ops_per_dim", p.word_ops_per_dim);
      if (ops.has("interval_1d_ops")) p.interval_1d_ops = ops.get<double>("interval_1d_ops");
    }
    kernel.cta_overhead_us = cost.get_or<double>("cta_overhead_us", kernel.cta_overhead_us);
    kernel.launch_overhead_us =
        cost.get_or<double>("launch_overhead_us", kernel.launch_overhead_us);
  }
  if (node.has("dense")) {
    const YamlReader dense = node.child("dense");
    dense.reject_unknown_keys({"tile_q", "tile_kv", "scheduler"});
    if (dense.has("tile_q")) kernel.dense_tile_q = dense.get<std::int64_t>("tile_q");
    if (dense.has("tile_kv")) kernel.dense_tile_kv = dense.get<std::int64_t>("tile_kv");
    if (dense.has("scheduler")) kernel.dense_scheduler = dense.get<std::string>("scheduler");
  }
}

// `referrer` is the "inherits:" entry naming this kernel ("" for the command line's).
KernelSpec load_kernel_unvalidated(const std::string& name_or_path, const PresetDirs& dirs,
                                   int depth, const std::string& referrer) {
  const fs::path file = find_preset("kernels", name_or_path, dirs, referrer);
  const YamlReader root = YamlReader::load_file(file);
  KernelSpec kernel;
  if (root.has("inherits")) {
    const YamlReader base = root.child("inherits");
    if (depth > 8) base.fail("a shallow chain of inherited kernels", "a chain deeper than 8");
    kernel = load_kernel_unvalidated(base.as<std::string>(), dirs, depth + 1,
                                     base.location() + ": " + base.path());
  }
  kernel.name = fs::path(file).stem().string();
  read_kernel_fields(root, kernel);
  if (root.has("grid_choice")) {
    // Each grid is a preset of its own (it runs alone with --kernel); its scheduling fields are
    // what this kernel takes from it.
    const YamlReader choice = root.child("grid_choice");
    choice.reject_unknown_keys({"flat", "persistent"});
    const auto grid = [&](const char* key) {
      const YamlReader field = choice.child(key);
      const std::string name = field.as<std::string>();
      const KernelSpec preset =
          load_kernel_unvalidated(name, dirs, depth + 1, field.location() + ": " + field.path());
      if (preset.grid_choice) field.fail("a preset with one grid", "'" + name + "' (grid_choice)");
      throw_if_invalid(preset.validate(), find_preset("kernels", name, dirs).string());
      return KernelSpec::Grid{name, preset.scheduler, preset.launch_order, preset.dense_scheduler,
                              preset.item_overhead_ratio};
    };
    kernel.grid_choice = KernelSpec::GridChoice{grid("flat"), grid("persistent")};
  }
  return kernel;
}

}  // namespace

void throw_if_invalid(const models::Violations& violations, const std::string& source) {
  if (violations.ok()) return;
  throw InputError(source, violations.to_string());
}

fs::path find_preset(const std::string& kind, const std::string& name_or_path,
                     const PresetDirs& dirs, const std::string& referrer) {
  const std::string singular = kind.substr(0, kind.size() - 1);
  const std::string blamed = !referrer.empty() ? referrer : kind == "gpus" ? "--gpu" : "--kernel";
  if (looks_like_path(name_or_path)) {
    std::error_code ec;
    if (!fs::is_regular_file(name_or_path, ec)) {
      throw InputError(blamed, "cannot open " + singular + " file '" + name_or_path +
                                   "': " + (ec ? ec.message() : "no such regular file"));
    }
    return name_or_path;
  }
  for (const fs::path& dir : dirs) {
    const fs::path candidate = dir / kind / (name_or_path + ".yaml");
    std::error_code ec;  // a name too long for the file system is simply not a preset
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  std::string known;
  for (const std::string& name : preset_names(kind, dirs)) {
    known += (known.empty() ? "" : ", ") + name;
  }
  std::string searched;
  for (const fs::path& dir : dirs) searched += (searched.empty() ? "" : ", ") + dir.string();
  throw InputError(blamed, "unknown " + singular + " preset '" + name_or_path +
                               "' (known: " + (known.empty() ? "none" : known) +
                               "; searched: " + (searched.empty() ? "no folders" : searched) + ")");
}

std::vector<std::string> preset_names(const std::string& kind, const PresetDirs& dirs) {
  std::set<std::string> names;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir / kind, ec)) {
      if (entry.path().extension() == ".yaml") names.insert(entry.path().stem().string());
    }
  }
  return {names.begin(), names.end()};
}

GpuSpec load_gpu(const std::string& name_or_path, const PresetDirs& dirs) {
  const fs::path file = find_preset("gpus", name_or_path, dirs);
  const YamlReader root = YamlReader::load_file(file);
  root.reject_unknown_keys({"name", "description", "sm_count", "clock_mhz", "hbm_gb_per_s",
                            "l2_mib", "peak_dense_bf16_tflops", "int32_ops_per_clock_per_sm"});
  GpuSpec gpu;
  gpu.name = root.get_or<std::string>("name", file.stem().string());
  gpu.sm_count = root.get<int>("sm_count");
  gpu.clock_mhz = root.get<double>("clock_mhz");
  gpu.hbm_gb_per_s = root.get<double>("hbm_gb_per_s");
  gpu.l2_mib = root.get<double>("l2_mib");
  gpu.peak_dense_bf16_tflops = root.get<double>("peak_dense_bf16_tflops");
  gpu.int32_ops_per_clock_per_sm =
      root.get_or<double>("int32_ops_per_clock_per_sm", gpu.int32_ops_per_clock_per_sm);
  throw_if_invalid(gpu.validate(), file.string());
  return gpu;
}

KernelSpec load_kernel(const std::string& name_or_path, const PresetDirs& dirs) {
  KernelSpec kernel = load_kernel_unvalidated(name_or_path, dirs, 0, "");
  throw_if_invalid(kernel.validate(), find_preset("kernels", name_or_path, dirs).string());
  return kernel;
}

}  // namespace attnsim::gpu
