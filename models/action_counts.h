// Counts of energy-relevant actions, so energy = sum(count * energy per action) afterwards.
#pragma once

#include <cstdint>

namespace attnsim::models {

/// What an operation did, by kind of action. Every functional model adds to one of these; the
/// energy table (a per-action cost) is applied by whoever reports energy, never here.
struct ActionCounts {
  std::int64_t macs = 0;              ///< multiply-accumulates (Q.K and prob x V)
  std::int64_t comparisons = 0;       ///< comparator operations (max, top-k, thresholds)
  std::int64_t adds = 0;              ///< additions outside MACs (softmax sum, importance)
  std::int64_t exps = 0;              ///< exp evaluations (table look-up + interpolation)
  std::int64_t divides = 0;           ///< divisions (softmax normalisation)
  std::int64_t sram_read_bytes = 0;   ///< on-chip buffer reads
  std::int64_t sram_write_bytes = 0;  ///< on-chip buffer writes
  std::int64_t dram_read_bytes = 0;   ///< off-chip reads, before transaction rounding

  ActionCounts& operator+=(const ActionCounts& other) {
    macs += other.macs;
    comparisons += other.comparisons;
    adds += other.adds;
    exps += other.exps;
    divides += other.divides;
    sram_read_bytes += other.sram_read_bytes;
    sram_write_bytes += other.sram_write_bytes;
    dram_read_bytes += other.dram_read_bytes;
    return *this;
  }
  friend bool operator==(const ActionCounts& a, const ActionCounts& b) {
    return a.macs == b.macs && a.comparisons == b.comparisons && a.adds == b.adds &&
           a.exps == b.exps && a.divides == b.divides && a.sram_read_bytes == b.sram_read_bytes &&
           a.sram_write_bytes == b.sram_write_bytes && a.dram_read_bytes == b.dram_read_bytes;
  }
};

/// Bytes occupied by `count` values of `bits` bits each, packed densely (rounded up).
inline std::int64_t packed_bytes(std::int64_t count, int bits) { return (count * bits + 7) / 8; }

}  // namespace attnsim::models
