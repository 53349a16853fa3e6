#include "sim/common/cli.h"

#include <gtest/gtest.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <stdexcept>

#include "sim/common/input_error.h"

namespace attnsim::common {
namespace {

TEST(RunCli, ReturnsTheBodysExitCode) {
  EXPECT_EQ(run_cli("tool", [] { return 0; }), kExitOk);
  EXPECT_EQ(run_cli("tool", [] { return kExitFailure; }), kExitFailure);
}

TEST(RunCli, InputErrorsBecomeExitCode2WithTheMessage) {
  ::testing::internal::CaptureStderr();
  const int rc = run_cli("tilesim", []() -> int {
    throw InputError("mask.npz", "block_q", "a positive integer", "0");
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, kExitInputError);
  EXPECT_EQ(err, "tilesim: error: mask.npz: block_q: expected a positive integer, got 0\n");
}

TEST(RunCli, BadCommandLineOptionsAreInputErrors) {
  ::testing::internal::CaptureStderr();
  const int rc = run_cli("tool", []() -> int {
    namespace po = boost::program_options;
    po::options_description options;
    options.add_options()("seed", po::value<int>());
    const char* argv[] = {"tool", "--seed", "abc"};
    po::variables_map vm;
    po::store(po::parse_command_line(3, argv, options), vm);
    return 0;
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, kExitInputError);
  EXPECT_NE(err.find("seed"), std::string::npos) << err;
}

TEST(RunCli, OtherExceptionsAreInternalErrorsNotCrashes) {
  ::testing::internal::CaptureStderr();
  const int rc = run_cli("tool", []() -> int { throw std::logic_error("invariant broken"); });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, kExitInternal);
  EXPECT_NE(err.find("internal error: invariant broken"), std::string::npos);
}

TEST(RunCli, FileSystemErrorsAreInputErrorsNamingThePath) {
  ::testing::internal::CaptureStderr();
  const int rc = run_cli("tool", []() -> int {
    std::filesystem::create_directories("/dev/null/run");
    return 0;
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, kExitInputError);
  EXPECT_EQ(err, "tool: error: /dev/null/run: cannot create directories: Not a directory\n");
}

}  // namespace
}  // namespace attnsim::common
