// tilesim: the GPU tile-occupancy simulator's command line (bounds, predict, gen, calibrate,
// sweep, presets).
#include <malloc.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sim/common/atomic_file.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/memory_limit.h"
#include "sim/common/output_format.h"
#include "sim/common/run_report.h"
#include "sim/gpu/calibration.h"
#include "sim/gpu/mask_io.h"
#include "sim/gpu/patterns/pattern.h"
#include "sim/gpu/presets.h"
#include "sim/gpu/report.h"
#include "sim/gpu/simulate.h"
#include "sim/gpu/sweep.h"

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using attnsim::common::InputError;
using namespace attnsim::gpu;

constexpr const char* kUsage =
    "usage: tilesim <command> [options]\n"
    "  bounds MASK...     speedup bounds (FLOP, tiles, schedule) per mask\n"
    "  predict MASK...    bounds plus the cost-model prediction (--calibration, --trace)\n"
    "  gen PATTERN        generate a mask (--seq, --heads, pattern options, --seed, --out)\n"
    "  calibrate          fit the cost model to measured runs (--measurements, --out)\n"
    "  sweep              pattern parameters x kernels x GPUs -> CSV (--spec, --out)\n"
    "  presets            list the GPU and kernel presets\n"
    "MASK: an .npz (dense block layout or FlexAttention BlockMask), an .npy of block classes,\n"
    "or an inline pattern 'pattern:NAME,key=value,...' (see `tilesim gen --help`).\n"
    "Run `tilesim <command> --help` for a command's options.\n";

// Preset folders: --preset-dir, then the install tree next to this executable, then the source
// tree this binary was built from (a build-tree binary must not pick up an older install's
// presets), then the configured install prefix (a binary copied out of its install tree).
PresetDirs resolve_preset_dirs(const std::vector<std::string>& user_dirs) {
  PresetDirs dirs(user_dirs.begin(), user_dirs.end());
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / ATTNSIM_GPU_PRESETS_RELATIVE_DIR);
  dirs.push_back(ATTNSIM_GPU_PRESETS_SOURCE_DIR);
  dirs.push_back(ATTNSIM_GPU_PRESETS_INSTALL_DIR);
  return dirs;
}

// A text output: "-" means stdout.
void write_text_output(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return;
  }
  attnsim::common::write_file_atomically(path, text);  // in place for symlinks and devices
}

// Cores this process may run on (its affinity mask, which containers and taskset narrow).
unsigned available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Runs `one` on every mask with up to `jobs` threads and returns the results in mask order, so
// the output is byte-identical whatever the job count. Each worker holds one mask at a time.
// Errors are reported as with one job: the first failing mask in command-line order wins (masks
// after it are not started).
std::vector<Result> run_masks(const std::vector<std::string>& masks, unsigned jobs,
                              const std::function<Result(const std::string&)>& one) {
  const std::size_t n = masks.size();
  std::vector<Result> results(n);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> first_error{n};
  const auto work = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n || i > first_error.load()) return;
      try {
        results[i] = one(masks[i]);
      } catch (...) {
        errors[i] = std::current_exception();
        std::size_t seen = first_error.load();
        while (i < seen && !first_error.compare_exchange_weak(seen, i)) {
        }
      }
    }
  };
  const unsigned threads = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, jobs), n));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return results;
}

// The broadcast layout's size (CSR rows, and each entry's kv index and class) is checked against
// the memory limit before it is built: --batch 1e9 is an input error, not "out of memory".
void check_broadcast_memory(const BlockLayout& layout, std::int64_t batch, std::int64_t heads,
                            const std::string& source) {
  const MaskGeometry& g = layout.geometry;
  const auto pairs = static_cast<std::uint64_t>(std::max<std::int64_t>(1, g.batch * g.heads));
  const std::uint64_t entries_per_pair = layout.kv_block.size() / pairs + 1;
  const std::uint64_t entry_bytes = sizeof(std::int32_t) + sizeof(std::uint8_t);
  std::uint64_t want_pairs = 0, rows = 0, entries = 0, bytes = 0, row_bytes = 0, entry_total = 0;
  const bool overflow =
      __builtin_mul_overflow(static_cast<std::uint64_t>(batch), static_cast<std::uint64_t>(heads),
                             &want_pairs) ||
      __builtin_mul_overflow(want_pairs, static_cast<std::uint64_t>(g.q_blocks()), &rows) ||
      __builtin_mul_overflow(want_pairs, entries_per_pair, &entries) ||
      __builtin_mul_overflow(rows, std::uint64_t{8}, &row_bytes) ||
      __builtin_mul_overflow(entries, entry_bytes, &entry_total) ||
      __builtin_add_overflow(row_bytes, entry_total, &bytes);
  attnsim::common::check_memory(overflow ? std::numeric_limits<std::uint64_t>::max() : bytes,
                                source, "--batch/--heads broadcast layout");
}

