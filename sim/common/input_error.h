// The one error type for bad user input: it names the file, the field and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace attnsim::common {

/// Thrown for malformed or out-of-range input. Tools catch it at the CLI boundary (run_cli) and
/// exit with kExitInputError; nothing else in the project reports input problems.
class InputError : public std::runtime_error {
 public:
  /// "<source>: <field>: expected <expected>, got <got>"
  InputError(const std::string& source, const std::string& field, const std::string& expected,
             const std::string& got);
  /// "<source>: <message>" for problems that are not about one field (unreadable file, ...).
  InputError(const std::string& source, const std::string& message);

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

}  // namespace attnsim::common
