// The input-sized allocation limit, its parser and the environment variable.
#include "sim/common/memory_limit.h"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <limits>

#include "sim/common/input_error.h"

namespace attnsim::common {
namespace {

std::atomic<std::uint64_t> explicit_limit{0};  // 0: not set by a tool

}  // namespace

std::uint64_t parse_memory_size(const std::string& text, const std::string& source) {
  const auto bad = [&] {
    return InputError(source, "memory size", "bytes or a size like 512M, 8G, 1T (> 0)",
                      "'" + text + "'");
  };
  std::size_t i = 0;
  std::uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    const std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) throw bad();
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0) throw bad();
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && (unit.substr(1) == "IB" || unit.substr(1) == "B"))
    unit = unit.substr(0, 1);
  int shift = 0;
  if (unit == "K") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else if (unit == "T") {
    shift = 40;
  } else if (!unit.empty() && unit != "B") {
    throw bad();
  }
  if (value == 0 || value > (std::numeric_limits<std::uint64_t>::max() >> shift)) throw bad();
  return value << shift;
}

std::uint64_t max_memory_bytes() {
  const std::uint64_t set = explicit_limit.load();
  if (set != 0) return set;
  const char* env = std::getenv("ATTNSIM_MAX_MEMORY");
  if (env != nullptr && *env != '\0') return parse_memory_size(env, "ATTNSIM_MAX_MEMORY");
  return kDefaultMaxMemoryBytes;
}

void set_max_memory_bytes(std::uint64_t bytes) { explicit_limit.store(bytes); }

void check_memory(std::uint64_t bytes, const std::string& source, const std::string& what) {
  const std::uint64_t limit = max_memory_bytes();
  if (bytes <= limit) return;
  throw InputError(
      source, what,
      "at most " + std::to_string(limit) + " bytes (raise with --max-memory or ATTNSIM_MAX_MEMORY)",
      std::to_string(bytes) + " bytes");
}

void apply_max_memory_option(const std::string& value) {
  if (!value.empty()) set_max_memory_bytes(parse_memory_size(value, "--max-memory"));
}

}  // namespace attnsim::common
