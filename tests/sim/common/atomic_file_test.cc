#include "sim/common/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "sim/common/input_error.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::common {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  attnsim::testing::ScratchDir scratch_;
  const fs::path dir_ = scratch_.path();
};

TEST_F(AtomicFileTest, CommitPublishesContent) {
  write_file_atomically(dir_ / "out.txt", "hello\n");
  EXPECT_EQ(read_file(dir_ / "out.txt"), "hello\n");
  EXPECT_EQ(entries(), 1u);  // no temporary left behind
}

TEST_F(AtomicFileTest, AbandonedWriteLeavesPreviousContentAndNoTemp) {
  write_file_atomically(dir_ / "out.txt", "old");
  {
    AtomicFile file(dir_ / "out.txt");
    file.stream() << "half-written";
    // no commit: simulates an exception between writing and publishing
  }
  EXPECT_EQ(read_file(dir_ / "out.txt"), "old");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, UnwritableDirectoryIsAnInputErrorNamingThePath) {
  const fs::path target = dir_ / "missing" / "out.txt";
  try {
    AtomicFile file(target);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(target.string()), std::string::npos) << e.what();
  }
}

TEST_F(AtomicFileTest, ReadingAMissingFileNamesIt) {
  try {
    read_file(dir_ / "nope.csv");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.csv"), std::string::npos);
  }
}

}  // namespace
}  // namespace attnsim::common
