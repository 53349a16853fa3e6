// gna: Generalized Neighborhood Attention (neighborhood, strided, blocked; 1-D to 3-D).
#include "sim/gpu/patterns/gna.h"

#include <algorithm>

#include "sim/common/input_error.h"
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

std::vector<std::int64_t> per_dim(PatternParams& params, const std::string& key,
                                  std::int64_t fallback, const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> values =
      params.get_dims(key, {fallback}, 1, *std::max_element(dims.begin(), dims.end()));
  if (values.size() == 1) values.assign(dims.size(), values.front());
  if (values.size() != dims.size()) {
    params.fail(key, "one value or one per dimension of " + std::to_string(dims.size()));
  }
  return values;
}

class GnaHead final : public TokenMask {
 public:
  GnaHead(const GnaConfig& config, const MaskGeometry& geometry)
      : TokenMask(geometry), config_(config) {}

 protected:
  void key_intervals(std::int64_t q, std::vector<KeyInterval>& out) override {
    out.clear();
    // Layouts are padded to 3 dimensions with leading size-1 ones; coordinates of q, last
    // dimension fastest.
    const std::size_t pad = 3 - config_.dims.size();
    std::int64_t n[3] = {1, 1, 1};
    GnaRange ranges[3] = {{0, 1, 1}, {0, 1, 1}, {0, 1, 1}};
    std::int64_t rest = q;
    for (std::size_t d = 3; d-- > pad;) {
      const std::size_t c = d - pad;
      n[d] = config_.dims[c];
      const std::int64_t x = rest % n[d];
      rest /= n[d];
      ranges[d] = gna_keys(config_, c, x);
    }
    // Outer dimensions in increasing order, so intervals come out sorted.
    for (std::int64_t i0 = 0; i0 < ranges[0].count; ++i0) {
      const std::int64_t k0 = ranges[0].start + i0 * ranges[0].step;
      for (std::int64_t i1 = 0; i1 < ranges[1].count; ++i1) {
        const std::int64_t k1 = ranges[1].start + i1 * ranges[1].step;
        const std::int64_t base = (k0 * n[1] + k1) * n[2] + ranges[2].start;
        if (ranges[2].step == 1) {
          append(out, base, base + ranges[2].count);
          continue;
        }
        for (std::int64_t i2 = 0; i2 < ranges[2].count; ++i2) {
          append(out, base + i2 * ranges[2].step, base + i2 * ranges[2].step + 1);
        }
      }
    }
  }

 private:
  static void append(std::vector<KeyInterval>& out, std::int64_t begin, std::int64_t end) {
    if (!out.empty() && out.back().end == begin) {
      out.back().end = end;  // rows of a full-width window join into one run
    } else {
      out.push_back({begin, end});
    }
  }

  GnaConfig config_;
};

// Per dimension and query tile: the key tiles it reaches (first one and pairs with each), computed
// once per pattern and shared by all heads. Only reachable tiles are stored, so a 1M-token 1-D
// window costs (tiles x reach x tile) work, not tiles^2.
struct GnaTileTables {
  struct Dim {
    std::int64_t tiles = 0;              // Q tiles
    std::int64_t kv_tiles = 0;           // KV tiles
    std::int64_t kv_tile = 0;            // KV tile size
    std::vector<std::int64_t> q_real;    // per Q tile: its real (not padding) queries
    std::vector<std::int64_t> first_kt;  // per q tile
    std::vector<std::int64_t> begin;     // per q tile, offset into pairs (+1 sentinel)
    std::vector<std::int64_t> pairs;     // pairs with key tiles first_kt, first_kt + 1, ...
  };
  std::vector<Dim> dims;
};

