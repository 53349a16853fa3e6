// Reading YAML configs with errors that name the file, line, field path and expected type.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "sim/common/input_error.h"

namespace attnsim::common {

/// Name of a scalar type with its article ("an integer"), for "expected ..." messages.
template <typename T>
const char* yaml_type_name();

/// A YAML node that remembers its file and its dotted path from the document root, so every error
/// reads "kernel.yaml:7: kernel.tile_q: expected an integer, got 'big'".
/// Contract: configs are maps of scalars, lists and maps; unknown keys are an error (a typo must
/// not silently fall back to a default), checked by reject_unknown_keys().
class YamlReader {
 public:
  static YamlReader load_file(const std::filesystem::path& path);
  static YamlReader load_string(const std::string& text, const std::string& source_name);

  bool has(const std::string& key) const;
  /// A required child; error if it is missing.
  YamlReader child(const std::string& key) const;
  /// Elements of a required list.
  std::vector<YamlReader> list(const std::string& key) const;

  template <typename T>
  T get(const std::string& key) const {
    return child(key).as<T>();
  }
  template <typename T>
  T get_or(const std::string& key, const T& fallback) const {
    return has(key) ? get<T>(key) : fallback;
  }
  /// This node as a scalar of type T.
  template <typename T>
  T as() const {
    if (!node_.IsScalar()) fail(yaml_type_name<T>(), describe_kind());
    T value{};
    if (!YAML::convert<T>::decode(node_, value)) {
      fail(yaml_type_name<T>(), "'" + node_.Scalar() + "'");
    }
    return value;
  }

  /// Error listing the allowed keys if this map holds any other.
  void reject_unknown_keys(std::initializer_list<const char*> allowed) const;

  /// Throws InputError for this node: "<file>:<line>: <path>: expected <expected>, got <got>".
  [[noreturn]] void fail(const std::string& expected, const std::string& got) const;

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  /// "<file>:<line>" of this node.
  std::string location() const;
  const YAML::Node& node() const { return node_; }

 private:
  YamlReader(YAML::Node node, std::string file, std::string path);
  std::string describe_kind() const;
  std::string child_path(const std::string& key) const;

  YAML::Node node_;
  std::string file_;
  std::string path_;
};

}  // namespace attnsim::common
