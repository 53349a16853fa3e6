// gpu-info: prints the facts benchmarks record about each CUDA device, as JSON lines.
#include <iostream>
#include <string>

#include "golden/device_info.h"

int main(int argc, char** argv) {
  if (argc > 1) {
    std::cerr << "usage: gpu-info\n"
                 "Prints one JSON object per CUDA device; exits 1 when there is none.\n";
    return std::string(argv[1]) == "--help" ? 0 : 2;
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
    std::cout << attnsim::golden::to_json(*info) << '\n';
  }
  return 0;
}