po::variables_map parse(int argc, char** argv, const po::options_description& options,
                        const po::positional_options_description& positional) {
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
  po::notify(vm);
  return vm;
}

// Options every simulation command shares: which GPU and kernel, and overrides of the kernel.
struct MachineOptions {
  std::string gpu = "h200";
  std::string kernel = "flexattention";
  std::vector<std::string> preset_dirs;
  std::optional<std::int64_t> tile_q, tile_kv, head_dim;
  std::optional<int> q_heads_per_kv_head, ctas_per_sm;
  std::optional<std::string> dtype, scheduler;

  void add_to(po::options_description& options) {
    options.add_options()("gpu", po::value(&gpu)->default_value(gpu),
                          "GPU preset name or YAML file")(
        "kernel", po::value(&kernel)->default_value(kernel), "kernel preset name or YAML file")(
        "preset-dir", po::value(&preset_dirs)->composing(),
        "extra folder with gpus/ and kernels/ presets (searched first; repeatable)")(
        "tile-q", po::value<std::int64_t>(), "override the kernel's tile_q")(
        "tile-kv", po::value<std::int64_t>(), "override the kernel's tile_kv")(
        "head-dim", po::value<std::int64_t>(), "override the kernel's head_dim")(
        "dtype", po::value<std::string>(), "override the kernel's dtype (bf16, fp16, fp8, fp32)")(
        "gqa", po::value<int>(), "q heads per kv head")("ctas-per-sm", po::value<int>(),
                                                        "override the kernel's CTAs per SM")(
        "scheduler", po::value<std::string>(), "override the kernel's scheduler");
  }
  void read(const po::variables_map& vm) {
    auto take = [&](const char* name, auto& target) {
      using T = typename std::decay_t<decltype(target)>::value_type;
      if (vm.count(name)) target = vm[name].as<T>();
    };
    take("tile-q", tile_q);
    take("tile-kv", tile_kv);
    take("head-dim", head_dim);
    take("dtype", dtype);
    take("gqa", q_heads_per_kv_head);
    take("ctas-per-sm", ctas_per_sm);
    take("scheduler", scheduler);
  }
  GpuSpec load_gpu_spec() const { return load_gpu(gpu, preset_dirs_resolved()); }
  KernelSpec load_kernel_spec() const {
    KernelSpec k = load_kernel(kernel, preset_dirs_resolved());
    if (tile_q) k.tile_q = *tile_q;
    if (tile_kv) k.tile_kv = *tile_kv;
    if (head_dim) k.head_dim = *head_dim;
    if (dtype) k.dtype = *dtype;
    if (q_heads_per_kv_head) k.q_heads_per_kv_head = *q_heads_per_kv_head;
    if (ctas_per_sm) k.ctas_per_sm = *ctas_per_sm;
    if (scheduler && k.grid_choice) {
      // Its grids' schedulers are chosen per mask (simulate()): one override cannot apply.
      throw InputError("--scheduler", "kernel",
                       "a kernel with one grid (" + k.name + " picks " +
                           k.grid_choice->flat.preset + " or " + k.grid_choice->persistent.preset +
                           " per mask: name that preset instead)",
                       "'" + k.name + "'");
    }
    if (scheduler) k.scheduler = *scheduler;
    throw_if_invalid(k.validate(), "kernel '" + kernel + "' with command-line overrides");
    return k;
  }
  PresetDirs preset_dirs_resolved() const { return resolve_preset_dirs(preset_dirs); }
};