// Keys r.start + i * step for i in [0, count) that fall in [lo, hi).
std::int64_t keys_in(const GnaRange& r, std::int64_t lo, std::int64_t hi) {
  const auto first_at_or_after = [&](std::int64_t bound) {
    if (bound <= r.start) return std::int64_t{0};
    return (bound - r.start + r.step - 1) / r.step;
  };
  return std::min(first_at_or_after(hi), r.count) - std::min(first_at_or_after(lo), r.count);
}

// Tiles over raw coordinates (tile order without dilation groups, tiles dividing the dims).
std::shared_ptr<const GnaTileTables> make_tables(const GnaConfig& config,
                                                 const std::vector<std::int64_t>& tile_dims) {
  auto tables = std::make_shared<GnaTileTables>();
  for (std::size_t d = 0; d < config.dims.size(); ++d) {
    const std::int64_t n = config.dims[d], t = tile_dims[d];
    GnaTileTables::Dim dim;
    dim.tiles = n / t;
    dim.kv_tiles = dim.tiles;
    dim.kv_tile = t;
    dim.q_real.assign(static_cast<std::size_t>(dim.tiles), t);
    dim.begin.push_back(0);
    std::vector<GnaRange> ranges(static_cast<std::size_t>(t));
    for (std::int64_t qt = 0; qt < dim.tiles; ++qt) {
      std::int64_t lo = dim.tiles, hi = -1;
      for (std::int64_t i = 0; i < t; ++i) {
        const GnaRange r = gna_keys(config, d, qt * t + i);
        ranges[i] = r;
        lo = std::min(lo, r.start / t);
        hi = std::max(hi, (r.start + (r.count - 1) * r.step) / t);
      }
      dim.first_kt.push_back(lo);
      for (std::int64_t kt = lo; kt <= hi; ++kt) {
        std::int64_t pairs = 0;
        for (const GnaRange& r : ranges) pairs += keys_in(r, kt * t, (kt + 1) * t);
        dim.pairs.push_back(pairs);
      }
      dim.begin.push_back(static_cast<std::int64_t>(dim.pairs.size()));
    }
    tables->dims.push_back(std::move(dim));
  }
  return tables;
}

// NATTEN's layout (TokenTiling with Q/KV tiles and dilation groups): per dimension, dilation group
// g holds coordinates g, g + dilation, ... in slots 0 .. ceil(n / dilation) - 1, padded to tile
// multiples; Q tile (g, qt) reaches only KV tiles of group g. Pairs per (Q tile, KV tile) are
// summed over the Q tile's real queries, so padding rows and columns have none.
std::shared_ptr<const GnaTileTables> make_natten_tables(const GnaConfig& config,
                                                        const std::vector<std::int64_t>& q_tile,
                                                        const std::vector<std::int64_t>& kv_tile) {
  auto tables = std::make_shared<GnaTileTables>();
  for (std::size_t d = 0; d < config.dims.size(); ++d) {
    const std::int64_t n = config.dims[d], groups = config.dilation[d];
    const std::int64_t tq = q_tile[d], tkv = kv_tile[d];
    const std::int64_t slots = ceil_div(n, groups);
    const std::int64_t q_per_group = ceil_div(slots, tq), kv_per_group = ceil_div(slots, tkv);
    GnaTileTables::Dim dim;
    dim.tiles = groups * q_per_group;
    dim.kv_tiles = groups * kv_per_group;
    dim.kv_tile = tkv;
    dim.begin.push_back(0);
    std::vector<GnaRange> ranges;  // per real query of the tile, in slots of its group
    for (std::int64_t g = 0; g < groups; ++g) {
      const std::int64_t group_slots = ceil_div(n - g, groups);  // real coordinates of group g
      for (std::int64_t qt = 0; qt < q_per_group; ++qt) {
        ranges.clear();
        std::int64_t lo = kv_per_group, hi = -1;
        for (std::int64_t m = qt * tq; m < std::min((qt + 1) * tq, group_slots); ++m) {
          const GnaRange r = gna_keys(config, d, g + m * groups);
          const GnaRange slot_range{(r.start - g) / groups, r.count, 1};
          ranges.push_back(slot_range);
          lo = std::min(lo, slot_range.start / tkv);
          hi = std::max(hi, (slot_range.start + slot_range.count - 1) / tkv);
        }
        dim.q_real.push_back(static_cast<std::int64_t>(ranges.size()));
        if (hi < lo) lo = hi = 0;  // a tile of padding only: reaches nothing
        dim.first_kt.push_back(g * kv_per_group + lo);
        for (std::int64_t kt = lo; kt <= hi; ++kt) {
          std::int64_t pairs = 0;
          for (const GnaRange& r : ranges) pairs += keys_in(r, kt * tkv, (kt + 1) * tkv);
          dim.pairs.push_back(pairs);
        }
        dim.begin.push_back(static_cast<std::int64_t>(dim.pairs.size()));
      }
    }
    tables->dims.push_back(std::move(dim));
  }
  return tables;
}

