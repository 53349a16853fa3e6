#include "sim/common/yaml_reader.h"

#include <gtest/gtest.h>

namespace attnsim::common {
namespace {

// The message a user sees for `text`, or "" if it loads and reads without error.
template <typename Body>
std::string error_of(Body body) {
  try {
    body();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const char* kKernel =
    "name: fa2\n"
    "tile:\n"
    "  q: 128\n"
    "  kv: 64\n"
    "persistent: false\n"
    "ctas_per_sm: [1, 2]\n";

TEST(YamlReader, ReadsNestedScalarsAndLists) {
  const auto doc = YamlReader::load_string(kKernel, "fa2.yaml");
  EXPECT_EQ(doc.get<std::string>("name"), "fa2");
  EXPECT_EQ(doc.child("tile").get<int>("kv"), 64);
  EXPECT_FALSE(doc.get<bool>("persistent"));
  EXPECT_EQ(doc.get_or<int>("head_dim", 128), 128);
  const auto items = doc.list("ctas_per_sm");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].as<int>(), 2);
  EXPECT_EQ(items[1].path(), "ctas_per_sm[1]");
}

TEST(YamlReader, WrongTypeNamesFileLineFieldAndExpectation) {
  const auto doc = YamlReader::load_string("tile:\n  q: big\n", "k.yaml");
  EXPECT_EQ(error_of([&] { doc.child("tile").get<int>("q"); }),
            "k.yaml:2: tile.q: expected an integer, got 'big'");
}

TEST(YamlReader, MissingRequiredFieldIsNamed) {
  const auto doc = YamlReader::load_string(kKernel, "fa2.yaml");
  const std::string error = error_of([&] { doc.child("tile").get<int>("depth"); });
  EXPECT_NE(error.find("fa2.yaml"), std::string::npos) << error;
  EXPECT_NE(error.find("tile.depth: expected a value (required field), got nothing"),
            std::string::npos)
      << error;
}

TEST(YamlReader, NegativeForUnsignedAndFractionForIntAreRejected) {
  const auto doc = YamlReader::load_string("lanes: -1\nwidth: 2.5\n", "p.yaml");
  EXPECT_NE(error_of([&] { doc.get<unsigned>("lanes"); }), "");
  EXPECT_NE(error_of([&] { doc.get<int>("width"); }), "");
  EXPECT_DOUBLE_EQ(doc.get<double>("width"), 2.5);
}

TEST(YamlReader, UnknownKeysAreRejectedWithTheAllowedList) {
  const auto doc = YamlReader::load_string("tile_q: 64\ntlie_kv: 64\n", "k.yaml");
  const std::string error = error_of([&] { doc.reject_unknown_keys({"tile_q", "tile_kv"}); });
  EXPECT_NE(error.find("unknown key 'tlie_kv'"), std::string::npos) << error;
  EXPECT_NE(error.find("{tile_q, tile_kv}"), std::string::npos) << error;
  EXPECT_EQ(error_of([&] { doc.reject_unknown_keys({"tile_q", "tlie_kv"}); }), "");
}

TEST(YamlReader, SyntaxErrorsAndNonMappingsAreInputErrors) {
  EXPECT_NE(
      error_of([] { YamlReader::load_string("a: [1, 2\n", "broken.yaml"); }).find("broken.yaml:"),
      std::string::npos);
  EXPECT_NE(error_of([] { YamlReader::load_string("", "empty.yaml"); }).find("empty document"),
            std::string::npos);
  EXPECT_NE(error_of([] { YamlReader::load_file("/nonexistent/x.yaml"); }).find("x.yaml"),
            std::string::npos);
}

}  // namespace
}  // namespace attnsim::common
