// simulate(): counting, scheduling, cost and memory put together for one mask.
#include "sim/gpu/simulate.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <utility>

#include "sim/common/huge_pages.h"
#include "sim/gpu/launch_order.h"
#include "sim/gpu/memory_model.h"
#include "sim/gpu/run_store.h"
#include "sim/gpu/schedulers/scheduler.h"
#include "sim/gpu/schedulers/sm90_grid_choice.h"
#include "sim/gpu/speed_of_light.h"

namespace attnsim::gpu {
namespace {

// Per-item work in launch order, scheduled; placements come back in launch order too.
struct LaunchRun {
  std::vector<std::int64_t> sequence;  // launch position -> item
  std::vector<double> work;            // by launch position
  Schedule schedule;                   // by launch position
};

// The sequence and work only, for callers that schedule it their own way.
// visited: each item's visited tiles, for a kernel that orders its Q tiles by them
// (longest_first_q); empty for equal items.
LaunchRun launch_work(const std::vector<double>& work_by_item, const MaskGeometry& g,
                      std::int64_t q_tiles, const KernelSpec& kernel,
                      const VisitedKey& visited = {}) {
  LaunchRun run;
  run.sequence = launch_sequence(g.batch, g.heads, q_tiles, kernel.launch_order, visited);
  common::reserve_huge(run.work, run.sequence.size());
  for (const std::int64_t item : run.sequence) run.work.push_back(work_by_item[item]);
  return run;
}

LaunchRun run_launch(const std::vector<double>& work_by_item, const MaskGeometry& g,
                     std::int64_t q_tiles, const KernelSpec& kernel, int slots,
                     const VisitedKey& visited = {}) {
  LaunchRun run = launch_work(work_by_item, g, q_tiles, kernel, visited);
  run.schedule = make_scheduler(kernel.scheduler)->run(run.work, slots);
  return run;
}

// An item needs masking when it visits a partial tile or an empty one.
bool needs_mask(const TileCounts& c) { return c.partial > 0 || c.empty_visited > 0; }

bool has_masked_tiles(const std::vector<TileCounts>& counts) {
  return std::any_of(counts.begin(), counts.end(), needs_mask);
}

// Whether the kernel masks every tile of the launch: always, or (the global fast path) as soon as
// any tile needs it.
bool masks_every_tile(MaskingRule rule, bool any_masked) {
  return rule == MaskingRule::kAlwaysMask || (rule == MaskingRule::kGlobalFastPath && any_masked);
}

// An item's tiles as the cost model charges them, added to a slot's critical-path sums.
void add_charged_tiles(const TileCounts& c, bool mask_everything, double& full_tiles,
                       double& masked_tiles) {
  const auto masked = static_cast<double>(c.partial + c.empty_visited);
  const auto full = static_cast<double>(c.full);
  full_tiles += mask_everything ? 0.0 : full;
  masked_tiles += mask_everything ? full + masked : masked;
}

// item_us: the per-item cost on the launch's grid (KernelSpec::item_us).
std::vector<double> item_times(const std::vector<TileCounts>& counts, double item_us,
                               const CostParams::TileTimes& tiles, MaskingRule rule) {
  const bool masked = has_masked_tiles(counts);
  std::vector<double> work = common::huge_vector<double>(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    work[i] = item_time_us(counts[i], item_us, tiles, rule, masked);
  }
  return work;
}

// The makespan of equal items without scheduling them (the dense speed-of-light launch: every
// item visits every kv tile). Every scheduler deals equal items round robin (earliest free slot,
// lowest index first; longest-first keeps their order; static is round robin), so slot 0, which
// takes the most, finishes last, at the sum below: the same additions a scheduler makes, hence the
// same double. Round robin needs each addition to move the clock; if one does not (w = 0, or w
// lost against the sum), nullopt: schedule them.
std::optional<double> equal_items_makespan(std::size_t items, double work, int slots) {
  if (items == 0) return std::nullopt;
  const std::size_t rounds = (items + slots - 1) / static_cast<std::size_t>(slots);
  double finish = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    const double next = finish + work;
    if (!(next > finish)) return std::nullopt;
    finish = next;
  }
  return finish;
}

// A timed launch: its schedule's statistics, the cost-model terms of the slot that finishes last,
// and its memory term.
struct TimedLaunch {
  ScheduleStats stats;
  double critical_full_tiles = 0;
  double critical_masked_tiles = 0;
  double critical_items = 0;
  MemoryTraffic memory;
};

// Sums the cost-model terms of the items on the slot that finishes last.
void record_critical_path(const LaunchRun& run, const std::vector<TileCounts>& counts,
                          MaskingRule rule, TimedLaunch& r) {
  const auto& finish = run.schedule.slot_finish;
  const auto critical =
      static_cast<std::int32_t>(std::max_element(finish.begin(), finish.end()) - finish.begin());
  const bool mask_everything = masks_every_tile(rule, has_masked_tiles(counts));
  for (std::size_t pos = 0; pos < run.sequence.size(); ++pos) {
    if (run.schedule.placements[pos].slot != critical) continue;
    add_charged_tiles(counts[run.sequence[pos]], mask_everything, r.critical_full_tiles,
                      r.critical_masked_tiles);
    r.critical_items += 1;
  }
}

// Tile counts of dense work item `item` (every kv tile visited; tiles cut by a sequence end are
// partial): what dense_tile_counts lists.
TileCounts dense_item_counts(const MaskGeometry& g, std::int64_t tile_q, std::int64_t tile_kv,
                             std::int64_t item) {
  const std::int64_t q_tiles = ceil_div(g.seq_q, tile_q);
  const std::int64_t kv_tiles = ceil_div(g.seq_kv, tile_kv);
  const bool kv_cut = g.seq_kv % tile_kv != 0;
  const bool q_cut = item % q_tiles == q_tiles - 1 && g.seq_q % tile_q != 0;
  TileCounts counts;
  if (q_cut) {
    counts.partial = kv_tiles;
  } else {
    counts.partial = kv_cut ? 1 : 0;
    counts.full = kv_tiles - counts.partial;
  }
  return counts;
}

// A non-persistent launch streamed in launch order, keeping nothing per item: each item is
// counted when it is dispatched, placed by the earliest-free rule (schedule_earliest_free's heap)
// and handed to the memory model in start order. The rule's starts never decrease, so start order
// is launch order except among equal starts, which are handed over by item index, as
// estimate_memory orders them. Every sum is taken in launch order, as schedule_stats and
// record_critical_path take theirs: the same doubles as the stored launch.
// equal_work: every item's work when the caller knows them equal (a dense launch without a cut Q
// tile); they are then dealt round robin as schedule_earliest_free deals them (the same doubles),
// without the heap.
template <typename CountsOf, typename WorkOf, typename RunsOf>
TimedLaunch stream_launch(const MaskGeometry& g, std::int64_t q_tiles, std::int64_t kv_tiles,
                          const KernelSpec& kernel, const GpuSpec& gpu, int slots,
                          const CountsOf& counts_of, const WorkOf& work_of, const RunsOf& runs_of,
                          bool mask_everything, std::vector<TimelineEntry>* timeline,
                          std::optional<double> equal_work = std::nullopt) {
  const std::int64_t items = g.batch * g.heads * q_tiles;
  EarliestFreeSlots free_slots(slots);
  const bool deal =
      equal_work && equal_items_makespan(static_cast<std::size_t>(items), *equal_work, slots);
  std::int64_t position = 0;
  double round_start = 0, round_end = 0;
  const auto place = [&](double w) {
    if (!deal) return free_slots.place(w);
    const auto slot = static_cast<std::int32_t>(position++ % slots);
    if (slot == 0) {
      round_start = round_end;
      round_end = round_start + w;
    }
    return Placement{slot, round_start, round_end};
  };
  std::vector<double> finish(slots, 0.0), full_on(slots, 0.0), masked_on(slots, 0.0),
      items_on(slots, 0.0);
  WaveTraffic traffic(items, g.heads, q_tiles, kv_tiles, g.seq_q, slots, kernel, gpu);
  std::vector<std::int64_t> same_start;  // items dispatched at `pending_start`, not handed over
  double pending_start = 0;
  const auto hand_over = [&] {
    std::sort(same_start.begin(), same_start.end());
    for (const std::int64_t item : same_start) {
      const auto [first, last] = runs_of(item);
      traffic.add(item, first, last);
    }
    same_start.clear();
  };
  double busy = 0;
  if (timeline) timeline->reserve(static_cast<std::size_t>(items));
  for_each_launch(g.batch, g.heads, q_tiles, kernel.launch_order, [&](std::int64_t item) {
    const TileCounts c = counts_of(item);
    const double w = work_of(c);
    busy += w;
    const Placement p = place(w);
    finish[p.slot] = p.end;
    add_charged_tiles(c, mask_everything, full_on[p.slot], masked_on[p.slot]);
    items_on[p.slot] += 1;
    if (!same_start.empty() && p.start != pending_start) hand_over();
    pending_start = p.start;
    same_start.push_back(item);
    if (timeline) {
      TimelineEntry entry;
      entry.batch = item / q_tiles / g.heads;
      entry.head = item / q_tiles % g.heads;
      entry.q_tile = item % q_tiles;
      entry.slot = p.slot;
      entry.sm = p.slot % gpu.sm_count;  // the dispatcher spreads CTAs over SMs first
      entry.start_us = p.start;
      entry.end_us = p.end;
      entry.tiles = c;
      timeline->push_back(entry);
    }
  });
  hand_over();
  TimedLaunch out;
  out.memory = traffic.finish();
  const auto critical = std::max_element(finish.begin(), finish.end()) - finish.begin();
  out.critical_full_tiles = full_on[critical];
  out.critical_masked_tiles = masked_on[critical];
  out.critical_items = items_on[critical];
  ScheduleStats& stats = out.stats;
  stats.makespan = finish[critical];
  stats.busy = busy;
  stats.waves = static_cast<double>(items) / static_cast<double>(slots);
  if (stats.makespan > 0) {
    stats.wave_efficiency = stats.busy / (static_cast<double>(slots) * stats.makespan);
    const double first_idle = *std::min_element(finish.begin(), finish.end());
    stats.tail_fraction = (stats.makespan - first_idle) / stats.makespan;
  }
  return out;
}

// The problem the dense baseline runs: a tile-order layout padded to tile multiples (TokenTiling)
// holds more tokens than the problem has, and dense attention runs on the real ones.
MaskGeometry dense_geometry(const BlockLayout& mask) {
  MaskGeometry g = mask.geometry;
  if (mask.tiling) {
    g.seq_q = mask.tiling->tokens();
    g.seq_kv = mask.tiling->tokens();
  }
  return g;
}

// One dense launch of `dense_kernel` (already its dense configuration) on geometry g, timed by
// `cost`: its schedule and memory term, as predicted_ms is for the sparse launch. Without a mask
// the kernel runs no rule; tiles cut by a sequence end are masked generically.
double dense_launch_ms(const MaskGeometry& g, const KernelSpec& dense_kernel,
                       const CostParams& cost, const GpuSpec& gpu) {
  const int slots = gpu.sm_count * dense_kernel.ctas_per_sm;
  const std::int64_t q_tiles = ceil_div(g.seq_q, dense_kernel.tile_q);
  const std::int64_t kv_tiles = ceil_div(g.seq_kv, dense_kernel.tile_kv);
  const TileRun row{0, static_cast<std::int32_t>(kv_tiles), BlockClass::kFull};
  if (dense_kernel.scheduler == "non_persistent") {
    const auto counts_of = [&](std::int64_t item) {
      return dense_item_counts(g, dense_kernel.tile_q, dense_kernel.tile_kv, item);
    };
    bool masked = false;  // item_times' rule: whether any tile of the launch is masked
    for (std::int64_t item = 0; item < g.batch * g.heads * q_tiles; ++item) {
      const TileCounts c = counts_of(item);
      masked = masked || needs_mask(c);
    }
    const CostParams::TileTimes tiles = cost.tile_times(dense_kernel, g, std::nullopt);
    // Without a cut Q tile every dense item has the same counts, hence the same work.
    std::optional<double> equal_work;
    if (g.seq_q % dense_kernel.tile_q == 0) {
      equal_work = item_time_us(counts_of(0), dense_kernel.item_us(cost.cta_us), tiles,
                                dense_kernel.masking_rule, masked);
    }
    const TimedLaunch run = stream_launch(
        g, q_tiles, kv_tiles, dense_kernel, gpu, slots, counts_of,
        [&](const TileCounts& c) {
          return item_time_us(c, dense_kernel.item_us(cost.cta_us), tiles,
                              dense_kernel.masking_rule, masked);
        },
        [&](std::int64_t) { return std::pair<const TileRun*, const TileRun*>(&row, &row + 1); },
        false, nullptr, equal_work);
    return launch_time_us(cost, std::max(run.stats.makespan, run.memory.hbm_us)) / 1e3;
  }
  const std::vector<TileCounts> counts =
      dense_tile_counts(g, dense_kernel.tile_q, dense_kernel.tile_kv);
  const LaunchRun run = run_launch(
      item_times(counts, dense_kernel.item_us(cost.cta_us),
                 cost.tile_times(dense_kernel, g, std::nullopt), dense_kernel.masking_rule),
      g, q_tiles, dense_kernel, slots);
  const MemoryTraffic memory =
      estimate_memory(run.schedule.placements, run.sequence, RunsFunction([&](std::int64_t) {
                        return std::pair<const TileRun*, const TileRun*>(&row, &row + 1);
                      }),
                      g.heads, q_tiles, kv_tiles, g.seq_q, slots, dense_kernel, gpu);
  return launch_time_us(cost, std::max(run.schedule.makespan(), memory.hbm_us)) / 1e3;
}

// Bytes NATTEN's token permutation moves for a tile-order layout: Q, K and V read at their real
// size and written padded, O read padded and written at its real size. None when the tile order
// is token order (1-D, no dilation, no padding: NATTEN's docs say 1-D non-dilated neighborhood
// attention needs no permutation).
double permute_bytes(const BlockLayout& mask, const KernelSpec& kernel) {
  if (!mask.tiling) return 0;
  const TokenTiling& t = *mask.tiling;
  const MaskGeometry& g = mask.geometry;
  const auto real = static_cast<double>(t.tokens());
  const bool identity = t.token_dims.size() == 1 && t.dilation.empty() && g.seq_q == t.tokens() &&
                        g.seq_kv == t.tokens();
  if (identity) return 0;
  const double rows = static_cast<double>(g.batch * g.heads) *
                      static_cast<double>(kernel.head_dim) * dtype_bytes(kernel.dtype);
  const auto q = static_cast<double>(g.seq_q), kv = static_cast<double>(g.seq_kv);
  return rows * ((real + q) + 2 * (real + kv) + (q + real));
}

}  // namespace

