// topk-cosim: the Verilated top-k engine against models/ on random jobs, with random input gaps and
// output stalls. Prints mismatches (0 expected) and cycle statistics per (n, k).
#include <unistd.h>
#include <algorithm>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rtl/topk/topk_equivalence.h"
#include "rtl/topk/topk_rtl.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/output_format.h"
#include "sim/common/progress.h"
#include "sim/common/run_report.h"
#include "sim/common/running_stats.h"

namespace {

namespace po = boost::program_options;
using attnsim::common::InputError;
using attnsim::common::RunningStats;
using namespace attnsim::rtl;

// "128,512" -> {128, 512}; empty -> {} (random).
// "n:k,n:k": the job sizes as topk-stats --cases spells them.
std::vector<std::pair<int, int>> parse_cases(const std::string& text) {
  std::vector<std::pair<int, int>> cases;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    int n = 0, k = 0;
    char colon = 0;
    std::stringstream fields(item);
    if (!(fields >> n >> colon >> k) || colon != ':' || !fields.eof() || k < 1 || k > n) {
      throw InputError("--cases", "entry '" + item + "'", "n:k with 1 <= k <= n", item);
    }
    cases.emplace_back(n, k);
  }
  return cases;
}

std::vector<int> parse_list(const std::string& option, const std::string& text) {
  std::vector<int> values;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    std::size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || value < 1) {
      throw InputError(option, "entry '" + item + "'",
                       "a comma-separated list of positive integers", text);
    }
    values.push_back(value);
  }
  return values;
}

ScoreKind parse_kind(const std::string& text, bool& mixed) {
  mixed = text == "mixed";
  for (ScoreKind kind : {ScoreKind::kUniform, ScoreKind::kHeavyTies, ScoreKind::kSorted,
                         ScoreKind::kReverseSorted, ScoreKind::kAllEqual}) {
    if (text == to_string(kind)) return kind;
  }
  if (mixed) return ScoreKind::kUniform;
  throw InputError("--scores", "value",
                   "mixed, uniform, heavy-ties, sorted, reverse-sorted or all-equal", text);
}

// Groups of jobs reported together: a fixed (n, k), or with random sizes a range of n and of k.
std::string bucket_of(int value) {
  int hi = 16;
  while (hi < value) hi *= 4;
  const int lo = hi == 16 ? 1 : hi / 4 + 1;
  return std::to_string(lo) + "-" + std::to_string(hi);
}

struct Group {
  RunningStats engine_cycles;  // RTL cycles without the inserted gaps and stalls
  RunningStats model_cycles;   // models/ latency
  RunningStats rtl_cycles;     // as measured, gaps and stalls included
  std::int64_t mismatches = 0;
  void merge(const Group& o) {
    engine_cycles.merge(o.engine_cycles);
    model_cycles.merge(o.model_cycles);
    rtl_cycles.merge(o.rtl_cycles);
    mismatches += o.mismatches;
  }
};

struct Settings {
  std::int64_t vectors = 0;
  std::uint64_t seed = 0;
  std::vector<int> ns, ks;
  std::vector<std::pair<int, int>> cases;  // --cases n:k,... (topk-stats' spelling)
  bool mixed = true;
  ScoreKind kind = ScoreKind::kUniform;
  int max_n = 0;
  TopkBackpressure backpressure;
};

