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
  /// document_ids and document_runs stay null: upload the vectors below and point them there
  TokenRuleParams params;
  std::vector<std::int32_t> document_ids;   ///< kDocument: [batch, seq_kv] on the host
  std::vector<std::int32_t> document_runs;  ///< kDocument: document_runs(document_ids, ...)
  std::string text;                         ///< the rule's canonical text (MaskRule::text)
};

/// Each position's document's first and last position ([batch, seq, 2]), from document ids
/// [batch, seq]: what TokenRuleParams::document_runs points to. Empty when some id occupies more
/// than one run of positions in a batch element (the ids' equality is then not an interval).
std::vector<std::int32_t> document_runs(const std::vector<std::int32_t>& ids, int batch, int seq);

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
