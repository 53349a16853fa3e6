#include "sim/gpu/mask_rule.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/common/input_error.h"

namespace attnsim::gpu {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_mask_rule(text, "m.npz", "rule");
  } catch (const common::InputError& e) {
    return e.what();
  }
  return "";
}

TEST(MaskRule, ParsesNameAndParametersAndWritesThemInKeyOrder) {
  const MaskRule rule = parse_mask_rule("band,right=300,left=200", "m.npz", "rule");
  EXPECT_EQ(rule.name, "band");
  EXPECT_EQ(rule.params.at("left"), "200");
  EXPECT_EQ(rule.params.at("right"), "300");
  EXPECT_EQ(rule.text(), "band,left=200,right=300");
  EXPECT_EQ(parse_mask_rule(rule.text(), "x", "y"), rule);
}

TEST(MaskRule, EveryDocumentedRuleParses) {
  for (const char* text :
       {"allow", "causal", "causal_window,window=1024", "band,left=3,right=0",
        "sliding_window,window=5", "sliding_window,dilation=2,stride=1,window=5",
        "gna,dims=8x8,window=3", "gna,dilation=1,dims=8x8,stride=1x1,tile=4x4,window=3x3",
        "document,lengths=100x28", "document,causal=0,lengths=1x2/3", "prefix_lm,prefix=17",
        "a_shape,sinks=4,window=64", "custom"}) {
    EXPECT_EQ(parse_mask_rule(text, "s", "rule").text(), text);
  }
}

TEST(MaskRule, UnknownNameIsAnInputErrorListingTheNames) {
  const std::string error = error_of("diagonal,window=3");
  EXPECT_NE(error.find("m.npz: rule: expected a rule"), std::string::npos) << error;
  EXPECT_NE(error.find("prefix_lm"), std::string::npos) << error;
  EXPECT_NE(error.find("'diagonal,window=3'"), std::string::npos) << error;
  EXPECT_NE(error_of(""), "");
}

TEST(MaskRule, UnknownKeyIsAnInputError) {
  const std::string error = error_of("causal_window,window=4,left=3");
  EXPECT_NE(error.find("unknown key 'left'"), std::string::npos) << error;
  EXPECT_NE(error_of("causal,window=3"), "");
  EXPECT_NE(error_of("document,lengths=4,doc_mean=3"), "");  // gen-only keys are not rule keys
}

TEST(MaskRule, MalformedItemsAreInputErrors) {
  for (const char* text :
       {"band,left=1,right", "band,left=1,,right=2", "band,=1,right=2", "band,left=,right=2",
        "band,left=1=2,right=2", "causal,", "band,left=1,left=2,right=3"}) {
    EXPECT_NE(error_of(text), "") << text;
  }
  EXPECT_NE(error_of("band,left=1,right").find("'right'"), std::string::npos);
}

TEST(MaskRule, MissingRequiredKeyIsAnInputError) {
  EXPECT_NE(error_of("band,left=3").find("'right'"), std::string::npos);
  EXPECT_NE(error_of("prefix_lm"), "");
  EXPECT_NE(error_of("document,causal=1"), "");
}

}  // namespace
}  // namespace attnsim::gpu
