// Host-side conversion between float and the 16-bit element bits the golden kernels read and write
// (bf16, fp16): the one copy the GPU tests and benches use to fill inputs and read outputs.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "golden/block_sparse_attention.h"

namespace attnsim::golden {

inline float element_to_float(std::uint16_t bits, ElementType type) {
  if (type == ElementType::kBFloat16) {
    const std::uint32_t f = static_cast<std::uint32_t>(bits) << 16;  // bf16 is float's top half
    float out;
    std::memcpy(&out, &f, 4);
    return out;
  }
  __half_raw raw;
  raw.x = bits;
  return __half2float(__half(raw));
}

inline std::uint16_t float_to_element(float x, ElementType type) {
  if (type == ElementType::kBFloat16) return static_cast<__nv_bfloat16_raw>(__float2bfloat16(x)).x;
  return static_cast<__half_raw>(__float2half(x)).x;
}

}  // namespace attnsim::golden
