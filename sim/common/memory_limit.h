// The most memory one buffer sized by input may take: "would allocate 40 GB" becomes an
// InputError with the number instead of an allocation that thrashes or fails.
#pragma once

#include <cstdint>
#include <string>

namespace attnsim::common {

/// Default limit: 8 GiB. Raised or lowered by the environment (ATTNSIM_MAX_MEMORY=16G) or by a
/// tool's --max-memory, which calls set_max_memory_bytes.
inline constexpr std::uint64_t kDefaultMaxMemoryBytes = std::uint64_t{8} << 30;

/// The limit in force: set_max_memory_bytes's, else ATTNSIM_MAX_MEMORY's, else the default.
/// A malformed ATTNSIM_MAX_MEMORY is an InputError naming it.
std::uint64_t max_memory_bytes();
/// 0 forgets the value set, so the environment or the default applies again.
void set_max_memory_bytes(std::uint64_t bytes);

/// A tool's --max-memory: its help line (one spelling for every tool) and its value applied
/// (empty: not given, the environment or the default stays).
inline constexpr const char* kMaxMemoryOptionHelp =
    "largest buffer sized by input, e.g. 16G (default 8G or $ATTNSIM_MAX_MEMORY); more is an "
    "input error, not an allocation";
void apply_max_memory_option(const std::string& value);

/// "8G", "512M", "64K", "1T" (powers of 1024, optional trailing "iB"/"B") or plain bytes;
/// throws InputError naming `source` (the option or variable) for anything else or zero.
std::uint64_t parse_memory_size(const std::string& text, const std::string& source);

/// Throws InputError "<source>: <what>: expected at most <limit> bytes (raise with --max-memory
/// or ATTNSIM_MAX_MEMORY), got <bytes> bytes" when `bytes` exceeds the limit.
void check_memory(std::uint64_t bytes, const std::string& source, const std::string& what);

}  // namespace attnsim::common
