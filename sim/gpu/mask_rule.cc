// MaskRule text: parsing with the per-rule key sets of mask_rules.md, and the canonical form.
#include "sim/gpu/mask_rule.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "sim/common/input_error.h"

namespace attnsim::gpu {
namespace {

using common::InputError;

// A rule's keys as mask_rules.md lists them: required ones and optional ones.
struct RuleKeys {
  const char* name;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

const std::vector<RuleKeys>& rule_keys() {
  static const std::vector<RuleKeys> keys = {
      {"allow", {}, {}},
      {"causal", {}, {}},
      {"causal_window", {"window"}, {}},
      {"band", {"left", "right"}, {}},
      {"sliding_window", {"window"}, {"dilation", "stride", "causal"}},
      {"gna", {"dims", "window"}, {"stride", "dilation", "tile", "q_tile", "kv_tile", "causal"}},
      {"document", {"lengths"}, {"causal"}},
      {"prefix_lm", {"prefix"}, {}},
      {"a_shape", {"sinks", "window"}, {}},
      {"custom", {}, {}},
  };
  return keys;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace

bool is_mask_rule_name(const std::string& name) {
  const std::vector<RuleKeys>& keys = rule_keys();
  return std::any_of(keys.begin(), keys.end(),
                     [&](const RuleKeys& rule) { return name == rule.name; });
}

std::string MaskRule::text() const {
  std::string out = name;
  for (const auto& [key, value] : params) out += "," + key + "=" + value;
  return out;
}

MaskRule parse_mask_rule(const std::string& text, const std::string& source,
                         const std::string& field) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  MaskRule rule;
  rule.name = items.front();
  const RuleKeys* keys = nullptr;
  std::vector<std::string> names;
  for (const RuleKeys& entry : rule_keys()) {
    if (rule.name == entry.name) keys = &entry;
    names.push_back(entry.name);
  }
  if (!keys) {
    throw InputError(source, field, "a rule NAME[,key=value...] with NAME one of " + join(names),
                     "'" + text + "'");
  }
  std::set<std::string> allowed(keys->required.begin(), keys->required.end());
  allowed.insert(keys->optional.begin(), keys->optional.end());
  for (std::size_t i = 1; i < items.size(); ++i) {
    const std::string& item = items[i];
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size() ||
        item.find('=', eq + 1) != std::string::npos) {
      throw InputError(source, field, "items key=value after the rule name in '" + text + "'",
                       "'" + item + "'");
    }
    const std::string key = item.substr(0, eq);
    if (!allowed.count(key)) {
      const std::vector<std::string> known(allowed.begin(), allowed.end());
      throw InputError(source, field,
                       "keys of rule '" + rule.name + "' (" +
                           (known.empty() ? std::string("none") : join(known)) + ")",
                       "unknown key '" + key + "' in '" + text + "'");
    }
    if (!rule.params.emplace(key, item.substr(eq + 1)).second) {
      throw InputError(source, field, "each key once in '" + text + "'", "'" + key + "' twice");
    }
  }
  for (const std::string& key : keys->required) {
    if (!rule.params.count(key)) {
      throw InputError(source, field,
                       "rule '" + rule.name + "' with key '" + key +
                           "' (required: " + join(keys->required) + ")",
                       "'" + text + "'");
    }
  }
  return rule;
}

}  // namespace attnsim::gpu
