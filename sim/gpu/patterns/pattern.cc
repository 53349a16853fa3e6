// Pattern parameters, the analytic token-to-block classifier, the family registry and the
// `tilesim gen` argument parser.
#include "sim/gpu/patterns/pattern.h"

#include "sim/gpu/patterns/gna.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "sim/common/input_error.h"
#include "sim/common/memory_limit.h"
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/rng.h"

namespace attnsim::gpu {
namespace {

using common::InputError;

bool parse_int(const std::string& text, std::int64_t& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  value = parsed;
  return true;
}

bool parse_double(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  return errno == 0 && *end == '\0' && std::isfinite(value);
}

}  // namespace

PatternParams::PatternParams(std::map<std::string, std::string> values, std::string source)
    : values_(std::move(values)), source_(std::move(source)) {}

void PatternParams::fail(const std::string& key, const std::string& expected) const {
  const auto it = values_.find(key);
  throw InputError(source_, key, expected,
                   it == values_.end() ? "nothing" : "'" + it->second + "'");
}

std::int64_t PatternParams::get_int(const std::string& key, std::int64_t fallback, std::int64_t lo,
                                    std::int64_t hi) {
  used_.insert(key);
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  std::int64_t value = 0;
  if (!parse_int(it->second, value) || value < lo || value > hi) {
    fail(key, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return value;
}

double PatternParams::get_double(const std::string& key, double fallback, double lo, double hi) {
  used_.insert(key);
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  double value = 0;
  if (!parse_double(it->second, value) || value < lo || value > hi) {
    fail(key, "a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return value;
}

bool PatternParams::get_bool(const std::string& key, bool fallback) {
  used_.insert(key);
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (it->second == "true" || it->second == "1") return true;
  if (it->second == "false" || it->second == "0") return false;
  fail(key, "true or false");
}

std::string PatternParams::get_string(const std::string& key, const std::string& fallback) {
  used_.insert(key);
  const auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::int64_t> PatternParams::get_dims(const std::string& key,
                                                  const std::vector<std::int64_t>& fallback,
                                                  std::int64_t lo, std::int64_t hi) {
  used_.insert(key);
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  std::vector<std::int64_t> dims;
  std::size_t start = 0;
  while (true) {
    const std::size_t x = it->second.find('x', start);
    std::int64_t value = 0;
    if (!parse_int(it->second.substr(start, x - start), value) || value < lo || value > hi) {
      fail(key,
           "sizes like 16x48x48, each in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    dims.push_back(value);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  if (dims.size() > 3) fail(key, "1 to 3 sizes like 16x48x48");
  return dims;
}

void PatternParams::reject_unused(const std::string& family) const {
  std::string unknown;
  for (const auto& entry : values_) {
    if (!used_.count(entry.first)) unknown += (unknown.empty() ? "" : ", ") + entry.first;
  }
  if (unknown.empty()) return;
  std::string known;
  for (const std::string& key : used_) known += (known.empty() ? "" : ", ") + key;
  throw InputError(source_, "pattern '" + family + "' parameters", "some of {" + known + "}",
                   "unknown '" + unknown + "'");
}

TokenMask::TokenMask(const MaskGeometry& geometry)
    : geometry_(geometry),
      edge_pairs_(geometry.kv_blocks(), 0),
      covered_diff_(geometry.kv_blocks() + 1, 0),
      stamp_(geometry.kv_blocks() + 1, -1) {}

void TokenMask::touch(std::int64_t kb) {
  if (stamp_[kb] == current_row_) return;
  stamp_[kb] = current_row_;
  touched_.push_back(kb);
}

void TokenMask::block_row(std::int64_t qb, BlockRow& row) {
  row.clear();
  const MaskGeometry& g = geometry_;
  const std::int64_t bk = g.block_kv;
  // Only the kv blocks an interval starts, ends or stops covering in are touched (and reset
  // afterwards), so a row costs O(block_q x intervals + touched log touched), not O(kv_blocks):
  // at 1M tokens a sparse row touches a few dozen of 8192 blocks.
  ++current_row_;  // a new stamp per call (a row may be asked for twice)
  touched_.clear();
  const std::int64_t q_begin = qb * g.block_q;
  const std::int64_t q_end = std::min(g.seq_q, q_begin + g.block_q);
  for (std::int64_t q = q_begin; q < q_end; ++q) {
    key_intervals(q, intervals_);
    for (const KeyInterval& iv : intervals_) {
      const std::int64_t first = iv.begin / bk;
      const std::int64_t last = (iv.end - 1) / bk;
      if (first == last) {
        edge_pairs_[first] += iv.end - iv.begin;
        touch(first);
        continue;
      }
      edge_pairs_[first] += (first + 1) * bk - iv.begin;
      edge_pairs_[last] += iv.end - last * bk;
      // Blocks strictly between first and last are covered over their whole width, and none
      // of them is the last (possibly clipped) block.
      covered_diff_[first + 1] += 1;
      covered_diff_[last] -= 1;
      touch(first);
      touch(first + 1);
      touch(last);
    }
  }
  std::sort(touched_.begin(), touched_.end());
  // Between two touched blocks the number of queries covering a block whole is constant.
  std::int64_t covering_queries = 0;
  std::int64_t previous = -1;
  for (const std::int64_t kb : touched_) {
    if (covering_queries > 0) {
      for (std::int64_t between = previous + 1; between < kb; ++between) {
        const std::int64_t pairs = covering_queries * bk;
        row.push_back({static_cast<std::int32_t>(between), block_class_of(g, pairs), pairs});
      }
    }
    covering_queries += covered_diff_[kb];
    const std::int64_t pairs = edge_pairs_[kb] + covering_queries * bk;
    edge_pairs_[kb] = 0;
    covered_diff_[kb] = 0;
    previous = kb;
    if (pairs == 0) continue;
    row.push_back({static_cast<std::int32_t>(kb), block_class_of(g, pairs), pairs});
  }
}

BandMask::BandMask(const MaskGeometry& geometry, std::int64_t near, std::int64_t far,
                   std::int64_t sinks)
    : g_(geometry), near_(near), far_(far), sinks_(std::min(sinks, geometry.seq_kv)) {
  if (sinks_ > 0 && near_ > 0) throw std::logic_error("BandMask: sinks need near <= 0");
}

void BandMask::block_row(std::int64_t qb, BlockRow& row) {
  row.clear();
  const std::int64_t bk = g_.block_kv;
  const std::int64_t q0 = qb * g_.block_q;
  const std::int64_t q1 = std::min(g_.seq_q, q0 + g_.block_q);
  // Blocks the band reaches, and the sink blocks some query of the row sees.
  const std::int64_t band_lo = std::max<std::int64_t>(q0 - far_, 0);
  const std::int64_t band_hi = std::min(q1 - 1 - near_, g_.seq_kv - 1);
  const std::int64_t sink_end = std::min(sinks_, q1);  // keys < sink_end, each seen by some q
  const auto emit = [&](std::int64_t kb) {
    const std::int64_t k0 = kb * bk;
    const std::int64_t width = std::min(g_.seq_kv, k0 + bk) - k0;
    std::int64_t pairs = pairs_at_distance(q0, q1, k0, width, near_) -
                         pairs_at_distance(q0, q1, k0, width, far_ + 1);
    // Sink pairs outside the band: k < sinks, q - k > far (near <= 0 puts the rest in the band).
    if (k0 < sink_end) {
      pairs += pairs_at_distance(q0, q1, k0, std::min(sink_end, k0 + bk) - k0, far_ + 1);
    }
    if (pairs > 0) row.push_back({static_cast<std::int32_t>(kb), block_class_of(g_, pairs), pairs});
  };
  std::int64_t next = 0;  // blocks below `next` are done
  if (sink_end > 0) {
    for (; next <= (sink_end - 1) / bk; ++next) emit(next);
  }
  if (band_lo <= band_hi) {
    for (std::int64_t kb = std::max(next, band_lo / bk); kb <= band_hi / bk; ++kb) emit(kb);
  }
}

std::vector<const PatternFamily*> pattern_families() {
  return {&dense_family(),          &causal_family(),
          &sliding_window_family(), &gna_family(),
          &causal_window_family(),  &band_family(),
          &a_shape_family(),        &vertical_slash_family(),
          &block_topk_family(),     &permuted_block_sparse_family(),
          &radial_family(),         &random_family(),
          &mixture_family(),        &document_family(),
          &prefix_lm_family()};
}

const PatternFamily& find_pattern_family(const std::string& name, const std::string& source) {
  std::string names;
  for (const PatternFamily* family : pattern_families()) {
    if (family->name() == name) return *family;
    names += (names.empty() ? "" : ", ") + family->name();
  }
  throw InputError(source, "PATTERN", "one of " + names, "'" + name + "'");
}

std::string pattern_help() {
  std::string text =
      "Geometry (every pattern): --seq N (or --seq-q/--seq-kv), --heads H, --batch B (1),\n"
      "  --block N (or --block-q/--block-kv, default 128), --seed S (0), --format dense|flex.\n"
      "Token-level patterns are classified exactly (allowed pairs per block); block-level\n"
      "patterns select whole blocks.\n\nPatterns:\n";
  for (const PatternFamily* family : pattern_families()) {
    text += "\n" + family->name() + "\n" + family->help();
  }
  return text;
}

namespace {

// Rows of the first head sampled for the up-front size estimate, and how far past the memory
// limit the estimate must reach before it refuses (a sample can miss the densest rows; the exact
// check while building still holds).
constexpr std::int64_t kEstimateRows = 64;
constexpr double kEstimateMargin = 1.5;

// A mask that could outgrow the memory limit is sized from a few rows of its first head before
// anything is built, so a request far past the limit is refused at once (a 65536 x 65536-block
// random mask used to generate for 70 s and 6 GB before the limit stopped it). Masks whose dense
// layout fits the limit are not sampled at all.
void refuse_if_far_past_memory_limit(const PatternInstance& instance, const PatternSpec& spec) {
  const MaskGeometry& g = spec.geometry;
  const double rows = static_cast<double>(g.batch) * static_cast<double>(g.heads) *
                      static_cast<double>(g.q_blocks());
  const double limit = static_cast<double>(common::max_memory_bytes());
  const double row_bytes = static_cast<double>(BlockLayoutBuilder::kBytesPerRow);
  const double entry_bytes = static_cast<double>(BlockLayoutBuilder::kBytesPerEntry);
  if (row_bytes * rows + entry_bytes * rows * static_cast<double>(g.kv_blocks()) <= limit) return;
  const std::int64_t samples = std::min(g.q_blocks(), kEstimateRows);
  const std::unique_ptr<HeadMask> head = instance.make_head(0, derive_seed(spec.seed, 0));
  BlockRow row;
  double listed = 0;
  for (std::int64_t i = 0; i < samples; ++i) {
    head->block_row(i * g.q_blocks() / samples, row);  // spread over the rows, in order
    listed += static_cast<double>(row.size());
  }
  const double estimate =
      row_bytes * rows + entry_bytes * rows * listed / static_cast<double>(samples);
  if (estimate <= kEstimateMargin * limit) return;
  common::check_memory(estimate >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max()
                                          : static_cast<std::uint64_t>(estimate),
                       "mask of " + std::to_string(g.batch) + " x " + std::to_string(g.heads) +
                           " x " + std::to_string(g.q_blocks()) + " x " +
                           std::to_string(g.kv_blocks()) + " blocks",
                       "block layout (estimated from " + std::to_string(samples) +
                           " rows of the first head, before generating)");
}

}  // namespace

void mark_q_cut_rule_full(const MaskGeometry& g, const BlockRow& row, std::uint8_t* out) {
  const std::int64_t rows = g.seq_q - (g.q_blocks() - 1) * g.block_q;
  for (const BlockRowEntry& entry : row) {
    const std::int64_t cols =
        std::min(g.seq_kv, (entry.kv_block + 1) * g.block_kv) - entry.kv_block * g.block_kv;
    out[entry.kv_block] = entry.allowed_pairs == rows * cols ? 1 : 0;
  }
}

BlockLayout generate_pattern(const PatternSpec& spec) {
  const PatternFamily& family = find_pattern_family(spec.family, spec.source);
  PatternParams params(spec.params, spec.source);
  params.set_seed(spec.seed);
  const std::unique_ptr<PatternInstance> instance = family.configure(params, spec.geometry);
  params.reject_unused(spec.family);
  refuse_if_far_past_memory_limit(*instance, spec);

  const MaskGeometry& g = spec.geometry;
  BlockLayoutBuilder builder(g);
  std::vector<std::int64_t> allowed(g.batch * g.heads, 0);
  BlockRow row;
  const bool repeat = spec.repeat_alike_heads && instance->heads_alike();
  // BlockLayout::q_cut_rule_full, as apply_mask_rule sets it for a mask read with this rule: the
  // last q block row of each batch element's first head (rules do not depend on the head).
  const std::optional<MaskRule> rule = instance->rule();
  const bool q_cut_covered =
      rule && rule->name != "allow" && rule->name != "custom" && g.seq_q % g.block_q != 0;
  const std::int64_t nk = g.kv_blocks(), last_q = g.q_blocks() - 1;
  std::vector<std::uint8_t> q_cut_rule_full(q_cut_covered ? g.batch * nk : 0, 0);
  for (std::int64_t head = 0; head < g.batch * g.heads; ++head) {
    if (repeat && head > 0) {
      builder.repeat_rows(0, g.q_blocks());
      allowed[head] = allowed[0];
      if (q_cut_covered && head % g.heads == 0) {
        std::copy_n(q_cut_rule_full.begin(), nk, q_cut_rule_full.begin() + head / g.heads * nk);
      }
      continue;
    }
    const std::unique_ptr<HeadMask> mask =
        instance->make_head(head, derive_seed(spec.seed, static_cast<std::uint64_t>(head)));
    for (std::int64_t qb = 0; qb < g.q_blocks(); ++qb) {
      mask->block_row(qb, row);
      for (const BlockRowEntry& entry : row) {
        builder.add(entry.kv_block, entry.block_class);
        allowed[head] += entry.allowed_pairs;
      }
      if (q_cut_covered && qb == last_q && head % g.heads == 0) {
        mark_q_cut_rule_full(g, row, q_cut_rule_full.data() + head / g.heads * nk);
      }
      builder.end_row();
    }
    if (head == 0 && g.batch * g.heads > 1) {
      // Heads of one pattern list similar numbers of blocks: room for all of them at once
      // (plus an eighth) instead of doubling, which copied the layout and held two copies.
      const std::int64_t first = builder.entries();
      builder.reserve(first * g.batch * g.heads + first * g.batch * g.heads / 8);
    }
  }
  BlockLayout layout = builder.finish();
  layout.allowed_pairs = std::move(allowed);
  layout.tiling = instance->tiling();
  layout.rule = rule;
  layout.q_cut_rule_full = std::move(q_cut_rule_full);
  return layout;
}

PatternSpec make_pattern_spec(const std::string& family, std::map<std::string, std::string> params,
                              const std::string& source) {
  PatternSpec spec;
  spec.family = family;
  spec.source = source;
  // NATTEN's layout has a geometry of its own (padded token counts, tile volumes as blocks).
  if (family == "gna") add_natten_geometry(params, source);
  PatternParams geometry(params, source);
  const std::int64_t max_seq = std::int64_t{1} << 26;
  const std::int64_t seq = geometry.get_int("seq", 0, 1, max_seq);
  MaskGeometry& g = spec.geometry;
  g.seq_q = geometry.get_int("seq_q", seq, 1, max_seq);
  g.seq_kv = geometry.get_int("seq_kv", seq, 1, max_seq);
  if (g.seq_q == 0 || g.seq_kv == 0) {
    throw InputError(source, "seq", "a sequence length (--seq, or --seq-q and --seq-kv)", "none");
  }
  g.heads = geometry.get_int("heads", 1, 1, 4096);
  g.batch = geometry.get_int("batch", 1, 1, 4096);
  const std::int64_t block = geometry.get_int("block", 128, 1, 1 << 16);
  g.block_q = geometry.get_int("block_q", block, 1, 1 << 16);
  g.block_kv = geometry.get_int("block_kv", block, 1, 1 << 16);
  spec.seed = static_cast<std::uint64_t>(
      geometry.get_int("seed", 0, 0, std::numeric_limits<std::int64_t>::max()));
  for (const char* key :
       {"seq", "seq_q", "seq_kv", "heads", "batch", "block", "block_q", "block_kv", "seed"}) {
    params.erase(key);
  }
  spec.params = std::move(params);
  return spec;
}

GenRequest parse_gen_arguments(const std::vector<std::string>& args) {
  GenRequest request;
  const std::string family = args.at(0);
  std::map<std::string, std::string> params;
  std::string format = "dense";
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() < 3) {
      throw InputError("command line", "argument " + std::to_string(i + 1),
                       "an option --name VALUE", "'" + arg + "'");
    }
    std::string key = arg.substr(2);
    std::string value;
    const std::size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw InputError("command line", "--" + key, "a value", "nothing");
    }
    std::replace(key.begin(), key.end(), '-', '_');
    if (key == "out") {
      request.out = value;
    } else if (key == "format") {
      format = value;
    } else if (key == "max_memory") {
      request.max_memory = value;
    } else {
      params[key] = value;
    }
  }
  request.format = parse_mask_file_format(format, "--format");
  request.spec = make_pattern_spec(family, std::move(params), "tilesim gen " + family);
  return request;
}

BlockLayout generate_inline_pattern(const std::string& description, const std::string& source) {
  std::map<std::string, std::string> params;
  std::size_t start = description.find(',');
  const std::string family = description.substr(0, start);
  while (start != std::string::npos) {
    const std::size_t next = description.find(',', start + 1);
    const std::string item = description.substr(start + 1, next - start - 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw InputError(source, "inline pattern", "items key=value after the pattern name",
                       "'" + item + "'");
    }
    params[item.substr(0, eq)] = item.substr(eq + 1);
    start = next;
  }
  return generate_pattern(make_pattern_spec(family, std::move(params), source));
}

}  // namespace attnsim::gpu
