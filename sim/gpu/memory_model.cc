// Lockstep-wave HBM traffic estimate.
#include "sim/gpu/memory_model.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "sim/common/huge_pages.h"

namespace attnsim::gpu {

WaveTraffic::WaveTraffic(std::int64_t items, std::int64_t heads, std::int64_t q_tiles,
                         std::int64_t kv_tiles, std::int64_t seq_q, int slots,
                         const KernelSpec& kernel, const GpuSpec& gpu)
    : heads_(heads),
      q_tiles_(q_tiles),
      kv_tiles_(kv_tiles),
      seq_q_(seq_q),
      kv_heads_((heads + kernel.q_heads_per_kv_head - 1) / kernel.q_heads_per_kv_head),
      batches_(items / (heads * q_tiles)),
      slots_(slots),
      kernel_(kernel),
      gpu_(gpu) {}

void WaveTraffic::add(std::int64_t item, const TileRun* first, const TileRun* last) {
  // Per wave: the visited runs of every item, keyed by (batch, kv head).
  const std::int64_t bh = item / q_tiles_;
  const std::int64_t group = bh / heads_ * kv_heads_ + (bh % heads_) / kernel_.q_heads_per_kv_head;
  for (const TileRun* run = first; run != last; ++run) {
    spans_.push_back({group, run->begin, run->end});
  }
  if (++added_ - wave_begin_ == slots_) count_wave();
}

// Each distinct tile of the wave is counted once, either by stamping tiles (cheap for short runs)
// or by sorting and merging the runs (cheap for long runs), whichever touches less.
void WaveTraffic::count_wave() {
  std::int64_t tiles_in_runs = 0;
  for (const Span& span : spans_) tiles_in_runs += span.end - span.begin;
  const auto n_spans = static_cast<std::int64_t>(spans_.size());
  std::int64_t log_spans = 1;
  while ((std::int64_t{1} << log_spans) < n_spans) ++log_spans;
  if (tiles_in_runs <= 4 * n_spans * log_spans) {
    if (stamped_in_wave_.empty()) stamped_in_wave_.assign(batches_ * kv_heads_ * kv_tiles_, -1);
    for (const Span& span : spans_) {
      std::int32_t* stamps = stamped_in_wave_.data() + span.group * kv_tiles_;
      for (std::int32_t t = span.begin; t < span.end; ++t) {
        if (stamps[t] == wave_) continue;
        stamps[t] = wave_;
        kv_fetches_ += 1;
      }
    }
  } else {
    std::sort(spans_.begin(), spans_.end());
    std::int64_t group = -1;
    std::int32_t covered_to = 0;  // end of the merged coverage of `group` so far
    for (const Span& span : spans_) {
      if (span.group != group) {
        group = span.group;
        covered_to = 0;
      }
      const std::int32_t begin = std::max(span.begin, covered_to);
      if (span.end > begin) kv_fetches_ += span.end - begin;
      covered_to = std::max(covered_to, span.end);
    }
  }
  spans_.clear();
  wave_begin_ = added_;
  if (++wave_ == std::numeric_limits<std::int32_t>::max()) {  // 2^31 waves: start the numbers over
    std::fill(stamped_in_wave_.begin(), stamped_in_wave_.end(), -1);
    wave_ = 0;
  }
}

MemoryTraffic WaveTraffic::finish() {
  if (added_ > wave_begin_) count_wave();
  const double element_bytes = dtype_bytes(kernel_.dtype);
  const double kv_tile_bytes = 2.0 * kernel_.tile_kv * kernel_.head_dim * element_bytes;  // K, V
  // Q read and O written once per query row of every (batch, head).
  const double qo_bytes = 2.0 * static_cast<double>(batches_ * heads_ * seq_q_) *
                          static_cast<double>(kernel_.head_dim) * element_bytes;
  MemoryTraffic traffic;
  traffic.hbm_bytes = kv_fetches_ * kv_tile_bytes + qo_bytes;
  traffic.hbm_us = traffic.hbm_bytes / (gpu_.hbm_gb_per_s * 1e3);
  return traffic;
}

namespace {

// RunsOf(item) -> std::pair<const TileRun*, const TileRun*>, valid until the next call.
// Items in order of start time, equal starts by item index.
std::vector<std::int64_t> items_by_start(const Schedule& schedule) {
  std::vector<std::int64_t> by_start =
      common::huge_vector<std::int64_t>(schedule.placements.size());
  std::iota(by_start.begin(), by_start.end(), 0);
  std::stable_sort(by_start.begin(), by_start.end(), [&](std::int64_t a, std::int64_t b) {
    return schedule.placements[a].start < schedule.placements[b].start;
  });
  return by_start;
}

// by_start: every item once, in start-time order (equal starts by item index).
template <typename RunsOf>
MemoryTraffic estimate(const std::vector<std::int64_t>& by_start, const RunsOf& runs_of,
                       std::int64_t heads, std::int64_t q_tiles, std::int64_t kv_tiles,
                       std::int64_t seq_q, int slots, const KernelSpec& kernel,
                       const GpuSpec& gpu) {
  WaveTraffic traffic(static_cast<std::int64_t>(by_start.size()), heads, q_tiles, kv_tiles, seq_q,
                      slots, kernel, gpu);
  for (const std::int64_t item : by_start) {
    const auto [first, last] = runs_of(item);
    traffic.add(item, first, last);
  }
  return traffic.finish();
}

}  // namespace

MemoryTraffic estimate_memory(const Schedule& schedule, const VisitFunction& visit,
                              std::int64_t heads, std::int64_t q_tiles, std::int64_t kv_tiles,
                              std::int64_t seq_q, int slots, const KernelSpec& kernel,
                              const GpuSpec& gpu) {
  std::vector<TileRun> runs;
  const auto runs_of = [&](std::int64_t item) {
    visit(item, runs);
    return std::pair<const TileRun*, const TileRun*>(runs.data(), runs.data() + runs.size());
  };
  return estimate(items_by_start(schedule), runs_of, heads, q_tiles, kv_tiles, seq_q, slots, kernel,
                  gpu);
}

MemoryTraffic estimate_memory(const Schedule& schedule, const RunsFunction& runs_of,
                              std::int64_t heads, std::int64_t q_tiles, std::int64_t kv_tiles,
                              std::int64_t seq_q, int slots, const KernelSpec& kernel,
                              const GpuSpec& gpu) {
  return estimate(items_by_start(schedule), runs_of, heads, q_tiles, kv_tiles, seq_q, slots, kernel,
                  gpu);
}

MemoryTraffic estimate_memory(const std::vector<Placement>& placements,
                              const std::vector<std::int64_t>& sequence,
                              const RunsFunction& runs_of, std::int64_t heads, std::int64_t q_tiles,
                              std::int64_t kv_tiles, std::int64_t seq_q, int slots,
                              const KernelSpec& kernel, const GpuSpec& gpu) {
  // The same order as items_by_start on the schedule re-indexed by item, without building that
  // copy of every placement: launch positions sorted by (start, item), then mapped to items.
  std::vector<std::int64_t> by_start = common::huge_vector<std::int64_t>(placements.size());
  std::iota(by_start.begin(), by_start.end(), 0);
  std::sort(by_start.begin(), by_start.end(), [&](std::int64_t a, std::int64_t b) {
    const double sa = placements[a].start, sb = placements[b].start;
    return sa < sb || (sa == sb && sequence[a] < sequence[b]);
  });
  for (std::int64_t& position : by_start) position = sequence[position];
  return estimate(by_start, runs_of, heads, q_tiles, kv_tiles, seq_q, slots, kernel, gpu);
}

}  // namespace attnsim::gpu