// Tile-order GNA: a block's pairs are the product of its dimensions' table entries.
class TiledGnaHead final : public HeadMask {
 public:
  explicit TiledGnaHead(std::shared_ptr<const GnaTileTables> tables)
      : tables_(std::move(tables)), rank_(tables_->dims.size()) {}

  void block_row(std::int64_t qb, BlockRow& row) override {
    row.clear();
    const auto& dims = tables_->dims;
    // Query tile coordinates, last dimension fastest; per dimension the key tiles it reaches.
    std::int64_t q_coord[3] = {0, 0, 0};
    std::int64_t rest = qb;
    for (std::size_t d = rank_; d-- > 0;) {
      q_coord[d] = rest % dims[d].tiles;
      rest /= dims[d].tiles;
    }
    for (std::size_t d = 0; d < rank_; ++d) {
      reach_[d].clear();
      const GnaTileTables::Dim& dim = dims[d];
      for (std::int64_t e = dim.begin[q_coord[d]]; e < dim.begin[q_coord[d] + 1]; ++e) {
        if (dim.pairs[e] > 0) {
          reach_[d].push_back({dim.first_kt[q_coord[d]] + e - dim.begin[q_coord[d]], dim.pairs[e]});
        }
      }
      if (reach_[d].empty()) return;
    }
    // Row-major walk of the product: increasing block index, as BlockRow requires.
    std::size_t at[3] = {0, 0, 0};
    // FULL: every real query of the Q tile keeps every key of the KV tile. Padding queries are
    // computed and thrown away without a mask (NATTEN docs: Q padding leaves a mask fully
    // block-sparse, KV padding does not, as padding keys are never kept).
    std::int64_t full_pairs = 1;
    for (std::size_t d = 0; d < rank_; ++d) {
      full_pairs *= dims[d].q_real[q_coord[d]] * dims[d].kv_tile;
    }
    while (true) {
      std::int64_t kb = 0, pairs = 1;
      for (std::size_t d = 0; d < rank_; ++d) {
        kb = kb * dims[d].kv_tiles + reach_[d][at[d]].first;
        pairs *= reach_[d][at[d]].second;
      }
      row.push_back({static_cast<std::int32_t>(kb),
                     pairs == full_pairs ? BlockClass::kFull : BlockClass::kPartial, pairs});
      std::size_t d = rank_;
      while (d > 0 && ++at[d - 1] == reach_[d - 1].size()) at[--d] = 0;
      if (d == 0) break;
    }
  }

 private:
  std::shared_ptr<const GnaTileTables> tables_;
  std::size_t rank_;
  std::vector<std::pair<std::int64_t, std::int64_t>> reach_[3];  // (key tile, pairs)
};

