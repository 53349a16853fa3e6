// Elaborates the SpAtten pipeline for a workload and runs it (one elaboration per process).
#pragma once

#include "sim/accel/config.h"
#include "sim/accel/stats.h"
#include "sim/accel/topk_engine.h"
#include "sim/accel/workload.h"

namespace attnsim::accel {

/// Builds every module, runs sc_start to completion and returns the counters. SystemC allows
/// one elaboration per process, so call this once per process. `make_topk_engine` supplies the two
/// top-k engines (the Verilated RTL, for co-simulation, through sim/accel/rtl_topk_engine.h).
AccelStats simulate(const AccelConfig& config, const AccelWorkload& workload,
                    const TopkEngineFactory& make_topk_engine = make_behavioural_topk_engine);

}  // namespace attnsim::accel
