// Mask pattern families (tilesim gen): token-level patterns are classified into blocks
// analytically from per-query key intervals, never as an S x S matrix, so 1M tokens work.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/gpu/block_layout.h"
#include "sim/gpu/mask_io.h"

namespace attnsim::gpu {

/// Named pattern parameters with typed, checked access. Every read marks the key used, so
/// leftover keys (typos) are reported by reject_unused().
class PatternParams {
 public:
  PatternParams(std::map<std::string, std::string> values, std::string source);

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::int64_t get_int(const std::string& key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi);
  double get_double(const std::string& key, double fallback, double lo, double hi);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback);
  /// "16x48x48" -> {16, 48, 48}; each entry in [lo, hi].
  std::vector<std::int64_t> get_dims(const std::string& key,
                                     const std::vector<std::int64_t>& fallback, std::int64_t lo,
                                     std::int64_t hi);
  /// Throws InputError naming the source and the unknown keys, listing `allowed` ones.
  void reject_unused(const std::string& family) const;
  const std::string& source() const { return source_; }
  /// The pattern's --seed (families whose structure is per batch element, not per head, derive
  /// their streams from it); generate_pattern sets it.
  std::uint64_t seed() const { return seed_; }
  void set_seed(std::uint64_t seed) { seed_ = seed; }
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  std::map<std::string, std::string> values_;
  std::string source_;
  std::uint64_t seed_ = 0;
  mutable std::set<std::string> used_;
};

/// Non-empty blocks of one q block row, in increasing kv order, with their allowed pairs.
struct BlockRowEntry {
  std::int32_t kv_block;
  BlockClass block_class;
  std::int64_t allowed_pairs;
};
using BlockRow = std::vector<BlockRowEntry>;

/// BlockLayout::q_cut_rule_full of one batch element: from a rule's last q block row `row` at
/// geometry `g` (whose seq_q cuts that row), 1 in out[kv block] where the block's allowed pairs
/// fill its part inside the sequences. `out` holds g.kv_blocks() entries; blocks not in `row`
/// keep theirs. The one definition apply_mask_rule and generate_pattern both use.
void mark_q_cut_rule_full(const MaskGeometry& g, const BlockRow& row, std::uint8_t* out);

/// One head's mask.
class HeadMask {
 public:
  virtual ~HeadMask() = default;
  /// Replaces `row` with q block row qb's non-empty blocks.
  virtual void block_row(std::int64_t qb, BlockRow& row) = 0;
};

/// Allowed keys of one query as a sorted list of disjoint half-open intervals [begin, end).
struct KeyInterval {
  std::int64_t begin;
  std::int64_t end;
};

/// Token-level masks describe each query's keys; block classes and pair counts follow
/// exactly, in O(block_q x intervals + t log t) per block row, t the kv blocks where an interval
/// starts or ends (not O(kv_blocks): rows of a 1M-token mask have 8192 blocks).
class TokenMask : public HeadMask {
 public:
  explicit TokenMask(const MaskGeometry& geometry);
  void block_row(std::int64_t qb, BlockRow& row) final;

 protected:
  /// Contract: sorted, disjoint, non-empty, within [0, seq_kv); touching intervals may be
  /// separate.
  virtual void key_intervals(std::int64_t q, std::vector<KeyInterval>& out) = 0;
  const MaskGeometry geometry_;

 private:
  void touch(std::int64_t kb);

  std::vector<std::int64_t> edge_pairs_;    // pairs in partially covered blocks
  std::vector<std::int64_t> covered_diff_;  // difference array of fully covered blocks
  std::vector<std::int64_t> stamp_;         // call that last touched each position
  std::vector<std::int64_t> touched_;       // positions written in this row, to visit and reset
  std::int64_t current_row_ = -1;
  std::vector<KeyInterval> intervals_;
};

/// Pairs (q, k) with q in [q0, q1), k in [k0, k0 + width) and q - k >= d (any sign), in
/// closed form: for each q the keys k0 .. q - d clamped to the block, summed as an arithmetic
/// series.
inline std::int64_t pairs_at_distance(std::int64_t q0, std::int64_t q1, std::int64_t k0,
                                      std::int64_t width, std::int64_t d) {
  if (width <= 0) return 0;
  const auto clamped_sum = [width](std::int64_t x) {  // sum of clamp(t, 0, width) for t <= x
    if (x < 0) return std::int64_t{0};
    if (x <= width) return x * (x + 1) / 2;
    return width * (width + 1) / 2 + (x - width) * width;
  };
  return clamped_sum(q1 - d - k0) - clamped_sum(q0 - d - k0);
}

/// A head whose keys are a band of distances, near <= q - k <= far (clipped to [0, seq_kv)), plus,
/// with sinks > 0, the first `sinks` keys for every query at or after them (near must then be
/// <= 0): causal_window (0, W-1), band (-R, L) and a_shape (0, W-1, sinks). Each row is
/// classified in closed form in O(its non-empty blocks), the same pairs as the per-query
/// intervals of TokenMask (which took block_q x intervals steps per row: seconds per head at 1M
/// tokens).
class BandMask final : public HeadMask {
 public:
  BandMask(const MaskGeometry& geometry, std::int64_t near, std::int64_t far,
           std::int64_t sinks = 0);
  void block_row(std::int64_t qb, BlockRow& row) override;

