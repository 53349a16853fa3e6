// Transparent huge pages for large arrays.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnsim::common {

/// Asks the kernel for transparent huge pages on the 2 MiB-aligned interior of [data, data +
/// bytes); call it before the memory is first written. Where THP is enabled only for memory
/// that asks for it (`transparent_hugepage=madvise`, Debian's default), a 1M-token mask's
/// arrays otherwise take ~40,000 first-touch faults of 4 KiB pages, several microseconds each on
/// a VM: a third of tilesim's time at 1M tokens. Best effort: errors are ignored.
inline void advise_huge_pages(const void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  if (data == nullptr || bytes < 2 * kHuge) return;
  const auto first = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (first + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (first + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

/// v.reserve(n), with huge pages advised for the new buffer (v should be empty: a reserve
/// that moves existing elements writes the pages before the advice).
template <typename T>
void reserve_huge(std::vector<T>& v, std::size_t n) {
  v.reserve(n);
  advise_huge_pages(v.data(), v.capacity() * sizeof(T));
}

/// A vector of n value-initialised elements on advised pages.
template <typename T>
std::vector<T> huge_vector(std::size_t n, const T& value = T()) {
  std::vector<T> v;
  reserve_huge(v, n);
  v.assign(n, value);
  return v;
}

}  // namespace attnsim::common
