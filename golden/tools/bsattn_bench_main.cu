// bsattn-bench: times a block-sparse attention kernel (CUDA events, warm-up, median of N, optional
// L2 flush) and writes the measurements JSON that `tilesim calibrate` reads: the golden mma.sync
// kernel (default), or the sm_90a kernel (--kernel sm90, golden/hopper) on FlexAttention's grid
// or on its persistent longest-first grid (--grid persistent).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "golden/block_sparse_attention.h"
#include "golden/device_info.h"
#include "golden/hopper/attention_sm90.h"
#include "golden/token_rule_from_mask_rule.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/output_format.h"
#include "sim/common/progress.h"
#include "sim/gpu/block_layout.h"
#include "sim/gpu/calibration.h"
#include "sim/gpu/schedulers/sm90_grid_choice.h"

namespace po = boost::program_options;
using attnsim::common::InputError;

namespace attnsim::golden {
namespace {

void check_cuda(cudaError_t status, const std::string& what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(what + ": " + cudaGetErrorName(status) + " (" +
                             cudaGetErrorString(status) + ")");
  }
}

constexpr float kSampleTargetMs = 2.0f;

// Uniform(-1, 1) inputs from a hash of (seed, index): fast on the device and reproducible.
__global__ void fill_random(std::uint16_t* data, std::int64_t count, std::uint32_t seed,
                            bool bf16) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::uint64_t x = static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull + seed;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    const float u = static_cast<float>(x >> 40) / static_cast<float>(1 << 24) * 2.f - 1.f;
    data[i] = bf16 ? static_cast<__nv_bfloat16_raw>(__float2bfloat16(u)).x
                   : static_cast<__half_raw>(__float2half(u)).x;
  }
}

// A mask as the kernel consumes it: FlexAttention BlockMask lists, one row per (batch, head, Q
// block), from tilesim's BlockLayout (the same reader tilesim uses, so both see the same mask).
struct HostBlockLists {
  std::vector<std::int32_t> num, idx, full_num, full_idx;
};

HostBlockLists lists_from_layout(const gpu::BlockLayout& layout) {
  const gpu::MaskGeometry& g = layout.geometry;
  const std::int64_t rows = g.rows(), nk = g.kv_blocks();
  HostBlockLists lists;
  lists.num.assign(rows, 0);
  lists.full_num.assign(rows, 0);
  lists.idx.assign(rows * nk, 0);
  lists.full_idx.assign(rows * nk, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t e = layout.row_begin[r]; e < layout.row_begin[r + 1]; ++e) {
      if (layout.is_full[e]) {
        lists.full_idx[r * nk + lists.full_num[r]++] = layout.kv_block[e];
      } else {
        lists.idx[r * nk + lists.num[r]++] = layout.kv_block[e];
      }
    }
  }
  return lists;
}