ScheduleStats schedule_stats(const Schedule& schedule, const std::vector<double>& work) {
  ScheduleStats stats;
  stats.makespan = schedule.makespan();
  stats.busy = std::accumulate(work.begin(), work.end(), 0.0);
  const auto slots = static_cast<double>(schedule.slot_finish.size());
  stats.waves = static_cast<double>(work.size()) / slots;
  if (stats.makespan > 0) {
    stats.wave_efficiency = stats.busy / (slots * stats.makespan);
    const double first_idle =
        *std::min_element(schedule.slot_finish.begin(), schedule.slot_finish.end());
    stats.tail_fraction = (stats.makespan - first_idle) / stats.makespan;
  }
  return stats;
}

std::vector<TileCounts> dense_tile_counts(const MaskGeometry& g, std::int64_t tile_q,
                                          std::int64_t tile_kv) {
  std::vector<TileCounts> counts(g.batch * g.heads * ceil_div(g.seq_q, tile_q));
  for (std::size_t item = 0; item < counts.size(); ++item) {
    counts[item] = dense_item_counts(g, tile_q, tile_kv, static_cast<std::int64_t>(item));
  }
  return counts;
}

models::Violations check_workload(const Workload& workload, const KernelSpec& kernel) {
  models::Violations v;
  const std::int64_t heads = workload.mask.geometry.heads;
  v.require(heads % kernel.q_heads_per_kv_head == 0, "heads",
            "a multiple of q_heads_per_kv_head (" + std::to_string(kernel.q_heads_per_kv_head) +
                ", --gqa)",
            heads);
  return v;
}

