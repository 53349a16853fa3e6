// The boundary every command-line tool runs behind: errors become one message and an exit code.
#pragma once

#include <functional>
#include <string>

namespace attnsim::common {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;     ///< the tool ran and reports failure (e.g. mismatches)
inline constexpr int kExitInputError = 2;  ///< bad arguments, config or input files
inline constexpr int kExitInternal = 3;    ///< a bug: please report it

/// Runs `body` and maps exceptions to messages on stderr prefixed with `tool`:
/// InputError, Boost.Program_options errors and std::filesystem errors (a path that is too long,
/// unwritable or under a non-directory) -> kExitInputError, anything else -> kExitInternal.
/// Never lets an exception escape, so no tool aborts with a core dump on bad input.
int run_cli(const std::string& tool, const std::function<int()>& body);

}  // namespace attnsim::common
