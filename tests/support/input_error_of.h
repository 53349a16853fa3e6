// The message of the InputError a piece of code throws, for tests of bad-input handling.
#pragma once

#include <functional>
#include <string>

#include "sim/common/input_error.h"

namespace attnsim::testing {

/// What `body` reports as bad input (InputError::what()); empty when it throws nothing. Any
/// other exception propagates, so a crash-like failure is not mistaken for a clean refusal.
inline std::string input_error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const common::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace attnsim::testing
