// write_run_report: runs the Python package's report generator on a finished run folder.
#include "sim/common/run_report.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <system_error>
#include <vector>

#include "sim/common/atomic_file.h"

extern char** environ;

// Where the build put things (sim/common/CMakeLists.txt); empty in a build that did not say.
#ifndef ATTNSIM_PYTHON_EXECUTABLE
#define ATTNSIM_PYTHON_EXECUTABLE ""
#endif
#ifndef ATTNSIM_PYTHON_RELATIVE_DIR
#define ATTNSIM_PYTHON_RELATIVE_DIR ""
#endif
#ifndef ATTNSIM_PYTHON_SOURCE_DIR
#define ATTNSIM_PYTHON_SOURCE_DIR ""
#endif
#ifndef ATTNSIM_PYTHON_INSTALL_DIR
#define ATTNSIM_PYTHON_INSTALL_DIR ""
#endif

namespace attnsim::common {
namespace {

namespace fs = std::filesystem;

constexpr const char* kReportName = "report.html";

// The folder holding the package attnsim/, in the order the tools search their presets: the
// install tree next to this executable (<prefix>/bin/../<pythondir>), the source tree a build-tree
// binary was built from (so it never draws with an older install's code), the configured install
// prefix (a binary copied out of its install tree). Empty: leave it to the interpreter's sys.path.
fs::path package_dir() {
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && *ATTNSIM_PYTHON_RELATIVE_DIR) {
    candidates.push_back(exe.parent_path().parent_path() / ATTNSIM_PYTHON_RELATIVE_DIR);
  }
  candidates.emplace_back(ATTNSIM_PYTHON_SOURCE_DIR);
  candidates.emplace_back(ATTNSIM_PYTHON_INSTALL_DIR);
  for (const fs::path& dir : candidates) {
    if (!dir.empty() && fs::is_regular_file(dir / "attnsim" / "html_report.py", ec)) return dir;
  }
  return {};
}

std::string interpreter() {
  const char* chosen = std::getenv(kReportPythonEnv);
  if (chosen != nullptr && *chosen) return chosen;
  if (*ATTNSIM_PYTHON_EXECUTABLE && ::access(ATTNSIM_PYTHON_EXECUTABLE, X_OK) == 0) {
    return ATTNSIM_PYTHON_EXECUTABLE;  // the one the install's site folder was computed for
  }
  return "python3";
}

// The child's environment: ours, with the package's folder first on PYTHONPATH and no bytecode
// written (a build-tree tool would otherwise leave __pycache__ in the source tree, and installed
// trees are often read-only).
std::vector<std::string> child_environment(const fs::path& package) {
  std::vector<std::string> env;
  std::string old_path;
  bool bytecode_set = false;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string item(*entry);
    if (item.rfind("PYTHONPATH=", 0) == 0) {
      old_path = item.substr(11);
      continue;
    }
    if (item.rfind("PYTHONDONTWRITEBYTECODE=", 0) == 0) bytecode_set = true;
    env.push_back(item);
  }
  std::string path = package.string();
  if (!old_path.empty()) path += (path.empty() ? "" : ":") + old_path;
  if (!path.empty()) env.push_back("PYTHONPATH=" + path);
  if (!bytecode_set) env.emplace_back("PYTHONDONTWRITEBYTECODE=1");
  return env;
}

// The generator's own message (its last line, without its prefix), or how it ended.
std::string reason_of(const std::string& err, int status) {
  std::string line;
  const std::size_t end = err.find_last_not_of(" \n\r\t");
  if (end != std::string::npos) {
    const std::size_t newline = err.rfind('\n', end);
    const std::size_t start = newline == std::string::npos ? 0 : newline + 1;
    line = err.substr(start, end + 1 - start);
    const std::string prefix = "html_report: error: ";
    if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
  }
  if (line.size() > 400) line = line.substr(0, 400) + "...";
  if (!line.empty()) return line;
  if (WIFEXITED(status)) return "the generator exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "the generator was killed by signal " + std::to_string(WTERMSIG(status));
  return "the generator failed";
}

}  // namespace

bool write_run_report(const std::string& tool, const fs::path& dir) {
  // The tool's own stdout comes first, whole, whatever the child does.
  std::cout.flush();
  std::fflush(stdout);
  const std::string python = interpreter();
  const fs::path package = package_dir();
  const auto warn = [&](const std::string& reason) {
    // One line: what is missing, that nothing else is, and the command that makes the report.
    std::cerr << tool << ": warning: no " << (dir / kReportName).string() << ": " << reason
              << ". The results are complete; for the interactive report install python3-plotly "
                 "(scripts/setup.sh) or set "
              << kReportPythonEnv << " to a Python that has it, then run `"
              << (package.empty() ? std::string() : "PYTHONPATH=" + package.string() + " ")
              << "python3 -m attnsim.html_report " << dir.string()
              << "` (--no-report skips this step)" << std::endl;
    return false;
  };
  try {
    remove_stale_temporaries(dir / kReportName);  // left by a generator that was killed

    std::vector<std::string> env_strings = child_environment(package);
    std::vector<char*> envp;
    for (std::string& item : env_strings) envp.push_back(item.data());
    envp.push_back(nullptr);
    // Absolute, so that `--out .` is titled by the folder's name; after "--", so that a folder
    // named like an option is still the folder.
    std::string module_flag = "-m", module = "attnsim.html_report", dashes = "--",
                folder = fs::absolute(dir).lexically_normal().string();
    std::string program = python;
    std::vector<char*> argv{program.data(), module_flag.data(), module.data(),
                            dashes.data(),  folder.data(),      nullptr};

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return warn(std::string("cannot make a pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    pid_t pid = 0;
    // A name without a slash is looked up on PATH, as a shell would.
    const int spawned =
        python.find('/') == std::string::npos
            ? ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data())
            : ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (spawned != 0) {
      ::close(pipe_fds[0]);
      return warn("cannot run the Python interpreter '" + python + "' (" + kReportPythonEnv +
                  "): " + std::strerror(spawned));
    }
    std::string err;
    char buffer[4096];
    for (;;) {
      const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
      if (got > 0) {
        err.append(buffer, static_cast<std::size_t>(got));
        if (err.size() > 65536) err.erase(0, err.size() - 65536);  // the last lines matter
      } else if (got == 0 || errno != EINTR) {
        break;
      }
    }
    ::close(pipe_fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return warn(std::string("waitpid: ") + std::strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    // glibc's posix_spawn reports a failed exec as an error; others exit 127 in the child.
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && err.empty()) {
      return warn("cannot run the Python interpreter '" + python + "' (" + kReportPythonEnv + ")");
    }
    return warn(reason_of(err, status));
  } catch (const std::exception& error) {  // e.g. allocation; the results stand regardless
    return warn(error.what());
  }
}

}  // namespace attnsim::common
