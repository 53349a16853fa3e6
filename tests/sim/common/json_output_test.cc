#include "sim/common/json_output.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::common {
namespace {

TEST(PrettyJson, IndentsObjectsAndKeepsScalarArraysOnOneLine) {
  boost::json::object stats;
  stats["cycles"] = 1234;
  stats["per_layer"] = boost::json::array{1, 2, 3};
  stats["hbm"] = boost::json::object{{"bytes_read", 64}};
  stats["empty"] = boost::json::object{};
  EXPECT_EQ(to_pretty_json(stats),
            "{\n"
            "  \"cycles\": 1234,\n"
            "  \"per_layer\": [1, 2, 3],\n"
            "  \"hbm\": {\n"
            "    \"bytes_read\": 64\n"
            "  },\n"
            "  \"empty\": {}\n"
            "}\n");
}

TEST(PrettyJson, RoundTripsThroughTheParser) {
  boost::json::value original =
      boost::json::parse(R"({"a":[{"x":0.5},{"y":"s\"q"}],"b":true,"c":null,"d":-2.25})");
  EXPECT_EQ(boost::json::parse(to_pretty_json(original)), original);
}

TEST(PrettyJson, DoublesAreShortestAndAlwaysLookLikeDoubles) {
  boost::json::array values{0.1, 2.0, 1e-300, -1.5e21, std::nan(""), 7};
  EXPECT_EQ(to_pretty_json(values), "[0.1, 2.0, 1e-300, -1.5e+21, null, 7]\n");
}

TEST(JsonFile, InvalidJsonIsAnInputErrorNamingTheFile) {
  const attnsim::testing::ScratchDir scratch;
  const auto path = scratch / "attnsim_bad_json_test.json";
  write_file_atomically(path, "{\"a\": 1,");
  try {
    read_json_file(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("attnsim_bad_json_test.json"), std::string::npos);
  }
}

// The message a user sees for `text`, or "" if it parses.
std::string parse_error(const std::string& text) {
  try {
    parse_json(text, "m.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(JsonFile, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("{\n  \"runs\": [\n    {\"ms\": 1.5,}\n  ]\n}\n"),
            "m.json:3:16: invalid JSON: syntax error");
  const std::string truncated = parse_error("{\"a\": 1,\n");
  EXPECT_EQ(truncated.rfind("m.json:2:1: invalid JSON: ", 0), 0u) << truncated;
  EXPECT_EQ(parse_error("{\"a\": [1, 2]}"), "");
}

TEST(JsonFile, DuplicateKeysAreInputErrorsNamingThePath) {
  EXPECT_EQ(parse_error("{\"gpu\": \"h100\",\n \"gpu\": \"h200\"}"),
            "m.json:2:6: gpu: expected each key once in an object, got a second 'gpu'");
  const std::string nested =
      parse_error("{\"runs\": [{\"ms\": 1}, {\"ms\": 1, \"mask\": \"a\", \"ms\": 2}]}");
  EXPECT_NE(nested.find("runs[1].ms: expected each key once in an object"), std::string::npos)
      << nested;
  // Equal keys in sibling objects are fine.
  EXPECT_EQ(parse_error("[{\"ms\": 1}, {\"ms\": 2}]"), "");
}

}  // namespace
}  // namespace attnsim::common
