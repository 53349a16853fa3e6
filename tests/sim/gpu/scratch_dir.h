// Per-process scratch folders for the gpu tests: ctest runs tests in parallel, and other
// checkouts on the same machine run the same tests, so names carry the process id.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace attnsim::gpu::testing {

/// A fresh, empty folder <tmp>/<stem>_<pid>; the caller removes it.
inline std::filesystem::path fresh_scratch_dir(const std::string& stem) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / (stem + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace attnsim::gpu::testing
