// gpu-info: prints the facts benchmarks record about each CUDA device, as JSON lines.
#include <boost/json.hpp>
#include <iostream>
#include <string>

#include "golden/device_info.h"
#include "sim/common/output_format.h"

namespace {

constexpr const char* kUsage =
    "usage: gpu-info [--format json|table|csv]\n"
    "Prints one JSON object per CUDA device (json, the default), or its fields as \"field,value\"\n"
    "rows (csv) or aligned lines (table); exits 1 when there is no device.\n";

}  // namespace

int main(int argc, char** argv) {
  std::string format = "json";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--format" && i + 1 < argc) {
      format = argv[++i];
    } else if (arg.rfind("--format=", 0) == 0) {
      format = arg.substr(9);
    } else {
      std::cerr << "gpu-info: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  if (format != "json" && format != "table" && format != "csv") {
    std::cerr << "gpu-info: --format: format: expected json, table or csv, got '" << format
              << "'\n";
    return 2;
  }
  std::string why;
  const int count = attnsim::golden::cuda_device_count(&why);
  if (count == 0) {
    std::cerr << "gpu-info: no CUDA device (" << why << ")\n";
    return 1;
  }
  for (int i = 0; i < count; ++i) {
    const auto info = attnsim::golden::query_device(i, &why);
    if (!info) {
      std::cerr << "gpu-info: device " << i << ": " << why << '\n';
      return 1;
    }
    const std::string json = attnsim::golden::to_json(*info);
    if (format == "json") {
      std::cout << json << '\n';
      continue;
    }
    const std::string csv = attnsim::common::flat_csv(boost::json::parse(json));
    if (format == "csv") {
      std::cout << csv;
    } else {
      std::cout << "device " << i << ":\n";
      for (std::size_t at = csv.find('\n') + 1; at < csv.size();) {
        const std::size_t end = csv.find('\n', at);
        std::string line = csv.substr(at, end - at);
        const std::size_t comma = line.find(',');
        std::cout << "  " << line.substr(0, comma) << ": " << line.substr(comma + 1) << '\n';
        at = end + 1;
      }
    }
  }
  return 0;
}
