// YamlReader: yaml-cpp with locations and field paths in every error.
#include "sim/common/yaml_reader.h"

#include <fstream>
#include <sstream>

namespace attnsim::common {

template <>
const char* yaml_type_name<bool>() {
  return "a boolean (true/false)";
}
template <>
const char* yaml_type_name<int>() {
  return "an integer";
}
template <>
const char* yaml_type_name<std::int64_t>() {
  return "an integer";
}
template <>
const char* yaml_type_name<unsigned>() {
  return "a non-negative integer";
}
template <>
const char* yaml_type_name<std::uint64_t>() {
  return "a non-negative integer";
}
template <>
const char* yaml_type_name<double>() {
  return "a number";
}
template <>
const char* yaml_type_name<std::string>() {
  return "a string";
}

YamlReader::YamlReader(YAML::Node node, std::string file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}

YamlReader YamlReader::load_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string(), "cannot open YAML file");
  std::stringstream text;
  text << in.rdbuf();
  return load_string(text.str(), path.string());
}

YamlReader YamlReader::load_string(const std::string& text, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw InputError(source_name + ":" + std::to_string(e.mark.line + 1),
                     "YAML syntax error: " + e.msg);
  }
  if (!root.IsMap()) {
    throw InputError(source_name, "<document>", "a YAML mapping of keys to values",
                     root.IsNull() ? "an empty document" : "a non-mapping document");
  }
  return YamlReader(root, source_name, "");
}

std::string YamlReader::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

std::string YamlReader::location() const {
  const YAML::Mark mark = node_.Mark();
  if (mark.line < 0) return file_;
  return file_ + ":" + std::to_string(mark.line + 1);
}

std::string YamlReader::describe_kind() const {
  switch (node_.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Scalar:
      return "'" + node_.Scalar() + "'";
    default:
      return "an undefined node";
  }
}

void YamlReader::fail(const std::string& expected, const std::string& got) const {
  throw InputError(location(), path_.empty() ? "<document>" : path_, expected, got);
}

bool YamlReader::has(const std::string& key) const {
  return node_.IsMap() && static_cast<bool>(node_[key]);
}

YamlReader YamlReader::child(const std::string& key) const {
  if (!node_.IsMap()) fail("a mapping containing '" + key + "'", describe_kind());
  const YAML::Node value = node_[key];
  if (!value) throw InputError(location(), child_path(key), "a value (required field)", "nothing");
  return YamlReader(value, file_, child_path(key));
}

std::vector<YamlReader> YamlReader::list(const std::string& key) const {
  const YamlReader seq = child(key);
  if (!seq.node_.IsSequence()) seq.fail("a list", seq.describe_kind());
  std::vector<YamlReader> items;
  for (std::size_t i = 0; i < seq.node_.size(); ++i) {
    items.push_back(YamlReader(seq.node_[i], file_, seq.path_ + "[" + std::to_string(i) + "]"));
  }
  return items;
}

void YamlReader::reject_unknown_keys(std::initializer_list<const char*> allowed) const {
  if (!node_.IsMap()) fail("a mapping", describe_kind());
  for (const auto& entry : node_) {
    const std::string key = entry.first.as<std::string>();
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (known) continue;
    std::string names;
    for (const char* name : allowed) names += (names.empty() ? "" : ", ") + std::string(name);
    YamlReader(entry.first, file_, child_path(key))
        .fail("one of the keys {" + names + "}", "unknown key '" + key + "'");
  }
}

}  // namespace attnsim::common
