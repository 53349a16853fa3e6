// Workload derivation: the functional models' decisions on an attention trace, written as a
// SpAtten workload CSV (fetch counts, requant flags and top-k sizes from the real decisions).
#pragma once

#include <boost/json.hpp>
#include <string>

#include "models/spatten_functional.h"
#include "sim/common/spatten_workload_csv.h"

namespace attnsim::common {

/// One CSV row per head-step the run executed (pruned heads have no row, since they do no work),
/// with the numbers of each head-step's last query. `config_path` becomes the trailing line.
SpattenWorkload to_spatten_workload(const models::SpattenRunResult& run,
                                    const models::SpattenParams& params,
                                    const std::string& config_path);

/// Every decision of the run (alive tokens and heads per layer, per head-step fetch counts,
/// requantization and kept V rows, final importances, action counts) as JSON, for comparison
/// with the NumPy reference and for inspection.
boost::json::value decisions_to_json(const models::SpattenRunResult& run);

/// The action counts as a JSON object (one key per action).
boost::json::object action_counts_to_json(const models::ActionCounts& counts);

}  // namespace attnsim::common