class TiledGnaInstance final : public PatternInstance {
 public:
  // `tiling` nullopt: 1-D masks, where tile order is token order and the tables are only the fast
  // way to classify blocks.
  TiledGnaInstance(std::shared_ptr<const GnaTileTables> tables, std::optional<TokenTiling> tiling,
                   MaskRule rule)
      : tables_(std::move(tables)), tiling_(std::move(tiling)), rule_(std::move(rule)) {}
  std::unique_ptr<HeadMask> make_head(std::int64_t, std::uint64_t) const override {
    return std::make_unique<TiledGnaHead>(tables_);
  }
  std::optional<TokenTiling> tiling() const override { return tiling_; }
  std::optional<MaskRule> rule() const override { return rule_; }
  bool heads_alike() const override { return true; }

 private:
  std::shared_ptr<const GnaTileTables> tables_;
  std::optional<TokenTiling> tiling_;
  MaskRule rule_;
};

}  // namespace

std::int64_t gna_tile_pairs(std::int64_t q_tile, std::int64_t kv_tile, std::int64_t tile,
                            std::int64_t n, std::int64_t window, std::int64_t stride,
                            std::int64_t dilation) {
  const std::int64_t lo = kv_tile * tile, hi = lo + tile;
  std::int64_t pairs = 0;
  for (std::int64_t x = q_tile * tile; x < (q_tile + 1) * tile; ++x) {
    const GnaRange r = gna_range(x, n, window, stride, dilation);
    // Keys r.start + i * step for i in [0, count) that fall in [lo, hi).
    const auto first_at_or_after = [&](std::int64_t bound) {
      if (bound <= r.start) return std::int64_t{0};
      return (bound - r.start + r.step - 1) / r.step;
    };
    const std::int64_t i0 = std::min(first_at_or_after(lo), r.count);
    const std::int64_t i1 = std::min(first_at_or_after(hi), r.count);
    pairs += i1 - i0;
  }
  return pairs;
}

std::unique_ptr<PatternInstance> make_gna_instance(const GnaConfig& config,
                                                   const std::vector<std::int64_t>& tile_dims,
                                                   const MaskGeometry& geometry, MaskRule rule) {
  if (!tile_dims.empty()) {
    return std::make_unique<TiledGnaInstance>(make_tables(config, tile_dims),
                                              TokenTiling{config.dims, tile_dims, {}, {}},
                                              std::move(rule));
  }
  // 1-D with blocks that divide the sequence: token order is tile order, and the tables are far
  // faster than per-query key lists (a dilated window is `window` separate keys per query).
  if (config.dims.size() == 1 && geometry.block_q == geometry.block_kv &&
      config.dims[0] % geometry.block_q == 0) {
    return std::make_unique<TiledGnaInstance>(
        make_tables(config, std::vector<std::int64_t>{geometry.block_q}), std::nullopt,
        std::move(rule));
  }
  return std::make_unique<LambdaInstance>(
      [config, geometry](std::int64_t, std::uint64_t) { return make_gna_head(config, geometry); },
      std::move(rule), LambdaInstance::Heads::kAlike);
}

MaskRule gna_rule(const std::string& name, const GnaConfig& config,
                  const std::vector<std::int64_t>& tile_dims,
                  const std::vector<std::int64_t>& q_tile,
                  const std::vector<std::int64_t>& kv_tile) {
  MaskRule rule{name,
                {{"window", join_dims(config.window)},
                 {"stride", join_dims(config.stride)},
                 {"dilation", join_dims(config.dilation)}}};
  if (name == "gna") rule.params["dims"] = join_dims(config.dims);
  if (!config.causal.empty()) rule.params["causal"] = join_dims(config.causal);
  if (!tile_dims.empty()) rule.params["tile"] = join_dims(tile_dims);
  if (!q_tile.empty()) rule.params["q_tile"] = join_dims(q_tile);
  if (!kv_tile.empty()) rule.params["kv_tile"] = join_dims(kv_tile);
  return rule;
}

