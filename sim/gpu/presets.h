// Loading GpuSpec and KernelSpec from YAML presets (by name from search folders, or by path).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sim/common/yaml_reader.h"
#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"

namespace attnsim::gpu {

/// Folders holding gpus/<name>.yaml and kernels/<name>.yaml, searched in order.
using PresetDirs = std::vector<std::filesystem::path>;

/// The file for `name_or_path` of `kind` ("gpus" or "kernels"): a path when it names a .yaml
/// file, else the first <dir>/<kind>/<name>.yaml. Throws InputError listing the known names,
/// blaming `referrer` ("kernel.yaml:2: inherits") or, when empty, the option (--gpu, --kernel).
std::filesystem::path find_preset(const std::string& kind, const std::string& name_or_path,
                                  const PresetDirs& dirs, const std::string& referrer = "");

/// Names of the presets of `kind` found in `dirs`, sorted and unique.
std::vector<std::string> preset_names(const std::string& kind, const PresetDirs& dirs);

/// Loads and validates a GPU; errors name the file, line and field.
GpuSpec load_gpu(const std::string& name_or_path, const PresetDirs& dirs);

/// Loads and validates a kernel. A kernel may start from another one ("inherits: fa2") and
/// override any field, as presets compose.
KernelSpec load_kernel(const std::string& name_or_path, const PresetDirs& dirs);

/// Throws InputError naming `source` and every violated field when `violations` is not empty.
void throw_if_invalid(const models::Violations& violations, const std::string& source);

}  // namespace attnsim::gpu
