// Job-to-job schedule of the top-k engine (sequential, pipelined, overlapped).
#include "models/topk_schedule.h"

#include <algorithm>
#include <stdexcept>

namespace attnsim::models {

TopkJobScheduler::TopkJobScheduler(const TopkParams& params)
    : overlapped_(params.overlaps_jobs()) {}

TopkJobSlot TopkJobScheduler::place(std::int64_t start_cycle, std::int64_t gap_cycles,
                                    std::int64_t output_start_cycle, std::int64_t latency_cycles,
                                    std::int64_t stall_cycles) {
  if (start_cycle < next_start_) {
    throw std::invalid_argument("TopkJobScheduler: a job starts before earliest_start()");
  }
  TopkJobSlot slot;
  slot.start_cycle = start_cycle;
  const std::int64_t own_output_start = start_cycle + gap_cycles + output_start_cycle;
  slot.output_start_cycle =
      overlapped_ ? std::max(own_output_start, previous_end_) : own_output_start;
  slot.output_wait_cycles = slot.output_start_cycle - own_output_start;
  slot.end_cycle = slot.output_start_cycle + (latency_cycles - output_start_cycle) + stall_cycles;
  // Overlapped: the quick-select datapath takes the next job once this one has moved into the
  // output datapath; one job at a time: after this job's last output beat.
  next_start_ = overlapped_ ? slot.output_start_cycle : slot.end_cycle;
  previous_end_ = slot.end_cycle;
  return slot;
}

}  // namespace attnsim::models
