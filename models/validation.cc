// Formatting and merging of parameter violations.
#include "models/validation.h"

namespace attnsim::models {

void Violations::merge(const Violations& other, const std::string& prefix) {
  for (const Violation& v : other.items_) {
    items_.push_back({prefix.empty() ? v.field : prefix + "." + v.field, v.expected, v.got});
  }
}

std::string Violations::to_string() const {
  std::string out;
  for (const Violation& v : items_) {
    if (!out.empty()) out += '\n';
    out += v.field + ": expected " + v.expected + ", got " + v.got;
  }
  return out;
}

}  // namespace attnsim::models
