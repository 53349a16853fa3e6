// Attention traces (.npz, schema in traces/README.md): per layer and head, Q, K and V of one
// forward pass, read into the functional models' AttentionTensors with every shape checked.
#pragma once

#include <filesystem>

#include "models/spatten_functional.h"

namespace attnsim::common {

/// The schema version this reader accepts and the writer stamps (array "format_version").
inline constexpr int kAttentionTraceVersion = 1;

/// Reads an attention trace: Q, K and V, or (a probabilities trace) the attention probabilities
/// and V, without Q and K. Throws InputError naming the file, the array and the field for a
/// missing array, a wrong version, mismatched shapes, a non-float tensor, or a NaN/Inf element
/// (with its [layer, head, token, dim] position).
models::AttentionTensors read_attention_trace(const std::filesystem::path& path);

/// Writes `tensors` as a version-1 trace (float64 arrays; probs when present), atomically.
void write_attention_trace(const std::filesystem::path& path,
                           const models::AttentionTensors& tensors);

}  // namespace attnsim::common
