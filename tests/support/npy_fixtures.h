// Hand-made .npy bytes that tests of different readers share.
#pragma once

#include <string>

namespace attnsim::testing {

/// The 128-byte .npy of issue #13: magic, version 1.0, a 118-byte header claiming
/// (8589934592, 2147483648, 2) int32 elements, and no data.
inline std::string npy_claiming_an_astronomical_shape() {
  std::string header =
      "{'descr': '<i4', 'fortran_order': False, 'shape': (8589934592, 2147483648, 2), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>(header.size() >> 8);
  file += header;
  return file;
}

}  // namespace attnsim::testing
