// Memory: HBM bytes a launch moves, assuming CTAs that run together share K/V through L2.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"
#include "sim/gpu/schedulers/scheduler.h"
#include "sim/gpu/tile_classifier.h"

namespace attnsim::gpu {

/// HBM traffic of one launch and the time it needs at the GPU's bandwidth.
struct MemoryTraffic {
  double hbm_bytes = 0;
  double hbm_us = 0;
};

/// The lockstep-wave model below fed one item at a time, in start-time order with equal starts
/// by item index (estimate_memory's order), so a caller that streams a schedule keeps none of it.
/// Contract: every item of the launch is added once; then finish().
class WaveTraffic {
 public:
  WaveTraffic(std::int64_t items, std::int64_t heads, std::int64_t q_tiles, std::int64_t kv_tiles,
              std::int64_t seq_q, int slots, const KernelSpec& kernel, const GpuSpec& gpu);
  void add(std::int64_t item, const TileRun* first, const TileRun* last);
  MemoryTraffic finish();

 private:
  struct Span {
    std::int64_t group;
    std::int32_t begin;
    std::int32_t end;
    bool operator<(const Span& o) const {
      return group != o.group ? group < o.group : begin < o.begin;
    }
  };
  void count_wave();

  std::int64_t heads_, q_tiles_, kv_tiles_, seq_q_, kv_heads_, batches_;
  int slots_;
  const KernelSpec& kernel_;
  const GpuSpec& gpu_;
  std::int64_t added_ = 0;
  std::int64_t wave_begin_ = 0;  // index (in start order) of the current wave's first item
  std::int32_t wave_ = 0;        // the current wave's number
  std::vector<Span> spans_;
  // Per (group, tile) the last wave that read it, allocated on first use; 4 bytes, not 8: at 1M
  // tokens and 64 heads this array is most of the stream's memory.
  std::vector<std::int32_t> stamped_in_wave_;
  double kv_fetches_ = 0;
};

/// Visited tiles of a work item as runs (fills the vector), e.g. TileClassifier::visit.
using VisitFunction = std::function<void(std::int64_t item, std::vector<TileRun>&)>;

/// Lockstep-wave model: items are grouped, in start-time order, into waves of `slots` items.
/// Within a wave each distinct (batch, kv head, kv tile) is read from HBM once (L2 serves the
/// other readers, as CTAs of one head walk K/V together); across waves nothing is reused. Q is
/// read and O written once per item. GQA shares a kv head among q_heads_per_kv_head heads.
/// Contract: items are indexed (b * heads + h) * q_tiles + i, like TileClassifier.
MemoryTraffic estimate_memory(const Schedule& schedule, const VisitFunction& visit,
                              std::int64_t heads, std::int64_t q_tiles, std::int64_t kv_tiles,
                              std::int64_t seq_q, int slots, const KernelSpec& kernel,
                              const GpuSpec& gpu);

/// Visited tiles of a work item as runs [first, last) the caller keeps alive (e.g. runs already
/// collected while counting); saves copying every item's runs into a vector as VisitFunction does.
using RunsFunction = std::function<std::pair<const TileRun*, const TileRun*>(std::int64_t item)>;

/// estimate_memory with the runs given in place; the same result as with a VisitFunction.
MemoryTraffic estimate_memory(const Schedule& schedule, const RunsFunction& runs_of,
                              std::int64_t heads, std::int64_t q_tiles, std::int64_t kv_tiles,
                              std::int64_t seq_q, int slots, const KernelSpec& kernel,
                              const GpuSpec& gpu);

/// estimate_memory on a schedule in launch order: placements[pos] is the item sequence[pos]
/// (every item once). The same result as on the schedule re-indexed by item, without that copy.
MemoryTraffic estimate_memory(const std::vector<Placement>& placements,
                              const std::vector<std::int64_t>& sequence,
                              const RunsFunction& runs_of, std::int64_t heads, std::int64_t q_tiles,
                              std::int64_t kv_tiles, std::int64_t seq_q, int slots,
                              const KernelSpec& kernel, const GpuSpec& gpu);

}  // namespace attnsim::gpu
