// bsattn-bench: times the golden block-sparse attention kernel (CUDA events, warm-up, median of N,
// optional L2 flush) and writes the measurements JSON that `tilesim calibrate` reads.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "golden/block_sparse_attention.h"
#include "golden/device_info.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/progress.h"

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

// A built-in mask pattern at 128x128 blocks, with its token rule and allowed-pair count.
struct PatternMask {
  std::vector<std::int32_t> num, idx, full_num, full_idx;
  int nq = 0, nk = 0;
  TokenRuleParams rule;
  double allowed_pairs = 0;
};

PatternMask make_pattern(const std::string& spec, int seq_q, int seq_kv) {
  PatternMask m;
  m.nq = (seq_q + 127) / 128;
  m.nk = (seq_kv + 127) / 128;
  long left = 0, right = 0;  // window; causal is left = inf, right = 0
  if (spec == "dense") {
    left = right = 1L << 40;
  } else if (spec == "causal") {
    left = 1L << 40;
  } else if (spec.rfind("window:", 0) == 0) {
    char colon = 0;
    std::istringstream in(spec.substr(7));
    if (!(in >> left >> colon >> right) || colon != ':' || left < 0 || right < 0) {
      throw InputError("--pattern", "window", "window:LEFT:RIGHT with non-negative integers", spec);
    }
  } else {
    throw InputError("--pattern", "pattern", "dense, causal or window:LEFT:RIGHT", spec);
  }
  m.rule = {TokenRule::kWindow, static_cast<int>(std::min(left, 1L << 30)),
            static_cast<int>(std::min(right, 1L << 30)), nullptr, 0};
  m.num.assign(m.nq, 0);
  m.full_num.assign(m.nq, 0);
  m.idx.assign(static_cast<std::size_t>(m.nq) * m.nk, 0);
  m.full_idx.assign(m.idx.size(), 0);
  for (int i = 0; i < m.nq; ++i) {
    const long q_lo = i * 128L, q_hi = std::min<long>(q_lo + 128, seq_q) - 1;
    for (int j = 0; j < m.nk; ++j) {
      const long k_lo = j * 128L, k_hi = std::min<long>(k_lo + 128, seq_kv) - 1;
      // The block is FULL when even its worst-placed pair is inside the window.
      const bool any = k_hi >= q_lo - left && k_lo <= q_hi + right;
      const bool all =
          k_lo >= q_hi - left && k_hi <= q_lo + right && q_hi - q_lo == 127 && k_hi - k_lo == 127;
      if (!any) continue;
      if (all) {
        m.full_idx[static_cast<std::size_t>(i) * m.nk + m.full_num[i]++] = j;
      } else {
        m.idx[static_cast<std::size_t>(i) * m.nk + m.num[i]++] = j;
      }
    }
  }
  for (long q = 0; q < seq_q; ++q) {
    const long lo = std::max(0L, q - left), hi = std::min<long>(seq_kv - 1, q + right);
    m.allowed_pairs += hi >= lo ? static_cast<double>(hi - lo + 1) : 0.0;
  }
  return m;
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
  options.add_options()("help", "this help")(
      "patterns", po::value<std::string>()->default_value("dense,causal"),
      "comma-separated: dense, causal, window:LEFT:RIGHT")(
      "seq", po::value<std::string>()->default_value("4096"), "comma-separated sequence lengths")(
      "batch", po::value<int>()->default_value(1), "batch size")(
      "heads", po::value<int>()->default_value(32), "query heads")(
      "kv-heads", po::value<int>()->default_value(0), "key/value heads (0: same as --heads)")(
      "head-dim", po::value<std::string>()->default_value("128"), "comma-separated: 64, 128")(
      "dtype", po::value<std::string>()->default_value("bf16"), "bf16 or fp16")(
      "warmup", po::value<int>()->default_value(5), "untimed runs first")(
      "reps", po::value<int>()->default_value(20), "timed runs (the median is reported)")(
      "flush-l2", po::bool_switch(), "overwrite a buffer of twice the L2 size before each run")(
      "seed", po::value<std::uint32_t>()->default_value(1), "input data seed")(
      "out", po::value<std::string>(), "measurements JSON to write");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << options << '\n';
    return 0;
  }
  const std::string dtype = vm["dtype"].as<std::string>();
  if (dtype != "bf16" && dtype != "fp16")
    throw InputError("--dtype", "dtype", "bf16 or fp16", dtype);
  const int reps = vm["reps"].as<int>(), warmup = vm["warmup"].as<int>();
  if (reps < 1 || warmup < 0)
    throw InputError("--reps/--warmup", "count", "reps >= 1, warmup >= 0",
                     std::to_string(reps) + "/" + std::to_string(warmup));
  const ElementType type = dtype == "bf16" ? ElementType::kBFloat16 : ElementType::kFloat16;

  struct Config {
    std::string pattern;
    int seq, head_dim;
  };
  std::vector<Config> configs;
  for (const std::string& d : split(vm["head-dim"].as<std::string>())) {
    for (const std::string& seq : split(vm["seq"].as<std::string>())) {
      for (const std::string& pattern : split(vm["patterns"].as<std::string>())) {
        configs.push_back({pattern, std::stoi(seq), std::stoi(d)});
      }
    }
  }
  const int batch = vm["batch"].as<int>(), heads = vm["heads"].as<int>();
  // Arguments are checked above; a machine without a GPU is an ordinary failure, not a bug.
  std::string why;
  const auto device = cuda_device_count(&why) > 0 ? query_device(0, &why) : std::nullopt;
  if (!device) {
    std::cerr << "bsattn-bench: no CUDA device (" << why << ")\n";
    return common::kExitFailure;
  }
  const int kv_heads = vm["kv-heads"].as<int>() > 0 ? vm["kv-heads"].as<int>() : heads;

  std::uint8_t* flush = nullptr;
  const std::size_t flush_bytes = 2 * static_cast<std::size_t>(device->l2_cache_bytes);
  if (vm["flush-l2"].as<bool>()) check_cuda(cudaMalloc(&flush, flush_bytes), "cudaMalloc");
  cudaEvent_t start, stop;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate");
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate");

  boost::json::array runs;
  auto progress = common::ProgressLine::for_stderr("bsattn-bench", configs.size());
  for (const Config& c : configs) {
    const AttentionShape shape{batch, heads, kv_heads, c.seq, c.seq, c.head_dim};
    const PatternMask mask = make_pattern(c.pattern, c.seq, c.seq);
    const std::int64_t q_count = static_cast<std::int64_t>(batch) * heads * c.seq * c.head_dim;
    const std::int64_t kv_count = static_cast<std::int64_t>(batch) * kv_heads * c.seq * c.head_dim;
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
    std::int32_t* d_num = device_copy(mask.num);
    std::int32_t* d_idx = device_copy(mask.idx);
    std::int32_t* d_full_num = device_copy(mask.full_num);
    std::int32_t* d_full_idx = device_copy(mask.full_idx);
    const BlockLists lists{d_num, d_idx, d_full_num, d_full_idx, 1, 1, mask.nq, mask.nk, 128, 128};
    const float scale = 1.f / std::sqrt(static_cast<float>(c.head_dim));
    std::vector<float> times_ms;
    for (int r = 0; r < warmup + reps; ++r) {
      if (flush) check_cuda(cudaMemsetAsync(flush, r & 0xff, flush_bytes), "L2 flush");
      check_cuda(cudaEventRecord(start), "cudaEventRecord");
      check_cuda(static_cast<cudaError_t>(launch_block_sparse_attention(type, shape, q, k, v, o,
                                                                        lists, mask.rule, scale)),
                 "kernel launch");
      check_cuda(cudaEventRecord(stop), "cudaEventRecord");
      check_cuda(cudaEventSynchronize(stop), "kernel");
      float ms = 0;
      check_cuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
      if (r >= warmup) times_ms.push_back(ms);
    }
    std::vector<float> sorted = times_ms;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted.size() % 2
                              ? sorted[sorted.size() / 2]
                              : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
    const double flops = 4.0 * c.head_dim * mask.allowed_pairs * batch * heads;
    boost::json::array all;
    for (float t : times_ms) all.push_back(t);
    runs.push_back(boost::json::object{{"mask", c.pattern},
                                       {"ms", median},
                                       {"head_dim", c.head_dim},
                                       {"dtype", dtype},
                                       {"batch", batch},
                                       {"heads", heads},
                                       {"kv_heads", kv_heads},
                                       {"seq_q", c.seq},
                                       {"seq_kv", c.seq},
                                       {"allowed_pairs", mask.allowed_pairs},
                                       {"tflops", flops / median / 1e9},
                                       {"ms_min", sorted.front()},
                                       {"ms_max", sorted.back()},
                                       {"reps", reps},
                                       {"flush_l2", flush != nullptr},
                                       {"ms_all", std::move(all)}});
    progress.advance();
    for (void* p : {static_cast<void*>(q), static_cast<void*>(k), static_cast<void*>(v),
                    static_cast<void*>(o), static_cast<void*>(d_num), static_cast<void*>(d_idx),
                    static_cast<void*>(d_full_num), static_cast<void*>(d_full_idx)}) {
      cudaFree(p);
    }
  }
  progress.finish();
  cudaFree(flush);

  boost::json::object result{{"gpu", gpu_preset_name(device->name)},
                             {"kernel", "golden"},
                             {"device", boost::json::parse(to_json(*device))},
                             {"runs", runs}};
  std::printf("%-16s %6s %4s %10s %9s\n", "mask", "seq", "d", "ms", "TFLOP/s");
  for (const auto& run_value : runs) {
    const auto& r = run_value.as_object();
    std::printf("%-16s %6lld %4lld %10.3f %9.1f\n", r.at("mask").as_string().c_str(),
                static_cast<long long>(r.at("seq_q").as_int64()),
                static_cast<long long>(r.at("head_dim").as_int64()), r.at("ms").as_double(),
                r.at("tflops").as_double());
  }
  if (vm.count("out")) common::write_json_file(vm["out"].as<std::string>(), result);
  return 0;
}

}  // namespace
}  // namespace attnsim::golden

int main(int argc, char** argv) {
  return attnsim::common::run_cli("bsattn-bench", [&] { return attnsim::golden::run(argc, argv); });
}
