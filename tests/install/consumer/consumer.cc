// Uses installed attnsim headers and libraries; prints "consumer: ok" when they behave.
#include <iostream>

#include "models/validation.h"
#include "sim/common/input_error.h"
#include "sim/common/yaml_reader.h"
#ifdef CONSUMER_WITH_ACCEL
#include "sim/accel/clock.h"
#endif

#ifdef CONSUMER_WITH_ACCEL
int sc_main(int, char**) {
#else
int main() {
#endif
  const auto config = attnsim::common::YamlReader::load_string("lanes: 16\n", "inline");
  attnsim::models::Violations violations;
  violations.require_in_range("lanes", config.get<int>("lanes"), 1, 64);
  if (!violations.ok()) return 1;
#ifdef CONSUMER_WITH_ACCEL
  const attnsim::accel::Clock clock(1e9);
  if (clock.cycles(3) != sc_core::sc_time(3, sc_core::SC_NS)) return 1;
#endif
  std::cout << "consumer: ok\n";
  return 0;
}
