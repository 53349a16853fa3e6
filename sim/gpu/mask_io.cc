// Mask file reading (with layout detection and checks) and writing.
#include "sim/gpu/mask_io.h"

#include <algorithm>
#include <limits>

#include "sim/common/input_error.h"
#include "sim/common/memory_limit.h"
#include "sim/common/npy.h"
#include "sim/gpu/mask_formats.h"
#include "sim/gpu/mask_rule_apply.h"

namespace attnsim::gpu {
namespace {

using common::DType;
using common::InputError;
using common::NpyArray;
using common::NpzReader;

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return text + "]";
}

std::string array_field(const std::string& name) { return "array '" + name + "'"; }

// Batch, heads and block counts are at least 1: an empty axis is no attention problem.
void require_nonempty_axes(const std::string& source, const std::string& name,
                           const std::vector<std::int64_t>& shape, std::size_t axes) {
  for (std::size_t d = 0; d < axes && d < shape.size(); ++d) {
    if (shape[d] < 1) {
      throw InputError(source, array_field(name), "every axis of length 1 or more",
                       "shape " + shape_text(shape));
    }
  }
}

// A scalar (0-d or 1-element) integer array, or `fallback` when absent.
std::int64_t scalar_or(const NpzReader& npz, const std::string& name, std::int64_t fallback) {
  if (!npz.has(name)) return fallback;
  const NpyArray array = npz.get(name);
  if (array.size() != 1) {
    throw InputError(npz.path(), array_field(name), "a scalar", "shape " + shape_text(array.shape));
  }
  return array.to_int64(npz.path(), name).front();
}

// Two integers (BLOCK_SIZE, seq_lengths), or nothing when absent.
std::vector<std::int64_t> pair_or_empty(const NpzReader& npz, const std::string& name) {
  if (!npz.has(name)) return {};
  const NpyArray array = npz.get(name);
  if (array.size() != 2) {
    throw InputError(npz.path(), array_field(name), "2 integers (q, kv)",
                     "shape " + shape_text(array.shape));
  }
  return array.to_int64(npz.path(), name);
}

void require_positive(const std::string& source, const std::string& field, std::int64_t value) {
  if (value <= 0) throw InputError(source, field, "a positive integer", std::to_string(value));
}

// seq must fit the block count: (blocks - 1) * block < seq <= blocks * block.
// Tile indices are 32-bit: sequences stay below 2^30 tokens (a thousand times 1M).
constexpr std::int64_t kMaxSequence = std::int64_t{1} << 30;

void require_seq_fits(const std::string& source, const std::string& field, std::int64_t seq,
                      std::int64_t blocks, std::int64_t block) {
  if (seq > kMaxSequence || block > kMaxSequence) {
    throw InputError(source, field, "at most 2^30 tokens and block size",
                     std::to_string(std::max(seq, block)));
  }
  if (seq <= (blocks - 1) * block || seq > blocks * block) {
    throw InputError(source, field,
                     "a length in (" + std::to_string((blocks - 1) * block) + ", " +
                         std::to_string(blocks * block) + "] for " + std::to_string(blocks) +
                         " blocks of " + std::to_string(block),
                     std::to_string(seq));
  }
}

// [B,H,NQ,NK] or [H,NQ,NK] flag array, one byte per block, viewed in place.
const common::NpyView& flags(const NpzReader& npz, const std::string& name,
                             std::vector<std::int64_t>& shape) {
  const common::NpyView& array = npz.view(name);
  if (array.dtype != DType::kBool && array.dtype != DType::kUInt8) {
    throw InputError(npz.path(), array_field(name), "dtype bool or uint8",
                     common::dtype_name(array.dtype));
  }
  if (array.shape.size() != 3 && array.shape.size() != 4) {
    throw InputError(npz.path(), array_field(name), "shape [B, H, NQ, NK] or [H, NQ, NK]",
                     shape_text(array.shape));
  }
  require_nonempty_axes(npz.path(), name, array.shape, array.shape.size());
  shape = array.shape;
  if (shape.size() == 3) shape.insert(shape.begin(), 1);
  // One byte per element: the bytes are the flags (any non-zero value counts as set).
  return array;
}

// The optional exact token-level counts written by `tilesim gen`: [B, H] pairs.
void read_allowed_pairs(const NpzReader& npz, BlockLayout& layout) {
  if (!npz.has("allowed_pairs")) return;
  const MaskGeometry& g = layout.geometry;
  const NpyArray pairs = npz.get("allowed_pairs");
  if (pairs.size() != g.batch * g.heads) {
    throw InputError(npz.path(), array_field("allowed_pairs"),
                     "shape [" + std::to_string(g.batch) + ", " + std::to_string(g.heads) + "]",
                     shape_text(pairs.shape));
  }
  layout.allowed_pairs = pairs.to_int64(npz.path(), "allowed_pairs");
  for (const std::int64_t v : *layout.allowed_pairs) {
    if (v < 0 || v > g.seq_q * g.seq_kv) {
      throw InputError(npz.path(), array_field("allowed_pairs"), "counts in [0, seq_q * seq_kv]",
                       std::to_string(v));
    }
  }
}

// The optional tile-order layout written by `tilesim gen gna --tile` (token_dims, tile_dims) or
// `--q-tile/--kv-tile` (also q_tile_dims and, with dilation, tile_dilation).
void read_tiling(const NpzReader& npz, BlockLayout& layout) {
  if (!npz.has("token_dims") && !npz.has("tile_dims")) return;
  TokenTiling tiling;
  const auto read = [&](const char* name, std::vector<std::int64_t>& out) {
    const NpyArray array = npz.get(name);
    if (array.shape.size() != 1 || array.size() < 1 || array.size() > 3) {
      throw InputError(npz.path(), array_field(name), "1 to 3 sizes, shape [D]",
                       "shape " + shape_text(array.shape));
    }
    out = array.to_int64(npz.path(), name);
  };
  read("token_dims", tiling.token_dims);
  read("tile_dims", tiling.tile_dims);
  if (npz.has("q_tile_dims")) read("q_tile_dims", tiling.q_tile_dims);
  if (npz.has("tile_dilation")) read("tile_dilation", tiling.dilation);
  const MaskGeometry& g = layout.geometry;
  const std::size_t rank = tiling.token_dims.size();
  bool fits = tiling.tile_dims.size() == rank && tiling.q_tile().size() == rank &&
              (tiling.dilation.empty() || tiling.dilation.size() == rank);
  std::int64_t q_volume = 1, kv_volume = 1;
  for (std::size_t d = 0; fits && d < rank; ++d) {
    const std::int64_t groups = tiling.dilation.empty() ? 1 : tiling.dilation[d];
    fits = tiling.token_dims[d] > 0 && tiling.tile_dims[d] > 0 && tiling.q_tile()[d] > 0 &&
           groups > 0 && groups <= tiling.token_dims[d];
    q_volume *= tiling.q_tile()[d];
    kv_volume *= tiling.tile_dims[d];
  }
  if (!fits || q_volume != g.block_q || kv_volume != g.block_kv ||
      tiling.padded_q_tokens() != g.seq_q || tiling.padded_kv_tokens() != g.seq_kv) {
    throw InputError(npz.path(), "arrays 'token_dims' and 'tile_dims'",
                     "token dims whose tile-padded size is seq_q (Q tiles) and seq_kv (KV tiles), "
                     "with tile products block_q and block_kv",
                     "dims that do not fit the mask");
  }
  layout.tiling = std::move(tiling);
}

// The optional token rule (mask_rules.md): a string array 'rule', applied to the layout (which
// checks the FULL blocks against it and makes allowed_pairs exact).
void read_rule(const NpzReader& npz, BlockLayout& layout) {
  if (!npz.has("rule")) return;
  const std::string text = npz.get("rule").to_text(npz.path(), "rule");
  apply_mask_rule(layout, parse_mask_rule(text, npz.path(), array_field("rule")), npz.path());
}

BlockLayout read_dense_npz(const NpzReader& npz) {
  const std::string& source = npz.path();
  DenseBlockFlags arrays;
  std::vector<std::int64_t> shape;
  if (npz.has("full")) {
    const common::NpyView& full = flags(npz, "full", shape);
    arrays.full = full.data;
    arrays.full_size = full.size();
  }
  if (npz.has("partial")) {
    std::vector<std::int64_t> partial_shape;
    const common::NpyView& partial = flags(npz, "partial", partial_shape);
    arrays.partial = partial.data;
    arrays.partial_size = partial.size();
    if (!shape.empty() && partial_shape != shape) {
      throw InputError(source, array_field("partial"), "the shape of 'full', " + shape_text(shape),
                       shape_text(partial_shape));
    }
    shape = partial_shape;
  }
  MaskGeometry& g = arrays.geometry;
  g.batch = shape[0];
  g.heads = shape[1];
  g.block_q = scalar_or(npz, "block_q", 128);
  g.block_kv = scalar_or(npz, "block_kv", 128);
  require_positive(source, array_field("block_q"), g.block_q);
  require_positive(source, array_field("block_kv"), g.block_kv);
  g.seq_q = scalar_or(npz, "seq_q", shape[2] * g.block_q);
  g.seq_kv = scalar_or(npz, "seq_kv", shape[3] * g.block_kv);
  require_seq_fits(source, array_field("seq_q"), g.seq_q, shape[2], g.block_q);
  require_seq_fits(source, array_field("seq_kv"), g.seq_kv, shape[3], g.block_kv);
  BlockLayout layout = layout_from_dense_flags(arrays, source);
  read_allowed_pairs(npz, layout);
  read_tiling(npz, layout);
  read_rule(npz, layout);
  return layout;
}

// An integer array of the given rank, viewed in place in its own dtype (no int64 copy).
IntArrayView integers(const NpzReader& npz, const std::string& name, std::size_t rank,
                      std::vector<std::int64_t>& shape) {
  const common::NpyView& array = npz.view(name);
  if (array.dtype == DType::kBool || array.dtype == DType::kFloat16 ||
      array.dtype == DType::kFloat32 || array.dtype == DType::kFloat64 ||
      array.dtype == DType::kBytes || array.dtype == DType::kUnicode) {
    throw InputError(npz.path(), array_field(name), "an integer dtype (int32 as BlockMask stores)",
                     common::dtype_name(array.dtype));
  }
  if (array.shape.size() != rank) {
    throw InputError(npz.path(), array_field(name),
                     rank == 3 ? "shape [B, H, NQ]" : "shape [B, H, NQ, NK]",
                     shape_text(array.shape));
  }
  // The last axis of an index array may be empty (no kv blocks listed); the others may not.
  require_nonempty_axes(npz.path(), name, array.shape, 3);
  shape = array.shape;
  return {array.data, array.dtype, array.size()};
}

BlockLayout read_flex_npz(const NpzReader& npz) {
  const std::string& source = npz.path();
  FlexBlockViews arrays;
  std::vector<std::int64_t> counts_shape, indices_shape;
  arrays.kv_num_blocks = integers(npz, "kv_num_blocks", 3, counts_shape);
  arrays.kv_indices = integers(npz, "kv_indices", 4, indices_shape);
  const std::vector<std::int64_t> rows_shape(indices_shape.begin(), indices_shape.begin() + 3);
  if (counts_shape != rows_shape) {
    throw InputError(source, array_field("kv_num_blocks"),
                     "shape " + shape_text(rows_shape) + " (kv_indices without its last axis)",
                     shape_text(counts_shape));
  }
  if (npz.has("full_kv_num_blocks") != npz.has("full_kv_indices")) {
    throw InputError(source, "arrays 'full_kv_num_blocks' and 'full_kv_indices'", "both or neither",
                     "only one");
  }
  if (npz.has("full_kv_num_blocks")) {
    std::vector<std::int64_t> full_counts_shape, full_indices_shape;
    arrays.full_kv_num_blocks = integers(npz, "full_kv_num_blocks", 3, full_counts_shape);
    arrays.full_kv_indices = integers(npz, "full_kv_indices", 4, full_indices_shape);
    if (full_counts_shape != counts_shape) {
      throw InputError(source, array_field("full_kv_num_blocks"),
                       "shape " + shape_text(counts_shape), shape_text(full_counts_shape));
    }
    if (full_indices_shape != indices_shape) {
      throw InputError(source, array_field("full_kv_indices"), "shape " + shape_text(indices_shape),
                       shape_text(full_indices_shape));
    }
  }
  MaskGeometry& g = arrays.geometry;
  g.batch = indices_shape[0];
  g.heads = indices_shape[1];
  arrays.max_kv = indices_shape[3];
  const std::vector<std::int64_t> block = pair_or_empty(npz, "BLOCK_SIZE");
  g.block_q = block.empty() ? 128 : block[0];
  g.block_kv = block.empty() ? 128 : block[1];
  require_positive(source, "array 'BLOCK_SIZE'", std::min(g.block_q, g.block_kv));
  const std::vector<std::int64_t> seq = pair_or_empty(npz, "seq_lengths");
  g.seq_q = seq.empty() ? indices_shape[2] * g.block_q : seq[0];
  g.seq_kv = seq.empty() ? indices_shape[3] * g.block_kv : seq[1];
  require_seq_fits(source, "array 'seq_lengths'[0]", g.seq_q, indices_shape[2], g.block_q);
  if (g.seq_kv <= 0 || g.seq_kv > kMaxSequence || g.kv_blocks() > arrays.max_kv) {
    throw InputError(source, "array 'seq_lengths'[1]",
                     "a kv length of at most " + std::to_string(arrays.max_kv) + " blocks of " +
                         std::to_string(g.block_kv),
                     std::to_string(g.seq_kv));
  }
  BlockLayout layout = layout_from_flex_views(arrays, source);
  read_allowed_pairs(npz, layout);
  read_tiling(npz, layout);
  read_rule(npz, layout);
  return layout;
}

BlockLayout read_class_npy(const std::filesystem::path& path) {
  const std::string source = path.string();
  const common::NpyView array = common::map_npy(path);
  if (array.shape.size() != 3 && array.shape.size() != 4) {
    throw InputError(source, "array", "shape [B, H, NQ, NK] or [H, NQ, NK]",
                     shape_text(array.shape));
  }
  require_nonempty_axes(source, "array", array.shape, array.shape.size());
  switch (array.dtype) {
    case DType::kFloat16:
    case DType::kFloat32:
    case DType::kFloat64:
    case DType::kBytes:
    case DType::kUnicode:
      throw InputError(source, "array 'array'", "an integer or bool dtype",
                       common::dtype_name(array.dtype));
    default:
      break;
  }
  // One class byte per block (the file's own size or less), read in place.
  const IntArrayView values{array.data, array.dtype, array.size()};
  std::vector<std::uint8_t> classes(static_cast<std::size_t>(values.size));
  for (std::int64_t i = 0; i < values.size; ++i) {
    const std::int64_t v = array.dtype == DType::kBool ? values.at(i) * 2 : values.at(i);
    if (v < 0 || v > 2) {
      throw InputError(source, "array element " + std::to_string(i),
                       "a block class 0 (empty), 1 (partial) or 2 (full)", std::to_string(v));
    }
    classes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  }
  std::vector<std::int64_t> shape = array.shape;
  if (shape.size() == 3) shape.insert(shape.begin(), 1);
  MaskGeometry g{shape[0], shape[1], shape[2] * 128, shape[3] * 128, 128, 128};
  return layout_from_dense_classes(g, classes);
}

}  // namespace

