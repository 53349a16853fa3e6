// tilesim sweep: a grid of pattern parameters x kernels x GPUs, one CSV row per point.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sim/gpu/presets.h"

namespace attnsim::gpu {

/// One pattern entry: its family and, per parameter, the values to sweep (in file order).
struct SweepPattern {
  std::string family;
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
};

/// The whole sweep, read from YAML.
struct SweepSpec {
  std::string source;
  std::vector<std::string> gpus;
  std::vector<std::string> kernels;
  std::vector<SweepPattern> patterns;
};

/// Reads a sweep YAML (see sweep_help()); errors name the file, line and field.
SweepSpec read_sweep_spec(const std::filesystem::path& path);

/// Runs every point (patterns outermost, then GPUs, then kernels) and returns the CSV text.
/// Each mask is generated once and simulated on every GPU and kernel.
std::string run_sweep(const SweepSpec& spec, const PresetDirs& dirs, bool show_progress);

/// The YAML format, for --help.
std::string sweep_help();

}  // namespace attnsim::gpu
