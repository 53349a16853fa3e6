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
/// Contract: no real schedule of this work finishes sooner, so it bounds speedups from above.
double shared_sm_makespan(const std::vector<double>& work, int sms, int ctas_per_sm,
                          const std::string& scheduler);

}  // namespace attnsim::gpu
