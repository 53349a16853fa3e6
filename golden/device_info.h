// What a benchmark records about the GPU it ran on (name, clocks, driver), without CUDA headers.
#pragma once

#include <optional>
#include <string>

namespace attnsim::golden {

/// The facts a measurement needs to be reproducible and comparable across machines.
struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  int sm_count = 0;
  int sm_clock_mhz = 0;  ///< maximum SM clock the driver reports
  int memory_clock_mhz = 0;
  int memory_bus_width_bits = 0;
  long long memory_bytes = 0;
  long long l2_cache_bytes = 0;
  long long shared_memory_per_sm_bytes = 0;
  int driver_version = 0;  ///< e.g. 13000 for CUDA 13.0, as cudaDriverGetVersion returns
  int runtime_version = 0;
};

/// Number of usable CUDA devices; 0 when there is no GPU or no driver (never throws), with the
/// CUDA error text in `why_none` so callers can say why they skip.
int cuda_device_count(std::string* why_none = nullptr);

/// Facts about device `index`, or nullopt with the reason in `why_not`.
std::optional<DeviceInfo> query_device(int index, std::string* why_not = nullptr);

/// Device facts as a JSON object (the "gpu" block of a measurements file).
std::string to_json(const DeviceInfo& info);

}  // namespace attnsim::golden
