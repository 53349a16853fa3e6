// ProgressLine: rate-limited redraws so progress costs nothing measurable in a hot loop.
#include "sim/common/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace attnsim::common {

ProgressLine::ProgressLine(std::string label, std::uint64_t total, std::ostream& out, bool enabled,
                           std::chrono::milliseconds min_interval)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      enabled_(enabled),
      min_interval_(min_interval),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressLine ProgressLine::for_stderr(std::string label, std::uint64_t total) {
  return ProgressLine(std::move(label), total, std::cerr, ::isatty(STDERR_FILENO) == 1);
}

std::string ProgressLine::format(const std::string& label, std::uint64_t done, std::uint64_t total,
                                 double elapsed_s) {
  char buffer[160];
  const double percent =
      total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0;
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  std::snprintf(buffer, sizeof buffer, "%s  %llu/%llu (%.0f%%)  %.1f/s", label.c_str(),
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                percent, rate);
  std::string line = buffer;
  if (done < total && rate > 0) {
    const double eta_s = static_cast<double>(total - done) / rate;
    std::snprintf(buffer, sizeof buffer, "  ETA %.0fs", std::ceil(eta_s));
    line += buffer;
  }
  return line;
}

void ProgressLine::advance(std::uint64_t steps) {
  done_ += steps;
  draw(false);
}

void ProgressLine::draw(bool force) {
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < min_interval_) return;
  last_draw_ = now;
  const double elapsed_s = std::chrono::duration<double>(now - start_).count();
  out_ << '\r' << format(label_, done_, total_, elapsed_s) << "\x1b[K" << std::flush;
}

void ProgressLine::finish() {
  draw(true);
  if (enabled_ && !finished_) out_ << '\n' << std::flush;
  finished_ = true;
}

}  // namespace attnsim::common
