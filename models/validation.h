// Collects every reason a parameter set is invalid, so a user fixes a config in one pass.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace attnsim::models {

/// One reason a parameter is invalid: which field, what was expected, what was found.
struct Violation {
  std::string field;
  std::string expected;
  std::string got;
};

/// Accumulates violations; params structs' validate() return one of these.
/// Contract: fields are named as in the config files ("hbm.channels"), so loaders can point the
/// user at the offending key without translating names.
class Violations {
 public:
  /// Records a violation when `ok` is false; returns `ok` so checks can be chained.
  template <typename T>
  bool require(bool ok, const std::string& field, const std::string& expected, const T& got) {
    if (!ok) {
      std::ostringstream text;
      text << got;
      items_.push_back({field, expected, text.str()});
    }
    return ok;
  }

  /// Requires lo <= value <= hi.
  template <typename T>
  bool require_in_range(const std::string& field, const T& value, const T& lo, const T& hi) {
    std::ostringstream expected;
    expected << "a value in [" << lo << ", " << hi << "]";
    return require(lo <= value && value <= hi, field, expected.str(), value);
  }

  /// Appends another set, prefixing its fields ("hbm" + "channels" -> "hbm.channels").
  void merge(const Violations& other, const std::string& prefix);

  bool ok() const { return items_.empty(); }
  const std::vector<Violation>& items() const { return items_; }

  /// One line per violation: "<field>: expected <expected>, got <got>".
  std::string to_string() const;

 private:
  std::vector<Violation> items_;
};

}  // namespace attnsim::models
