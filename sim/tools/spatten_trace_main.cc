// spatten-trace: validate SpAtten workload CSVs and attention traces, and derive a workload CSV
// from an attention trace with the functional models.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "models/spatten_functional.h"
#include "sim/common/attention_trace.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/output_format.h"
#include "sim/common/spatten_derivation.h"
#include "sim/common/spatten_workload_csv.h"

namespace {

namespace po = boost::program_options;
using attnsim::common::InputError;

constexpr const char* kUsage =
    "usage: spatten-trace <command> [options]\n"
    "  validate FILE...     check SpAtten workload CSVs (.csv) and attention traces (.npz)\n"
    "  derive --trace T.npz --out W.csv [--decisions D.json] [policy options]\n"
    "                       run the functional models over a trace, write the workload CSV\n"
    "  <command> --help     options of a command\n";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// K+V bytes of a workload as the public format implies them: fetched rows x D x bits, with the
// LSB increment added on re-quantization and 16 bits where a width is -1 (not quantized).
boost::json::object csv_summary(const std::string& path, const attnsim::common::SpattenWorkload& w,
                                bool print) {
  std::set<int> iterations, layers, heads;
  double key_ratio = 0, value_ratio = 0, kv_bytes = 0, dense_bytes = 0;
  long requant = 0;
  for (const auto& r : w.rows) {
    iterations.insert(r.iteration_id);
    layers.insert(r.layer_id);
    heads.insert(r.head_id);
    key_ratio += static_cast<double>(r.key_fetch_num) / r.sentence_length_l;
    value_ratio += static_cast<double>(r.value_fetch_num) / r.sentence_length_l;
    const int k_bits = r.quant_key_bit > 0 ? r.quant_key_bit : 16;
    const int v_bits = r.quant_value_bit > 0 ? r.quant_value_bit : 16;
    const double lsb_bits = r.if_requant ? r.auto_requant_incre : 0;
    kv_bytes += (r.key_fetch_num * (k_bits + lsb_bits) + double{1} * r.value_fetch_num * v_bits) *
                r.embedding_length_d / 8;
    dense_bytes += 2.0 * r.sentence_length_l * r.embedding_length_d * 16 / 8;
    requant += r.if_requant ? 1 : 0;
  }
  const double n = static_cast<double>(std::max<std::size_t>(w.rows.size(), 1));
  boost::json::object summary{{"file", path},
                              {"kind", "workload csv"},
                              {"head_steps", w.rows.size()},
                              {"iterations", iterations.size()},
                              {"layers", layers.size()},
                              {"heads", heads.size()},
                              {"key_fetched_per_token", key_ratio / n},
                              {"value_fetched_per_token", value_ratio / n},
                              {"lsb_refetch_share", requant / n},
                              {"kv_bytes", kv_bytes},
                              {"dense_kv_bytes", dense_bytes}};
  if (!print) return summary;
  std::printf(
      "%s: ok: %zu head-steps (%zu iterations x %zu layers x %zu heads); K fetched/L %.3f, V "
      "fetched/L %.3f, LSB re-fetch %.1f%% of head-steps; K+V %.1f MB vs %.1f MB dense 16-bit "
      "(%.1fx)\n",
      path.c_str(), w.rows.size(), iterations.size(), layers.size(), heads.size(), key_ratio / n,
      value_ratio / n, 100.0 * requant / n, kv_bytes / 1e6, dense_bytes / 1e6,
      kv_bytes > 0 ? dense_bytes / kv_bytes : 0.0);
  return summary;
}

// Prints the collected summaries as --format asks (table: the lines were printed as they came).
void print_summaries(attnsim::common::OutputFormat output, const std::string& command,
                     const boost::json::array& files) {
  if (output == attnsim::common::OutputFormat::kJson) {
    std::cout << attnsim::common::to_pretty_json(
        boost::json::object{{"tool", "spatten-trace"}, {"command", command}, {"files", files}});
  } else if (output == attnsim::common::OutputFormat::kCsv) {
    std::cout << attnsim::common::rows_of(files).to_csv();
  }
}

int validate(const std::vector<std::string>& args) {
  po::options_description options("spatten-trace validate FILE...");
  std::vector<std::string> files;
  std::string format = "table";
  options.add_options()("help,h", "show this help")("file", po::value(&files), "files to check")(
      "format", po::value(&format)->default_value(format), attnsim::common::kOutputFormatHelp);
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << options << '\n';
    return attnsim::common::kExitOk;
  }
  po::notify(vm);
  const attnsim::common::OutputFormat output = attnsim::common::parse_output_format(format);
  const bool table = output == attnsim::common::OutputFormat::kTable;
  if (files.empty()) throw InputError("command line", "FILE", "at least one file", "none");
  boost::json::array summaries;
  for (const std::string& file : files) {
    if (ends_with(file, ".npz")) {
      const auto t = attnsim::common::read_attention_trace(file);
      summaries.push_back(boost::json::object{{"file", file},
                                              {"kind", "attention trace"},
                                              {"version", attnsim::common::kAttentionTraceVersion},
                                              {"probabilities_only", t.probabilities_only()},
                                              {"layers", t.layers},
                                              {"heads", t.heads},
                                              {"tokens", t.tokens},
                                              {"head_dim", t.head_dim},
                                              {"causal", t.causal},
                                              {"prompt_tokens", t.prompt_tokens}});
      if (!table) continue;
      std::printf(
          "%s: ok: attention trace v%d (%s), %d layers x %d heads x %d tokens x %d dims, %s\n",
          file.c_str(), attnsim::common::kAttentionTraceVersion,
          t.probabilities_only() ? "probabilities and V" : "Q, K, V", t.layers, t.heads, t.tokens,
          t.head_dim,
          t.causal ? ("causal, prompt " + std::to_string(t.prompt_tokens)).c_str()
                   : "bidirectional");
    } else {
      summaries.push_back(csv_summary(file, attnsim::common::read_spatten_workload(file), table));
    }
  }
  print_summaries(output, "validate", summaries);
  return attnsim::common::kExitOk;
}

