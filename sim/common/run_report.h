// The interactive HTML report of a run folder (`--out DIR` -> DIR/report.html), for the C++ tools.
// The report itself is drawn by one program only, the Python package's attnsim.html_report
// (plotly): the tools run it as a child process instead of keeping a second copy of its logic.
#pragma once

#include <filesystem>
#include <string>

namespace attnsim::common {

/// The --no-report option's help text, the same in every tool that writes a run folder.
constexpr const char* kNoReportHelp =
    "do not write DIR/report.html, the interactive plotly report of the --out DIR run folder "
    "(drawn by `python3 -m attnsim.html_report DIR`; ATTNSIM_PYTHON names the interpreter)";

/// Environment variable naming the Python interpreter that draws the report (default: the one
/// the build was configured with, else python3 on PATH).
constexpr const char* kReportPythonEnv = "ATTNSIM_PYTHON";

/// Writes `dir`/report.html by running `<python> -m attnsim.html_report dir`, with the package
/// found as the tools find their presets: installed next to this executable, then in the source
/// tree it was built from, then in the configured install prefix (else the interpreter's own
/// path, e.g. after `pip install .`). The generator writes the file atomically.
/// Never throws and never changes the run's outcome: the results in `dir` are complete before it
/// is called; when the report cannot be made (no Python, no plotly, nothing to draw) it prints one
/// warning line on stderr, prefixed with `tool`, saying how to get it. The child's stdout is
/// discarded so that the tool's stdout stays its --format output. Returns true when written.
bool write_run_report(const std::string& tool, const std::filesystem::path& dir);

}  // namespace attnsim::common
