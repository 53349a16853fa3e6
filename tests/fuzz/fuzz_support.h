// What every fuzz target shares: bad input may only ever be an InputError (exit 2 at the CLI);
// any other exception, crash, hang or huge allocation is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "sim/common/input_error.h"

namespace attnsim::fuzz {

/// The source tree (presets for `inherits:`): $ATTNSIM_SOURCE_DIR when set (a copied build run
/// elsewhere), else where the target was configured.
inline std::filesystem::path source_dir() {
  const char* env = std::getenv("ATTNSIM_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? std::filesystem::path(env)
                                        : std::filesystem::path(ATTNSIM_SOURCE_DIR);
}

/// Writes the input to `name` in a folder of this process's own (removed at exit), for readers
/// that take a path; the name's extension is what the reader dispatches on.
inline std::filesystem::path scratch_file(const std::uint8_t* data, std::size_t size,
                                          const std::string& name) {
  struct Folder {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("attnsim-fuzz-" + std::to_string(::getpid()));
    Folder() { std::filesystem::create_directories(path); }
    ~Folder() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Folder folder;
  const std::filesystem::path file = folder.path / name;
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return file;
}

/// Runs `body`, accepting only InputError: anything else escapes and libFuzzer reports it.
template <typename Body>
int only_input_errors(Body&& body) {
  try {
    body();
  } catch (const common::InputError&) {
  }
  return 0;
}

}  // namespace attnsim::fuzz