template <typename T>
T* device_copy(const std::vector<T>& host) {
  T* device = nullptr;
  check_cuda(cudaMalloc(&device, std::max<std::size_t>(host.size(), 1) * sizeof(T)), "cudaMalloc");
  check_cuda(cudaMemcpy(device, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
             "cudaMemcpy");
  return device;
}

// "NVIDIA H200" -> "h200": the name of tilesim's GPU preset for this device.
std::string gpu_preset_name(std::string name) {
  if (name.rfind("NVIDIA ", 0) == 0) name = name.substr(7);
  for (char& ch : name) ch = ch == ' ' ? '-' : static_cast<char>(std::tolower(ch));
  return name;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

int run(int argc, char** argv) {
  po::options_description options("bsattn-bench options");
  options.add_options()("help,h", "this help")(
      "mask", po::value<std::vector<std::string>>()->multitoken(),
      "masks: .npz/.npy files or inline patterns 'pattern:NAME,key=value,...' (tilesim's syntax)")(
      "rule", po::value<std::string>(),
      "token rule in PARTIAL blocks, sim/gpu/mask_rules.md syntax: allow, causal, "
      "causal_window,window=W, band,left=L,right=R, sliding_window,window=W[,dilation=D,stride=S], "
      "gna,dims=AxB[xC],window=..[,stride=..,dilation=..], "
      "document,lengths=AxB[/CxD][,causal=0|1], "
      "prefix_lm,prefix=P, a_shape,sinks=N,window=W (window:LEFT:RIGHT reads as band; default: "
      "each mask's own rule, else allow)")("kv-heads", po::value<int>()->default_value(0),
                                           "key/value heads (0: one per query head)")(
      "gqa", po::value<int>()->default_value(0),
      "query heads per key/value head (0: see --kv-heads); K/V get heads / G heads")(
      "head-dim", po::value<std::string>()->default_value("128"), "comma-separated: 64, 128")(
      "dtype", po::value<std::string>()->default_value("bf16"), "bf16 or fp16")(
      "warmup", po::value<int>()->default_value(5), "untimed runs first")(
      "reps", po::value<int>()->default_value(20), "timed runs (the median is reported)")(
      "flush-l2", po::bool_switch(), "overwrite a buffer of twice the L2 size before each run")(
      "seed", po::value<std::uint32_t>()->default_value(1), "input data seed")(
      "kernel", po::value<std::string>()->default_value("golden"),
      "golden (mma.sync, golden/block_sparse_attention.cu) or sm90 (sm_90a: TMA, wgmma; "
      "golden/hopper; compute capability 9.0 only, mask blocks of 128 x 128k)")(
      "grid", po::value<std::string>()->default_value("flat"),
      "sm90 only: flat (one CTA per query tile, head and batch: FlexAttention's grid), "
      "persistent (one CTA per SM, work items longest first) or auto (per mask and head dim, "
      "the one sim/gpu/schedulers/sm90_grid_choice.h estimates faster, as tilesim's sm90_auto; "
      "each run's info.grid says which)")(
      "schedule", po::value<std::string>()->default_value("pingpong"),
      "sm90 only: the consumers' schedule, serial, overlap or pingpong")(
      "out", po::value<std::string>(), "measurements JSON to write (tilesim calibrate reads it)")(
      "format", po::value<std::string>()->default_value("table"), common::kOutputFormatHelp);
  po::positional_options_description positional;
  positional.add("mask", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help") || !vm.count("mask")) {
    std::cout << "usage: bsattn-bench MASK... [options]\n" << options << '\n';
    return vm.count("help") ? 0 : common::kExitInputError;
  }
  const common::OutputFormat output = common::parse_output_format(vm["format"].as<std::string>());
  const std::string dtype = vm["dtype"].as<std::string>();
  if (dtype != "bf16" && dtype != "fp16")
    throw InputError("--dtype", "dtype", "bf16 or fp16", dtype);
  const int reps = vm["reps"].as<int>(), warmup = vm["warmup"].as<int>();
  if (reps < 1 || warmup < 0)
    throw InputError("--reps/--warmup", "count", "reps >= 1, warmup >= 0",
                     std::to_string(reps) + "/" + std::to_string(warmup));
  const ElementType type = dtype == "bf16" ? ElementType::kBFloat16 : ElementType::kFloat16;
  const std::string kernel = vm["kernel"].as<std::string>();
  if (kernel != "golden" && kernel != "sm90")
    throw InputError("--kernel", "kernel", "golden or sm90", kernel);
  const bool sm90_kernel = kernel == "sm90";
  const std::string grid = vm["grid"].as<std::string>();
  if (grid != "flat" && grid != "persistent" && grid != "auto")
    throw InputError("--grid", "grid", "flat, persistent or auto", grid);
  const std::string schedule_name = vm["schedule"].as<std::string>();
  if (schedule_name != "serial" && schedule_name != "overlap" && schedule_name != "pingpong")
    throw InputError("--schedule", "schedule", "serial, overlap or pingpong", schedule_name);
  if (!sm90_kernel && (!vm["grid"].defaulted() || !vm["schedule"].defaulted()))
    throw InputError("--grid/--schedule", "kernel",
                     "--kernel sm90 (the golden kernel has one grid "
                     "and one schedule)",
                     kernel);
  const sm90::Sm90Schedule schedule = schedule_name == "serial"    ? sm90::Sm90Schedule::kSerial
                                      : schedule_name == "overlap" ? sm90::Sm90Schedule::kOverlap
                                                                   : sm90::Sm90Schedule::kPingpong;

  // Without --rule each mask runs its own rule (BlockLayout::rule), or allow when it has none.
  const bool rule_given = vm.count("rule") > 0;
  const int gqa = vm["gqa"].as<int>(), kv_heads_option = vm["kv-heads"].as<int>();
  if (gqa < 0 || kv_heads_option < 0 || (gqa > 0 && kv_heads_option > 0)) {
    throw InputError("--gqa/--kv-heads", "heads", "at most one of them, >= 0",
                     std::to_string(gqa) + "/" + std::to_string(kv_heads_option));
  }
  const std::filesystem::path out_dir =
      vm.count("out") ? std::filesystem::absolute(vm["out"].as<std::string>()).parent_path()
                      : std::filesystem::current_path();
  // Every mask is read and checked before the GPU is touched.
  std::vector<gpu::Workload> workloads;
  std::vector<std::string> mask_labels;  // as tilesim calibrate expects: relative to --out's folder
  std::vector<GoldenTokenRule> rules;    // per mask: the rule depends on its geometry
  for (const std::string& argument : vm["mask"].as<std::vector<std::string>>()) {
    const bool inline_pattern = argument.rfind("pattern:", 0) == 0;
    workloads.push_back(gpu::load_workload(argument, argument));
    const gpu::MaskGeometry& g = workloads.back().mask.geometry;
    const std::optional<gpu::MaskRule>& own = workloads.back().mask.rule;
    const std::string rule_text = rule_given ? vm["rule"].as<std::string>()
                                  : own      ? own->text()
                                             : "allow";
    rules.push_back(token_rule_from_text(rule_text, static_cast<int>(g.batch),
                                         static_cast<int>(g.seq_q), static_cast<int>(g.seq_kv),
                                         rule_given ? "--rule" : argument + " (its rule)"));
    if (gqa > 0 && g.heads % gqa != 0) {
      throw InputError(argument, "heads", "a multiple of --gqa " + std::to_string(gqa),
                       std::to_string(g.heads));
    }
    mask_labels.push_back(
        inline_pattern
            ? argument
            : std::filesystem::relative(std::filesystem::absolute(argument), out_dir).string());
  }
  std::vector<int> head_dims;
  for (const std::string& d : split(vm["head-dim"].as<std::string>())) {
    if (d != "64" && d != "128") throw InputError("--head-dim", "head_dim", "64 or 128", d);
    head_dims.push_back(std::stoi(d));
  }
  // Arguments are checked above; a machine without a GPU is an ordinary failure, not a bug.
  std::string why;
  const auto device = cuda_device_count(&why) > 0 ? query_device(0, &why) : std::nullopt;
  if (!device) {
    std::cerr << "bsattn-bench: no CUDA device (" << why << ")\n";
    return common::kExitFailure;
  }
  if (sm90_kernel) {
    cudaDeviceProp prop{};
    check_cuda(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    if (prop.major != 9 || prop.minor != 0) {
      std::cerr << "bsattn-bench: --kernel sm90 needs compute capability 9.0, device 0 is "
                << prop.major << "." << prop.minor << "\n";
      return common::kExitFailure;
    }
  }

  std::uint8_t* flush = nullptr;
  const std::size_t flush_bytes = 2 * static_cast<std::size_t>(device->l2_cache_bytes);
  if (vm["flush-l2"].as<bool>()) check_cuda(cudaMalloc(&flush, flush_bytes), "cudaMalloc");
  cudaEvent_t start, stop;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate");
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate");

  boost::json::array runs;
  auto progress =
      common::ProgressLine::for_stderr("bsattn-bench", workloads.size() * head_dims.size());
  for (int head_dim : head_dims) {
    for (std::size_t w = 0; w < workloads.size(); ++w) {
      const gpu::BlockLayout& mask = workloads[w].mask;
      const gpu::MaskGeometry& g = mask.geometry;
      const int heads = static_cast<int>(g.heads), batch = static_cast<int>(g.batch);
      const int kv_heads = gqa > 0 ? heads / gqa : kv_heads_option > 0 ? kv_heads_option : heads;
      if (heads % kv_heads != 0) {
        throw InputError(workloads[w].name, "heads",
                         "a multiple of --kv-heads " + std::to_string(kv_heads),
                         std::to_string(heads));
      }
      TokenRuleParams rule = rules[w].params;
      std::int32_t* d_docs = nullptr;
      std::int32_t* d_runs = nullptr;
      if (!rules[w].document_ids.empty()) {
        d_docs = device_copy(rules[w].document_ids);
        rule.document_ids = d_docs;
      }
      if (!rules[w].document_runs.empty()) {
        d_runs = device_copy(rules[w].document_runs);
        rule.document_runs = d_runs;
      }
      const AttentionShape shape{
          batch, heads, kv_heads, static_cast<int>(g.seq_q), static_cast<int>(g.seq_kv), head_dim};
      const HostBlockLists host = lists_from_layout(mask);
      std::int32_t* d_num = device_copy(host.num);
      std::int32_t* d_idx = device_copy(host.idx);
      std::int32_t* d_full_num = device_copy(host.full_num);
      std::int32_t* d_full_idx = device_copy(host.full_idx);
      const BlockLists lists{d_num,
                             d_idx,
                             d_full_num,
                             d_full_idx,
                             batch,
                             heads,
                             static_cast<int>(g.q_blocks()),
                             static_cast<int>(g.kv_blocks()),
                             static_cast<int>(g.block_q),
                             static_cast<int>(g.block_kv)};
      const std::string reasons = sm90_kernel ? sm90::can_run_sparse(type, shape, lists, rule)
                                              : can_run(type, shape, lists, rule);
      if (!reasons.empty())
        throw InputError(workloads[w].name, "mask", "a mask the " + kernel + " kernel can run",
                         reasons);
      // The persistent grid's work order (longest first), from the host lists; with --grid auto
      // the grid this mask and head dim run on.
      std::int32_t* d_order = nullptr;
      int order_count = 0;
      bool persistent = grid == "persistent";
      if (sm90_kernel && grid != "flat") {
        const std::vector<std::int32_t> order = sm90::longest_first_order(
            shape, batch, heads, static_cast<int>(g.q_blocks()), host.num, host.full_num);
        if (grid == "auto") {
          // The lists' rows are the items in grid order (batch x heads x 128-query blocks).
          const std::int64_t tiles_per_block = g.block_kv / sm90::Sm90KernelGeometry::kTileKv;
          std::vector<std::int64_t> item_tiles(host.num.size());
          for (std::size_t i = 0; i < item_tiles.size(); ++i)
            item_tiles[i] = (std::int64_t{host.num[i]} + host.full_num[i]) * tiles_per_block;
          persistent = gpu::sm90::choose_grid(item_tiles, order, device->sm_count,
                                              gpu::sm90::h200_grid_item_costs(head_dim)) ==
                       gpu::sm90::Sm90Grid::kPersistent;
        }
        if (persistent) {
          d_order = device_copy(order);
          order_count = static_cast<int>(order.size());
        }
      }
      const std::int64_t q_count = static_cast<std::int64_t>(batch) * heads * g.seq_q * head_dim;
      const std::int64_t kv_count =
          static_cast<std::int64_t>(batch) * kv_heads * g.seq_kv * head_dim;
      std::uint16_t *q, *k, *v, *o;
      check_cuda(cudaMalloc(&q, q_count * 2), "cudaMalloc Q");
      check_cuda(cudaMalloc(&k, kv_count * 2), "cudaMalloc K");
      check_cuda(cudaMalloc(&v, kv_count * 2), "cudaMalloc V");
      check_cuda(cudaMalloc(&o, q_count * 2), "cudaMalloc O");
      const std::uint32_t seed = vm["seed"].as<std::uint32_t>();
      fill_random<<<1024, 256>>>(q, q_count, seed * 3 + 0, type == ElementType::kBFloat16);
      fill_random<<<1024, 256>>>(k, kv_count, seed * 3 + 1, type == ElementType::kBFloat16);
      fill_random<<<1024, 256>>>(v, kv_count, seed * 3 + 2, type == ElementType::kBFloat16);
      check_cuda(cudaGetLastError(), "fill_random");
      const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
      auto launch = [&] {
        const int status =
            !sm90_kernel
                ? launch_block_sparse_attention(type, shape, q, k, v, o, lists, rule, scale)
            : persistent
                ? sm90::launch_sparse_attention_persistent(type, shape, q, k, v, o, lists, rule,
                                                           scale, d_order, order_count, schedule)
                : sm90::launch_sparse_attention(type, shape, q, k, v, o, lists, rule, scale,
                                                schedule);
        check_cuda(static_cast<cudaError_t>(status), "kernel launch");
      };
      auto elapsed_ms = [&](int calls) {
        if (flush) check_cuda(cudaMemsetAsync(flush, 0x5a, flush_bytes), "L2 flush");
        check_cuda(cudaEventRecord(start), "cudaEventRecord");
        for (int c = 0; c < calls; ++c) launch();
        check_cuda(cudaEventRecord(stop), "cudaEventRecord");
        check_cuda(cudaEventSynchronize(stop), "kernel");
        float ms = 0;
        check_cuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        return ms;
      };
      for (int r = 0; r < warmup; ++r) elapsed_ms(1);
      // Each sample times back-to-back launches worth >= kSampleTargetMs of GPU work, so host
      // launch gaps stay out of sub-millisecond runs; with --flush-l2 every launch is timed alone.
      const int calls =
          flush ? 1
                : std::clamp(static_cast<int>(kSampleTargetMs / std::max(elapsed_ms(1), 1e-3f)) + 1,
                             1, 200);
      std::vector<float> times_ms;
      for (int r = 0; r < reps; ++r) times_ms.push_back(elapsed_ms(calls) / calls);
      std::vector<float> sorted = times_ms;
      std::sort(sorted.begin(), sorted.end());
      const double median = sorted.size() % 2
                                ? sorted[sorted.size() / 2]
                                : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
      // Exact for generated masks; block-only masks count partial blocks as fully allowed.
      const double pairs = static_cast<double>(gpu::allowed_pairs_total(mask));
      const double flops = 4.0 * head_dim * pairs;
      boost::json::array all;
      for (float t : times_ms) all.push_back(t);
      runs.push_back(
          boost::json::object{{"mask", mask_labels[w]},
                              {"ms", median},
                              {"rule", rules[w].text},
                              {"gqa", heads / kv_heads},
                              {"head_dim", head_dim},
                              {"dtype", dtype},
                              {"info", boost::json::object{{"batch", batch},
                                                           {"heads", heads},
                                                           {"kv_heads", kv_heads},
                                                           {"seq_q", g.seq_q},
                                                           {"seq_kv", g.seq_kv},
                                                           {"rule_source", rule_given  ? "--rule"
                                                                           : mask.rule ? "mask"
                                                                                       : "default"},
                                                           {"allowed_pairs", pairs},
                                                           {"tflops", flops / median / 1e9},
                                                           {"ms_min", sorted.front()},
                                                           {"ms_max", sorted.back()},
                                                           {"reps", reps},
                                                           {"calls_per_sample", calls},
                                                           {"flush_l2", flush != nullptr},
                                                           {"ms_all", std::move(all)}}}});
      if (sm90_kernel)  // the grid this run used (--grid auto picks one per mask and head dim)
        runs.back().as_object()["info"].as_object()["grid"] = persistent ? "persistent" : "flat";
      progress.advance();
      for (void* p :
           {static_cast<void*>(q), static_cast<void*>(k), static_cast<void*>(v),
            static_cast<void*>(o), static_cast<void*>(d_num), static_cast<void*>(d_idx),
            static_cast<void*>(d_full_num), static_cast<void*>(d_full_idx),
            static_cast<void*>(d_docs), static_cast<void*>(d_runs), static_cast<void*>(d_order)}) {
        cudaFree(p);
      }
    }
  }
  progress.finish();
  cudaFree(flush);

  boost::json::object result{{"gpu", gpu_preset_name(device->name)},
                             {"kernel", kernel},
                             {"device", boost::json::parse(to_json(*device))},
                             {"runs", runs}};
  if (sm90_kernel) {  // the golden kernel's files stay as they were
    result["grid"] = grid;
    result["schedule"] = schedule_name;
  }
  if (output == common::OutputFormat::kJson) std::cout << common::to_pretty_json(result);
  if (output == common::OutputFormat::kCsv) std::cout << common::rows_of(runs).to_csv();
  if (output == common::OutputFormat::kTable) {
    std::printf("%-40s %4s %10s %9s\n", "mask", "d", "ms", "TFLOP/s");
  }
  for (const auto& run_value : runs) {
    if (output != common::OutputFormat::kTable) break;
    const auto& r = run_value.as_object();
    std::printf("%-40s %4lld %10.3f %9.1f\n", r.at("mask").as_string().c_str(),
                static_cast<long long>(r.at("head_dim").as_int64()), r.at("ms").as_double(),
                r.at("info").as_object().at("tflops").as_double());
  }
  if (vm.count("out")) common::write_json_file(vm["out"].as<std::string>(), result);
  return 0;
}

}  // namespace
}  // namespace attnsim::golden

int main(int argc, char** argv) {
  return attnsim::common::run_cli("bsattn-bench", [&] { return attnsim::golden::run(argc, argv); });
}
