// LaunchOrder: the order in which a kernel numbers its work items (blockIdx or tile index).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attnsim::gpu {

/// Fastest-varying dimension first: {'q','b','h'} is FlexAttention's grid (NQ, B, H), whose
/// blockIdx.x (the Q tile) varies fastest. reverse_q numbers Q tiles from the last one, which
/// for causal masks is longest-first.
struct LaunchOrder {
  std::array<char, 3> dims{'q', 'b', 'h'};
  bool reverse_q = false;
  std::string to_string() const;
};

/// Parses "q,b,h" (any permutation of q, b and h); nullopt when malformed.
std::optional<LaunchOrder> parse_launch_order(const std::string& text, bool reverse_q);

/// Item indices ((b * heads + h) * q_tiles + i) in launch order.
std::vector<std::int64_t> launch_sequence(std::int64_t batch, std::int64_t heads,
                                          std::int64_t q_tiles, const LaunchOrder& order);

}  // namespace attnsim::gpu
