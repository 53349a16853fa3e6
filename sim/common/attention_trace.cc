// Attention-trace .npz reading with shape and finiteness checks, and writing.
#include "sim/common/attention_trace.h"

#include <cmath>
#include <string>
#include <vector>

#include "sim/common/input_error.h"
#include "sim/common/npy.h"

namespace attnsim::common {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

NpyArray require_array(const NpzReader& npz, const std::string& name) {
  if (!npz.has(name)) {
    throw InputError(npz.path(), "array '" + name + "'", "a present array (see traces/README.md)",
                     "missing");
  }
  return npz.get(name);
}

std::int64_t scalar_int(const NpzReader& npz, const std::string& name) {
  const NpyArray a = require_array(npz, name);
  if (a.size() != 1) {
    throw InputError(npz.path(), "array '" + name + "'", "a scalar",
                     "shape " + shape_text(a.shape));
  }
  return a.to_int64(npz.path(), name).front();
}

bool is_float(DType t) {
  return t == DType::kFloat16 || t == DType::kFloat32 || t == DType::kFloat64;
}

// A [layers, heads, tokens, dim] float tensor with every element finite.
std::vector<double> read_tensor(const NpzReader& npz, const std::string& name,
                                const std::vector<std::int64_t>& expected_shape) {
  const NpyArray a = require_array(npz, name);
  const std::string field = "array '" + name + "'";
  if (!is_float(a.dtype)) {
    throw InputError(npz.path(), field, "float16, float32 or float64", dtype_name(a.dtype));
  }
  if (!expected_shape.empty() && a.shape != expected_shape) {
    throw InputError(npz.path(), field + " shape",
                     shape_text(expected_shape) + " (the shape of 'q')", shape_text(a.shape));
  }
  if (a.shape.size() != 4) {
    throw InputError(npz.path(), field + " shape", "4 dimensions [layers, heads, tokens, head_dim]",
                     shape_text(a.shape));
  }
  for (std::int64_t extent : a.shape) {
    if (extent < 1) {
      throw InputError(npz.path(), field + " shape", "every dimension >= 1", shape_text(a.shape));
    }
  }
  std::vector<double> values = a.to_float64(npz.path(), name);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) continue;
    // Report the element's position so the capture bug can be found.
    std::vector<std::int64_t> index(4);
    std::size_t rest = i;
    for (int d = 3; d >= 0; --d) {
      index[static_cast<std::size_t>(d)] = static_cast<std::int64_t>(rest % a.shape[d]);
      rest /= static_cast<std::size_t>(a.shape[d]);
    }
    throw InputError(npz.path(), field + " element " + shape_text(index), "a finite value",
                     std::isnan(values[i]) ? "nan" : (values[i] > 0 ? "inf" : "-inf"));
  }
  return values;
}

}  // namespace

models::AttentionTensors read_attention_trace(const std::filesystem::path& path) {
  const NpzReader npz(path);
  const std::int64_t version = scalar_int(npz, "format_version");
  if (version != kAttentionTraceVersion) {
    throw InputError(npz.path(), "array 'format_version'", std::to_string(kAttentionTraceVersion),
                     std::to_string(version));
  }
  models::AttentionTensors t;
  // Q and K, or (a probabilities trace) the probabilities alone; V always.
  const bool probabilities_only = !npz.has("q") && !npz.has("k") && npz.has("probs");
  if (!probabilities_only && !npz.has("q")) {
    throw InputError(npz.path(), "array 'q'",
                     "a present array (or 'probs' without 'q' and 'k' for a probabilities trace)",
                     "missing");
  }
  if (probabilities_only) {
    t.v = read_tensor(npz, "v", {});
  } else {
    t.q = read_tensor(npz, "q", {});
    t.k = read_tensor(npz, "k", npz.get("q").shape);
    t.v = read_tensor(npz, "v", npz.get("q").shape);
  }
  const std::vector<std::int64_t> shape = npz.get(probabilities_only ? "v" : "q").shape;
  t.layers = static_cast<int>(shape[0]);
  t.heads = static_cast<int>(shape[1]);
  t.tokens = static_cast<int>(shape[2]);
  t.head_dim = static_cast<int>(shape[3]);
  t.causal = scalar_int(npz, "causal") != 0;
  if (t.causal) {
    const std::int64_t prompt = scalar_int(npz, "prompt_tokens");
    if (prompt < 1 || prompt > t.tokens) {
      throw InputError(npz.path(), "array 'prompt_tokens'",
                       "a count in [1, tokens = " + std::to_string(t.tokens) + "]",
                       std::to_string(prompt));
    }
    t.prompt_tokens = static_cast<int>(prompt);
  } else {
    t.prompt_tokens = t.tokens;
  }
  if (npz.has("probs")) {
    const NpyArray probs = npz.get("probs");
    const std::vector<std::int64_t> expected{shape[0], shape[1], shape[2], shape[2]};
    if (probs.shape != expected) {
      throw InputError(npz.path(), "array 'probs' shape",
                       shape_text(expected) + " ([layers, heads, tokens, tokens])",
                       shape_text(probs.shape));
    }
    std::vector<double> values = probs.to_float64(npz.path(), "probs");
    for (double p : values) {
      if (!std::isfinite(p) || p < 0 || p > 1) {
        throw InputError(npz.path(), "array 'probs'", "probabilities in [0, 1]", std::to_string(p));
      }
    }
    // Kept only where it is the data; with Q and K present it is checked and not used.
    if (probabilities_only) t.probs = std::move(values);
  }
  return t;
}

void write_attention_trace(const std::filesystem::path& path, const models::AttentionTensors& t) {
  const std::vector<std::int64_t> shape{t.layers, t.heads, t.tokens, t.head_dim};
  NpzWriter npz(path);
  npz.add("format_version",
          NpyArray::from<std::int64_t>({}, std::vector<std::int64_t>{kAttentionTraceVersion}));
  if (!t.probabilities_only()) {
    npz.add("q", NpyArray::from(shape, t.q));
    npz.add("k", NpyArray::from(shape, t.k));
  }
  npz.add("v", NpyArray::from(shape, t.v));
  if (!t.probs.empty()) {
    npz.add("probs", NpyArray::from({t.layers, t.heads, t.tokens, t.tokens}, t.probs));
  }
  npz.add("causal", NpyArray::from<bool>({}, std::vector<bool>{t.causal}));
  npz.add("prompt_tokens",
          NpyArray::from<std::int64_t>({}, std::vector<std::int64_t>{t.prompt_tokens}));
  npz.commit();
}

}  // namespace attnsim::common
