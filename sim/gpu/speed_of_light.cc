// Event-driven processor sharing per SM.
#include "sim/gpu/speed_of_light.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>

namespace attnsim::gpu {

double shared_sm_makespan(const std::vector<double>& work, int sms, int ctas_per_sm,
                          const std::string& scheduler) {
  const auto items = static_cast<std::int64_t>(work.size());
  const int slots = sms * ctas_per_sm;
  // Dispatch queues: one global queue, or one per persistent worker (slot).
  std::vector<std::vector<std::int64_t>> queues;
  if (scheduler == "static_persistent") {
    queues.resize(slots);
    for (std::int64_t i = 0; i < items; ++i) queues[i % slots].push_back(i);
  } else {
    queues.resize(1);
    queues[0].resize(items);
    std::iota(queues[0].begin(), queues[0].end(), 0);
    if (scheduler == "dynamic_longest_first") {
      std::stable_sort(queues[0].begin(), queues[0].end(),
                       [&](std::int64_t a, std::int64_t b) { return work[a] > work[b]; });
    }
  }
  std::vector<std::size_t> next(queues.size(), 0);
  // Slot s lives on SM s % sms (the dispatcher spreads CTAs over SMs first).
  std::vector<double> remaining(slots, 0.0);
  std::vector<bool> busy(slots, false);
  std::vector<int> resident(sms, 0);
  auto refill = [&](int slot) {
    std::vector<std::int64_t>& queue = queues[queues.size() == 1 ? 0 : slot];
    std::size_t& at = next[queues.size() == 1 ? 0 : slot];
    if (at == queue.size()) return;
    remaining[slot] = work[queue[at++]];
    busy[slot] = true;
    ++resident[slot % sms];
  };
  for (int slot = 0; slot < slots; ++slot) refill(slot);

  double now = 0;
  while (true) {
    // Next completion: a CTA on an SM with k residents progresses at ctas_per_sm / k.
    double step = std::numeric_limits<double>::infinity();
    for (int slot = 0; slot < slots; ++slot) {
      if (!busy[slot]) continue;
      const double rate = static_cast<double>(ctas_per_sm) / resident[slot % sms];
      step = std::min(step, remaining[slot] / rate);
    }
    if (step == std::numeric_limits<double>::infinity()) break;
    now += step;
    std::vector<int> finished;
    for (int slot = 0; slot < slots; ++slot) {
      if (!busy[slot]) continue;
      const double rate = static_cast<double>(ctas_per_sm) / resident[slot % sms];
      remaining[slot] -= step * rate;
      // Relative tolerance: the CTA that set the step ends exactly, others within rounding.
      if (remaining[slot] <= 1e-12 * std::max(1.0, step * rate)) finished.push_back(slot);
    }
    for (const int slot : finished) {
      busy[slot] = false;
      --resident[slot % sms];
    }
    for (const int slot : finished) refill(slot);
  }
  return now;
}

double any_order_makespan_lower_bound(const std::vector<double>& work, int sms, int ctas_per_sm) {
  // Summed in launch order (the NumPy reference adds in the same order: the same double).
  double total = 0;
  for (const double w : work) total += w;
  std::vector<double> items = work;
  return any_order_makespan_lower_bound_in_place(items, total, sms, ctas_per_sm);
}

double any_order_makespan_lower_bound_in_place(std::vector<double>& work, double total, int sms,
                                               int ctas_per_sm) {
  if (work.empty()) return 0.0;
  const double speed = static_cast<double>(ctas_per_sm);
  std::sort(work.begin(), work.end(), std::greater<>());
  // Prefix sums of the sorted items, so that every k costs O(1): O(n log n) in all. Only the
  // prefix sums at k * sms - k and k * sms + 1 are used; they are taken from one running sum (the
  // same additions in the same order as a full prefix array, without its n doubles).
  const auto m = static_cast<std::size_t>(sms);
  const std::size_t ks = (work.size() + m - 1) / m;  // every k with k * sms < n
  std::vector<double> low(ks), high(ks);             // prefix[k * sms - k], prefix[k * sms + 1]
  std::size_t next_low = 0, next_high = 0;
  double running = 0;  // prefix[j]
  for (std::size_t j = 0; j <= work.size(); ++j) {
    while (next_low < ks && next_low * m - next_low == j) low[next_low++] = running;
    while (next_high < ks && next_high * m + 1 == j) high[next_high++] = running;
    if (j < work.size()) running += work[j];
  }
  double bound = total / (static_cast<double>(sms) * speed);
  for (std::size_t k = 0; k < ks; ++k) {
    // The k + 1 smallest of the k * sms + 1 longest: positions k * sms - k ... k * sms.
    bound = std::max(bound, (high[k] - low[k]) / speed);
  }
  return bound;
}

double sparse_speed_of_light(const std::vector<double>& work, int sms, int ctas_per_sm,
                             const std::string& scheduler) {
  if (scheduler != "static_persistent")
    return any_order_makespan_lower_bound(work, sms, ctas_per_sm);
  if (ctas_per_sm > 1) return shared_sm_makespan(work, sms, ctas_per_sm, scheduler);
  // One CTA per SM: the static scheduler's round robin (worker w runs items w, w + sms, ...),
  // summed without the placements it would allocate (peak memory on 1M-token masks).
  std::vector<double> finish(static_cast<std::size_t>(sms), 0.0);
  for (std::size_t i = 0; i < work.size(); ++i) finish[i % finish.size()] += work[i];
  return *std::max_element(finish.begin(), finish.end());
}

}  // namespace attnsim::gpu
