// Reports: Result, specs and cost model as JSON (the field names users script against), a text
// table for people, and the per-slot timeline as CSV.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "sim/gpu/cost_model.h"
#include "sim/gpu/gpu_spec.h"
#include "sim/gpu/kernel_spec.h"
#include "sim/gpu/simulate.h"

namespace attnsim::gpu {

/// Which fields a report carries: `bounds` leaves out the cost-model prediction.
enum class ReportKind { kBounds, kPredict };

boost::json::object to_json(const Result& result, ReportKind kind);
boost::json::object to_json(const GpuSpec& gpu);
boost::json::object to_json(const KernelSpec& kernel);
boost::json::object to_json(const CostParams& cost);

/// One row per mask, aligned columns, for a terminal.
std::string format_table(const std::vector<Result>& results, ReportKind kind);

/// Timeline CSV: header, then one row per work item of every result, in launch order.
std::string format_timeline_csv(const std::vector<Result>& results);

/// The same timeline as Chrome / Perfetto trace JSON (ui.perfetto.dev, chrome://tracing): a
/// process per SM (per mask and SM with several masks), a thread per slot, a complete event per
/// work item named "b<batch> h<head> q<q_tile>" with its tile counts as args; times in us.
boost::json::object timeline_chrome_trace(const std::vector<Result>& results);

}  // namespace attnsim::gpu
