// A terminal progress line (done/total, rate, ETA) for sweeps and long simulations.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace attnsim::common {

/// Redraws one status line on `out` with '\r', at most every `min_interval`, and finishes it with a
/// newline. Disabled (prints nothing) when `enabled` is false, e.g. when stderr is not a terminal,
/// so logs and CI output stay clean.
class ProgressLine {
 public:
  ProgressLine(std::string label, std::uint64_t total, std::ostream& out, bool enabled,
               std::chrono::milliseconds min_interval = std::chrono::milliseconds(200));
  /// Enabled only when stderr is a terminal.
  static ProgressLine for_stderr(std::string label, std::uint64_t total);

  void advance(std::uint64_t steps = 1);
  void finish();

  /// "label  37/100 (37%)  12.3/s  ETA 5s": exposed for tests.
  static std::string format(const std::string& label, std::uint64_t done, std::uint64_t total,
                            double elapsed_s);

 private:
  void draw(bool force);

  std::string label_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  std::ostream& out_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::milliseconds min_interval_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace attnsim::common
