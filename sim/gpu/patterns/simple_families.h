// Helpers for small pattern families: an instance that builds one kind of head from a lambda.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {

/// PatternInstance whose heads come from `make` (captured configuration, per-head seed).
class LambdaInstance final : public PatternInstance {
 public:
  using Make = std::function<std::unique_ptr<HeadMask>(std::int64_t head, std::uint64_t seed)>;
  /// Whether `make` ignores its head and seed (PatternInstance::heads_alike).
  enum class Heads { kDiffer, kAlike };
  explicit LambdaInstance(Make make, std::optional<MaskRule> rule = std::nullopt,
                          Heads heads = Heads::kDiffer)
      : make_(std::move(make)), rule_(std::move(rule)), heads_(heads) {}
  std::unique_ptr<HeadMask> make_head(std::int64_t head, std::uint64_t seed) const override {
    return make_(head, seed);
  }
  std::optional<MaskRule> rule() const override { return rule_; }
  bool heads_alike() const override { return heads_ == Heads::kAlike; }

 private:
  Make make_;
  std::optional<MaskRule> rule_;
  Heads heads_;
};

/// TokenMask whose key intervals come from a function of the query index.
class FunctionTokenMask final : public TokenMask {
 public:
  using Intervals = std::function<void(std::int64_t q, std::vector<KeyInterval>& out)>;
  FunctionTokenMask(const MaskGeometry& geometry, Intervals intervals)
      : TokenMask(geometry), intervals_(std::move(intervals)) {}

 protected:
  void key_intervals(std::int64_t q, std::vector<KeyInterval>& out) override {
    out.clear();
    intervals_(q, out);
  }

 private:
  Intervals intervals_;
};

/// A family defined by its name, help text and a configure function.
class SimpleFamily final : public PatternFamily {
 public:
  using Configure =
      std::function<std::unique_ptr<PatternInstance>(PatternParams&, const MaskGeometry&)>;
  SimpleFamily(std::string name, std::string help, Configure configure)
      : name_(std::move(name)), help_(std::move(help)), configure_(std::move(configure)) {}
  std::string name() const override { return name_; }
  std::string help() const override { return help_; }
  std::unique_ptr<PatternInstance> configure(PatternParams& params,
                                             const MaskGeometry& geometry) const override {
    return configure_(params, geometry);
  }

 private:
  std::string name_;
  std::string help_;
  Configure configure_;
};

/// A rule from its name and parameters given as numbers or text.
inline MaskRule make_rule(std::string name, std::map<std::string, std::string> params = {}) {
  return MaskRule{std::move(name), std::move(params)};
}

/// "3x5x7" for {3, 5, 7}.
inline std::string join_dims(const std::vector<std::int64_t>& values) {
  std::string text;
  for (const std::int64_t v : values) text += (text.empty() ? "" : "x") + std::to_string(v);
  return text;
}

/// Appends [begin, end) clipped to [0, limit) when non-empty.
inline void push_interval(std::vector<KeyInterval>& out, std::int64_t begin, std::int64_t end,
                          std::int64_t limit) {
  begin = std::max<std::int64_t>(begin, 0);
  end = std::min(end, limit);
  if (begin < end) out.push_back({begin, end});
}

}  // namespace attnsim::gpu
