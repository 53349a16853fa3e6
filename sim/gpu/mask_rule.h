// MaskRule: the token-level rule a mask's PARTIAL blocks apply (FlexAttention's mask_mod), by name
// and parameters; the set of names and their semantics are documented in mask_rules.md.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace attnsim::gpu {

/// A token-level rule, written `NAME[,key=value...]` without geometry (mask_rules.md).
/// Contract: `name` is one of the documented names; `params` holds only that rule's keys.
struct MaskRule {
  std::string name;                           ///< "causal", "document", ..., "custom"
  std::map<std::string, std::string> params;  ///< e.g. {"window", "4096"}

  /// Canonical text: the name, then key=value in key order, comma-separated.
  std::string text() const;
  bool operator==(const MaskRule& other) const {
    return name == other.name && params == other.params;
  }
};

/// Whether `name` is one of mask_rules.md's rule names.
bool is_mask_rule_name(const std::string& name);

/// Parses `NAME[,key=value...]`; throws InputError naming `source` and `field` for an unknown
/// name, a malformed item or a key the rule does not take.
MaskRule parse_mask_rule(const std::string& text, const std::string& source,
                         const std::string& field);

}  // namespace attnsim::gpu
