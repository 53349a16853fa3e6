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
                                          std::int64_t q_tiles, const LaunchOrder& order,
                                          const VisitedKey& visited) {
  std::vector<std::int64_t> sequence;
  common::reserve_huge(sequence, batch * heads * q_tiles);
  for_each_launch(batch, heads, q_tiles, order,
                  [&](std::int64_t item) { sequence.push_back(item); });
  if (order.longest_first_q && visited && q_tiles > 0) {
    // q varies fastest (KernelSpec::validate), so each run of q_tiles items is one (batch, head).
    for (auto head = sequence.begin(); head != sequence.end(); head += q_tiles) {
      std::stable_sort(head, head + q_tiles,
                       [&](std::int64_t a, std::int64_t b) { return visited(a) > visited(b); });
    }
  }
  return sequence;
}

}  // namespace attnsim::gpu
