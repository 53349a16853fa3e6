// The speed-of-light makespan of a launch when CTAs share an SM: a CTA alone on its SM may use
// the whole SM, so the slot model (every slot at a fixed rate) is not a lower bound there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnsim::gpu {

/// Makespan of `work` (launch order, in units a slot completes at full occupancy per unit time)
/// on `sms` SMs holding up to `ctas_per_sm` CTAs each, when an SM's throughput (ctas_per_sm units
/// per unit time) is shared equally by the CTAs resident on it: one CTA alone runs ctas_per_sm
/// times faster than at full occupancy. CTAs are dispatched as `scheduler` dispatches them
/// (non_persistent: launch order to the first free slot; dynamic_longest_first: longest first;
/// static_persistent: worker w on SM w % sms runs items w, w + S, ...). Equals the slot model's
/// makespan when ctas_per_sm is 1.
/// With a static assignment (static_persistent) it is the makespan of that assignment; with a
/// dispatch that follows the run's timing (non_persistent, dynamic_longest_first) it is one
/// schedule among many, and the hardware's can be shorter (see sparse_speed_of_light).
double shared_sm_makespan(const std::vector<double>& work, int sms, int ctas_per_sm,
                          const std::string& scheduler);

/// A lower bound on the makespan of `work` under EVERY assignment of its CTAs to `sms` SMs of
/// throughput ctas_per_sm units per unit time (a CTA stays on one SM): the larger of the total
/// over all SMs' throughput and, for every k >= 0 with k * sms + 1 items, the k + 1 smallest of the
/// k * sms + 1 longest items (one SM must take k + 1 of them), over one SM's throughput. Exact for
/// equal items (ceil(n / sms) of them on one SM). Why: the measured speedups of dynamically
/// dispatched launches reached the tile bound where the launch-order schedule put them 2-4 %
/// below it (H200, blind5: prefix-LM d128, head mixture d64); the hardware's dispatch balances
/// unequal Q tiles better than launch order on the model's constant tile times does.
double any_order_makespan_lower_bound(const std::vector<double>& work, int sms, int ctas_per_sm);
/// The same bound from `total` (the items summed in launch order) and the items in any order,
/// which it sorts in place: no copy of them (peak memory of 1M-token masks).
double any_order_makespan_lower_bound_in_place(std::vector<double>& work, double total, int sms,
                                               int ctas_per_sm);

/// The sparse side of speedup_bound_sched: the lower bound above for dispatchers that follow the
/// run's timing, the assignment's own makespan for static_persistent (its CTAs cannot move).
double sparse_speed_of_light(const std::vector<double>& work, int sms, int ctas_per_sm,
                             const std::string& scheduler);

}  // namespace attnsim::gpu
