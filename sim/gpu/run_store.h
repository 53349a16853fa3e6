// RunStore: an append-only array of tile runs in its own mapping.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "sim/gpu/tile_classifier.h"

namespace attnsim::gpu {

/// Tile runs kept outside the heap; simulate() keeps the runs it counted there for the memory
/// model. tilesim keeps freed memory in its heap (tilesim_main.cc), so a vector reserved for the
/// most runs a visit can make (about twice what most masks use) left that untouched room in the
/// heap, and the later phases' arrays landed there on fresh pages: 20 MB of peak RSS on a
/// 1M-token A-shape mask. Mapped, the room costs address space only, and unmapping returns all
/// of it. Falls back to a vector when the mapping fails or the room runs out.
class RunStore {
 public:
  explicit RunStore(std::size_t capacity) {
    if (capacity == 0) return;
    void* p = mmap(nullptr, capacity * sizeof(TileRun), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    mapped_ = static_cast<TileRun*>(p);
    capacity_ = capacity;
  }
  ~RunStore() { unmap(); }
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  void append(const std::vector<TileRun>& more) {
    if (mapped_ != nullptr && size_ + more.size() > capacity_) {
      spilled_.assign(mapped_, mapped_ + size_);
      unmap();
    }
    if (mapped_ != nullptr) {
      std::copy(more.begin(), more.end(), mapped_ + size_);
    } else {
      spilled_.insert(spilled_.end(), more.begin(), more.end());
    }
    size_ += more.size();
  }
  const TileRun* data() const { return mapped_ != nullptr ? mapped_ : spilled_.data(); }
  std::size_t size() const { return size_; }
  /// Frees everything.
  void clear() {
    unmap();
    spilled_ = std::vector<TileRun>();
    size_ = 0;
  }

 private:
  void unmap() {
    if (mapped_ != nullptr) munmap(mapped_, capacity_ * sizeof(TileRun));
    mapped_ = nullptr;
    capacity_ = 0;
  }

  TileRun* mapped_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::vector<TileRun> spilled_;
};

}  // namespace attnsim::gpu