int simulate_command(int argc, char** argv, ReportKind kind) {
  MachineOptions machine;
  std::vector<std::string> masks;
  std::string format = "json", out, timeline, trace, calibration, rule_text, baseline_name,
              max_memory;
  std::int64_t batch = 0, heads = 0;
  int jobs = 0;
  po::options_description options(std::string("tilesim ") +
                                  (kind == ReportKind::kBounds ? "bounds" : "predict") +
                                  " [options] MASK...");
  options.add_options()("help,h", "show this help")("mask", po::value(&masks)->composing(),
                                                    "mask files or inline patterns")(
      "format", po::value(&format)->default_value(format), attnsim::common::kOutputFormatHelp)(
      "out", po::value(&out),
      "run folder: results.json (the JSON report, with the resolved GPU, kernel and cost model) "
      "and report.html (interactive plots; --no-report omits it); stdout still gets --format. "
      "Deprecated spelling: a path ending in .json, .csv or .txt "
      "(or -) is written instead of stdout")("no-report", attnsim::common::kNoReportHelp)(
      "batch", po::value(&batch), "broadcast masks stored with batch 1 to this batch size")(
      "heads", po::value(&heads), "broadcast masks stored with 1 head to this many heads")(
      "rule", po::value(&rule_text),
      "token rule applied to every mask (mask_rules.md, e.g. causal_window,window=1024), "
      "replacing the masks' own")(
      "jobs,j", po::value(&jobs)->default_value(jobs),
      "masks read and simulated at once (0: one per available core); the output does not "
      "depend on it")("max-memory", po::value(&max_memory), attnsim::common::kMaxMemoryOptionHelp);
  if (kind == ReportKind::kPredict) {
    options.add_options()("calibration", po::value(&calibration),
                          "cost model fitted by `tilesim calibrate` (JSON)")(
        "trace", po::value(&trace),
        "the per-slot schedule (the timeline): FILE.json as Chrome/Perfetto trace JSON "
        "(ui.perfetto.dev), any other name as CSV")("timeline", po::value(&timeline),
                                                    "deprecated spelling of --trace FILE.csv")(
        "baseline", po::value(&baseline_name),
        "dense baseline: another kernel preset or YAML (its dense configuration, uncalibrated, "
        "with --head-dim/--dtype); default: the kernel's own dense run");
  }
  machine.add_to(options);
  po::positional_options_description positional;
  positional.add("mask", -1);
  const po::variables_map vm = parse(argc, argv, options, positional);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  machine.read(vm);
  attnsim::common::apply_max_memory_option(max_memory);
  if (!timeline.empty()) {
    std::cerr << "tilesim: --timeline FILE is deprecated (kept for one release): use --trace "
                 "FILE.csv (or --trace FILE.json for a Perfetto trace)\n";
    if (trace.empty()) trace = timeline;
  }
  const attnsim::common::OutputFormat output = attnsim::common::parse_output_format(format);
  if (masks.empty()) throw InputError("command line", "MASK", "at least one mask", "none");
  if (jobs < 0) throw InputError("--jobs", "jobs", "0 (all cores) or more", std::to_string(jobs));

  const GpuSpec gpu = machine.load_gpu_spec();
  const KernelSpec kernel = machine.load_kernel_spec();
  CostParams cost = default_cost_params(gpu, kernel);
  std::string cost_source = "kernel preset defaults (uncalibrated)";
  if (!calibration.empty()) {
    cost = read_calibration(calibration, gpu, kernel);
    cost_source = calibration;
  }

  std::optional<Baseline> baseline;
  if (!baseline_name.empty()) {
    KernelSpec base = load_kernel(baseline_name, machine.preset_dirs_resolved());
    base.head_dim = kernel.head_dim;
    base.dtype = kernel.dtype;
    throw_if_invalid(base.validate(), "baseline kernel '" + baseline_name + "'");
    baseline = Baseline{base, default_cost_params(gpu, base)};
  }

  std::optional<MaskRule> rule;
  if (!rule_text.empty()) rule = parse_mask_rule(rule_text, "command line", "--rule");

  // Everything is computed before anything is written: one bad mask leaves no output at all.
  const auto one = [&](const std::string& mask) {
    Workload workload = load_workload(mask, mask, rule);
    const MaskGeometry& g = workload.mask.geometry;
    if (batch > 0 || heads > 0) {
      const std::int64_t want_batch = batch > 0 ? batch : g.batch;
      const std::int64_t want_heads = heads > 0 ? heads : g.heads;
      check_broadcast_memory(workload.mask, want_batch, want_heads, mask);
      std::optional<BlockLayout> broadcast =
          broadcast_layout(workload.mask, want_batch, want_heads);
      if (!broadcast) {
        throw InputError(mask, "--batch/--heads",
                         "a mask with batch 1 or " + std::to_string(want_batch) +
                             " and heads 1 or " + std::to_string(want_heads),
                         "batch " + std::to_string(g.batch) + ", heads " + std::to_string(g.heads));
      }
      workload.mask = std::move(*broadcast);
    }
    throw_if_invalid(check_workload(workload, kernel), mask);
    return simulate(
        workload, gpu, kernel, cost,
        {!trace.empty(), baseline ? &*baseline : nullptr, kind == ReportKind::kPredict});
  };
  const std::vector<Result> results =
      run_masks(masks, jobs > 0 ? static_cast<unsigned>(jobs) : available_cores(), one);

  boost::json::object report;
  report["tool"] = "tilesim";
  report["command"] = kind == ReportKind::kBounds ? "bounds" : "predict";
  report["gpu"] = to_json(gpu);
  report["kernel"] = to_json(kernel);
  if (baseline) report["baseline"] = to_json(baseline->kernel);
  if (kind == ReportKind::kPredict) {
    boost::json::object cost_json = to_json(cost);
    cost_json["source"] = cost_source;
    report["cost_model"] = cost_json;
  }
  boost::json::array items;
  for (const Result& r : results) items.push_back(to_json(r, kind));
  report["results"] = items;
  std::string text;
  if (output == attnsim::common::OutputFormat::kTable) {
    text = format_table(results, kind);
  } else if (output == attnsim::common::OutputFormat::kCsv) {
    text = attnsim::common::rows_of(report["results"].as_array()).to_csv();
  } else {
    text = attnsim::common::to_pretty_json(report);
  }
  const auto is_json = [](const std::string& path) {
    return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  };
  const auto ends_with = [&](const char* suffix) {
    const std::string tail(suffix);
    return out.size() >= tail.size() &&
           out.compare(out.size() - tail.size(), tail.size(), tail) == 0;
  };
  const bool out_is_file =
      out == "-" || ends_with(".json") || ends_with(".csv") || ends_with(".txt");
  // The run folder first: --trace may name a file inside it (its report draws the timeline).
  if (!out.empty() && !out_is_file) fs::create_directories(out);
  if (!trace.empty()) {
    write_text_output(trace, is_json(trace)
                                 ? attnsim::common::to_pretty_json(timeline_chrome_trace(results))
                                 : format_timeline_csv(results));
  }
  if (out_is_file) {
    // The old spelling, kept for one release: the file replaces stdout.
    if (out != "-") {
      std::cerr << "tilesim: --out FILE is deprecated (kept for one release): --out DIR writes a "
                   "run folder (DIR/results.json) and stdout keeps --format\n";
    }
    write_text_output(out, text);
    return 0;
  }
  if (!out.empty()) attnsim::common::write_json_file(fs::path(out) / "results.json", report);
  write_text_output("-", text);
  // Last: the results above are complete whatever becomes of the report.
  if (!out.empty() && !vm.count("no-report")) attnsim::common::write_run_report("tilesim", out);
  return 0;
}

