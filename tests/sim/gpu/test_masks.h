// Small hand-described block masks for the gpu tests.
#pragma once

#include <string>
#include <vector>

#include "sim/gpu/block_layout.h"

namespace attnsim::gpu::testing {

/// One head's block rows as strings, one char per kv block: '.' empty, 'p' partial, 'F' full.
inline BlockLayout layout_from_rows(const std::vector<std::string>& rows, std::int64_t heads = 1,
                                    std::int64_t block = 128) {
  MaskGeometry g;
  g.heads = heads;
  g.block_q = g.block_kv = block;
  g.seq_q = static_cast<std::int64_t>(rows.size()) * block;
  g.seq_kv = static_cast<std::int64_t>(rows.front().size()) * block;
  BlockLayoutBuilder builder(g);
  for (std::int64_t h = 0; h < heads; ++h) {
    for (const std::string& row : rows) {
      for (std::size_t k = 0; k < row.size(); ++k) {
        if (row[k] == 'F') builder.add(static_cast<std::int32_t>(k), BlockClass::kFull);
        if (row[k] == 'p') builder.add(static_cast<std::int32_t>(k), BlockClass::kPartial);
      }
      builder.end_row();
    }
  }
  return builder.finish();
}

/// Causal block mask with n blocks per side: diagonal partial, below it full.
inline BlockLayout causal_layout(std::int64_t n, std::int64_t heads = 1) {
  std::vector<std::string> rows;
  for (std::int64_t i = 0; i < n; ++i) {
    rows.push_back(std::string(i, 'F') + "p" + std::string(n - i - 1, '.'));
  }
  return layout_from_rows(rows, heads);
}

}  // namespace attnsim::gpu::testing
