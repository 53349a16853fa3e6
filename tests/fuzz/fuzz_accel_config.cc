// Fuzz target: a spatten-sim config YAML (inherits resolves against the shipped presets).
#include "sim/accel/config.h"
#include "tests/fuzz/fuzz_support.h"

// libsystemc.so defines main() and needs sc_main; this program never elaborates a model.
extern "C" int sc_main(int, char*[]) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = attnsim::fuzz::scratch_file(data, size, "config.yaml");
  return attnsim::fuzz::only_input_errors([&] {
    attnsim::accel::load_accel_config(path.string(),
                                      attnsim::fuzz::source_dir() / "sim/accel/presets");
  });
}
