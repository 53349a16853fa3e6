// DeviceInfo from the CUDA runtime. Clocks come from device attributes: CUDA 13 removed
// cudaDeviceProp::clockRate and memoryClockRate.
#include <cuda_runtime.h>

#include <sstream>

#include "golden/device_info.h"

namespace attnsim::golden {
namespace {

bool check(cudaError_t status, std::string* why) {
  if (status == cudaSuccess) return true;
  if (why) *why = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
  return false;
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

}  // namespace

int cuda_device_count(std::string* why_none) {
  int count = 0;
  if (!check(cudaGetDeviceCount(&count), why_none)) return 0;
  if (count == 0 && why_none) *why_none = "the CUDA runtime reports no devices";
  return count;
}

std::optional<DeviceInfo> query_device(int index, std::string* why_not) {
  cudaDeviceProp prop{};
  if (!check(cudaGetDeviceProperties(&prop, index), why_not)) return std::nullopt;
  DeviceInfo info;
  info.index = index;
  info.name = prop.name;
  info.compute_capability_major = prop.major;
  info.compute_capability_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.memory_bus_width_bits = prop.memoryBusWidth;
  info.memory_bytes = static_cast<long long>(prop.totalGlobalMem);
  info.l2_cache_bytes = prop.l2CacheSize;
  info.shared_memory_per_sm_bytes = static_cast<long long>(prop.sharedMemPerMultiprocessor);
  int khz = 0;
  if (!check(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, index), why_not))
    return std::nullopt;
  info.sm_clock_mhz = khz / 1000;
  if (!check(cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, index), why_not)) {
    return std::nullopt;
  }
  info.memory_clock_mhz = khz / 1000;
  if (!check(cudaDriverGetVersion(&info.driver_version), why_not)) return std::nullopt;
  if (!check(cudaRuntimeGetVersion(&info.runtime_version), why_not)) return std::nullopt;
  return info;
}

std::string to_json(const DeviceInfo& info) {
  std::ostringstream out;
  out << "{\"index\": " << info.index << ", \"name\": \"" << json_escape(info.name) << "\""
      << ", \"compute_capability\": \"" << info.compute_capability_major << "."
      << info.compute_capability_minor << "\""
      << ", \"sm_count\": " << info.sm_count << ", \"sm_clock_mhz\": " << info.sm_clock_mhz
      << ", \"memory_clock_mhz\": " << info.memory_clock_mhz
      << ", \"memory_bus_width_bits\": " << info.memory_bus_width_bits
      << ", \"memory_bytes\": " << info.memory_bytes
      << ", \"l2_cache_bytes\": " << info.l2_cache_bytes
      << ", \"shared_memory_per_sm_bytes\": " << info.shared_memory_per_sm_bytes
      << ", \"driver_version\": " << info.driver_version
      << ", \"runtime_version\": " << info.runtime_version << "}";
  return out.str();
}

}  // namespace attnsim::golden
