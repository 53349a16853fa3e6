// Pretty printer on top of Boost.JSON (which only serialises compactly).
#include "sim/common/json_output.h"

#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <cmath>
#include <set>
#include <vector>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"

namespace attnsim::common {
namespace {

// Shortest text that reads back as the same double ("0.1", not Boost.JSON's "1E-1").
void append_double(double number, std::string& out) {
  if (!std::isfinite(number)) {
    out += "null";  // JSON has no inf/nan; callers must not rely on them surviving
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
  std::string text(buffer, result.ptr);
  // Keep doubles recognisable as such for readers that type by syntax (Python's json).
  if (text.find_first_of(".eE") == std::string::npos && text.find("inf") == std::string::npos) {
    text += ".0";
  }
  out += text;
}

void append_pretty(const boost::json::value& value, int depth, std::string& out) {
  const std::string indent(2 * (depth + 1), ' ');
  const std::string closing(2 * depth, ' ');
  if (value.is_object()) {
    const boost::json::object& object = value.get_object();
    if (object.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& member : object) {
      if (!first) out += ",\n";
      first = false;
      out += indent + boost::json::serialize(boost::json::string(member.key())) + ": ";
      append_pretty(member.value(), depth + 1, out);
    }
    out += "\n" + closing + "}";
  } else if (value.is_array()) {
    const boost::json::array& array = value.get_array();
    // Arrays of scalars stay on one line: per-layer vectors would otherwise take a screen each.
    bool all_scalar = true;
    for (const auto& element : array) all_scalar = all_scalar && !element.is_structured();
    if (array.empty() || all_scalar) {
      out += '[';
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (i > 0) out += ", ";
        append_pretty(array[i], depth + 1, out);
      }
      out += ']';
      return;
    }
    out += "[\n";
    for (std::size_t i = 0; i < array.size(); ++i) {
      if (i > 0) out += ",\n";
      out += indent;
      append_pretty(array[i], depth + 1, out);
    }
    out += "\n" + closing + "]";
  } else if (value.is_double()) {
    append_double(value.get_double(), out);
  } else {
    out += boost::json::serialize(value);
  }
}

// A validating pass for boost::json::basic_parser: builds nothing, refuses an object key seen
// before in the same object, and remembers the dotted path of the offending key.
class DuplicateKeyCheck {
 public:
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) {
    value_started();
    frames_.push_back(Frame{false, {}, path_of_value(), 0, {}});
    return true;
  }
  bool on_array_end(std::size_t, boost::json::error_code&) {
    frames_.pop_back();
    return true;
  }
  bool on_object_begin(boost::json::error_code&) {
    value_started();
    frames_.push_back(Frame{true, {}, path_of_value(), 0, {}});
    return true;
  }
  bool on_object_end(std::size_t, boost::json::error_code&) {
    frames_.pop_back();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) {
    return scalar();
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code& ec) {
    key_.append(s.data(), s.size());
    Frame& f = frames_.back();
    f.key = key_;
    key_.clear();
    if (!f.keys.insert(f.key).second) {
      duplicate_ = f.path.empty() ? f.key : f.path + "." + f.key;
      ec = boost::json::error::syntax;
      return false;
    }
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) {
    return scalar();
  }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) {
    return scalar();
  }
  bool on_double(double, boost::json::string_view, boost::json::error_code&) { return scalar(); }
  bool on_bool(bool, boost::json::error_code&) { return scalar(); }
  bool on_null(boost::json::error_code&) { return scalar(); }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

  /// The dotted path of the key given twice ("" when the error was another one).
  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool is_object;
    std::set<std::string> keys;
    std::string path;
    std::size_t items;  // array elements begun so far
    std::string key;    // the object's latest key
  };

  // Counts an array element (objects name their values by key instead).
  void value_started() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().items;
  }
  bool scalar() {
    value_started();
    return true;
  }
  std::string path_of_value() const {
    if (frames_.empty()) return "";
    const Frame& f = frames_.back();
    if (!f.is_object) return f.path + "[" + std::to_string(f.items - 1) + "]";
    return f.path.empty() ? f.key : f.path + "." + f.key;
  }

  std::vector<Frame> frames_;
  std::string key_;
  std::string duplicate_;
};

// Runs the check over `size` bytes, `step` at a time; returns the offset at which it failed (or
// `size`), with the error and the checker's verdict.
std::size_t check_json(const char* data, std::size_t size, std::size_t step,
                       boost::json::error_code& ec, std::string& duplicate) {
  boost::json::basic_parser<DuplicateKeyCheck> parser(boost::json::parse_options{});
  std::size_t offset = 0;
  while (offset < size) {
    const std::size_t n = std::min(step, size - offset);
    parser.write_some(true, data + offset, n, ec);
    if (ec) break;
    offset += n;
  }
  if (!ec) parser.write_some(false, nullptr, 0, ec);
  duplicate = parser.handler().duplicate();
  return offset;
}

}  // namespace

boost::json::value parse_json(const std::string& text, const std::string& source) {
  boost::json::error_code ec;
  std::string duplicate;
  check_json(text.data(), text.size(), text.size() + 1, ec, duplicate);
  if (ec) {
    // Find where: Boost.JSON reports no offset on error, but fed one byte at a time it fails
    // within the byte that is wrong. Only failed files pay for this second pass.
    const std::size_t offset = check_json(text.data(), text.size(), 1, ec, duplicate);
    std::size_t line = 1, line_start = 0;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    const std::string where =
        source + ":" + std::to_string(line) + ":" + std::to_string(offset - line_start + 1);
    if (!duplicate.empty()) {
      throw InputError(where, duplicate, "each key once in an object",
                       "a second '" + duplicate.substr(duplicate.rfind('.') + 1) + "'");
    }
    throw InputError(where, "invalid JSON: " + ec.message());
  }
  return boost::json::parse(text);
}

std::string to_pretty_json(const boost::json::value& value) {
  std::string out;
  append_pretty(value, 0, out);
  out += '\n';
  return out;
}

void write_json_file(const std::filesystem::path& path, const boost::json::value& value) {
  write_file_atomically(path, to_pretty_json(value));
}

boost::json::value read_json_file(const std::filesystem::path& path) {
  return parse_json(read_file(path), path.string());
}

}  // namespace attnsim::common
