// Pretty printer on top of Boost.JSON (which only serialises compactly).
#include "sim/common/json_output.h"

#include <charconv>
#include <cmath>

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

}  // namespace

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
  const std::string text = read_file(path);
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec) throw InputError(path.string(), "invalid JSON: " + ec.message());
  return value;
}

}  // namespace attnsim::common
