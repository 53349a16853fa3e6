// One stdout grammar for every tool: --format json|table|csv. Tools build their results as JSON
// (the same values their --out files hold); these helpers render a list of rows as CSV and JSON,
// and any JSON value as "field,value" CSV.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "sim/common/input_error.h"
#include "sim/common/json_output.h"

namespace attnsim::common {

enum class OutputFormat { kJson, kTable, kCsv };

/// The --format option's help text, the same in every tool.
constexpr const char* kOutputFormatHelp = "stdout: json, table or csv";

/// "json", "table" or "csv"; anything else is an InputError naming --format.
inline OutputFormat parse_output_format(const std::string& text) {
  if (text == "json") return OutputFormat::kJson;
  if (text == "table") return OutputFormat::kTable;
  if (text == "csv") return OutputFormat::kCsv;
  throw InputError("--format", "format", "json, table or csv", "'" + text + "'");
}

/// A scalar as a CSV cell: numbers as in the JSON output ("0.1"), strings quoted when needed,
/// null empty.
inline std::string csv_cell(const boost::json::value& value) {
  if (value.is_null()) return "";
  if (value.is_string()) {
    const std::string text(value.as_string());
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  std::string text = to_pretty_json(value);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

/// Results with named columns, one row per item: JSON (an array of objects) or CSV.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<boost::json::value>> rows;

  boost::json::array to_json() const {
    boost::json::array out;
    for (const auto& row : rows) {
      boost::json::object item;
      for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) {
        item[columns[i]] = row[i];
      }
      out.push_back(std::move(item));
    }
    return out;
  }

  std::string to_csv() const {
    std::string out;
    for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i];
    out += '\n';
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_cell(row[i]);
      out += '\n';
    }
    return out;
  }
};

/// Rows from a JSON array of objects (the columns: the first object's keys, in order); nested
/// values become their JSON text.
inline Rows rows_of(const boost::json::array& items) {
  Rows rows;
  if (items.empty() || !items.front().is_object()) return rows;
  for (const auto& key_value : items.front().as_object()) {
    rows.columns.emplace_back(key_value.key());
  }
  for (const auto& item : items) {
    std::vector<boost::json::value> row;
    for (const std::string& column : rows.columns) {
      const boost::json::value* cell = item.as_object().if_contains(column);
      if (cell == nullptr) {
        row.emplace_back(nullptr);
      } else if (cell->is_structured()) {
        std::string text = to_pretty_json(*cell);
        row.emplace_back(text);
      } else {
        row.push_back(*cell);
      }
    }
    rows.rows.push_back(std::move(row));
  }
  return rows;
}

namespace detail {
inline void flatten(const boost::json::value& value, const std::string& prefix, std::string& out) {
  if (value.is_object()) {
    for (const auto& key_value : value.as_object()) {
      const std::string key(key_value.key());
      flatten(key_value.value(), prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (value.is_array()) {
    const auto& items = value.as_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      flatten(items[i], prefix + "." + std::to_string(i), out);
    }
  } else {
    out += csv_cell(boost::json::value(prefix)) + "," + csv_cell(value) + "\n";
  }
}
}  // namespace detail

/// Any JSON value as two-column CSV: "field,value", nested keys dotted ("hbm.bytes"), array
/// items by index ("layers.0.cycles").
inline std::string flat_csv(const boost::json::value& value) {
  std::string out = "field,value\n";
  detail::flatten(value, "", out);
  return out;
}

/// --out DIR: a run folder holding the results as DIR/results.json (the JSON --format json
/// prints); nothing when `dir` is empty.
inline void write_run_folder(const std::string& dir, const boost::json::value& results) {
  if (dir.empty()) return;
  std::filesystem::create_directories(dir);
  write_json_file(std::filesystem::path(dir) / "results.json", results);
}

}  // namespace attnsim::common
