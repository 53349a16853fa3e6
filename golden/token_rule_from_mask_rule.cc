// Mask rule -> golden token rule: names and parameters of mask_rules.md onto TokenRuleParams.
#include "golden/token_rule_from_mask_rule.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

#include "sim/common/input_error.h"

namespace attnsim::golden {
namespace {

using common::InputError;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// Reads the rule's parameters, naming the rule and key in every error.
class RuleReader {
 public:
  RuleReader(const gpu::MaskRule& rule, std::string source)
      : rule_(rule), source_(std::move(source)) {}

  std::string field(const std::string& key) const { return "rule " + rule_.name + " " + key; }

  bool has(const std::string& key) const { return rule_.params.count(key) > 0; }

  // An integer in [min_value, max_value] from text `value` of `key`.
  int to_int(const std::string& key, const std::string& value, long min_value,
             long max_value = std::numeric_limits<int>::max()) const {
    char* end = nullptr;
    const long parsed = value.empty() ? 0 : std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || parsed < min_value || parsed > max_value) {
      throw InputError(
          source_, field(key),
          "an integer in [" + std::to_string(min_value) + ", " + std::to_string(max_value) + "]",
          "'" + value + "'");
    }
    return static_cast<int>(parsed);
  }

  int get_int(const std::string& key, int fallback, long min_value,
              long max_value = std::numeric_limits<int>::max()) const {
    return has(key) ? to_int(key, rule_.params.at(key), min_value, max_value) : fallback;
  }

  // `key` as an `x`-separated list of integers >= min_value.
  std::vector<int> get_list(const std::string& key, const std::string& value,
                            long min_value) const {
    std::vector<int> values;
    for (const std::string& item : split(value, 'x'))
      values.push_back(to_int(key, item, min_value));
    return values;
  }

  // One value for every dimension, or one per dimension (gna's window, stride and dilation).
  std::vector<int> per_dim(const std::string& key, int fallback, std::size_t rank) const {
    std::vector<int> values =
        has(key) ? get_list(key, rule_.params.at(key), 1) : std::vector<int>{fallback};
    if (values.size() == 1) values.assign(rank, values.front());
    if (values.size() != rank) {
      throw InputError(source_, field(key),
                       "one value or one per dimension (" + std::to_string(rank) + ")",
                       "'" + rule_.params.at(key) + "'");
    }
    return values;
  }

  [[noreturn]] void fail(const std::string& key, const std::string& expected,
                         const std::string& got) const {
    throw InputError(source_, field(key), expected, got);
  }

 private:
  const gpu::MaskRule& rule_;
  std::string source_;
};

// kNeighborhood params for a grid of `dims` (slowest first).
TokenRuleParams neighborhood(const RuleReader& reader, const std::vector<int>& dims, int seq_q,
                             int seq_kv) {
  std::int64_t product = 1;
  for (int n : dims) product *= n;
  if (seq_q != seq_kv || product != seq_q) {
    reader.fail("dims", "dims whose product is seq_q = seq_kv (" + std::to_string(seq_q) + ")",
                std::to_string(product) + (seq_q != seq_kv ? " (seq_kv differs)" : ""));
  }
  TokenRuleParams p;
  p.rule = TokenRule::kNeighborhood;
  p.grid_rank = static_cast<int>(dims.size());
  const std::vector<int> window = reader.per_dim("window", 1, dims.size());
  const std::vector<int> stride = reader.per_dim("stride", 1, dims.size());
  const std::vector<int> dilation = reader.per_dim("dilation", 1, dims.size());
  for (std::size_t d = 0; d < dims.size(); ++d) {
    p.grid_dims[d] = dims[d];
    p.neighborhood_window[d] = window[d];
    p.neighborhood_stride[d] = stride[d];
    p.neighborhood_dilation[d] = dilation[d];
  }
  return p;
}

// Document ids [batch, seq] from `lengths`: one `x` list for every batch element, or one per
// element separated by `/`.
std::vector<std::int32_t> document_ids(const RuleReader& reader, const std::string& lengths,
                                       int batch, int seq) {
  const std::vector<std::string> lists = split(lengths, '/');
  if (lists.size() != 1 && lists.size() != static_cast<std::size_t>(batch)) {
    reader.fail("lengths", "one list, or one per batch element (" + std::to_string(batch) + ")",
                std::to_string(lists.size()) + " lists in '" + lengths + "'");
  }
  std::vector<std::int32_t> ids;
  ids.reserve(static_cast<std::size_t>(batch) * seq);
  for (int b = 0; b < batch; ++b) {
    const std::string& list = lists[lists.size() == 1 ? 0 : b];
    std::int64_t total = 0;
    std::int32_t doc = 0;
    for (int length : reader.get_list("lengths", list, 1)) {
      total += length;
      if (total <= seq) ids.insert(ids.end(), length, doc++);
    }
    if (total != seq) {
      reader.fail("lengths", "document lengths summing to seq (" + std::to_string(seq) + ")",
                  "'" + list + "' (sum " + std::to_string(total) + ")");
    }
  }
  return ids;
}

// Causal neighborhoods (tilesim's gna_keys) are not in the kernel's neighborhood test: refused,
// not run as the non-causal rule.
void reject_natten_only_keys(const RuleReader& reader, const gpu::MaskRule& rule) {
  const auto causal = rule.params.find("causal");
  if (causal != rule.params.end() && causal->second.find('1') != std::string::npos) {
    reader.fail("causal", "no causal dimension: the golden kernel's neighborhood is not causal",
                "'" + causal->second + "'");
  }
}

}  // namespace

