// Output files that appear complete or not at all: no half-written results after a failure or kill.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace attnsim::common {

/// Writes to a temporary sibling ("<name>.tmp-<pid>") and renames it over `path` on commit().
/// Contract: until commit() returns, `path` keeps its previous content (or stays absent); the
/// destructor removes the temporary file if commit() was never reached (exception, early return).
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  std::ofstream& stream() { return out_; }
  /// Flushes, checks for write errors and renames into place. Throws InputError naming the path.
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path tmp_path_;
  std::ofstream out_;
  bool committed_ = false;
};

/// Writes `content` to `path` atomically (see AtomicFile).
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

/// Reads a whole file; throws InputError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace attnsim::common
