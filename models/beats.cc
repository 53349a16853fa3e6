// Beat packing, comparison and printing for the top-k streams.
#include "models/beats.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace attnsim::models {
namespace {

void check_lanes(int lanes) {
  if (lanes < 1 || lanes > kTopkMaxLanes) throw std::invalid_argument("beats: lanes out of range");
}

}  // namespace

bool operator==(const TopkInBeat& a, const TopkInBeat& b) {
  if (a.count != b.count || a.last != b.last) return false;
  return std::equal(a.score.begin(), a.score.begin() + a.count, b.score.begin()) &&
         std::equal(a.index.begin(), a.index.begin() + a.count, b.index.begin());
}

bool operator==(const TopkOutBeat& a, const TopkOutBeat& b) {
  if (a.count != b.count || a.last != b.last) return false;
  return std::equal(a.index.begin(), a.index.begin() + a.count, b.index.begin());
}

std::ostream& operator<<(std::ostream& os, const TopkInBeat& beat) {
  os << "in{count=" << int{beat.count} << (beat.last ? ",last" : "") << ":";
  for (int i = 0; i < beat.count; ++i) os << ' ' << beat.index[i] << '=' << beat.score[i];
  return os << '}';
}

std::ostream& operator<<(std::ostream& os, const TopkOutBeat& beat) {
  os << "out{count=" << int{beat.count} << (beat.last ? ",last" : "") << ":";
  for (int i = 0; i < beat.count; ++i) os << ' ' << beat.index[i];
  return os << '}';
}

int check_job_beats(const std::vector<TopkInBeat>& in, int lanes) {
  if (in.empty()) throw std::invalid_argument("top-k job: a job needs at least one beat");
  int n = 0;
  for (std::size_t b = 0; b < in.size(); ++b) {
    const TopkInBeat& beat = in[b];
    const bool final_beat = b + 1 == in.size();
    const int count = beat.count;
    // Only the final beat may be partial: the load phase writes one full buffer row per beat.
    if (beat.last != final_beat || count < 1 || count > lanes || (!final_beat && count != lanes)) {
      throw std::invalid_argument("top-k job: beat " + std::to_string(b) + " has count " +
                                  std::to_string(count) + (beat.last ? " and last" : "") +
                                  "; expected full beats of " + std::to_string(lanes) +
                                  " and `last` on the final one");
    }
    n += count;
  }
  return n;
}

std::vector<TopkInBeat> to_in_beats(const std::vector<std::int64_t>& scores,
                                    const std::vector<std::uint32_t>& indices, int lanes) {
  check_lanes(lanes);
  if (scores.size() != indices.size()) throw std::invalid_argument("beats: one index per score");
  std::vector<TopkInBeat> beats;
  for (std::size_t start = 0; start < scores.size(); start += static_cast<std::size_t>(lanes)) {
    TopkInBeat beat;
    const std::size_t end = std::min(scores.size(), start + static_cast<std::size_t>(lanes));
    for (std::size_t i = start; i < end; ++i) {
      beat.score[i - start] = scores[i];
      beat.index[i - start] = indices[i];
    }
    beat.count = static_cast<std::uint8_t>(end - start);
    beats.push_back(beat);
  }
  if (!beats.empty()) beats.back().last = true;
  return beats;
}

std::vector<TopkOutBeat> to_out_beats(const std::vector<std::uint32_t>& indices, int lanes) {
  check_lanes(lanes);
  std::vector<TopkOutBeat> beats;
  for (std::size_t start = 0; start < indices.size(); start += static_cast<std::size_t>(lanes)) {
    TopkOutBeat beat;
    const std::size_t end = std::min(indices.size(), start + static_cast<std::size_t>(lanes));
    for (std::size_t i = start; i < end; ++i) beat.index[i - start] = indices[i];
    beat.count = static_cast<std::uint8_t>(end - start);
    beats.push_back(beat);
  }
  if (!beats.empty()) beats.back().last = true;
  return beats;
}

std::vector<std::uint32_t> from_out_beats(const std::vector<TopkOutBeat>& beats) {
  std::vector<std::uint32_t> indices;
  for (const TopkOutBeat& beat : beats) {
    indices.insert(indices.end(), beat.index.begin(), beat.index.begin() + beat.count);
  }
  return indices;
}

}  // namespace attnsim::models