std::vector<std::int32_t> document_runs(const std::vector<std::int32_t>& ids, int batch, int seq) {
  std::vector<std::int32_t> runs(static_cast<std::size_t>(batch) * seq * 2);
  for (int b = 0; b < batch; ++b) {
    const std::int32_t* row = ids.data() + static_cast<std::size_t>(b) * seq;
    std::int32_t* out = runs.data() + static_cast<std::size_t>(b) * seq * 2;
    std::vector<std::int32_t> seen;  // the ids whose run has ended, sorted
    for (int first = 0; first < seq;) {
      int last = first;
      while (last + 1 < seq && row[last + 1] == row[first]) ++last;
      const auto at = std::lower_bound(seen.begin(), seen.end(), row[first]);
      if (at != seen.end() && *at == row[first]) return {};  // a second run of this id
      seen.insert(at, row[first]);
      for (int q = first; q <= last; ++q) {
        out[2 * q] = first;
        out[2 * q + 1] = last;
      }
      first = last + 1;
    }
  }
  return runs;
}

GoldenTokenRule token_rule_from_mask_rule(const gpu::MaskRule& rule, int batch, int seq_q,
                                          int seq_kv, const std::string& source) {
  const RuleReader reader(rule, source);
  GoldenTokenRule out;
  out.text = rule.text();
  TokenRuleParams& p = out.params;
  const std::string& name = rule.name;
  if (name == "allow") return out;
  if (name == "causal" || name == "causal_window" || name == "band") {
    p.rule = TokenRule::kWindow;
    p.window_left = name == "causal" ? seq_kv
                    : name == "band" ? reader.get_int("left", 0, 0)
                                     : reader.get_int("window", 1, 1) - 1;
    p.window_right = name == "band" ? reader.get_int("right", 0, 0) : 0;
  } else if (name == "sliding_window") {
    reject_natten_only_keys(reader, rule);
    p = neighborhood(reader, {seq_q}, seq_q, seq_kv);
  } else if (name == "gna") {
    for (const char* key : {"tile", "q_tile", "kv_tile"}) {
      if (reader.has(key)) {
        reader.fail(key, "no tile key: the golden kernel runs gna on a row-major token order",
                    "'" + rule.params.at(key) + "'");
      }
    }
    reject_natten_only_keys(reader, rule);
    const std::vector<int> dims = reader.get_list("dims", rule.params.at("dims"), 1);
    if (dims.size() < 2 || dims.size() > 3) {
      reader.fail("dims", "AxB or AxBxC (sliding_window is the 1-D rule)",
                  "'" + rule.params.at("dims") + "'");
    }
    p = neighborhood(reader, dims, seq_q, seq_kv);
  } else if (name == "document") {
    if (seq_q != seq_kv)
      reader.fail("lengths", "seq_q == seq_kv",
                  std::to_string(seq_q) + " vs " + std::to_string(seq_kv));
    const bool causal = reader.get_int("causal", 1, 0, 1) == 1;
    p.rule = TokenRule::kDocument;
    p.window_left = seq_kv;
    p.window_right = causal ? 0 : seq_kv;
    out.document_ids = document_ids(reader, rule.params.at("lengths"), batch, seq_kv);
    out.document_runs = golden::document_runs(out.document_ids, batch, seq_kv);
  } else if (name == "prefix_lm") {
    p.rule = TokenRule::kPrefixWindow;
    p.window_left = seq_kv;
    p.prefix = reader.get_int("prefix", 0, 0);
  } else if (name == "a_shape") {
    p.rule = TokenRule::kPrefixWindow;
    p.window_left = reader.get_int("window", 1, 1) - 1;
    p.prefix = reader.get_int("sinks", 0, 0);
    p.prefix_causal = true;
  } else {
    throw InputError(source, "rule", "a rule the golden kernel runs (not custom)",
                     "'" + out.text + "'");
  }
  return out;
}

GoldenTokenRule token_rule_from_text(const std::string& text, int batch, int seq_q, int seq_kv,
                                     const std::string& source) {
  std::string rule_text = text;
  if (text.rfind("window:", 0) == 0) {  // the older spelling window:LEFT:RIGHT
    const std::vector<std::string> parts = split(text.substr(7), ':');
    if (parts.size() != 2) {
      throw InputError(source, "rule", "window:LEFT:RIGHT or a mask rule", "'" + text + "'");
    }
    rule_text = "band,left=" + parts[0] + ",right=" + parts[1];
  }
  return token_rule_from_mask_rule(gpu::parse_mask_rule(rule_text, source, "rule"), batch, seq_q,
                                   seq_kv, source);
}

}  // namespace attnsim::golden
