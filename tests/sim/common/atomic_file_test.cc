#include "sim/common/atomic_file.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

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

TEST_F(AtomicFileTest, TemporariesOfKilledWritersAreRemovedOnTheNextWrite) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // a pid whose process is gone
  const std::string dead = std::to_string(child);
  const std::vector<std::string> names = {"k.npz.tmp-" + dead, "k.npz.tmp-" + dead + ".npz",
                                          "k.npz.tmp-1", "k.npz.tmp-x" + dead,
                                          "other.npz.tmp-" + dead};
  for (const std::string& name : names) std::ofstream(dir_ / name) << "partial";
  write_file_atomically(dir_ / "k.npz", "done");
  EXPECT_FALSE(fs::exists(dir_ / ("k.npz.tmp-" + dead)));
  EXPECT_FALSE(fs::exists(dir_ / ("k.npz.tmp-" + dead + ".npz")));
  EXPECT_TRUE(fs::exists(dir_ / "k.npz.tmp-1"));  // pid 1 is alive
  EXPECT_TRUE(fs::exists(dir_ / ("k.npz.tmp-x" + dead)));
  EXPECT_TRUE(fs::exists(dir_ / ("other.npz.tmp-" + dead)));  // another output's
  EXPECT_EQ(read_file(dir_ / "k.npz"), "done");
}

TEST_F(AtomicFileTest, SymlinkTargetsAreWrittenThroughNotReplaced) {
  // /dev/stdout is a symlink: a rename over it would leave a plain file in its place.
  write_file_atomically(dir_ / "real.txt", "old");
  fs::create_symlink(dir_ / "real.txt", dir_ / "link.txt");
  EXPECT_FALSE(replaces_by_rename(dir_ / "link.txt"));
  EXPECT_TRUE(replaces_by_rename(dir_ / "real.txt"));
  EXPECT_TRUE(replaces_by_rename(dir_ / "absent.txt"));
  write_file_atomically(dir_ / "link.txt", "new");
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.txt"));
  EXPECT_EQ(read_file(dir_ / "real.txt"), "new");
  EXPECT_EQ(entries(), 2u);
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