Result simulate(const Workload& workload, const GpuSpec& gpu, const KernelSpec& kernel,
                const CostParams& cost, const SimulationOptions& options) {
  // A kernel with two grids (sm90_auto) picks one per mask and head dim on the host before it
  // launches, so the pick belongs to the simulated launch, here, rather than to preset resolution
  // in the CLI: every caller of simulate() (predict, bounds, calibrate, sweep, the Python
  // bindings) then models the kernel as it runs, where a CLI-side resolution would leave sweep
  // and calibrate simulating one grid for every mask. The launch is then simulated exactly as the
  // chosen grid's preset simulates it (--kernel sm90 or sm90_persistent: the same doubles); the
  // cost model is the caller's, which both grids share (the same CTA code, calibrated_as).
  if (kernel.grid_choice) {
    const sm90::Sm90Grid grid = sm90::choose_grid(workload.mask, kernel, gpu.sm_count);
    Result r =
        simulate(workload, gpu,
                 kernel.on_grid(grid == sm90::Sm90Grid::kPersistent ? kernel.grid_choice->persistent
                                                                    : kernel.grid_choice->flat),
                 cost, options);
    r.grid = sm90::to_string(grid);
    return r;
  }
  const MaskGeometry& g = workload.mask.geometry;
  const int slots = gpu.sm_count * kernel.ctas_per_sm;
  Result r;
  r.mask = workload.name;
  r.mask_rule = workload.mask.rule ? workload.mask.rule->text() : std::string();
  r.batch = g.batch;
  r.heads = g.heads;
  r.seq_q = g.seq_q;
  r.seq_kv = g.seq_kv;
  r.slots = slots;

  // Counting. The memory model walks every item's runs again. Where a visit is more than a walk
  // of one block row (tiles that straddle blocks, range-driven gaps and boxes), the runs found
  // here are kept for it; where it is a row walk, walking again is cheaper than keeping them
  // (writing millions of runs into fresh pages was ~40 % of simulate() on a 32K x 32-head mask).
  // A non-persistent launch is timed as a stream (stream_launch), which counts each item again
  // when it is dispatched; only the other schedulers keep every item's counts.
  TileClassifier classifier(
      workload.mask, kernel.tile_q, kernel.tile_kv, kernel.visit_rule,
      workload.mask.rule && kernel.runs_covered_tiles_unmasked(workload.mask.rule->name));
  const std::int64_t items = classifier.items();
  // A launch order that depends on the mask (longest_first_q) is not a stream: it needs every
  // item's visited tiles first.
  const bool streamed =
      kernel.scheduler == "non_persistent" && !kernel.launch_order.longest_first_q;
  std::vector<TileCounts> counts =
      common::huge_vector<TileCounts>(options.timing && !streamed ? items : 0);
  const bool keep_runs = options.timing && !classifier.visits_are_row_walks();
  // Room for the runs up front (address space only, see RunStore): growing a vector of
  // millions of runs copied it and faulted in fresh pages at every doubling.
  RunStore runs(keep_runs ? static_cast<std::size_t>(
                                2 * workload.mask.entries() *
                                    std::max<std::int64_t>(1, g.block_q / kernel.tile_q) +
                                items)
                          : 0);
  std::vector<std::int64_t> run_begin =
      common::huge_vector<std::int64_t>(keep_runs ? items + 1 : 0, 0);
  std::vector<TileRun> item_runs;
  const auto runs_of = [&](std::int64_t item) {
    if (!keep_runs) {
      classifier.visit(item, item_runs);
      return std::pair<const TileRun*, const TileRun*>(item_runs.data(),
                                                       item_runs.data() + item_runs.size());
    }
    // The runs counted below, in place: copying them out per item was pure overhead.
    return std::pair<const TileRun*, const TileRun*>(runs.data() + run_begin[item],
                                                     runs.data() + run_begin[item + 1]);
  };
  const auto counts_of = [&](std::int64_t item) {
    if (!keep_runs) return classifier.count(item);
    TileCounts c;
    const auto [first, last] = runs_of(item);
    for (const TileRun* run = first; run != last; ++run) {
      const std::int64_t length = run->end - run->begin;
      if (run->tile_class == BlockClass::kFull) c.full += length;
      if (run->tile_class == BlockClass::kPartial) c.partial += length;
      if (run->tile_class == BlockClass::kEmpty) c.empty_visited += length;
    }
    return c;
  };
  // Per item, only its speed-of-light work is kept (by item index), and over all items the totals,
  // whether any tile is masked, and NATTENSim's bound: the Q tile that visits the most KV tiles
  // sets it, per head and overall.
  const double tile_area = static_cast<double>(kernel.tile_q * kernel.tile_kv);
  std::vector<double> unit_by_item = common::huge_vector<double>(items);
  std::vector<std::int64_t> most(static_cast<std::size_t>(g.heads), 0);
  std::int64_t worst_item = -1, worst_visited = 0;
  bool masked_tiles = false;
  TileCounts total;
  for (std::int64_t item = 0; item < items; ++item) {
    if (keep_runs) {
      classifier.visit(item, item_runs);
      runs.append(item_runs);
      run_begin[item + 1] = static_cast<std::int64_t>(runs.size());
    }
    const TileCounts c = counts_of(item);
    if (!counts.empty()) counts[item] = c;
    total += c;
    masked_tiles = masked_tiles || needs_mask(c);
    unit_by_item[item] = tile_area * static_cast<double>(c.visited());
    auto& m = most[static_cast<std::size_t>(item / classifier.q_tiles() % g.heads)];
    m = std::max(m, c.visited());
    if (worst_item < 0 || c.visited() > worst_visited) {
      worst_item = item;
      worst_visited = c.visited();
    }
  }
  r.work_items = items;
  r.tiles_full = total.full;
  r.tiles_partial = total.partial;
  r.tiles_empty_visited = total.empty_visited;
  // Padding of a tile-order layout is work the sparse kernel does, not work of the problem: the
  // dense side (tiles, pairs, baseline launch) counts real tokens.
  const MaskGeometry dg = dense_geometry(workload.mask);
  const std::int64_t dense_kv_tiles_per_q = ceil_div(dg.seq_kv, kernel.tile_kv);
  r.tiles_dense = g.batch * g.heads * ceil_div(dg.seq_q, kernel.tile_q) * dense_kv_tiles_per_q;
  {
    const std::int64_t worst = most.empty() ? 0 : *std::max_element(most.begin(), most.end());
    // On a tile-order layout, the per-dimension KV tile extents of that Q tile's visit, and the
    // KV tile grid they are taken from (the numbers NATTENSim's bound rests on).
    if (workload.mask.tiling && worst_item >= 0) {
      r.kv_tiles_per_dim = workload.mask.tiling->grid();
      const std::size_t rank = r.kv_tiles_per_dim.size();
      std::vector<std::int64_t> lo(r.kv_tiles_per_dim), hi(rank, -1);
      classifier.visit(worst_item, item_runs);
      for (const TileRun& run : item_runs) {
        for (std::int32_t j = run.begin; j < run.end; ++j) {
          std::int64_t rest = j;
          for (std::size_t d = rank; d-- > 0;) {
            const std::int64_t c = rest % r.kv_tiles_per_dim[d];
            rest /= r.kv_tiles_per_dim[d];
            lo[d] = std::min(lo[d], c);
            hi[d] = std::max(hi[d], c);
          }
        }
      }
      for (std::size_t d = 0; d < rank; ++d) {
        r.worst_q_kv_tiles_per_dim.push_back(hi[d] >= lo[d] ? hi[d] - lo[d] + 1 : 0);
      }
    }
    const auto bound = [&](std::int64_t visited) {
      return visited > 0 ? static_cast<double>(dense_kv_tiles_per_q) / visited : 0.0;
    };
    r.speedup_bound_worst_q = bound(worst);
    for (const std::int64_t m : most) r.speedup_bound_worst_q_per_head.push_back(bound(m));
  }
  const double all_pairs = static_cast<double>(g.batch * g.heads) * dg.seq_q * dg.seq_kv;
  const auto allowed = static_cast<double>(allowed_pairs_total(workload.mask));
  r.density_tokens = allowed / all_pairs;
  r.density_tokens_exact = workload.mask.allowed_pairs.has_value();
  r.density_tiles = static_cast<double>(total.full + total.partial) / r.tiles_dense;
  r.speedup_bound_flop = allowed > 0 ? all_pairs / allowed : 0.0;
  r.speedup_bound_tiles =
      total.visited() > 0 ? static_cast<double>(r.tiles_dense) / total.visited() : 0.0;

  // The dense baseline: same kernel, its dense configuration, no mask.
  const KernelSpec dense_kernel = kernel.dense_variant();
  const std::int64_t dense_q_tiles = ceil_div(dg.seq_q, dense_kernel.tile_q);

  // Speed of light for this kernel: zero fixed costs, partial = full. The dense side keeps every
  // slot at its full-occupancy rate (the dense launch is full nearly all the time, and its tail
  // can only be faster) and its equal items' makespan, which every dispatch order gives. The
  // sparse side is the shortest any dispatch order could reach (sparse_speed_of_light), with a CTA
  // alone on its SM allowed the whole SM, since a sparse launch often runs below full occupancy.
  // Scoped: only the makespans are kept, so the speed-of-light launches' sequences and work are
  // freed before the timed launches are built (peak memory on sparse 1M masks).
  const double sparse_sol = [&] {
    if (kernel.scheduler == "static_persistent") {
      // Speed-of-light work is in proportion to the visited tiles: it orders them too.
      const LaunchRun sparse_unit =
          launch_work(unit_by_item, g, classifier.q_tiles(), kernel,
                      [&](std::int64_t item) { return unit_by_item[item]; });
      return sparse_speed_of_light(sparse_unit.work, gpu.sm_count, kernel.ctas_per_sm,
                                   kernel.scheduler);
    }
    // Any dispatch order: the total summed in launch order (as the NumPy reference sums it), the
    // items sorted in place.
    double unit_total = 0;
    for_each_launch(g.batch, g.heads, classifier.q_tiles(), kernel.launch_order,
                    [&](std::int64_t item) { unit_total += unit_by_item[item]; });
    return any_order_makespan_lower_bound_in_place(unit_by_item, unit_total, gpu.sm_count,
                                                   kernel.ctas_per_sm);
  }();
  unit_by_item = std::vector<double>();
  const double dense_sol = [&] {
    // Speed-of-light work is a tile's area per visited tile, and every dense item visits every kv
    // tile (dense_tile_counts): equal items, no list of them.
    const auto dense_items = static_cast<std::size_t>(dg.batch * dg.heads * dense_q_tiles);
    const double dense_unit = static_cast<double>(dense_kernel.tile_q * dense_kernel.tile_kv) *
                              static_cast<double>(ceil_div(dg.seq_kv, dense_kernel.tile_kv));
    const std::optional<double> dense_equal = equal_items_makespan(dense_items, dense_unit, slots);
    return dense_equal ? *dense_equal
                       : run_launch(std::vector<double>(dense_items, dense_unit), dg, dense_q_tiles,
                                    dense_kernel, slots)
                             .schedule.makespan();
  }();
  // Constant tile rate on both sides, except the GPU's power limit: the dense launch runs at the
  // clock the kernel holds under full load, a sparse one at up to the maximum clock.
  r.speedup_bound_sched =
      sparse_sol > 0 ? dense_sol / sparse_sol * kernel.clock_headroom_ratio() : 0.0;

  // Waves need no schedule (schedule_stats computes the same quotient), and bounds report them.
  r.waves = static_cast<double>(classifier.items()) / static_cast<double>(slots);
  if (!options.timing) return r;

  // Timing.
  const CostParams::TileTimes tiles = cost.tile_times(kernel, g, workload.mask.rule);
  r.tile_masked_us = tiles.masked_us;
  r.unaligned_variant = runs_unaligned_variant(kernel, g);
  // Scoped: the sparse launch's sequence, work and placements, and then the runs kept for the
  // memory model, are freed before the dense baseline's launch is built (peak memory of sparse
  // 1M-token masks).
  double device_us = 0;
  {
    TimedLaunch run;
    if (streamed) {
      const bool mask_everything = masks_every_tile(kernel.masking_rule, masked_tiles);
      run = stream_launch(
          g, classifier.q_tiles(), classifier.kv_tiles(), kernel, gpu, slots, counts_of,
          [&](const TileCounts& c) {
            return item_time_us(c, kernel.item_us(cost.cta_us), tiles, kernel.masking_rule,
                                masked_tiles);
          },
          runs_of, mask_everything, options.record_timeline ? &r.timeline : nullptr);
    } else {
      const LaunchRun sparse_run = run_launch(
          item_times(counts, kernel.item_us(cost.cta_us), tiles, kernel.masking_rule), g,
          classifier.q_tiles(), kernel, slots,
          [&](std::int64_t item) { return static_cast<double>(counts[item].visited()); });
      run.stats = schedule_stats(sparse_run.schedule, sparse_run.work);
      record_critical_path(sparse_run, counts, kernel.masking_rule, run);
      run.memory = estimate_memory(sparse_run.schedule.placements, sparse_run.sequence,
                                   RunsFunction(runs_of), g.heads, classifier.q_tiles(),
                                   classifier.kv_tiles(), g.seq_q, slots, kernel, gpu);
      if (options.record_timeline) {
        r.timeline.reserve(sparse_run.sequence.size());
        for (std::size_t pos = 0; pos < sparse_run.sequence.size(); ++pos) {
          const std::int64_t item = sparse_run.sequence[pos];
          const Placement& p = sparse_run.schedule.placements[pos];
          TimelineEntry entry;
          entry.batch = item / classifier.q_tiles() / g.heads;
          entry.head = item / classifier.q_tiles() % g.heads;
          entry.q_tile = item % classifier.q_tiles();
          entry.slot = p.slot;
          entry.sm = p.slot % gpu.sm_count;  // the dispatcher spreads CTAs over SMs first
          entry.start_us = p.start;
          entry.end_us = p.end;
          entry.tiles = counts[item];
          r.timeline.push_back(entry);
        }
      }
    }
    r.makespan_us = run.stats.makespan;
    r.wave_efficiency = run.stats.wave_efficiency;
    r.tail_fraction = run.stats.tail_fraction;
    r.critical_full_tiles = run.critical_full_tiles;
    r.critical_masked_tiles = run.critical_masked_tiles;
    r.critical_items = run.critical_items;
    r.hbm_bytes = run.memory.hbm_bytes;
    r.hbm_us = run.memory.hbm_us;
    r.memory_bound = run.memory.hbm_us > run.stats.makespan;
    r.permute_bytes = permute_bytes(workload.mask, kernel);
    r.permute_us = r.permute_bytes / (gpu.hbm_gb_per_s * 1e3);
    device_us = std::max(run.stats.makespan, run.memory.hbm_us);
  }
  runs.clear();
  run_begin = std::vector<std::int64_t>();
  r.host_bound = cost.host_floor_us > cost.launch_us + device_us;
  r.predicted_ms = launch_time_us(cost, device_us) / 1e3;

  // The timed dense baseline: this kernel's dense configuration with the same cost model (one
  // calibration covers both), or another kernel's (--baseline) with its own.
  r.baseline_kernel = options.baseline ? options.baseline->kernel.name : kernel.name;
  r.predicted_dense_ms = options.baseline
                             ? dense_launch_ms(dg, options.baseline->kernel.dense_variant(),
                                               options.baseline->cost, gpu)
                             : dense_launch_ms(dg, dense_kernel, cost, gpu);
  r.predicted_speedup = r.predicted_ms > 0 ? r.predicted_dense_ms / r.predicted_ms : 0.0;
  return r;
}

}  // namespace attnsim::gpu