int presets_command(int argc, char** argv) {
  std::vector<std::string> dirs;
  po::options_description options("tilesim presets [--preset-dir DIR]");
  options.add_options()("help,h", "show this help")("preset-dir", po::value(&dirs)->composing(),
                                                    "extra preset folder (searched first)");
  const po::variables_map vm = parse(argc, argv, options, {});
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  for (const char* kind : {"gpus", "kernels"}) {
    std::cout << kind << ":";
    for (const std::string& name : preset_names(kind, resolve_preset_dirs(dirs)))
      std::cout << ' ' << name;
    std::cout << '\n';
  }
  return 0;
}

int gen_command(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args.front() == "--help" || args.front() == "-h") {
    std::cout << "usage: tilesim gen PATTERN --seq N --heads H [--batch B] [--seq-kv N]\n"
                 "                   [--block-q 128] [--block-kv 128] [pattern options]\n"
                 "                   [--seed S] [--format dense|flex] [--max-memory SIZE]\n"
                 "                   --out M.npz\n\n"
                 "--max-memory: "
              << attnsim::common::kMaxMemoryOptionHelp << "\n\n"
              << pattern_help();
    return 0;
  }
  GenRequest request = parse_gen_arguments(args);
  attnsim::common::apply_max_memory_option(request.max_memory);
  if (request.out.empty()) throw InputError("command line", "--out", "an output .npz path", "none");
  const std::string& out = request.out;
  const BlockLayout layout = generate_pattern(request.spec);
  write_mask(out, layout, request.format);
  return 0;
}

