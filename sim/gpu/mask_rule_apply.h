// Attaching a token rule to a block layout: the rule's own exact classification checks the
// layout's FULL blocks and gives exact allowed-pair counts (mask_rules.md).
#pragma once

#include <string>

#include "sim/gpu/block_layout.h"
#include "sim/gpu/mask_rule.h"

namespace attnsim::gpu {

/// Applies `rule` to `layout` at the layout's geometry:
///  - every FULL block must be fully allowed by the rule (a block cut by a sequence end never
///    is), else InputError(source, "rule", ...) naming (batch b, head h, q block i, kv block j)
///    and the rule text;
///  - layout.allowed_pairs becomes exact: a full block counts its area, a partial block the
///    rule's pairs inside it; `allow` counts every listed block's area (clipped to the sequence
///    ends); `custom` leaves allowed_pairs as it was;
///  - layout.rule = rule.
/// Rule parameters that do not fit the geometry are InputErrors naming `source`.
/// Work: one rule classification per batch element (rules do not depend on the head), linear
/// in queries x key intervals and in the layout's blocks; no per-pair loops.
void apply_mask_rule(BlockLayout& layout, const MaskRule& rule, const std::string& source);

}  // namespace attnsim::gpu
