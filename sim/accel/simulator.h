// Elaborates the SpAtten pipeline for a workload and runs it (one elaboration per process).
#pragma once

#include "sim/accel/config.h"
#include "sim/accel/stats.h"
#include "sim/accel/workload.h"

namespace attnsim::accel {

/// Builds every module, runs sc_start to completion and returns the counters. SystemC allows
/// one elaboration per process, so call this once per process.
AccelStats simulate(const AccelConfig& config, const AccelWorkload& workload);

}  // namespace attnsim::accel