int calibrate_command(int argc, char** argv) {
  MachineOptions machine;
  std::string measurements, out, rule_text;
  int fit_runs = 5;
  int rule_runs = 0;
  po::options_description options(
      "tilesim calibrate --gpu G --kernel K --measurements runs.json --out cal.json "
      "[--fit-runs 5] [--rule-runs N]");
  options.add_options()("help,h", "show this help")(
      "measurements", po::value(&measurements)->required(),
      "measured runs: {\"gpu\", \"kernel\", \"runs\": [{\"mask\", \"ms\", ...}]}")(
      "out", po::value(&out)->required(), "calibration JSON to write")(
      "fit-runs", po::value(&fit_runs)->default_value(fit_runs),
      "fit the base cost model on the first N runs (5 is enough: dense short and long, causal, "
      "a block-sparse mask, a short sparse run)")(
      "rule-runs", po::value(&rule_runs)->default_value(rule_runs),
      "the next N runs, one per mask rule, each fit its rule's cost; the rest are held out and "
      "reported")(
      "rule", po::value(&rule_text),
      "token rule applied to every run's mask (mask_rules.md), replacing the masks' own and "
      "the runs' \"rule\" fields");
  machine.add_to(options);
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  po::notify(vm);
  machine.read(vm);
  const GpuSpec gpu = machine.load_gpu_spec();
  const KernelSpec kernel = machine.load_kernel_spec();
  Measurements runs = read_measurements(measurements);
  if (!rule_text.empty()) {
    parse_mask_rule(rule_text, "command line", "--rule");
    for (MeasuredRun& run : runs.runs) run.rule = rule_text;
  }
  const CalibrationReport report = calibrate(runs, gpu, kernel, fit_runs, rule_runs);
  attnsim::common::write_json_file(out, to_json(report, gpu, kernel));
  std::cout << format_calibration_summary(report);
  return 0;
}

int sweep_command(int argc, char** argv) {
  std::vector<std::string> dirs;
  std::string spec_path, old_config, out;
  po::options_description options("tilesim sweep --spec sweep.yaml --out results.csv");
  options.add_options()("help,h", "show this help")(
      "spec", po::value(&spec_path), "sweep description (YAML)")("out", po::value(&out)->required(),
                                                                 "CSV to write")(
      "preset-dir", po::value(&dirs)->composing(), "extra preset folder (searched first)")(
      "config", po::value(&old_config), "deprecated spelling of --spec");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options << '\n' << sweep_help();
    return 0;
  }
  po::notify(vm);
  if (vm.count("config")) {
    // spatten-sim's --config was a preset: one flag meant two things (issue #14).
    std::cerr << "tilesim: sweep --config FILE is deprecated (kept for one release): use --spec "
                 "FILE\n";
    if (spec_path.empty()) spec_path = old_config;
  }
  if (spec_path.empty()) {
    throw InputError("command line", "--spec", "a sweep description (YAML file)", "none");
  }
  const SweepSpec spec = read_sweep_spec(spec_path);
  attnsim::common::write_file_atomically(
      out, run_sweep(spec, resolve_preset_dirs(dirs), isatty(STDERR_FILENO) != 0));
  return 0;
}

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? attnsim::common::kExitInputError : 0;
  }
  const std::string command = argv[1];
  // The subcommand sees argv without the program name.
  const int sub_argc = argc - 1;
  char** sub_argv = argv + 1;
  if (command == "bounds") return simulate_command(sub_argc, sub_argv, ReportKind::kBounds);
  if (command == "predict") return simulate_command(sub_argc, sub_argv, ReportKind::kPredict);
  if (command == "gen") return gen_command(sub_argc, sub_argv);
  if (command == "calibrate") return calibrate_command(sub_argc, sub_argv);
  if (command == "sweep") return sweep_command(sub_argc, sub_argv);
  if (command == "presets") return presets_command(sub_argc, sub_argv);
  throw InputError("command line", "command",
                   "one of bounds, predict, gen, calibrate, sweep, presets", "'" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  // Masks of many MB are read and simulated one after another: keep freed memory in the heap
  // for the next mask instead of returning it to the kernel and faulting it in again (page
  // faults were most of the time of a many-mask call).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return attnsim::common::run_cli("tilesim", [&] { return dispatch(argc, argv); });
}