// Vector i of the run: drawn from its own seeded stream, so a run's jobs do not depend on how they
// are split over threads (each thread's engine carries its own LFSR, so cycles do).
TopkVector vector_of(const Settings& s, std::int64_t i, int score_bits) {
  std::mt19937_64 rng(s.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(i));
  const bool random_sizes = s.ns.empty() && s.ks.empty() && s.cases.empty();
  if (random_sizes && s.mixed) return random_topk_vector(rng, score_bits, s.max_n);
  const std::pair<int, int> pair = s.cases.empty()
                                       ? std::pair<int, int>{0, 0}
                                       : s.cases[static_cast<std::size_t>(i) % s.cases.size()];
  int n = pair.first > 0 ? pair.first
          : s.ns.empty() ? static_cast<int>(rng() % static_cast<std::uint64_t>(s.max_n)) + 1
                         : s.ns[static_cast<std::size_t>(i) % s.ns.size()];
  int k =
      pair.second > 0 ? pair.second
      : s.ks.empty()
          ? static_cast<int>(rng() % static_cast<std::uint64_t>(n)) + 1
          : s.ks[static_cast<std::size_t>(i / std::max<std::size_t>(1, s.ns.size())) % s.ks.size()];
  k = std::min(k, n);
  ScoreKind kind = s.kind;
  if (s.mixed) {
    static constexpr ScoreKind kKinds[] = {ScoreKind::kUniform, ScoreKind::kHeavyTies,
                                           ScoreKind::kSorted, ScoreKind::kReverseSorted};
    kind = kKinds[rng() % std::size(kKinds)];
  }
  return make_topk_vector(rng, score_bits, n, k, kind);
}

