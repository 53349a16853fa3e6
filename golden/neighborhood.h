// The neighborhood rule (NATTEN / GNA, mask_rules.md's gna_range) as the golden kernel, its
// reference and host code evaluate it: plain C++ that nvcc also compiles for the device.
#pragma once

#include <cstdint>

#include "golden/block_sparse_attention.h"

#ifdef __CUDACC__
#define ATTNSIM_HOST_DEVICE __host__ __device__
#else
#define ATTNSIM_HOST_DEVICE
#endif

namespace attnsim::golden {

/// Keys of query coordinate x along one dimension: residue + dilation * [start, start + count).
struct NeighborhoodRange {
  int residue;
  int start;
  int count;
};

/// mask_rules.md's gna_range(x, n, window, stride, dilation).
ATTNSIM_HOST_DEVICE inline NeighborhoodRange neighborhood_range(int x, int n, int window,
                                                                int stride, int dilation) {
  const int residue = x % dilation;
  const int m = x / dilation;
  const int sub_n = (n - residue + dilation - 1) / dilation;
  const int w = window < sub_n ? window : sub_n;
  int leader = (m / stride) * stride + stride / 2;
  if (leader > sub_n - 1) leader = sub_n - 1;
  int start = leader - window / 2;
  if (start > sub_n - w) start = sub_n - w;
  if (start < 0) start = 0;
  return {residue, start, w};
}

// The kernel's packed form. Along each dimension a coordinate c maps to
// c' = (c % dilation) * M + c / dilation with M = ceil(n / dilation): a query's keys in that
// dimension are then the interval [residue * M + start, residue * M + start + count - 1]. The
// dimensions' c' share one 32-bit word, each field with a guard bit above it, so one subtraction
// tests every dimension's lower bound and a second one every upper bound (no borrow crosses a
// guard). Field widths: 31 bits at rank 1, 15 at rank 2, 9 at rank 3.

/// Value bits of one field at `rank`.
ATTNSIM_HOST_DEVICE inline int neighborhood_field_bits(int rank) {
  return rank == 1 ? 31 : rank == 2 ? 15 : 9;
}

/// The guard bits of every field in use.
ATTNSIM_HOST_DEVICE inline std::uint32_t neighborhood_guards(int rank) {
  const int bits = neighborhood_field_bits(rank);
  std::uint32_t guards = 0;
  for (int d = 0; d < rank; ++d) guards |= 1u << ((rank - 1 - d) * (bits + 1) + bits);
  return guards;
}

/// Sub-grid length M of dimension d: ceil(n / dilation).
ATTNSIM_HOST_DEVICE inline int neighborhood_sub_length(const TokenRuleParams& p, int d) {
  return (p.grid_dims[d] + p.neighborhood_dilation[d] - 1) / p.neighborhood_dilation[d];
}

/// Key `kv`'s word: every dimension's c' with its guard bit set.
ATTNSIM_HOST_DEVICE inline std::uint32_t neighborhood_key_word(const TokenRuleParams& p, int kv) {
  const int rank = p.grid_rank, bits = neighborhood_field_bits(rank);
  std::uint32_t word = neighborhood_guards(rank);
  int rest = kv;
  for (int d = rank - 1; d >= 0; --d) {
    const int c = rest % p.grid_dims[d];
    rest /= p.grid_dims[d];
    const int dilation = p.neighborhood_dilation[d];
    const int c_packed = (c % dilation) * neighborhood_sub_length(p, d) + c / dilation;
    word |= static_cast<std::uint32_t>(c_packed) << ((rank - 1 - d) * (bits + 1));
  }
  return word;
}

/// Query `q`'s words: `low` the first key c' of every dimension, `span` count - 1 with the guards.
ATTNSIM_HOST_DEVICE inline void neighborhood_row_words(const TokenRuleParams& p, int q,
                                                       std::uint32_t* low, std::uint32_t* span) {
  const int rank = p.grid_rank, bits = neighborhood_field_bits(rank);
  *low = 0;
  *span = neighborhood_guards(rank);
  int rest = q;
  for (int d = rank - 1; d >= 0; --d) {
    const int x = rest % p.grid_dims[d];
    rest /= p.grid_dims[d];
    const NeighborhoodRange r =
        neighborhood_range(x, p.grid_dims[d], p.neighborhood_window[d], p.neighborhood_stride[d],
                           p.neighborhood_dilation[d]);
    const int shift = (rank - 1 - d) * (bits + 1);
    *low |= static_cast<std::uint32_t>(r.residue * neighborhood_sub_length(p, d) + r.start)
            << shift;
    *span |= static_cast<std::uint32_t>(r.count - 1) << shift;
  }
}

/// True when the key of `key_word` is in the neighborhood of the query of (`low`, `span`).
ATTNSIM_HOST_DEVICE inline bool neighborhood_allows(std::uint32_t key_word, std::uint32_t low,
                                                    std::uint32_t span, std::uint32_t guards) {
  const std::uint32_t above = key_word - low;             // guard set: c' >= first key
  const std::uint32_t within = span - (above & ~guards);  // guard set: c' - first <= count - 1
  return (above & within & guards) == guards;
}

}  // namespace attnsim::golden
