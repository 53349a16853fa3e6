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

/// Parses a JSON file; throws InputError naming the file and the parse error.
boost::json::value read_json_file(const std::filesystem::path& path);

}  // namespace attnsim::common
