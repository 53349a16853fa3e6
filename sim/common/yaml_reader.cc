// YamlReader: yaml-cpp with locations and field paths in every error.
#include "sim/common/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace attnsim::common {
namespace {

// A pass over the parser's events before yaml-cpp builds its tree: the tree keeps only the first
// of two equal keys and cannot say where a key that is a list or a mapping came from, so both
// are caught here with their line. Aliases are not expanded (an alias key is refused).
class StrictKeyChecker : public YAML::EventHandler {
 public:
  explicit StrictKeyChecker(std::string source) : source_(std::move(source)) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, nullptr, "null"); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark, nullptr, "an alias"); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    node(mark, &value, "");
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark, nullptr, "a list");
    frames_.push_back(Frame{false, true, child_path(), {}, 0});
  }
  void OnSequenceEnd() override { frames_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark, nullptr, "a mapping");
    frames_.push_back(Frame{true, true, child_path(), {}, 0});
  }
  void OnMapEnd() override { frames_.pop_back(); }

 private:
  struct Frame {
    bool is_map;
    bool expecting_key;
    std::string path;
    std::map<std::string, int> key_lines;  // key -> 1-based line of its first occurrence
    std::size_t items;                     // list elements seen so far
  };

  // The path of the node that starts now (before node() advances the frame).
  std::string child_path() const {
    if (frames_.empty()) return "";
    const Frame& f = frames_.back();
    if (!f.is_map) return f.path + "[" + std::to_string(f.items - 1) + "]";
    return f.path.empty() ? last_key_ : f.path + "." + last_key_;
  }

  // Every node event: a key or a value of the enclosing mapping, or a list element.
  // `kind` describes a node that is not a plain scalar ("" for scalars).
  void node(const YAML::Mark& mark, const std::string* scalar, const char* kind) {
    if (frames_.empty()) return;
    Frame& f = frames_.back();
    const std::string where = source_ + ":" + std::to_string(mark.line + 1);
    const std::string parent = f.path.empty() ? "<document>" : f.path;
    if (!f.is_map) {
      ++f.items;
      return;
    }
    f.expecting_key = !f.expecting_key;
    if (f.expecting_key) return;  // that was the value
    if (scalar == nullptr) {
      throw InputError(where, parent, "keys that are plain scalars (name: value)",
                       std::string(kind) + " as a key");
    }
    const auto [it, inserted] = f.key_lines.emplace(*scalar, mark.line + 1);
    const std::string key_path = f.path.empty() ? *scalar : f.path + "." + *scalar;
    if (!inserted) {
      throw InputError(
          where, key_path, "each key once in a mapping",
          "a second '" + *scalar + "' (the first is on line " + std::to_string(it->second) + ")");
    }
    last_key_ = *scalar;
  }

  std::string source_;
  std::vector<Frame> frames_;
  std::string last_key_;
};

}  // namespace

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
  if (!in) {
    throw InputError(path.string(), std::string("cannot open YAML file: ") + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_string(text.str(), path.string());
}

YamlReader YamlReader::load_string(const std::string& text, const std::string& source_name) {
  YAML::Node root;
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    StrictKeyChecker checker(source_name);
    parser.HandleNextDocument(checker);
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
