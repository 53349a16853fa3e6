// The one translation from a mask rule (sim/gpu/mask_rules.md) to the golden kernel's token rule.
// Plain C++ (no CUDA), so it is tested on the CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/block_sparse_attention.h"
#include "sim/gpu/mask_rule.h"

namespace attnsim::golden {

/// A mask rule as the golden kernel runs it.
struct GoldenTokenRule {
  TokenRuleParams params;  ///< document_ids stays null: upload `document_ids` and point it there
  std::vector<std::int32_t> document_ids;  ///< kDocument: [batch, seq_kv] on the host
  std::string text;                        ///< the rule's canonical text (MaskRule::text)
};

/// Translates `rule` for a problem of `batch` x `seq_q` x `seq_kv`. Throws common::InputError
/// naming `source` and the rule's field for a bad value, for geometry the rule does not fit
/// (lengths that do not sum to the sequence, a grid whose product is not it, ...) and for rules
/// the kernel does not run (custom; gna with a tiled token order).
GoldenTokenRule token_rule_from_mask_rule(const gpu::MaskRule& rule, int batch, int seq_q,
                                          int seq_kv, const std::string& source);

/// Parses `text` (mask_rules.md syntax, or the older `window:LEFT:RIGHT`, read as band) and
/// translates it.
GoldenTokenRule token_rule_from_text(const std::string& text, int batch, int seq_q, int seq_kv,
                                     const std::string& source);

}  // namespace attnsim::golden