MaskFileFormat parse_mask_file_format(const std::string& text, const std::string& option) {
  if (text == "dense") return MaskFileFormat::kDenseBlocks;
  if (text == "flex") return MaskFileFormat::kFlexBlockMask;
  throw InputError(option, "format", "dense or flex", "'" + text + "'");
}

BlockLayout read_mask(const std::filesystem::path& path) {
  if (path.extension() == ".npy") return read_class_npy(path);
  const NpzReader npz(path);
  if (npz.has("kv_num_blocks") || npz.has("kv_indices")) return read_flex_npz(npz);
  if (npz.has("full") || npz.has("partial")) return read_dense_npz(npz);
  std::string present;
  for (const std::string& name : npz.names()) present += (present.empty() ? "" : ", ") + name;
  throw InputError(path.string(), "arrays",
                   "'full'/'partial' (dense block layout) or 'kv_num_blocks'/'kv_indices' "
                   "(FlexAttention BlockMask)",
                   present.empty() ? "none" : present);
}

void write_mask(const std::filesystem::path& path, const BlockLayout& layout,
                MaskFileFormat format) {
  const MaskGeometry& g = layout.geometry;
  // Both formats hold B x H x NQ x NK entries, however sparse the mask: checked against the
  // memory limit before anything is built. The factors are the bytes per entry held at once
  // while writing (dense: the classes, two flag arrays, the bit copies and one .npy image;
  // flex: two int64 index arrays, their int32 copies and one .npy image). A 1M-token, 64-head
  // mask took 22 GB to write in the dense format before this check.
  {
    const auto entries = static_cast<std::uint64_t>(std::max<std::int64_t>(0, g.rows())) *
                         static_cast<std::uint64_t>(std::max<std::int64_t>(0, g.kv_blocks()));
    const std::uint64_t per_entry = format == MaskFileFormat::kDenseBlocks ? 5 : 28;
    std::uint64_t bytes = 0;
    const bool overflow = __builtin_mul_overflow(entries, per_entry, &bytes);
    common::check_memory(
        overflow ? std::numeric_limits<std::uint64_t>::max() : bytes, path.string(),
        std::string("writing its ") +
            (format == MaskFileFormat::kDenseBlocks ? "dense block" : "BlockMask") + " arrays of " +
            std::to_string(g.batch) + " x " + std::to_string(g.heads) + " x " +
            std::to_string(g.q_blocks()) + " x " + std::to_string(g.kv_blocks()) +
            " entries (at 1M tokens use inline patterns, pattern:NAME,...)");
  }
  common::NpzWriter npz(path);
  if (format == MaskFileFormat::kDenseBlocks) {
    const DenseBlockArrays arrays = dense_arrays_from_layout(layout);
    const std::vector<std::int64_t> shape{g.batch, g.heads, g.q_blocks(), g.kv_blocks()};
    const std::vector<bool> full(arrays.full.begin(), arrays.full.end());
    const std::vector<bool> partial(arrays.partial.begin(), arrays.partial.end());
    npz.add("full", NpyArray::from(shape, full));
    npz.add("partial", NpyArray::from(shape, partial));
    npz.add("block_q", NpyArray::from<std::int64_t>({}, {g.block_q}));
    npz.add("block_kv", NpyArray::from<std::int64_t>({}, {g.block_kv}));
    npz.add("seq_q", NpyArray::from<std::int64_t>({}, {g.seq_q}));
    npz.add("seq_kv", NpyArray::from<std::int64_t>({}, {g.seq_kv}));
  } else {
    const FlexBlockArrays arrays = flex_arrays_from_layout(layout);
    const std::vector<std::int64_t> rows{g.batch, g.heads, g.q_blocks()};
    const std::vector<std::int64_t> indices{g.batch, g.heads, g.q_blocks(), arrays.max_kv};
    auto int32 = [](const std::vector<std::int64_t>& v) {
      return std::vector<std::int32_t>(v.begin(), v.end());
    };
    npz.add("kv_num_blocks", NpyArray::from(rows, int32(arrays.kv_num_blocks)));
    npz.add("kv_indices", NpyArray::from(indices, int32(arrays.kv_indices)));
    npz.add("full_kv_num_blocks", NpyArray::from(rows, int32(arrays.full_kv_num_blocks)));
    npz.add("full_kv_indices", NpyArray::from(indices, int32(arrays.full_kv_indices)));
    npz.add("BLOCK_SIZE",
            NpyArray::from<std::int32_t>({2}, {static_cast<std::int32_t>(g.block_q),
                                               static_cast<std::int32_t>(g.block_kv)}));
    npz.add("seq_lengths", NpyArray::from<std::int64_t>({2}, {g.seq_q, g.seq_kv}));
  }
  if (layout.allowed_pairs) {
    npz.add("allowed_pairs", NpyArray::from({g.batch, g.heads}, *layout.allowed_pairs));
  }
  if (layout.tiling) {
    const auto rank = static_cast<std::int64_t>(layout.tiling->token_dims.size());
    npz.add("token_dims", NpyArray::from({rank}, layout.tiling->token_dims));
    npz.add("tile_dims", NpyArray::from({rank}, layout.tiling->tile_dims));
    if (!layout.tiling->q_tile_dims.empty()) {
      npz.add("q_tile_dims", NpyArray::from({rank}, layout.tiling->q_tile_dims));
    }
    if (!layout.tiling->dilation.empty()) {
      npz.add("tile_dilation", NpyArray::from({rank}, layout.tiling->dilation));
    }
  }
  if (layout.rule) npz.add("rule", NpyArray::from_text(layout.rule->text()));
  npz.commit();
}

}  // namespace attnsim::gpu
