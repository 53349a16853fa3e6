// LaunchOrder: the order in which a kernel numbers its work items (blockIdx or tile index).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace attnsim::gpu {

/// Fastest-varying dimension first: {'q','b','h'} is FlexAttention's grid (NQ, B, H), whose
/// blockIdx.x (the Q tile) varies fastest. reverse_q numbers Q tiles from the last one, which
/// for causal masks is longest-first. longest_first_q (q fastest, no reverse_q) orders each
/// (batch, head)'s Q tiles by decreasing visited tiles, ties in grid order: the order a persistent
/// kernel computes on the host from the mask (golden/hopper's `longest_first_order`), which
/// depends on the mask, so launch_sequence needs a key of the items' visited tiles for it.
struct LaunchOrder {
  std::array<char, 3> dims{'q', 'b', 'h'};
  bool reverse_q = false;
  bool longest_first_q = false;
  std::string to_string() const;
};

/// Parses "q,b,h" (any permutation of q, b and h); nullopt when malformed.
std::optional<LaunchOrder> parse_launch_order(const std::string& text, bool reverse_q);

/// Calls f(item) for every item index ((b * heads + h) * q_tiles + i) in launch order.
template <typename F>
void for_each_launch(std::int64_t batch, std::int64_t heads, std::int64_t q_tiles,
                     const LaunchOrder& order, F&& f) {
  auto extent = [&](char dim) { return dim == 'q' ? q_tiles : dim == 'b' ? batch : heads; };
  const std::int64_t n0 = extent(order.dims[0]);
  const std::int64_t n1 = extent(order.dims[1]);
  const std::int64_t n2 = extent(order.dims[2]);
  std::int64_t coord[3];
  for (coord[2] = 0; coord[2] < n2; ++coord[2]) {
    for (coord[1] = 0; coord[1] < n1; ++coord[1]) {
      for (coord[0] = 0; coord[0] < n0; ++coord[0]) {
        std::int64_t q = 0, b = 0, h = 0;
        for (int d = 0; d < 3; ++d) {
          (order.dims[d] == 'q' ? q : order.dims[d] == 'b' ? b : h) = coord[d];
        }
        if (order.reverse_q) q = q_tiles - 1 - q;
        f((b * heads + h) * q_tiles + q);
      }
    }
  }
}

/// An item's visited tiles, or any quantity in proportion to them, for longest_first_q.
using VisitedKey = std::function<double(std::int64_t item)>;

/// Item indices in launch order (for_each_launch's items as a list); with order.longest_first_q
/// each (batch, head)'s run of q_tiles items sorted by decreasing visited(item) (stable), where
/// `visited` is given; without it (equal items) grid order stays.
std::vector<std::int64_t> launch_sequence(std::int64_t batch, std::int64_t heads,
                                          std::int64_t q_tiles, const LaunchOrder& order,
                                          const VisitedKey& visited = {});

}  // namespace attnsim::gpu
