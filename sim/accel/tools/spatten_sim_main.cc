// spatten-sim: runs the SystemC model of SpAtten on a workload and writes a run folder.
#include <systemc>  // declares sc_main extern "C", as libsystemc calls it

#include <unistd.h>
#include <boost/program_options.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/accel/config.h"
#ifdef ATTNSIM_WITH_RTL_TOPK
#include "rtl/topk/topk_rtl.h"  // waveform formats and sizes (no Verilator header)
#include "sim/accel/rtl_topk_engine.h"
#endif
#include "sim/accel/report.h"
#include "sim/accel/simulator.h"
#include "sim/accel/workload.h"
#include "sim/common/attention_trace.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/memory_limit.h"
#include "sim/common/output_format.h"
#include "sim/common/run_report.h"
#include "sim/common/spatten_workload_csv.h"

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using attnsim::common::InputError;
using namespace attnsim::accel;
#ifdef ATTNSIM_WITH_RTL_TOPK
using attnsim::rtl::WaveFormat;
#endif

// Presets: --preset-dir, then next to the installed executable, then this source tree.
fs::path resolve_preset_dir(const std::string& user_dir) {
  if (!user_dir.empty()) return user_dir;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / ATTNSIM_ACCEL_PRESETS_RELATIVE_DIR;
    if (fs::is_directory(installed)) return installed;
  }
  return ATTNSIM_ACCEL_PRESETS_SOURCE_DIR;
}

// Waveform files being written: (temporary, final); renamed only after a finished simulation.
using PendingTraces = std::vector<std::pair<fs::path, fs::path>>;

// --topk-engine: the behavioural model or, for co-simulation, the Verilated RTL.
TopkEngineFactory topk_engine_factory(const std::string& engine, const std::string& trace,
                                      std::int64_t trace_cycles, PendingTraces& pending) {
  if (engine == "behavioural") {
    if (!trace.empty()) {
      throw InputError("--trace", "option", "--topk-engine rtl (waveforms come from the RTL)",
                       trace);
    }
    return make_behavioural_topk_engine;
  }
  if (engine != "rtl") throw InputError("--topk-engine", "value", "behavioural or rtl", engine);
#ifdef ATTNSIM_WITH_RTL_TOPK
  const bool fst = !trace.empty() && attnsim::rtl::wave_format_of(trace) == WaveFormat::kFst;
  return [trace, trace_cycles, fst, &pending](const attnsim::models::TopkParams& params,
                                              const std::string& role) {
    auto rtl = std::make_unique<RtlTopkEngine>(params, "config topk", fst);
    if (!trace.empty()) {
      // The value engine's waveform goes to the given file, the other role's next to it.
      fs::path final_path = trace;
      if (role != "value") {
        final_path.replace_filename(final_path.stem().string() + "-" + role +
                                    final_path.extension().string());
      }
      fs::path tmp = final_path;
      tmp += ".tmp-" + std::to_string(::getpid());
      try {
        rtl->trace_to(tmp.string(), trace_cycles);
      } catch (const InputError&) {
        throw InputError(final_path.string(), "cannot open the waveform file for writing");
      }
      pending.emplace_back(tmp, final_path);
    }
    return std::unique_ptr<TopkEngine>(std::move(rtl));
  };
#else
  (void)trace_cycles;
  (void)pending;
  throw InputError("--topk-engine", "value",
                   "behavioural (this spatten-sim was built without Verilator, so without the "
                   "RTL top-k engine)",
                   engine);
#endif
}

