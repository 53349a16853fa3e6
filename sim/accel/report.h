// From counters to results: stats.json (energy, power, area, DRAM reduction, utilization, the
// analytical comparison) and the human summary of --format table.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "models/spatten_analytical.h"
#include "sim/accel/config.h"
#include "sim/accel/stats.h"
#include "sim/accel/workload.h"

namespace attnsim::accel {

/// Energy of a run by action, joules, from the per-action table.
struct EnergyBreakdown {
  double mac_j = 0, compare_j = 0, add_j = 0, exp_j = 0, divide_j = 0, sram_j = 0, dram_j = 0,
         static_j = 0;
  double sram_leakage_j = 0, logic_leakage_j = 0, clock_j = 0, control_j = 0;
  /// Dynamic energy of the datapath and buffers (what the action table counts).
  double dynamic_j() const { return mac_j + compare_j + add_j + exp_j + divide_j + sram_j; }
  double on_chip_j() const {
    return dynamic_j() + static_j + sram_leakage_j + logic_leakage_j + clock_j + control_j;
  }
  double total_j() const { return on_chip_j() + dram_j; }
};
EnergyBreakdown energy_of(const AccelConfig& config, const AccelStats& stats);

/// One module's share of the chip: on-chip energy (J) and area (mm^2, of which SRAM).
struct ModuleCost {
  const char* name;
  double energy_j = 0, area_mm2 = 0, sram_mm2 = 0;
};
/// energy_of's on-chip energy and the area table by module, in a fixed order: qk (multipliers +
/// key SRAM, with its fills and reads), pv (multipliers + value SRAM, likewise), softmax (with the
/// progressive-quantization decision), topk (both engines with their buffers), fetcher (crossbars,
/// FIFOs: area and leakage only, the table has no action for them), other (importance
/// accumulators, control, I/O). A module's energy: its own actions
/// (AccelStats::module_actions) at the per-action energies, plus clock and control in the same
/// proportion as the chip's; SRAM leakage apportioned by its SRAM KiB, logic leakage and the
/// static term by its non-SRAM area. The energies sum to on_chip_j(), the areas to area_mm2().
std::vector<ModuleCost> module_costs(const AccelConfig& config, const AccelStats& stats);

/// Chip area from the per-component table, mm^2 (total only; the JSON has the parts).
/// Area of one top-k engine: area.topk_engine_mm2 (P = 16, max_n = 4096, 32-bit scores) with its
/// logic share scaled by P and the rest by the buffer bits.
double topk_engine_area_mm2(const AccelConfig& config);
double area_mm2(const AccelConfig& config);
/// SRAM the chip holds, KiB: key and value buffers plus the two top-k engines' buffers.
double sram_kib(const AccelConfig& config);

/// The analytical model's parameters for this config (one source: the config).
models::AnalyticalParams analytical_params(const AccelConfig& config);

/// Every stats.json field (sim/accel/README.md lists them). Deterministic: no host times.
boost::json::object stats_to_json(const AccelConfig& config, const AccelWorkload& workload,
                                  const AccelStats& stats);

/// A short human-readable summary of stats_to_json's object.
std::string stats_table(const boost::json::object& stats);

}  // namespace attnsim::accel