// "1,1,0.5" -> {1, 1, 0.5}
std::vector<double> parse_ratios(const std::string& text, const std::string& option) {
  std::vector<double> out;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty()) {
      throw InputError("command line", option, "comma-separated ratios", "'" + text + "'");
    }
    out.push_back(value);
  }
  return out;
}

int derive(const std::vector<std::string>& args) {
  po::options_description options("spatten-trace derive");
  std::string trace, out, decisions, token_keep, head_keep, config_path, format = "table";
  attnsim::models::SpattenParams p;
  bool no_quantize = false, no_progressive = false, prompt_last_only = false;
  int seed = p.topk.lfsr_seed;
  options.add_options()("help,h", "show this help")("trace", po::value(&trace)->required(),
                                                    "attention trace (.npz, traces/README.md)")(
      "out", po::value(&out)->required(), "workload CSV to write")(
      "decisions", po::value(&decisions), "also write every decision as JSON")(
      "token-keep", po::value(&token_keep),
      "per-layer token keep ratios, comma-separated (default: no token pruning)")(
      "head-keep", po::value(&head_keep), "per-layer head keep ratios (default: none)")(
      "value-keep", po::value(&p.value_keep_ratio)->default_value(1.0, "1.0"),
      "local value pruning keep ratio")("no-quantize", po::bool_switch(&no_quantize),
                                        "16-bit tensors, no progressive quantization")(
      "no-progressive", po::bool_switch(&no_progressive), "never re-fetch the K LSBs")(
      "requant-threshold",
      po::value(&p.progressive.max_prob_threshold)->default_value(0.05, "0.05"),
      "re-quantize when the max probability is below this")(
      "query-bits", po::value(&p.query_bits)->default_value(16), "Q width")(
      "key-msb-bits", po::value(&p.key_msb_bits)->default_value(6), "K bits fetched first")(
      "key-lsb-bits", po::value(&p.key_lsb_bits)->default_value(4), "K bits on re-quantization")(
      "value-bits", po::value(&p.value_bits)->default_value(6), "V width")(
      "prob-frac-bits", po::value(&p.softmax.prob_frac_bits)->default_value(12),
      "probability fraction bits")("lanes", po::value(&p.topk.lanes)->default_value(16),
                                   "top-k comparator lanes")(
      "seed", po::value(&seed)->default_value(p.topk.lfsr_seed), "top-k LFSR seed (1..65535)")(
      "prompt-last-only", po::bool_switch(&prompt_last_only),
      "iteration 0 runs only the last prompt query (faster)")(
      "config-path", po::value(&config_path), "text of the CSV's last line (default: the trace)")(
      "format", po::value(&format)->default_value(format), attnsim::common::kOutputFormatHelp);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  if (vm.count("help")) {
    std::cout << options << '\n';
    return attnsim::common::kExitOk;
  }
  po::notify(vm);
  const attnsim::common::OutputFormat output = attnsim::common::parse_output_format(format);
  if (seed < 1 || seed > 65535) {
    throw InputError("command line", "--seed", "an LFSR state in [1, 65535]", std::to_string(seed));
  }
  p.topk.lfsr_seed = static_cast<std::uint16_t>(seed);
  p.quantize = !no_quantize;
  p.progressive.enabled = !no_progressive;
  p.prompt_all_queries = !prompt_last_only;
  if (!token_keep.empty()) p.token_schedule.keep_ratio = parse_ratios(token_keep, "--token-keep");
  if (!head_keep.empty()) p.head_schedule.keep_ratio = parse_ratios(head_keep, "--head-keep");

  const attnsim::models::AttentionTensors tensors = attnsim::common::read_attention_trace(trace);
  p.topk.max_n = std::max(tensors.tokens, tensors.heads);
  if (tensors.probabilities_only()) p.progressive.enabled = false;  // no K to re-fetch
  const attnsim::models::Violations problems = p.validate("derive", tensors.layers);
  if (!problems.ok()) throw InputError("command line", problems.to_string());

  const attnsim::models::SpattenRunResult run = attnsim::models::run_spatten(tensors, p);
  const auto workload = attnsim::common::to_spatten_workload(
      run, p, config_path.empty() ? "attnsim-derived:" + trace : config_path);
  // Check every row before writing anything, so a bad run leaves neither file behind.
  for (std::size_t i = 0; i < workload.rows.size(); ++i) {
    attnsim::common::validate_spatten_row(workload.rows[i], out + ": row " + std::to_string(i + 1));
  }
  if (!decisions.empty()) {
    attnsim::common::write_json_file(decisions, attnsim::common::decisions_to_json(run));
  }
  attnsim::common::write_spatten_workload(out, workload);
  const boost::json::object summary =
      csv_summary(out, workload, output == attnsim::common::OutputFormat::kTable);
  print_summaries(output, "derive", boost::json::array{summary});
  return attnsim::common::kExitOk;
}

int run(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? attnsim::common::kExitInputError : attnsim::common::kExitOk;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "validate") return validate(args);
  if (command == "derive") return derive(args);
  throw InputError("command line", "command", "validate or derive", "'" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  return attnsim::common::run_cli("spatten-trace", [&] { return run(argc, argv); });
}
