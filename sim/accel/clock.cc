// Clock: exact integer periods so long simulations do not accumulate rounding drift.
#include "sim/accel/clock.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace attnsim::accel {

Clock::Clock(double frequency_hz) : frequency_hz_(frequency_hz) {
  if (!(frequency_hz > 0) || !std::isfinite(frequency_hz)) {
    throw std::invalid_argument("clock frequency must be a positive number of Hz, got " +
                                std::to_string(frequency_hz));
  }
  const double resolution_s = sc_core::sc_get_time_resolution().to_seconds();
  const double period_units = 1.0 / frequency_hz / resolution_s;
  const double whole_units = std::round(period_units);
  if (whole_units < 1 || std::abs(period_units - whole_units) > 1e-6 * whole_units) {
    throw std::invalid_argument("clock period of " + std::to_string(frequency_hz) +
                                " Hz is not a whole number of SystemC resolution units");
  }
  period_ = sc_core::sc_get_time_resolution() * whole_units;
}

std::uint64_t Clock::to_cycles(const sc_core::sc_time& t) const {
  return t.value() / period_.value();
}

}  // namespace attnsim::accel