GnaRange gna_range(std::int64_t x, std::int64_t n, std::int64_t window, std::int64_t stride,
                   std::int64_t dilation) {
  const std::int64_t residue = x % dilation;
  const std::int64_t m = x / dilation;
  const std::int64_t sub_n = (n - residue + dilation - 1) / dilation;
  const std::int64_t w = std::min(window, sub_n);
  const std::int64_t group_start = (m / stride) * stride;
  const std::int64_t leader = std::min(group_start + stride / 2, sub_n - 1);
  const std::int64_t start = std::clamp<std::int64_t>(leader - window / 2, 0, sub_n - w);
  return {residue + start * dilation, w, dilation};
}

GnaRange gna_keys(const GnaConfig& config, std::size_t d, std::int64_t x) {
  const std::int64_t n = config.dims[d], window = config.window[d], stride = config.stride[d];
  const std::int64_t dilation = config.dilation[d];
  if (!config.is_causal(d)) return gna_range(x, n, window, stride, dilation);
  const std::int64_t residue = x % dilation;
  const std::int64_t m = x / dilation;
  const std::int64_t sub_n = (n - residue + dilation - 1) / dilation;
  const std::int64_t leader = std::min((m / stride) * stride + stride - 1, sub_n - 1);
  const std::int64_t first = std::max<std::int64_t>(0, leader - window + 1);
  return {residue + first * dilation, m - first + 1, dilation};
}

TokenTiling natten_tiling(const std::vector<std::int64_t>& dims,
                          const std::vector<std::int64_t>& q_tile,
                          const std::vector<std::int64_t>& kv_tile,
                          const std::vector<std::int64_t>& dilation) {
  TokenTiling tiling{dims, kv_tile, q_tile, {}};
  if (std::any_of(dilation.begin(), dilation.end(), [](std::int64_t v) { return v > 1; })) {
    tiling.dilation = dilation;
  }
  return tiling;
}

std::unique_ptr<PatternInstance> make_natten_gna_instance(const GnaConfig& config,
                                                          const std::vector<std::int64_t>& q_tile,
                                                          const std::vector<std::int64_t>& kv_tile,
                                                          MaskRule rule) {
  return std::make_unique<TiledGnaInstance>(
      make_natten_tables(config, q_tile, kv_tile),
      natten_tiling(config.dims, q_tile, kv_tile, config.dilation), std::move(rule));
}

void add_natten_geometry(std::map<std::string, std::string>& params, const std::string& source) {
  if (!params.count("q_tile") && !params.count("kv_tile")) return;
  if (params.count("seq") || params.count("seq_q") || params.count("seq_kv")) return;
  PatternParams read(params, source);
  const std::int64_t max_extent = std::int64_t{1} << 26;
  const std::vector<std::int64_t> dims = read.get_dims("dims", {}, 1, max_extent);
  if (dims.empty()) read.fail("dims", "a token layout (e.g. 30x48x80) for q_tile / kv_tile");
  // One value or one per dimension; a missing tile takes the other one's shape.
  const auto per_dim = [&](const std::string& key, const std::string& fallback_key,
                           std::int64_t fallback) {
    const std::string from = read.has(key) || fallback_key.empty() ? key : fallback_key;
    std::vector<std::int64_t> v = read.get_dims(from, {fallback}, 1, max_extent);
    if (v.size() == 1) v.assign(dims.size(), v.front());
    if (v.size() != dims.size()) read.fail(from, "one value or one per dimension of dims");
    return v;
  };
  const std::vector<std::int64_t> q_tile = per_dim("q_tile", "kv_tile", 1);
  const std::vector<std::int64_t> kv_tile = per_dim("kv_tile", "q_tile", 1);
  const std::vector<std::int64_t> dilation = per_dim("dilation", "", 1);
  const TokenTiling tiling = natten_tiling(dims, q_tile, kv_tile, dilation);
  std::int64_t q_volume = 1, kv_volume = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    q_volume *= q_tile[d];
    kv_volume *= kv_tile[d];
  }
  params["seq_q"] = std::to_string(tiling.padded_q_tokens());
  params["seq_kv"] = std::to_string(tiling.padded_kv_tokens());
  if (!params.count("block") && !params.count("block_q"))
    params["block_q"] = std::to_string(q_volume);
  if (!params.count("block") && !params.count("block_kv"))
    params["block_kv"] = std::to_string(kv_volume);
}

