// Allocation of the key and value SRAMs to head-steps: fixed halves (double buffering) or a ring
// allocated by size with in-order release (the public SpAtten RTL's BufferManager).
#pragma once

#include <cstdint>
#include <deque>

namespace attnsim::accel {

/// How a head-step gets room in the key (or value) SRAM (config `pipeline.buffer_allocation`).
enum class BufferAllocation {
  kHalves,  ///< two halves, one head-step each: at most two head-steps hold a buffer
  kRing,    ///< a ring of `sram` bytes: a head-step takes what its rows need, up to `handles`
};
const char* to_string(BufferAllocation allocation);

/// Contract: `try_allocate` succeeds when the request fits (halves: a half is free; ring: the
/// bytes fit after the last allocation and fewer than `handles` are live); `release` frees the
/// allocation of that head-step, and the ring reclaims space from its oldest allocation only,
/// so space released out of order comes back when everything older is released too (as the
/// public design's ring head moves). Plain C++: the SystemC fetcher asks it, never waits in it.
class BufferRing {
 public:
  BufferRing(BufferAllocation allocation, std::int64_t capacity_bytes, int handles)
      : allocation_(allocation),
        capacity_bytes_(capacity_bytes),
        handles_(allocation == BufferAllocation::kHalves ? 2 : handles) {}

  /// Takes room for head-step `step` needing `bytes` (ignored for halves); false when it does not
  /// fit now.
  bool try_allocate(int step, std::int64_t bytes) {
    const std::int64_t size =
        allocation_ == BufferAllocation::kHalves ? capacity_bytes_ / 2 : bytes;
    if (static_cast<int>(live_.size()) >= handles_ || used_bytes_ + size > capacity_bytes_) {
      return false;
    }
    live_.push_back(Allocation{step, size, false});
    used_bytes_ += size;
    peak_live_ = std::max<int>(peak_live_, static_cast<int>(live_.size()));
    return true;
  }

  /// Frees head-step `step`'s allocation (it must hold one).
  void release(int step) {
    for (Allocation& a : live_) {
      if (a.step == step && !a.released) {
        a.released = true;
        break;
      }
    }
    // Halves free any half at once; the ring reclaims from its oldest end.
    if (allocation_ == BufferAllocation::kHalves) {
      for (auto it = live_.begin(); it != live_.end();) {
        if (it->released) {
          used_bytes_ -= it->bytes;
          it = live_.erase(it);
        } else {
          ++it;
        }
      }
      return;
    }
    while (!live_.empty() && live_.front().released) {
      used_bytes_ -= live_.front().bytes;
      live_.pop_front();
    }
  }

  int live() const { return static_cast<int>(live_.size()); }
  int peak_live() const { return peak_live_; }
  int handles() const { return handles_; }

 private:
  struct Allocation {
    int step;
    std::int64_t bytes;
    bool released;
  };
  BufferAllocation allocation_;
  std::int64_t capacity_bytes_;
  int handles_;
  std::int64_t used_bytes_ = 0;
  int peak_live_ = 0;
  std::deque<Allocation> live_;
};

}  // namespace attnsim::accel
