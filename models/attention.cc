// Q.K and prob x V on integer codes.
#include "models/attention.h"

#include <numeric>
#include <stdexcept>

namespace attnsim::models {

std::vector<std::int64_t> qk_scores(const std::vector<std::int32_t>& query, const CodeMatrix& keys,
                                    const std::vector<int>& key_rows, ActionCounts* counts) {
  if (static_cast<int>(query.size()) != keys.cols) {
    throw std::invalid_argument("qk_scores: query length differs from the key dimension");
  }
  std::vector<std::int64_t> scores;
  scores.reserve(key_rows.size());
  for (int r : key_rows) {
    const std::int32_t* key = keys.row(r);
    std::int64_t acc = 0;
    for (int d = 0; d < keys.cols; ++d) acc += std::int64_t{query[d]} * key[d];
    scores.push_back(acc);
  }
  if (counts != nullptr) counts->macs += static_cast<std::int64_t>(key_rows.size()) * keys.cols;
  return scores;
}

std::vector<std::int64_t> prob_times_v(const std::vector<std::int64_t>& probs,
                                       const CodeMatrix& values, const std::vector<int>& value_rows,
                                       ActionCounts* counts) {
  if (probs.size() != value_rows.size()) {
    throw std::invalid_argument("prob_times_v: one probability per value row is needed");
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(values.cols), 0);
  for (std::size_t i = 0; i < value_rows.size(); ++i) {
    const std::int32_t* value = values.row(value_rows[i]);
    for (int d = 0; d < values.cols; ++d) out[d] += probs[i] * value[d];
  }
  if (counts != nullptr) counts->macs += static_cast<std::int64_t>(value_rows.size()) * values.cols;
  return out;
}

std::vector<int> all_rows(int n) {
  std::vector<int> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

}  // namespace attnsim::models
