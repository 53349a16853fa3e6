// apply_mask_rule: the rule is classified as a pattern family at the layout's geometry, once per
// batch element and q block row, and merged with every head's row of the layout.
#include "sim/gpu/mask_rule_apply.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "sim/common/input_error.h"
#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {

void apply_mask_rule(BlockLayout& layout, const MaskRule& rule, const std::string& source) {
  const MaskGeometry& g = layout.geometry;
  const std::string text = rule.text();
  layout.q_cut_rule_full.clear();  // only a rule classified below sets it
  if (rule.name == "custom") {
    layout.rule = rule;
    return;
  }
  const std::int64_t nq = g.q_blocks(), nk = g.kv_blocks();
  const auto area = [&](std::int64_t qb, std::int64_t kb) {
    return (std::min(g.seq_q, (qb + 1) * g.block_q) - qb * g.block_q) *
           (std::min(g.seq_kv, (kb + 1) * g.block_kv) - kb * g.block_kv);
  };
  const auto reject = [&](std::int64_t b, std::int64_t h, std::int64_t qb, std::int64_t kb,
                          std::int64_t pairs) {
    throw common::InputError(
        source, "rule",
        "FULL blocks that rule '" + text + "' allows entirely (every pair of the whole " +
            std::to_string(g.block_q) + "x" + std::to_string(g.block_kv) + " block)",
        "a FULL block (batch " + std::to_string(b) + ", head " + std::to_string(h) + ", q block " +
            std::to_string(qb) + ", kv block " + std::to_string(kb) + ") in which the rule keeps " +
            std::to_string(pairs) + " of " + std::to_string(g.block_q * g.block_kv) + " pairs");
  };

  std::vector<std::int64_t> allowed(static_cast<std::size_t>(g.batch * g.heads), 0);
  if (rule.name == "allow") {
    // Every listed pair is kept; only whole blocks (not cut by a sequence end) are FULL.
    for (std::int64_t b = 0; b < g.batch; ++b) {
      for (std::int64_t h = 0; h < g.heads; ++h) {
        for (std::int64_t qb = 0; qb < nq; ++qb) {
          const std::int64_t row = (b * g.heads + h) * nq + qb;
          for (std::int64_t e = layout.row_begin[row]; e < layout.row_begin[row + 1]; ++e) {
            const std::int64_t kb = layout.kv_block[e];
            const std::int64_t pairs = area(qb, kb);
            if (layout.is_full[e] && pairs != g.block_q * g.block_kv) reject(b, h, qb, kb, pairs);
            allowed[b * g.heads + h] += pairs;
          }
        }
      }
    }
    layout.allowed_pairs = std::move(allowed);
    layout.rule = rule;
    return;
  }

  // The rule as a pattern at this geometry, one head per batch element.
  MaskGeometry rule_geometry = g;
  rule_geometry.heads = 1;
  const std::string rule_source = source + ": rule '" + text + "'";
  const PatternFamily& family = find_pattern_family(rule.name, rule_source);
  PatternParams params(rule.params, rule_source);
  const std::unique_ptr<PatternInstance> instance = family.configure(params, rule_geometry);
  params.reject_unused(rule.name);

  std::vector<std::int64_t> rule_pairs(static_cast<std::size_t>(nk), 0);
  std::vector<std::uint8_t> rule_full(static_cast<std::size_t>(nk), 0);
  BlockRow row;
  for (std::int64_t b = 0; b < g.batch; ++b) {
    const std::unique_ptr<HeadMask> mask = instance->make_head(b, 0);
    for (std::int64_t qb = 0; qb < nq; ++qb) {
      mask->block_row(qb, row);
      for (const BlockRowEntry& entry : row) {
        rule_pairs[entry.kv_block] = entry.allowed_pairs;
        rule_full[entry.kv_block] = entry.block_class == BlockClass::kFull;
      }
      if (qb == nq - 1 && g.seq_q % g.block_q != 0) {
        layout.q_cut_rule_full.resize(static_cast<std::size_t>(g.batch * nk), 0);
        mark_q_cut_rule_full(g, row, layout.q_cut_rule_full.data() + b * nk);
      }
      for (std::int64_t h = 0; h < g.heads; ++h) {
        const std::int64_t r = (b * g.heads + h) * nq + qb;
        std::int64_t sum = 0;
        for (std::int64_t e = layout.row_begin[r]; e < layout.row_begin[r + 1]; ++e) {
          const std::int32_t kb = layout.kv_block[e];
          if (layout.is_full[e] && !rule_full[kb]) reject(b, h, qb, kb, rule_pairs[kb]);
          sum += rule_pairs[kb];
        }
        allowed[b * g.heads + h] += sum;
      }
      for (const BlockRowEntry& entry : row) {
        rule_pairs[entry.kv_block] = 0;
        rule_full[entry.kv_block] = 0;
      }
    }
  }
  layout.allowed_pairs = std::move(allowed);
  layout.rule = rule;
}

}  // namespace attnsim::gpu