GnaConfig read_gna_config(PatternParams& params, std::vector<std::int64_t> dims) {
  GnaConfig config;
  config.dims = std::move(dims);
  config.window = per_dim(params, "window", 0, config.dims);
  if (!params.has("window")) params.fail("window", "a window size (e.g. 512 or 8x16x16)");
  config.stride = per_dim(params, "stride", 1, config.dims);
  config.dilation = per_dim(params, "dilation", 1, config.dims);
  if (params.has("causal")) {
    std::vector<std::int64_t> causal = params.get_dims("causal", {0}, 0, 1);
    if (causal.size() == 1) causal.assign(config.dims.size(), causal.front());
    if (causal.size() != config.dims.size()) {
      params.fail("causal", "0 or 1, once or per dimension (e.g. 1x0x0)");
    }
    if (std::any_of(causal.begin(), causal.end(), [](std::int64_t c) { return c != 0; })) {
      config.causal = std::move(causal);
    }
  }
  for (std::size_t d = 0; d < config.dims.size(); ++d) {
    if (config.window[d] * config.dilation[d] > config.dims[d]) {
      params.fail("window", "window x dilation within each dimension (" +
                                std::to_string(config.dims[d]) + " tokens in dimension " +
                                std::to_string(d) + ")");
    }
    if (config.stride[d] > config.window[d]) {
      params.fail("stride", "a stride no larger than the window in each dimension");
    }
  }
  return config;
}

std::unique_ptr<HeadMask> make_gna_head(const GnaConfig& config, const MaskGeometry& geometry) {
  return std::make_unique<GnaHead>(config, geometry);
}

namespace {

// gen gna with q_tile / kv_tile: NATTEN's layout, padded, Q and KV tiled independently.
std::unique_ptr<PatternInstance> configure_natten(PatternParams& params, const MaskGeometry& g) {
  const std::int64_t max_extent = std::int64_t{1} << 26;
  const std::vector<std::int64_t> dims = params.get_dims("dims", {g.seq_q}, 1, max_extent);
  const GnaConfig config = read_gna_config(params, dims);
  const auto tile = [&](const std::string& key, const std::string& other) {
    std::vector<std::int64_t> t = params.get_dims(params.has(key) ? key : other, {}, 1, max_extent);
    if (t.size() == 1) t.assign(dims.size(), t.front());
    if (t.size() != dims.size()) params.fail(key, "one size or one per dimension of dims");
    return t;
  };
  const std::vector<std::int64_t> q_tile = tile("q_tile", "kv_tile");
  const std::vector<std::int64_t> kv_tile = tile("kv_tile", "q_tile");
  const TokenTiling tiling = natten_tiling(dims, q_tile, kv_tile, config.dilation);
  std::int64_t q_volume = 1, kv_volume = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    q_volume *= q_tile[d];
    kv_volume *= kv_tile[d];
  }
  if (g.seq_q != tiling.padded_q_tokens() || g.seq_kv != tiling.padded_kv_tokens() ||
      g.block_q != q_volume || g.block_kv != kv_volume) {
    params.fail("q_tile", "the padded layout: seq_q = " + std::to_string(tiling.padded_q_tokens()) +
                              ", seq_kv = " + std::to_string(tiling.padded_kv_tokens()) +
                              ", block_q = " + std::to_string(q_volume) +
                              ", block_kv = " + std::to_string(kv_volume) +
                              " (leave --seq and --block out and they are set so)");
  }
  return make_natten_gna_instance(config, q_tile, kv_tile,
                                  gna_rule("gna", config, {}, q_tile, kv_tile));
}

}  // namespace

