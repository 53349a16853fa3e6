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
  if (in.empty()) throw std::invalid_argument("TopkEngine: a job needs at least one beat");
  std::vector<std::int64_t> scores;
  std::vector<std::uint32_t> indices;
  for (std::size_t b = 0; b < in.size(); ++b) {
    const TopkInBeat& beat = in[b];
    const bool final_beat = b + 1 == in.size();
    const int count = beat.count;
    // Only the final beat may be partial: the load phase writes one full buffer row per beat.
    if (beat.last != final_beat || count < 1 || count > params_.lanes ||
        (!final_beat && count != params_.lanes)) {
      throw std::invalid_argument("TopkEngine: beat " + std::to_string(b) + " has count " +
                                  std::to_string(count) + (beat.last ? " and last" : "") +
                                  "; expected full beats of " + std::to_string(params_.lanes) +
                                  " and `last` on the final one");
    }
    scores.insert(scores.end(), beat.score.begin(), beat.score.begin() + count);
    indices.insert(indices.end(), beat.index.begin(), beat.index.begin() + count);
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
