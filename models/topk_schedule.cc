// Job-to-job schedule of the top-k engine (sequential, pipelined, overlapped).
#include "models/topk_schedule.h"

#include <algorithm>
#include <stdexcept>

namespace attnsim::models {

TopkJobScheduler::TopkJobScheduler(const TopkParams& params)
    : overlapped_(params.overlaps_jobs()), output_pipeline_cycles_(params.output_pipeline_cycles) {}

TopkJobSlot TopkJobScheduler::place(std::int64_t start_cycle, std::int64_t gap_cycles,
                                    std::int64_t output_start_cycle, std::int64_t latency_cycles) {
  if (start_cycle < next_start_) {
    throw std::invalid_argument("TopkJobScheduler: a job starts before earliest_start()");
  }
  TopkJobSlot slot;
  slot.start_cycle = start_cycle;
  const std::int64_t own_output_start = start_cycle + gap_cycles + output_start_cycle;
  slot.output_start_cycle = own_output_start;
  if (overlapped_) {
    slot.output_start_cycle = std::max(own_output_start, previous_end_ - output_pipeline_cycles_);
  }
  slot.output_wait_cycles = slot.output_start_cycle - own_output_start;
  slot.end_cycle = start_cycle + gap_cycles + latency_cycles + slot.output_wait_cycles;
  // Overlapped: the quick-select datapath is free from this job's output start (the cycle after
  // its last decide), and the other original-buffer bank once the previous job has ended.
  next_start_ = overlapped_ ? std::max(own_output_start, previous_end_) : slot.end_cycle;
  previous_end_ = slot.end_cycle;
  return slot;
}

}  // namespace attnsim::models