int run(int argc, char** argv) {
  po::options_description options(
      "topk-cosim: the Verilated attn_topk against models/ (indices, cycles, activity)");
  Settings s;
  int lanes = 16;
  int threads = 1;
  std::string n_text, k_text, kind_text, trace_path, json_path, microarch_text, out_dir;
  std::string format = "table", cases_text;
  std::int64_t trace_cycles = 0;
  int max_n_option = 0;
  options.add_options()("help,h", "show this help")(
      "vectors", po::value(&s.vectors)->default_value(10000), "random jobs to run")(
      "seed", po::value(&s.seed)->default_value(1), "seed of the jobs and of the back-pressure")(
      "lanes", po::value(&lanes)->default_value(16), "P: picks the Verilated build")(
      "microarch", po::value(&microarch_text)->default_value("sequential"),
      "sequential|pipelined|overlapped: picks the Verilated build (overlapped: jobs run back to "
      "back in batches of 32)")("max-n", po::value(&max_n_option)->default_value(0),
                                "largest random n (0: the build's max_n)")(
      "n", po::value(&n_text), "job sizes, comma-separated (default: random in 1..max-n)")(
      "k", po::value(&k_text), "k values, comma-separated, capped at n (default: random in 1..n)")(
      "cases", po::value(&cases_text),
      "job sizes as n:k pairs, comma-separated (as topk-stats --cases; instead of --n/--k)")(
      "scores", po::value(&kind_text)->default_value("mixed"),
      "mixed, uniform, heavy-ties, sorted, reverse-sorted or all-equal")(
      "gap-prob", po::value(&s.backpressure.input_gap)->default_value(0.1, "0.1"),
      "probability of an input gap per load cycle")(
      "stall-prob", po::value(&s.backpressure.output_stall)->default_value(0.2, "0.2"),
      "probability that the output is not ready, per cycle")(
      "threads", po::value(&threads)->default_value(1),
      "engines run in parallel (results depend on it: each engine carries its own LFSR)")(
      "trace", po::value(&trace_path),
      "waveform of the first cycles (first thread): FILE.vcd, or FILE.fst (compressed)")(
      "trace-cycles", po::value(&trace_cycles)->default_value(2000), "cycles the waveform covers")(
      "format", po::value(&format)->default_value(format), attnsim::common::kOutputFormatHelp)(
      "out", po::value(&out_dir), "run folder: results.json and report.html (interactive plots)")(
      "no-report", attnsim::common::kNoReportHelp)(
      "json", po::value(&json_path), "deprecated: use --out DIR (results.json) or --format json");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options << '\n';
    return attnsim::common::kExitOk;
  }
  po::notify(vm);
  const attnsim::common::OutputFormat output = attnsim::common::parse_output_format(format);
  if (!json_path.empty()) {
    std::cerr << "topk-cosim: --json FILE is deprecated (kept for one release): use --out DIR, "
                 "which writes DIR/results.json, or --format json\n";
  }
  if (s.vectors < 1) throw InputError("--vectors", "value", "a positive integer", "");
  if (threads < 1 || threads > 256) throw InputError("--threads", "value", "1..256", "");
  for (double p : {s.backpressure.input_gap, s.backpressure.output_stall}) {
    if (!(p >= 0 && p < 1)) throw InputError("--gap-prob/--stall-prob", "value", "in [0, 1)", "");
  }
  s.backpressure.seed = s.seed;
  s.ns = parse_list("--n", n_text);
  s.ks = parse_list("--k", k_text);
  s.cases = parse_cases(cases_text);
  if (!s.cases.empty() && (!s.ns.empty() || !s.ks.empty())) {
    throw InputError("command line", "--cases", "either --cases or --n/--k", "both");
  }
  s.kind = parse_kind(kind_text, s.mixed);

  TopkRtlBuild wanted_build;
  if (!attnsim::models::parse_topk_microarch(microarch_text, wanted_build.microarch)) {
    throw InputError("--microarch", "value", "sequential, pipelined or overlapped", microarch_text);
  }
  // Overlapped jobs are checked in batches run back to back (the next job loads while this
  // one's output streams); the others one job at a time, as before.
  const bool batches = wanted_build.microarch == attnsim::models::TopkMicroarch::kOverlapped;
  wanted_build.lfsr_seed = attnsim::models::kLfsrDefaultSeed;
  wanted_build.score_bits = 32;
  attnsim::models::TopkParams wanted = topk_params_of(wanted_build);
  wanted.lanes = lanes;
  wanted.max_n = 1;
  for (int n : s.ns) wanted.max_n = std::max(wanted.max_n, n);
  for (const auto& [n, k] : s.cases) wanted.max_n = std::max(wanted.max_n, n);
  wanted.max_n = std::max(wanted.max_n, max_n_option);
  const TopkRtlBuild build = make_topk_rtl(wanted, "--lanes/--n/--max-n")->build();
  s.max_n = max_n_option > 0 ? max_n_option : build.max_n;

  // Each thread: its own engine, every threads-th vector, its own groups; merged at the end.
  const bool fixed_sizes = !s.ns.empty() || !s.ks.empty() || !s.cases.empty();
  std::vector<std::map<std::pair<std::string, std::string>, Group>> groups(
      static_cast<std::size_t>(threads));
  std::vector<std::vector<std::string>> mismatch_text(static_cast<std::size_t>(threads));
  std::vector<std::int64_t> simulated(static_cast<std::size_t>(threads), 0);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads));
  attnsim::common::ProgressLine progress = attnsim::common::ProgressLine::for_stderr(
      "topk-cosim", static_cast<std::uint64_t>(s.vectors));
  std::mutex progress_mutex;
  const WaveFormat waves =
      trace_path.empty() ? WaveFormat::kVcd : attnsim::rtl::wave_format_of(trace_path);
  if (!trace_path.empty()) {
    if (trace_cycles < 1) {
      throw InputError("--trace-cycles", "value", "a positive integer",
                       std::to_string(trace_cycles));
    }
    // Said before the run, so a long window can be stopped before it fills the disk.
    std::cerr << "topk-cosim: waveform of the first " << trace_cycles << " cycles, about "
              << static_cast<double>(trace_cycles) *
                     attnsim::rtl::wave_bytes_per_cycle(waves, build.lanes) / 1e6
              << " MB of " << (waves == WaveFormat::kFst ? "FST" : "VCD") << " at P=" << build.lanes
              << " (--trace-cycles)\n";
  }
  const std::string trace_tmp =
      trace_path.empty() ? "" : trace_path + ".tmp-" + std::to_string(::getpid());

  const auto start = std::chrono::steady_clock::now();
  auto work = [&](int t) {
    try {
      TopkBackpressure bp = s.backpressure;
      bp.seed = s.seed + static_cast<std::uint64_t>(t) * 1000003u;
      TopkEquivalence eq(make_topk_rtl(wanted, "--lanes", waves), bp);
      if (t == 0 && !trace_tmp.empty()) {
        try {
          eq.rtl().trace_to(trace_tmp, trace_cycles);
        } catch (const InputError&) {
          throw InputError(trace_path, "cannot open the waveform file for writing");
        }
      }
      std::int64_t since_report = 0;
      auto record = [&](std::int64_t i, const TopkVector& v, const TopkComparison& c) {
        const int n = static_cast<int>(v.scores.size());
        const auto key = fixed_sizes ? std::make_pair(std::to_string(n), std::to_string(v.k))
                                     : std::make_pair(bucket_of(n), bucket_of(v.k));
        Group& g = groups[static_cast<std::size_t>(t)][key];
        g.engine_cycles.add(static_cast<double>(c.rtl_cycles - c.input_gap_cycles -
                                                c.output_stall_cycles - c.output_wait_cycles));
        g.model_cycles.add(static_cast<double>(c.model_cycles));
        g.rtl_cycles.add(static_cast<double>(c.rtl_cycles));
        if (!c.mismatch.empty()) {
          ++g.mismatches;
          if (mismatch_text[static_cast<std::size_t>(t)].size() < 20) {
            mismatch_text[static_cast<std::size_t>(t)].push_back("vector " + std::to_string(i) +
                                                                 ": " + c.mismatch);
          }
        }
        if (++since_report == 64) {
          std::lock_guard<std::mutex> lock(progress_mutex);
          progress.advance(static_cast<std::uint64_t>(since_report));
          since_report = 0;
        }
      };
      constexpr std::size_t kBatch = 32;
      std::vector<std::int64_t> ids;
      std::vector<TopkVector> batch;
      for (std::int64_t i = t; i < s.vectors; i += threads) {
        TopkVector v = vector_of(s, i, build.score_bits);
        if (!batches) {
          record(i, v, eq.check(v));
          continue;
        }
        ids.push_back(i);
        batch.push_back(std::move(v));
        if (batch.size() == kBatch || i + threads >= s.vectors) {
          const std::vector<TopkComparison> cs = eq.check_batch(batch);
          for (std::size_t j = 0; j < batch.size(); ++j) record(ids[j], batch[j], cs[j]);
          ids.clear();
          batch.clear();
        }
      }
      simulated[static_cast<std::size_t>(t)] = eq.rtl().simulated_cycles();
      std::lock_guard<std::mutex> lock(progress_mutex);
      progress.advance(static_cast<std::uint64_t>(since_report));
    } catch (...) {
      errors[static_cast<std::size_t>(t)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::exception_ptr& e : errors) {
    if (e) {
      std::error_code ignored;  // the temporary may never have been created
      if (!trace_tmp.empty()) std::filesystem::remove(trace_tmp, ignored);
      std::rethrow_exception(e);
    }
  }
  if (!trace_tmp.empty()) {
    std::error_code ec;
    std::filesystem::rename(trace_tmp, trace_path, ec);
    if (ec) throw InputError(trace_path, "cannot move the waveform into place: " + ec.message());
  }

  std::map<std::pair<std::string, std::string>, Group> merged;
  Group total;
  std::int64_t cycles_simulated = 0;
  for (int t = 0; t < threads; ++t) {
    for (const auto& [key, g] : groups[static_cast<std::size_t>(t)]) merged[key].merge(g);
    cycles_simulated += simulated[static_cast<std::size_t>(t)];
  }
  for (const auto& [key, g] : merged) total.merge(g);

  // Fixed sizes sort numerically; ranges sort by their lower end.
  std::vector<std::pair<std::pair<std::string, std::string>, Group>> rows(merged.begin(),
                                                                          merged.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    auto num = [](const std::string& x) { return std::stoll(x); };
    return std::make_pair(num(a.first.first), num(a.first.second)) <
           std::make_pair(num(b.first.first), num(b.first.second));
  });

  const bool table = output == attnsim::common::OutputFormat::kTable;
  // The table's lines go to stdout with --format table, else to stderr (stdout is the data).
  FILE* text = table ? stdout : stderr;
  std::fprintf(
      text,
      "topk-cosim: attn_topk %s P=%d (build max_n %d) vs models/, %lld vectors, seed %llu, "
      "gap %.2f, stall %.2f, %d thread(s)\n",
      attnsim::models::to_string(build.microarch), build.lanes, build.max_n,
      static_cast<long long>(s.vectors), static_cast<unsigned long long>(s.seed),
      s.backpressure.input_gap, s.backpressure.output_stall, threads);
  if (table) {
    std::printf("%-11s %-11s %8s %10s %22s %22s %12s\n", "n", "k", "vectors", "mismatches",
                "engine cycles mean+-sd", "min..max", "model mean");
  }
  for (const auto& [key, g] : rows) {
    if (!table) break;
    std::printf("%-11s %-11s %8lld %10lld %14.1f +- %-6.1f %10lld..%-10lld %12.1f\n",
                key.first.c_str(), key.second.c_str(),
                static_cast<long long>(g.engine_cycles.count()),
                static_cast<long long>(g.mismatches), g.engine_cycles.mean(),
                g.engine_cycles.stddev(), static_cast<long long>(g.engine_cycles.min()),
                static_cast<long long>(g.engine_cycles.max()), g.model_cycles.mean());
  }
  for (const auto& list : mismatch_text) {
    for (const std::string& m : list) std::fprintf(text, "MISMATCH %s\n", m.c_str());
  }
  std::fprintf(text,
               "mismatches: %lld of %lld vectors; %lld RTL cycles simulated in %.1f s (%.2f M "
               "cycles/s, %.0f vectors/s)\n",
               static_cast<long long>(total.mismatches), static_cast<long long>(s.vectors),
               static_cast<long long>(cycles_simulated), seconds, cycles_simulated / seconds / 1e6,
               static_cast<double>(s.vectors) / seconds);

  {
    boost::json::object out;
    out["tool"] = "topk-cosim";
    out["microarch"] = attnsim::models::to_string(build.microarch);
    out["lanes"] = build.lanes;
    out["build_max_n"] = build.max_n;
    out["vectors"] = s.vectors;
    out["seed"] = s.seed;
    out["gap_prob"] = s.backpressure.input_gap;
    out["stall_prob"] = s.backpressure.output_stall;
    out["threads"] = threads;
    out["mismatches"] = total.mismatches;
    boost::json::array groups_json;
    for (const auto& [key, g] : rows) {
      groups_json.push_back(boost::json::object{
          {"n", key.first},
          {"k", key.second},
          {"vectors", g.engine_cycles.count()},
          {"mismatches", g.mismatches},
          {"engine_cycles_mean", g.engine_cycles.mean()},
          {"engine_cycles_sd", g.engine_cycles.stddev()},
          {"engine_cycles_min", static_cast<std::int64_t>(g.engine_cycles.min())},
          {"engine_cycles_max", static_cast<std::int64_t>(g.engine_cycles.max())},
          {"model_cycles_mean", g.model_cycles.mean()},
          {"rtl_cycles_mean", g.rtl_cycles.mean()}});
    }
    out["groups"] = std::move(groups_json);
    if (!json_path.empty()) attnsim::common::write_json_file(json_path, out);
    if (!out_dir.empty()) {
      std::filesystem::create_directories(out_dir);
      attnsim::common::write_json_file(std::filesystem::path(out_dir) / "results.json", out);
    }
    if (output == attnsim::common::OutputFormat::kJson) {
      std::cout << attnsim::common::to_pretty_json(out);
    } else if (output == attnsim::common::OutputFormat::kCsv) {
      std::cout << attnsim::common::rows_of(out["groups"].as_array()).to_csv();
    }
    // Last, and with mismatches too: the results above are complete whatever becomes of it.
    if (!out_dir.empty() && !vm.count("no-report")) {
      attnsim::common::write_run_report("topk-cosim", out_dir);
    }
  }
  return total.mismatches == 0 ? attnsim::common::kExitOk : attnsim::common::kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  return attnsim::common::run_cli("topk-cosim", [&] { return run(argc, argv); });
}
