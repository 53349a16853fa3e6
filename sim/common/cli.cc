// Exception-to-exit-code mapping for the tools.
#include "sim/common/cli.h"

#include <boost/program_options/errors.hpp>
#include <iostream>
#include <new>

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
  } catch (const std::bad_alloc&) {
    std::cerr << tool << ": error: out of memory\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << tool << ": internal error: " << e.what() << '\n';
    return kExitInternal;
  }
}

}  // namespace attnsim::common
