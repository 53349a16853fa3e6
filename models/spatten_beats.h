// The beat that flows between the SpAtten model's pipeline stages: one head-step pass, stamped
// with the cycles its data stream starts and ends (transaction-level timing).
#pragma once

#include <cstdint>
#include <ostream>

namespace attnsim::models {

/// One head-step (one query of one head) moving through the pipeline. Stages stream: a consumer
/// may start at `first_cycle` and cannot finish before `last_cycle` + 1.
struct HeadStepBeat {
  std::int32_t step = 0;         ///< index of the head-step in the workload; also its order
  std::int32_t pass = 0;         ///< 0: MSB keys; 1: after the K LSB re-fetch
  std::int64_t first_cycle = 0;  ///< cycle the first element is available to the consumer
  std::int64_t last_cycle = 0;   ///< cycle the last element is available

  friend bool operator==(const HeadStepBeat& a, const HeadStepBeat& b) {
    return a.step == b.step && a.pass == b.pass && a.first_cycle == b.first_cycle &&
           a.last_cycle == b.last_cycle;
  }
};

/// Printable form (sc_fifo needs operator<<).
inline std::ostream& operator<<(std::ostream& os, const HeadStepBeat& b) {
  return os << "step " << b.step << " pass " << b.pass << " [" << b.first_cycle << ", "
            << b.last_cycle << "]";
}

}  // namespace attnsim::models
