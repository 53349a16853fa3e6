#include "sim/common/yaml_reader.h"

#include <gtest/gtest.h>

#include "tests/support/input_error_of.h"

namespace attnsim::common {
namespace {

using attnsim::testing::input_error_of;

// The message a user sees for `text`, or "" if it loads and reads without error.

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
  EXPECT_EQ(input_error_of([&] { doc.child("tile").get<int>("q"); }),
            "k.yaml:2: tile.q: expected an integer, got 'big'");
}

TEST(YamlReader, MissingRequiredFieldIsNamed) {
  const auto doc = YamlReader::load_string(kKernel, "fa2.yaml");
  const std::string error = input_error_of([&] { doc.child("tile").get<int>("depth"); });
  EXPECT_NE(error.find("fa2.yaml"), std::string::npos) << error;
  EXPECT_NE(error.find("tile.depth: expected a value (required field), got nothing"),
            std::string::npos)
      << error;
}

TEST(YamlReader, NegativeForUnsignedAndFractionForIntAreRejected) {
  const auto doc = YamlReader::load_string("lanes: -1\nwidth: 2.5\n", "p.yaml");
  EXPECT_NE(input_error_of([&] { doc.get<unsigned>("lanes"); }), "");
  EXPECT_NE(input_error_of([&] { doc.get<int>("width"); }), "");
  EXPECT_DOUBLE_EQ(doc.get<double>("width"), 2.5);
}

TEST(YamlReader, UnknownKeysAreRejectedWithTheAllowedList) {
  const auto doc = YamlReader::load_string("tile_q: 64\ntlie_kv: 64\n", "k.yaml");
  const std::string error = input_error_of([&] { doc.reject_unknown_keys({"tile_q", "tile_kv"}); });
  EXPECT_NE(error.find("unknown key 'tlie_kv'"), std::string::npos) << error;
  EXPECT_NE(error.find("{tile_q, tile_kv}"), std::string::npos) << error;
  EXPECT_EQ(input_error_of([&] { doc.reject_unknown_keys({"tile_q", "tlie_kv"}); }), "");
}

TEST(YamlReader, SyntaxErrorsAndNonMappingsAreInputErrors) {
  EXPECT_NE(input_error_of([] {
              YamlReader::load_string("a: [1, 2\n", "broken.yaml");
            }).find("broken.yaml:"),
            std::string::npos);
  EXPECT_NE(
      input_error_of([] { YamlReader::load_string("", "empty.yaml"); }).find("empty document"),
      std::string::npos);
  EXPECT_NE(input_error_of([] { YamlReader::load_file("/nonexistent/x.yaml"); }).find("x.yaml"),
            std::string::npos);
}

TEST(YamlReader, DuplicateKeysNameBothLines) {
  EXPECT_EQ(input_error_of(
                [] { YamlReader::load_string("tile_q: 64\nhead_dim: 8\ntile_q: -5\n", "k.yaml"); }),
            "k.yaml:3: tile_q: expected each key once in a mapping, got a second 'tile_q' (the "
            "first is on line 1)");
  // Nested, and inside lists: the dotted path leads to the mapping.
  EXPECT_EQ(input_error_of([] { YamlReader::load_string("cost:\n  a: 1\n  a: 2\n", "k.yaml"); }),
            "k.yaml:3: cost.a: expected each key once in a mapping, got a second 'a' (the first "
            "is on line 2)");
  const std::string in_list = input_error_of(
      [] { YamlReader::load_string("runs:\n  - x: 1\n  - x: 1\n    y: 2\n    x: 3\n", "r.yaml"); });
  EXPECT_NE(in_list.find("r.yaml:5: runs[1].x: expected each key once"), std::string::npos)
      << in_list;
  // The same key in sibling mappings is fine.
  EXPECT_EQ(input_error_of([] { YamlReader::load_string("a: {x: 1}\nb: {x: 1}\n", "ok.yaml"); }),
            "");
}

TEST(YamlReader, KeysThatAreNotPlainScalarsAreInputErrorsWithTheirLine) {
  EXPECT_EQ(input_error_of([] { YamlReader::load_string("tile_q: 64\n[x]: 3\n", "k.yaml"); }),
            "k.yaml:2: <document>: expected keys that are plain scalars (name: value), got a "
            "list as a key");
  EXPECT_NE(input_error_of([] {
              YamlReader::load_string("cost:\n  {a: 1}: 3\n", "k.yaml");
            }).find("k.yaml:2: cost: expected keys that are plain scalars"),
            std::string::npos);
  EXPECT_NE(input_error_of([] {
              YamlReader::load_string("? [a, b]\n: 3\n", "k.yaml");
            }).find("a list as a key"),
            std::string::npos);
  EXPECT_NE(input_error_of([] {
              YamlReader::load_string("a: &n x\n*n : 3\n", "k.yaml");
            }).find("k.yaml:2: <document>: expected keys that are plain scalars"),
            std::string::npos);
  EXPECT_NE(
      input_error_of([] { YamlReader::load_string("~: 3\n", "k.yaml"); }).find("null as a key"),
      std::string::npos);
}

TEST(YamlReader, UnreadableFileNamesTheReason) {
  const std::string error =
      input_error_of([] { YamlReader::load_file(std::string(300, 'k') + ".yaml"); });
  EXPECT_NE(error.find("cannot open YAML file: File name too long"), std::string::npos) << error;
}

}  // namespace
}  // namespace attnsim::common
