// Exception-to-exit-code mapping for the tools.
#include "sim/common/cli.h"

#include <boost/program_options/errors.hpp>
#include <filesystem>
#include <iostream>
#include <new>
#include <string>

#include "sim/common/input_error.h"

namespace attnsim::common {

int run_cli(const std::string& tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    std::cerr << tool << ": error: " << e.what() << '\n';
    return kExitInputError;
  } catch (const boost::program_options::error& e) {
    std::cerr << tool << ": error: " << e.what() << " (see --help)\n";
    return kExitInputError;
  } catch (const std::filesystem::filesystem_error& e) {
    // The file system refused a path the user gave (too long, not a directory, no permission):
    // a problem of the input or the environment, not a bug. Printed as our other errors are,
    // path first: "<path>: cannot create directories: Not a directory".
    std::string what = e.what();
    const std::string prefix = "filesystem error: ";
    if (what.rfind(prefix, 0) == 0) what = what.substr(prefix.size());
    const std::size_t paths = what.find(" [");
    if (paths != std::string::npos && !e.path1().empty()) what = what.substr(0, paths);
    std::cerr << tool << ": error: " << (e.path1().empty() ? "" : e.path1().string() + ": ") << what
              << '\n';
    return kExitInputError;
  } catch (const std::bad_alloc&) {
    std::cerr << tool << ": error: out of memory\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << tool << ": internal error: " << e.what() << '\n';
    return kExitInternal;
  }
}

}  // namespace attnsim::common
