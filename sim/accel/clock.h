// Cycles <-> SystemC time, in one place: modules compute latencies in cycles and wait through this.
#pragma once

#include <systemc>

#include <cstdint>

namespace attnsim::accel {

/// A clock domain given by its frequency. Every module converts cycles to time through one of these
/// (VCML's clock_cycles idea), so a frequency change in the config is one field, not a hunt.
class Clock {
 public:
  /// `frequency_hz` must be positive and give a period that is a whole number of SystemC time
  /// resolution units (1 ps by default), else cycle counts drift; throws std::invalid_argument.
  explicit Clock(double frequency_hz);

  const sc_core::sc_time& period() const { return period_; }
  double frequency_hz() const { return frequency_hz_; }
  sc_core::sc_time cycles(std::uint64_t n) const { return period_ * static_cast<double>(n); }
  /// Whole cycles elapsed in `t` (rounded down).
  std::uint64_t to_cycles(const sc_core::sc_time& t) const;
  /// Whole cycles since time zero.
  std::uint64_t now_cycles() const { return to_cycles(sc_core::sc_time_stamp()); }

 private:
  double frequency_hz_;
  sc_core::sc_time period_;
};

}  // namespace attnsim::accel
