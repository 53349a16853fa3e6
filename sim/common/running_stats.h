// Mean, spread and range of a stream of values, without keeping the values (tools' statistics).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace attnsim::common {

/// Population mean and standard deviation from running sums, plus min and max. merge() combines
/// the statistics of two streams (e.g. one per thread) as if their values had come in one.
class RunningStats {
 public:
  void add(double x) {
    min_ = count_ == 0 ? x : std::min(min_, x);
    max_ = count_ == 0 ? x : std::max(max_, x);
    sum_ += x;
    sum_sq_ += x * x;
    ++count_;
  }
  void merge(const RunningStats& other) {
    if (other.count_ == 0) return;
    min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
    max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
    sum_ += other.sum_;
    sum_sq_ += other.sum_sq_;
    count_ += other.count_;
  }
  std::int64_t count() const { return count_; }
  /// 0 for an empty stream.
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  double stddev() const {
    if (count_ == 0) return 0.0;
    return std::sqrt(std::max(0.0, sum_sq_ / static_cast<double>(count_) - mean() * mean()));
  }
  double min() const { return min_; }
  double max() const { return max_; }

 private:
  double sum_ = 0;
  double sum_sq_ = 0;
  double min_ = 0;
  double max_ = 0;
  std::int64_t count_ = 0;
};

}  // namespace attnsim::common