const PatternFamily& gna_family() {
  static const SimpleFamily family(
      "gna",
      "  --dims D or DxD or DxDxD (seq): token layout, last dimension fastest (video: TxHxW);\n"
      "  --window W (required), --stride S (1), --dilation L (1): one value or one per\n"
      "  dimension. stride 1 = neighborhood attention, stride = window = blocked attention,\n"
      "  in between = strided. Queries in one stride group share the window of their leader\n"
      "  (group start + S/2), clamped inside the layout (NATTEN's boundary behaviour).\n"
      "  Needs seq_q = seq_kv = product of dims.\n"
      "  --causal C (0): 0/1 once or per dimension (e.g. 1x0x0): a causal dimension's window\n"
      "  ends at the query; its stride group's leader is the group's last query (NATTEN).\n"
      "  --q-tile AxBxC and --kv-tile AxBxC (either one, the other defaults to it): NATTEN's\n"
      "  layout after token permutation, Q and KV tiled independently: each dimension split into\n"
      "  its dilation groups, each group padded to a tile multiple; mask blocks are the tiles,\n"
      "  seq_q / seq_kv the padded counts (leave --seq and --block out). A tile is FULL when all\n"
      "  its real queries keep all its keys (Q padding needs no mask, KV padding does).\n"
      "  Range-driven kernels visit per-dimension tile ranges. Use natten_hopper (Q/KV 128:\n"
      "  1-D 128, 2-D 16x8, 3-D 4x4x8 or 2x8x8) or natten_blackwell (Q 256 / KV 128: 1-D\n"
      "  256/128, 2-D 16x16/16x8, 3-D 8x4x8/4x4x8, 4x8x8/2x8x8, ...).\n"
      "  --tile AxB (older form): tile order over raw coordinates, Q tile = KV tile, tiles\n"
      "  dividing dims, no dilation groups; tile volume = --block.\n"
      "  Source: Hassani et al., \"Generalized Neighborhood Attention\", arXiv 2504.16922, 2025;\n"
      "  Hassani et al., \"Neighborhood Attention Transformer\", 2023; Hassani & Shi, \"Dilated\n"
      "  Neighborhood Attention Transformer\", 2022.\n",
      [](PatternParams& params, const MaskGeometry& g) {
        if (params.has("q_tile") || params.has("kv_tile")) return configure_natten(params, g);
        const std::vector<std::int64_t> dims = params.get_dims("dims", {g.seq_q}, 1, g.seq_q);
        std::int64_t tokens = 1;
        for (const std::int64_t d : dims) tokens *= d;
        if (tokens != g.seq_q || g.seq_q != g.seq_kv) {
          params.fail("dims",
                      "a layout whose product equals seq_q = seq_kv = " + std::to_string(g.seq_q));
        }
        const GnaConfig config = read_gna_config(params, dims);
        if (params.has("tile")) {
          const std::vector<std::int64_t> tile = params.get_dims("tile", {}, 1, g.seq_q);
          std::int64_t volume = 1;
          bool divides = tile.size() == dims.size();
          for (std::size_t d = 0; divides && d < dims.size(); ++d) {
            divides = dims[d] % tile[d] == 0;
            volume *= tile[d];
          }
          if (!divides) {
            params.fail("tile", "one size per dimension of dims, each dividing it");
          }
          if (g.block_q != volume || g.block_kv != volume) {
            params.fail("tile", "a tile whose volume equals block_q = block_kv = " +
                                    std::to_string(g.block_q) + " (set --block)");
          }
          return make_gna_instance(config, tile, g, gna_rule("gna", config, tile));
        }
        return make_gna_instance(config, {}, g, gna_rule("gna", config, {}));
      });
  return family;
}

}  // namespace attnsim::gpu
