// Message formatting for InputError.
#include "sim/common/input_error.h"

namespace attnsim::common {

InputError::InputError(const std::string& source, const std::string& field,
                       const std::string& expected, const std::string& got)
    : std::runtime_error(source + ": " + field + ": expected " + expected + ", got " + got),
      source_(source) {}

InputError::InputError(const std::string& source, const std::string& message)
    : std::runtime_error(source + ": " + message), source_(source) {}

}  // namespace attnsim::common
