// Deterministic, human-readable JSON for results files (stats.json, measurements, resolved
// configs).
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <string>

namespace attnsim::common {

/// Pretty-prints with two-space indent, keys in insertion order, doubles in their shortest
/// round-trip form ("0.1"), non-finite doubles as null, and a final newline. Same value ->
/// byte-identical text.
/// Note: Boost 1.81's parser may read a double back 1 ulp off; compare parsed doubles with a
/// tolerance, never bit for bit.
std::string to_pretty_json(const boost::json::value& value);

/// Writes to_pretty_json(value) atomically (see AtomicFile).
void write_json_file(const std::filesystem::path& path, const boost::json::value& value);

/// Parses JSON text strictly: a syntax error or a key given twice in one object throws
/// InputError "<source>:<line>:<column>: ..." (a duplicate key names its dotted path; JSON
/// parsers disagree on which of two equal keys wins, so neither does).
boost::json::value parse_json(const std::string& text, const std::string& source);

/// Parses a JSON file with parse_json; errors name the file, line and column.
boost::json::value read_json_file(const std::filesystem::path& path);

}  // namespace attnsim::common
