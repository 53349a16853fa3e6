// Beat-level wrapper of the top-k engine model.
#include "models/topk_engine.h"

#include <stdexcept>
#include <string>

namespace attnsim::models {

TopkEngine::TopkEngine(const TopkParams& params) : params_(params), lfsr_(params.lfsr_seed) {
  const Violations v = params.validate("topk");
  if (!v.ok()) throw std::invalid_argument(v.to_string());
}

TopkJob TopkEngine::run(const std::vector<TopkInBeat>& in, int k) {
  check_job_beats(in, params_.lanes);
  std::vector<std::int64_t> scores;
  std::vector<std::uint32_t> indices;
  for (const TopkInBeat& beat : in) {
    scores.insert(scores.end(), beat.score.begin(), beat.score.begin() + beat.count);
    indices.insert(indices.end(), beat.index.begin(), beat.index.begin() + beat.count);
  }
  TopkJob job;
  job.result = topk_select(scores, k, params_, lfsr_);
  lfsr_ = job.result.lfsr_state_after;
  job.timing = topk_timing(job.result, static_cast<int>(scores.size()), k, params_);
  std::vector<std::uint32_t> selected;
  selected.reserve(job.result.selected.size());
  for (int position : job.result.selected) {
    selected.push_back(indices[static_cast<std::size_t>(position)]);
  }
  job.out = to_out_beats(selected, params_.lanes);
  return job;
}

}  // namespace attnsim::models