 private:
  MaskGeometry g_;
  std::int64_t near_;
  std::int64_t far_;
  std::int64_t sinks_;
};

/// The class of a non-empty block with `pairs` allowed pairs: FULL only when every pair of the
/// whole block_q x block_kv block is allowed, so a block cut by a sequence end is PARTIAL (as
/// FlexAttention's create_block_mask pads the mask with False).
inline BlockClass block_class_of(const MaskGeometry& g, std::int64_t pairs) {
  return pairs == g.block_q * g.block_kv ? BlockClass::kFull : BlockClass::kPartial;
}

/// Pairs (q, k) with q in [q0, q1), k in [k0, k1) and k <= q.
/// (In closed form: a loop over the block's queries cost a microsecond per block row of
/// block_topk at 1M tokens.)
inline std::int64_t causal_pairs(std::int64_t q0, std::int64_t q1, std::int64_t k0,
                                 std::int64_t k1) {
  if (q1 <= q0) return 0;
  return pairs_at_distance(q0, q1, k0, k1 - k0, 0);
}

/// Appends block (qb, kb) to `row` if it has allowed pairs: the whole block, or with `causal`
/// only its part on or below the diagonal.
inline void add_block(const MaskGeometry& g, std::int64_t qb, std::int64_t kb, bool causal,
                      BlockRow& row) {
  const std::int64_t q0 = qb * g.block_q, q1 = std::min(g.seq_q, q0 + g.block_q);
  const std::int64_t k0 = kb * g.block_kv, k1 = std::min(g.seq_kv, k0 + g.block_kv);
  const std::int64_t area = (q1 - q0) * (k1 - k0);
  const std::int64_t pairs = causal ? causal_pairs(q0, q1, k0, k1) : area;
  if (pairs == 0) return;
  row.push_back({static_cast<std::int32_t>(kb), block_class_of(g, pairs), pairs});
}

/// A family after its parameters were read and checked: makes each head's mask.
class PatternInstance {
 public:
  virtual ~PatternInstance() = default;
  /// `head` counts (batch, head) pairs: b * heads + h; `seed` is already per head.
  virtual std::unique_ptr<HeadMask> make_head(std::int64_t head, std::uint64_t seed) const = 0;
  /// Every (batch, head) gets the same mask (make_head ignores both its arguments):
  /// generate_pattern then builds one head and repeats its rows for the others.
  virtual bool heads_alike() const { return false; }
  /// The multi-dimensional tile order the mask is generated in, if any (see TokenTiling).
  virtual std::optional<TokenTiling> tiling() const { return std::nullopt; }
  /// The token rule this pattern's partial blocks apply, with every parameter written out
  /// (mask_rules.md); none when partial blocks follow no rule of the vocabulary. This is the one
  /// place a pattern spec maps to its rule (generate_pattern stores it in the layout).
  virtual std::optional<MaskRule> rule() const { return std::nullopt; }
};

/// A pattern family (one per file under patterns/), chosen by name.
/// Contract: configure() reads every parameter it uses from `params` and throws InputError for
/// bad values; results depend only on the parameters, the geometry and the seed.
class PatternFamily {
 public:
  virtual ~PatternFamily() = default;
  virtual std::string name() const = 0;
  /// Parameters, their defaults, and the source paper.
  virtual std::string help() const = 0;
  virtual std::unique_ptr<PatternInstance> configure(PatternParams& params,
                                                     const MaskGeometry& geometry) const = 0;
};

const PatternFamily& find_pattern_family(const std::string& name, const std::string& source);
std::vector<const PatternFamily*> pattern_families();
/// Every family's help text.
std::string pattern_help();

/// One generation request: family, geometry, parameters and seed.
struct PatternSpec {
  std::string family;
  MaskGeometry geometry;
  std::map<std::string, std::string> params;
  std::uint64_t seed = 0;
  std::string source = "command line";
  /// Repeat the first head's rows for families whose heads are alike (false: build every head,
  /// which tests use to check the repeat).
  bool repeat_alike_heads = true;
};

/// Generates the block layout, with exact allowed-pair counts per (batch, head).
BlockLayout generate_pattern(const PatternSpec& spec);

/// `tilesim gen` arguments: PATTERN, then --key value pairs.
struct GenRequest {
  PatternSpec spec;
  std::string out;
  MaskFileFormat format = MaskFileFormat::kDenseBlocks;
  std::string max_memory;  ///< --max-memory as given (empty: the environment or the default)
};
GenRequest parse_gen_arguments(const std::vector<std::string>& args);

/// Inline description "NAME,key=value,..." (keys as for gen, without dashes).
BlockLayout generate_inline_pattern(const std::string& description, const std::string& source);

/// Geometry keys (seq, seq_q, seq_kv, heads, batch, block, block_q, block_kv, seed) are taken out
/// of `params` into `spec`; the rest stay for the family.
PatternSpec make_pattern_spec(const std::string& family, std::map<std::string, std::string> params,
                              const std::string& source);

}  // namespace attnsim::gpu
