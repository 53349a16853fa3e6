// The input-sized allocation limit: its syntax, the environment variable, and a reader that
// refuses a buffer over it with the number instead of allocating.
#include "sim/common/memory_limit.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <vector>

#include "sim/common/input_error.h"
#include "sim/common/npy.h"
#include "tests/support/input_error_of.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::common {
namespace {

using attnsim::testing::input_error_of;

// Restores the default limit whatever a test set.
class MemoryLimit : public ::testing::Test {
 protected:
  void TearDown() override {
    set_max_memory_bytes(0);
    ::unsetenv("ATTNSIM_MAX_MEMORY");
  }
};

TEST_F(MemoryLimit, SizesParseWithBinaryUnits) {
  EXPECT_EQ(parse_memory_size("4096", "--max-memory"), 4096u);
  EXPECT_EQ(parse_memory_size("512M", "--max-memory"), 512ull << 20);
  EXPECT_EQ(parse_memory_size("8G", "--max-memory"), 8ull << 30);
  EXPECT_EQ(parse_memory_size("16GiB", "--max-memory"), 16ull << 30);
  EXPECT_EQ(parse_memory_size("1t", "--max-memory"), 1ull << 40);
  for (const char* bad : {"", "0", "G", "8X", "-1", "99999999999999999999", "20000000T"}) {
    EXPECT_EQ(input_error_of([&] { parse_memory_size(bad, "--max-memory"); }),
              std::string("--max-memory: memory size: expected bytes or a size like 512M, 8G, "
                          "1T (> 0), got '") +
                  bad + "'")
        << bad;
  }
}

TEST_F(MemoryLimit, DefaultEnvironmentAndExplicitValue) {
  EXPECT_EQ(max_memory_bytes(), kDefaultMaxMemoryBytes);
  ::setenv("ATTNSIM_MAX_MEMORY", "2G", 1);
  EXPECT_EQ(max_memory_bytes(), 2ull << 30);
  set_max_memory_bytes(1 << 20);
  EXPECT_EQ(max_memory_bytes(), 1u << 20);
  set_max_memory_bytes(0);
  ::setenv("ATTNSIM_MAX_MEMORY", "lots", 1);
  EXPECT_NE(input_error_of([] { max_memory_bytes(); }).find("ATTNSIM_MAX_MEMORY: memory size"),
            std::string::npos);
}

TEST_F(MemoryLimit, CheckNamesSourceWhatAndBothNumbers) {
  set_max_memory_bytes(1000);
  EXPECT_EQ(input_error_of([] { check_memory(1000, "m.npz", "x"); }), "");
  EXPECT_EQ(input_error_of([] { check_memory(1001, "m.npz", "member 'x.npy' inflated"); }),
            "m.npz: member 'x.npy' inflated: expected at most 1000 bytes (raise with "
            "--max-memory or ATTNSIM_MAX_MEMORY), got 1001 bytes");
}

TEST_F(MemoryLimit, NpzMembersOverTheLimitAreRefusedBeforeInflating) {
  const attnsim::testing::ScratchDir scratch;
  std::vector<std::int32_t> ramp(1 << 16);
  for (std::size_t k = 0; k < ramp.size(); ++k) ramp[k] = static_cast<std::int32_t>(k % 300);
  NpzWriter writer(scratch / "big.npz");
  writer.add("ramp", NpyArray::from<std::int32_t>({1 << 16}, ramp));  // deflated: compressible
  writer.commit();
  set_max_memory_bytes(64 << 10);
  const std::string error = input_error_of([&] { NpzReader reader(scratch / "big.npz"); });
  EXPECT_NE(error.find("big.npz: member 'ramp.npy' inflated: expected at most 65536 bytes"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("got 262272 bytes"), std::string::npos) << error;
  set_max_memory_bytes(0);
  EXPECT_EQ(NpzReader(scratch / "big.npz").get("ramp").size(), 1 << 16);
}

}  // namespace
}  // namespace attnsim::common
