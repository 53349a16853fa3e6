// AtomicFile: temp-file-then-rename, the POSIX way to publish a file all at once.
#include "sim/common/atomic_file.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <system_error>

#include "sim/common/input_error.h"

namespace attnsim::common {

void remove_stale_temporaries(const std::filesystem::path& path) {
  const std::string prefix = path.filename().string() + ".tmp-";
  std::error_code ec;
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::filesystem::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    // "<name>.tmp-<pid>", maybe with an extension after the pid (Python writers add one).
    std::size_t digits = prefix.size();
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) {
      ++digits;
    }
    if (digits == prefix.size() || (digits < name.size() && name[digits] != '.')) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 ||
        errno != ESRCH) {
      continue;  // its writer may still be running (or is not ours to judge)
    }
    std::error_code ignored;
    if (it->is_regular_file(ignored)) std::filesystem::remove(it->path(), ignored);
  }
}

bool replaces_by_rename(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status own = std::filesystem::symlink_status(path, ec);
  return ec || !std::filesystem::exists(own) || std::filesystem::is_regular_file(own);
}

// Stale temporaries go first, before the member initialisers open our own.
AtomicFile::AtomicFile(std::filesystem::path path)
    : path_((remove_stale_temporaries(path), std::move(path))),
      tmp_path_(replaces_by_rename(path_)
                    ? std::filesystem::path(path_.string() + ".tmp-" + std::to_string(::getpid()))
                    : std::filesystem::path()),
      out_(tmp_path_.empty() ? path_ : tmp_path_, std::ios::binary | std::ios::trunc) {
  if (!out_) {
    throw InputError(path_.string(),
                     std::string("cannot create output file: ") + std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_ && !tmp_path_.empty()) {
    out_.close();
    std::error_code ignored;
    std::filesystem::remove(tmp_path_, ignored);
  }
}

void AtomicFile::commit() {
  out_.flush();
  const bool write_ok = static_cast<bool>(out_);
  out_.close();
  if (!write_ok || out_.fail()) {
    throw InputError(path_.string(), "write failed (disk full or file system error)");
  }
  if (!tmp_path_.empty()) {
    std::error_code ec;
    std::filesystem::rename(tmp_path_, path_, ec);
    if (ec) throw InputError(path_.string(), "cannot move output into place: " + ec.message());
  }
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  AtomicFile file(path);
  file.stream() << content;
  file.commit();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path.string(),
                     std::string("cannot open for reading: ") + std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw InputError(path.string(), "read failed");
  return content.str();
}

}  // namespace attnsim::common
