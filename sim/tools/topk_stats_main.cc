// topk-stats: Monte-Carlo cycle statistics of the top-k engine against the public latency model.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/topk.h"
#include "models/topk_latency.h"
#include "models/topk_schedule.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/output_format.h"
#include "sim/common/run_report.h"
#include "sim/common/running_stats.h"

namespace {

namespace po = boost::program_options;
using attnsim::common::InputError;
using attnsim::models::TopkParams;

struct Case {
  int n = 0;
  int k = 0;
};

// "128:64,1024:512" -> cases; the figures quoted from the public model use these five by default.
std::vector<Case> parse_cases(const std::string& text) {
  std::vector<Case> cases;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    Case c;
    char colon = 0;
    std::stringstream fields(item);
    if (!(fields >> c.n >> colon >> c.k) || colon != ':' || !fields.eof() || c.k < 1 || c.k > c.n) {
      throw InputError("--cases", "entry '" + item + "'", "n:k with 1 <= k <= n", item);
    }
    cases.push_back(c);
  }
  return cases;
}

int run(int argc, char** argv) {
  po::options_description options("topk-stats: top-k engine cycles on random scores");
  int trials = 0;
  unsigned seed = 0;
  std::string cases_text, microarch, format = "table", out_dir;
  TopkParams params;
  options.add_options()("help,h", "show this help")(
      "trials", po::value(&trials)->default_value(10000), "random inputs per (n, k)")(
      "seed", po::value(&seed)->default_value(1), "seed of the score generator")(
      "lanes", po::value(&params.lanes)->default_value(16), "P: comparator lanes")(
      "microarch", po::value(&microarch)->default_value("sequential"),
      "sequential | pipelined (the first pass streams with the load; no pivot-setup cycles) | "
      "overlapped (pipelined, and the next job starts while this one's output pass streams)")(
      "cases", po::value(&cases_text)->default_value("128:64,512:64,1024:512,2048:64,4096:32"),
      "comma-separated n:k pairs")("format", po::value(&format)->default_value(format),
                                   attnsim::common::kOutputFormatHelp)(
      "out", po::value(&out_dir), "run folder: results.json and report.html (interactive plots)")(
      "no-report", attnsim::common::kNoReportHelp);
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options << '\n';
    return attnsim::common::kExitOk;
  }
  po::notify(vm);
  const attnsim::common::OutputFormat output = attnsim::common::parse_output_format(format);
  const bool table = output == attnsim::common::OutputFormat::kTable;
  if (trials < 1)
    throw InputError("--trials", "value", "a positive integer", std::to_string(trials));
  if (!attnsim::models::parse_topk_microarch(microarch, params.microarch)) {
    throw InputError("--microarch", "value", "sequential, pipelined or overlapped", microarch);
  }
  if (params.first_pass_fused()) params.pivot_setup_cycles = 0;  // as the pipelined RTL

  const std::vector<Case> cases = parse_cases(cases_text);
  params.max_n = 1;
  for (const Case& c : cases) params.max_n = std::max(params.max_n, c.n);
  const attnsim::models::Violations violations = params.validate("topk");
  if (!violations.ok()) throw InputError("command line", violations.to_string());

  if (table) {
    std::printf(
        "# P=%d, %s, %d trials per row, uniform 16-bit scores, seed %u; LFSR carried across "
        "jobs\n",
        params.lanes, attnsim::models::to_string(params.microarch), trials, seed);
    std::printf("%6s %6s %8s | %16s | %16s | %-28s | %s\n", "n", "k", "passes", "ours (cycles)",
                "public model", "ours: load + passes + output", "interval (back to back)");
  }
  attnsim::common::Rows rows;
  rows.columns = {"n",
                  "k",
                  "passes_mean",
                  "cycles_mean",
                  "cycles_stddev",
                  "public_model_cycles_mean",
                  "public_model_cycles_stddev",
                  "load_cycles_mean",
                  "pass_cycles_mean",
                  "output_cycles_mean",
                  "interval_cycles_mean"};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> score(0, 65535);
  for (const Case& c : cases) {
    attnsim::common::RunningStats ours, theirs, passes, load, pass_cycles, output_cycles;
    std::uint16_t lfsr = params.lfsr_seed;
    // Jobs back to back, each first beat at the engine's earliest start: cycles per job.
    attnsim::models::TopkJobScheduler schedule(params);
    std::int64_t first_start = 0;
    std::int64_t last_start = 0;
    std::vector<std::int64_t> s(static_cast<std::size_t>(c.n));
    for (int t = 0; t < trials; ++t) {
      for (auto& x : s) x = score(rng);
      const auto r = attnsim::models::topk_select(s, c.k, params, lfsr);
      lfsr = r.lfsr_state_after;
      const auto timing = attnsim::models::topk_timing(r, c.n, c.k, params);
      ours.add(static_cast<double>(timing.latency_cycles));
      theirs.add(static_cast<double>(attnsim::models::public_model_cycles(r, params.lanes)));
      passes.add(static_cast<double>(r.pass_candidates.size()));
      load.add(static_cast<double>(timing.load_cycles));
      pass_cycles.add(static_cast<double>(timing.passes_cycles));
      output_cycles.add(static_cast<double>(timing.latency_cycles - timing.output_start_cycle));
      last_start = schedule.earliest_start();
      if (t == 0) first_start = last_start;
      schedule.place(last_start, 0, timing.output_start_cycle, timing.latency_cycles);
    }
    // From the first job's start to the cycle the job after the last could start.
    const double interval =
        static_cast<double>(schedule.earliest_start() - first_start) / static_cast<double>(trials);
    if (table) {
      char parts[64];
      std::snprintf(parts, sizeof parts, "%.0f + %.1f + %.1f", load.mean(), pass_cycles.mean(),
                    output_cycles.mean());
      std::printf("%6d %6d %8.2f | %7.1f +- %5.1f | %7.1f +- %5.1f | %-28s | %.1f\n", c.n, c.k,
                  passes.mean(), ours.mean(), ours.stddev(), theirs.mean(), theirs.stddev(), parts,
                  interval);
    }
    rows.rows.push_back({c.n, c.k, passes.mean(), ours.mean(), ours.stddev(), theirs.mean(),
                         theirs.stddev(), load.mean(), pass_cycles.mean(), output_cycles.mean(),
                         interval});
  }
  const boost::json::object report{{"tool", "topk-stats"},
                                   {"lanes", params.lanes},
                                   {"microarch", attnsim::models::to_string(params.microarch)},
                                   {"trials", trials},
                                   {"seed", seed},
                                   {"cases", rows.to_json()}};
  attnsim::common::write_run_folder(out_dir, report);
  if (output == attnsim::common::OutputFormat::kCsv) {
    std::cout << rows.to_csv();
  } else if (output == attnsim::common::OutputFormat::kJson) {
    std::cout << attnsim::common::to_pretty_json(report);
  }
  // Last: the results above are complete whatever becomes of the report.
  if (!out_dir.empty() && !vm.count("no-report")) {
    attnsim::common::write_run_report("topk-stats", out_dir);
  }
  return attnsim::common::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return attnsim::common::run_cli("topk-stats", [&] { return run(argc, argv); });
}