int run(int argc, char** argv) {
  int queries = 1;
  std::string topk_engine = "behavioural", topk_trace, old_topk_trace;
  std::int64_t old_topk_trace_cycles = 0;
  std::int64_t topk_trace_cycles = 2000;  // ~18 MB of VCD per engine (9 kB per cycle at P=16)
  std::string workload_path, config_name = "spatten", preset_dir, out_dir, format = "json";
  std::string max_memory, old_config;
  po::options_description options(
      "usage: spatten-sim [options] WORKLOAD\n"
      "Simulates the SpAtten accelerator on a SpAtten workload CSV or an attention trace .npz\n"
      "(traces/README.md; a trace runs the functional models with the config's algorithm:)");
  options.add_options()("help,h", "show this help")("workload", po::value(&workload_path),
                                                    "the workload: .csv or .npz")(
      "preset", po::value(&config_name)->default_value(config_name),
      "the accelerator: a preset name (spatten, spatten-1-8, ...) or a YAML file")(
      "preset-dir", po::value(&preset_dir), "folder of preset YAML files")(
      "out", po::value(&out_dir),
      "run folder: config.yaml (resolved), stats.json and report.html (interactive plots)")(
      "no-report", attnsim::common::kNoReportHelp)(
      "format", po::value(&format)->default_value(format), attnsim::common::kOutputFormatHelp)(
      "fast", "timing-only fast mode: plain HBM model whatever the config says")(
      "queries-per-head-step", po::value(&queries)->default_value(1),
      "queries per head-step sharing one K/V fetch (BERT: the sequence length)")(
      "ignore-quantization", "run every width at 16 bits with no LSB re-fetch (breakdowns)")(
      "validate-only", "check the config and the workload, print what would run, and stop")(
      "topk-engine", po::value(&topk_engine)->default_value(topk_engine),
      "top-k engines: behavioural (models/) or rtl (co-simulate the Verilated attn_topk)")(
      "trace", po::value(&topk_trace),
      "with --topk-engine rtl: waveform of the value engine, FILE.vcd or FILE.fst (compressed); "
      "the importance engine's goes next to it, as FILE-importance.vcd/.fst")(
      "trace-cycles", po::value(&topk_trace_cycles)->default_value(topk_trace_cycles),
      "cycles of each engine the waveforms cover")("max-memory", po::value(&max_memory),
                                                   attnsim::common::kMaxMemoryOptionHelp)(
      "config", po::value(&old_config), "deprecated spelling of --preset")(
      "topk-trace", po::value(&old_topk_trace), "deprecated spelling of --trace")(
      "topk-trace-cycles", po::value(&old_topk_trace_cycles),
      "deprecated spelling of --trace-cycles");
  po::positional_options_description positional;
  positional.add("workload", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << options;
    return attnsim::common::kExitOk;
  }
  const attnsim::common::OutputFormat output = attnsim::common::parse_output_format(format);
  if (vm.count("config")) {
    // tilesim's --config was a sweep file: one flag meant two things (issue #14).
    std::cerr << "spatten-sim: --config is deprecated (kept for one release): use --preset NAME "
                 "or --preset FILE.yaml\n";
    if (vm["preset"].defaulted()) config_name = old_config;
  }
  if (vm.count("topk-trace") || vm.count("topk-trace-cycles")) {
    std::cerr << "spatten-sim: --topk-trace and --topk-trace-cycles are deprecated (kept for one "
                 "release): use --trace and --trace-cycles\n";
    if (vm.count("topk-trace") && topk_trace.empty()) topk_trace = old_topk_trace;
    if (vm.count("topk-trace-cycles") && vm["trace-cycles"].defaulted()) {
      topk_trace_cycles = old_topk_trace_cycles;
    }
  }
  attnsim::common::apply_max_memory_option(max_memory);
  if (workload_path.empty()) throw InputError("command line", "WORKLOAD", "a workload CSV", "none");

  AccelConfig config = load_accel_config(config_name, resolve_preset_dir(preset_dir));
  if (vm.count("fast")) config.detailed = false;
  const bool is_trace = fs::path(workload_path).extension() == ".npz";
  AccelWorkload workload =
      is_trace
          ? workload_from_trace(config, attnsim::common::read_attention_trace(workload_path),
                                workload_path, config_name)
          : workload_from_csv(attnsim::common::read_spatten_workload(workload_path), workload_path);
  if (vm.count("ignore-quantization")) drop_quantization(workload);
  expand_queries(workload, queries);
  check_workload_fits(config, workload, config_name);

  if (vm.count("validate-only")) {
    std::int64_t requant = 0, topk = 0;
    for (const auto& s : workload.steps) {
      requant += s.requant;
      topk += s.token_topk;
    }
    std::cout << "config " << config.name << ": OK (" << config.qk.multipliers << "+"
              << config.pv.multipliers << " multipliers, " << config.hbm.channels
              << " HBM channels, " << hbm_timing_name(config.effective_hbm_timing())
              << " DRAM timing, " << config.clock_hz / 1e9 << " GHz)\n"
              << (is_trace ? "attention trace " : "workload ") << workload_path << ": OK ("
              << workload.steps.size() << " head-steps, D = " << workload.head_dim
              << ", L <= " << workload.max_tokens << ", " << requant << " LSB re-fetches, " << topk
              << " token top-k points)\n";
    return attnsim::common::kExitOk;
  }

#ifdef ATTNSIM_WITH_RTL_TOPK
  if (!topk_trace.empty() && topk_engine == "rtl") {
    // Said before the run, so a long window can be stopped before it fills the disk.
    const WaveFormat waves = attnsim::rtl::wave_format_of(topk_trace);
    if (topk_trace_cycles < 1) {
      throw InputError("--trace-cycles", "value", "a positive integer",
                       std::to_string(topk_trace_cycles));
    }
    std::cerr << "spatten-sim: waveforms of the first " << topk_trace_cycles
              << " cycles of each top-k engine, about "
              << static_cast<double>(topk_trace_cycles) *
                     attnsim::rtl::wave_bytes_per_cycle(waves, config.topk.engine.lanes) / 1e6
              << " MB of " << (waves == WaveFormat::kFst ? "FST" : "VCD")
              << " per file (--trace-cycles)\n";
  }
#endif
  PendingTraces traces;
  const TopkEngineFactory make_topk_engine =
      topk_engine_factory(topk_engine, topk_trace, topk_trace_cycles, traces);
  const auto t0 = std::chrono::steady_clock::now();
  AccelStats stats;
  try {
    stats = simulate(config, workload, make_topk_engine);
  } catch (...) {
    for (const auto& [tmp, final_path] : traces) fs::remove(tmp);
    throw;
  }
  for (const auto& [tmp, final_path] : traces) fs::rename(tmp, final_path);
  const double host_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const boost::json::object json = stats_to_json(config, workload, stats);
  if (!out_dir.empty()) {
    fs::create_directories(out_dir);
    // JSON is YAML: the resolved config reloads with --preset <out>/config.yaml.
    attnsim::common::write_json_file(fs::path(out_dir) / "config.yaml", config_to_json(config));
    attnsim::common::write_json_file(fs::path(out_dir) / "stats.json", json);
  }
  if (output == attnsim::common::OutputFormat::kTable) {
    std::cout << stats_table(json);
  } else if (output == attnsim::common::OutputFormat::kCsv) {
    std::cout << attnsim::common::flat_csv(json);
  } else {
    std::cout << attnsim::common::to_pretty_json(json);
  }
  // Host time goes to stderr only: stats.json stays byte-identical between runs.
  std::cerr << "spatten-sim: " << stats.cycles << " cycles simulated in " << host_s << " s ("
            << static_cast<double>(stats.cycles) / host_s / 1e6 << " M cycles/s), top-k engines: "
            << (topk_engine == "rtl" ? "Verilated RTL (attn_topk)" : "behavioural") << "\n";
  // Last: the results above are complete whatever becomes of the report.
  if (!out_dir.empty() && !vm.count("no-report")) {
    attnsim::common::write_run_report("spatten-sim", out_dir);
  }
  return attnsim::common::kExitOk;
}

}  // namespace

int sc_main(int argc, char** argv) {
  return attnsim::common::run_cli("spatten-sim", [&] { return run(argc, argv); });
}
