// Mask files: .npz in the dense block layout (a) or FlexAttention's BlockMask layout (b), and .npy
// class arrays; read with checks that name the file, array and field, written atomically.
#pragma once

#include <filesystem>
#include <string>

#include "sim/gpu/block_layout.h"

namespace attnsim::gpu {

/// The layout a mask file is written in.
enum class MaskFileFormat {
  kDenseBlocks,    ///< (a): full, partial, block_q, block_kv, seq_q, seq_kv
  kFlexBlockMask,  ///< (b): kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices, ...
};

/// Parses "dense" / "flex"; throws InputError naming `option` otherwise.
MaskFileFormat parse_mask_file_format(const std::string& text, const std::string& option);

/// Reads a mask file, detecting its layout from its arrays:
///  - .npz with `full` and/or `partial` (bool or uint8, [B,H,NQ,NK] or [H,NQ,NK]), optional
///    scalars block_q, block_kv (default 128), seq_q, seq_kv, and allowed_pairs [B,H];
///  - .npz with `kv_num_blocks` [B,H,NQ], `kv_indices` [B,H,NQ,NK] (integers), optional
///    full_kv_num_blocks / full_kv_indices, BLOCK_SIZE (2 ints), seq_lengths (2 ints);
///  - .npy of block classes (0 empty, 1 partial, 2 full; or bool: full), 128x128 blocks.
/// Both .npz layouts may carry allowed_pairs [B,H] (exact pair counts), token_dims /
/// tile_dims (a tile-order multi-dimensional layout, see TokenTiling) and `rule`, a string
/// (0-d 'U' or 'S' array, or uint8 bytes) holding a token rule of mask_rules.md, which is
/// applied (apply_mask_rule: FULL blocks checked, allowed_pairs exact).
/// Throws InputError naming the file and array for anything malformed.
BlockLayout read_mask(const std::filesystem::path& path);

/// Writes `layout` as an .npz in `format` (its rule as a 0-d 'U' string, which Python's
/// str(np.load(p)["rule"]) returns); nothing appears at `path` unless it is complete.
void write_mask(const std::filesystem::path& path, const BlockLayout& layout,
                MaskFileFormat format);

}  // namespace attnsim::gpu
