// LaunchOrder parsing and enumeration.
#include "sim/gpu/launch_order.h"

#include <algorithm>

#include "sim/common/huge_pages.h"

namespace attnsim::gpu {

std::string LaunchOrder::to_string() const {
  return std::string{dims[0], ',', dims[1], ',', dims[2]};
}

std::optional<LaunchOrder> parse_launch_order(const std::string& text, bool reverse_q) {
  if (text.size() != 5 || text[1] != ',' || text[3] != ',') return std::nullopt;
  LaunchOrder order{{text[0], text[2], text[4]}, reverse_q};
  std::array<char, 3> sorted = order.dims;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != std::array<char, 3>{'b', 'h', 'q'}) return std::nullopt;
  return order;
}

std::vector<std::int64_t> launch_sequence(std::int64_t batch, std::int64_t heads,
                                          std::int64_t q_tiles, const LaunchOrder& order) {
  auto extent = [&](char dim) { return dim == 'q' ? q_tiles : dim == 'b' ? batch : heads; };
  const std::int64_t n0 = extent(order.dims[0]);
  const std::int64_t n1 = extent(order.dims[1]);
  const std::int64_t n2 = extent(order.dims[2]);
  std::vector<std::int64_t> sequence;
  common::reserve_huge(sequence, batch * heads * q_tiles);
  std::int64_t coord[3];
  for (coord[2] = 0; coord[2] < n2; ++coord[2]) {
    for (coord[1] = 0; coord[1] < n1; ++coord[1]) {
      for (coord[0] = 0; coord[0] < n0; ++coord[0]) {
        std::int64_t q = 0, b = 0, h = 0;
        for (int d = 0; d < 3; ++d) {
          (order.dims[d] == 'q' ? q : order.dims[d] == 'b' ? b : h) = coord[d];
        }
        if (order.reverse_q) q = q_tiles - 1 - q;
        sequence.push_back((b * heads + h) * q_tiles + q);
      }
    }
  }
  return sequence;
}

}  // namespace attnsim::gpu
