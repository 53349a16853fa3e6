// Output files that appear complete or not at all: no half-written results after a failure or kill.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace attnsim::common {

/// Writes to a temporary sibling ("<name>.tmp-<pid>") and renames it over `path` on commit().
/// Contract: until commit() returns, `path` keeps its previous content (or stays absent); the
/// destructor removes the temporary file if commit() was never reached (exception, early return),
/// and the next AtomicFile for `path` removes those of killed writers.
/// A target that exists and is not a regular file (a symlink, /dev/stdout, a pipe) must not be
/// replaced by a rename: it is written through in place instead, without the all-or-nothing
/// guarantee (replaces_by_rename() tells which case applies).
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
  std::filesystem::path tmp_path_;  ///< empty when writing in place
  std::ofstream out_;
  bool committed_ = false;
};

/// Removes "<path>.tmp-<pid>[.ext]" siblings whose process is gone (left by a writer killed with
/// kill -9, which no destructor survives). AtomicFile calls it before writing `path`.
void remove_stale_temporaries(const std::filesystem::path& path);

/// True when `path` is absent or a regular file, i.e. when a rename may publish over it.
bool replaces_by_rename(const std::filesystem::path& path);

/// Writes `content` to `path` atomically (see AtomicFile).
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

/// Reads a whole file; throws InputError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace attnsim::common
