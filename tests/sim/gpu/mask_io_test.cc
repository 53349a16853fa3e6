// Mask files: round trips in both layouts, and every malformed input named precisely.
#include "sim/gpu/mask_io.h"

#include <gtest/gtest.h>

#include <fstream>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"
#include "sim/common/memory_limit.h"
#include "sim/common/npy.h"
#include "sim/gpu/mask_formats.h"
#include "sim/gpu/patterns/pattern.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::gpu {
namespace {

namespace fs = std::filesystem;
using common::NpyArray;
using common::NpzWriter;

class MaskFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = scratch_.path(); }
  std::string error_reading(const fs::path& path) {
    try {
      read_mask(path);
    } catch (const common::InputError& e) {
      return e.what();
    }
    return "(no error)";
  }
  // A flex-layout file with one array replaced.
  fs::path flex_with(const std::string& name, const NpyArray& array) {
    const fs::path path = dir_ / ("flex_" + name + ".npz");
    write_mask(path, sample_, MaskFileFormat::kFlexBlockMask);
    NpzWriter npz(path);
    const common::NpzReader original(path);
    for (const std::string& n : original.names()) npz.add(n, original.get(n));
    npz.add(name, array);
    npz.commit();
    return path;
  }
  attnsim::testing::ScratchDir scratch_;
  fs::path dir_;
  BlockLayout sample_ = generate_pattern(make_pattern_spec(
      "causal_window", {{"seq", "1000"}, {"window", "300"}, {"heads", "2"}}, "test"));
};

TEST_F(MaskFiles, BothLayoutsRoundTripExactly) {
  write_mask(dir_ / "a.npz", sample_, MaskFileFormat::kDenseBlocks);
  write_mask(dir_ / "b.npz", sample_, MaskFileFormat::kFlexBlockMask);
  EXPECT_EQ(read_mask(dir_ / "a.npz"), sample_);
  EXPECT_EQ(read_mask(dir_ / "b.npz"), sample_);
  EXPECT_EQ(read_mask(dir_ / "a.npz").geometry.seq_q, 1000);
}

TEST_F(MaskFiles, ThreeDimensionalDenseArraysMeanOneBatch) {
  NpzWriter npz(dir_ / "h.npz");
  npz.add("full", NpyArray::from<bool>({2, 1, 2}, {true, false, false, true}));
  npz.commit();
  const BlockLayout layout = read_mask(dir_ / "h.npz");
  EXPECT_EQ(layout.geometry.batch, 1);
  EXPECT_EQ(layout.geometry.heads, 2);
  EXPECT_EQ(layout.geometry.seq_kv, 256);
  EXPECT_EQ(layout.block_class(1, 1), BlockClass::kFull);
}

TEST_F(MaskFiles, TruncatedAndCorruptArchivesAreNamed) {
  write_mask(dir_ / "a.npz", sample_, MaskFileFormat::kDenseBlocks);
  std::string bytes = common::read_file(dir_ / "a.npz");
  std::ofstream(dir_ / "truncated.npz", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_NE(error_reading(dir_ / "truncated.npz").find("truncated.npz"), std::string::npos);
  std::ofstream(dir_ / "garbage.npz", std::ios::binary) << "this is not a zip file";
  EXPECT_NE(error_reading(dir_ / "garbage.npz").find("garbage.npz: npz archive"),
            std::string::npos);
  EXPECT_NE(error_reading(dir_ / "missing.npz").find("file not found"), std::string::npos);
}

TEST_F(MaskFiles, WrongDtypesAndShapesAreNamed) {
  NpzWriter floats(dir_ / "float.npz");
  floats.add("full", NpyArray::from<float>({1, 2, 2}, {1, 0, 0, 1}));
  floats.commit();
  EXPECT_EQ(
      error_reading(dir_ / "float.npz"),
      (dir_ / "float.npz").string() + ": array 'full': expected dtype bool or uint8, got float32");
  NpzWriter flat(dir_ / "flat.npz");
  flat.add("partial", NpyArray::from<bool>({4}, {true, false, false, true}));
  flat.commit();
  EXPECT_NE(error_reading(dir_ / "flat.npz")
                .find("array 'partial': expected shape [B, H, NQ, NK] or [H, NQ, NK], got [4]"),
            std::string::npos);
  const fs::path float_indices =
      flex_with("kv_indices", NpyArray::from<float>({1, 2, 8, 8}, std::vector<float>(128, 0)));
  EXPECT_NE(error_reading(float_indices).find("array 'kv_indices': expected an integer dtype"),
            std::string::npos);
  const fs::path short_counts = flex_with(
      "kv_num_blocks", NpyArray::from<std::int32_t>({1, 2, 7}, std::vector<std::int32_t>(14, 1)));
  EXPECT_NE(error_reading(short_counts).find("array 'kv_num_blocks': expected shape [1, 2, 8]"),
            std::string::npos);
  NpzWriter neither(dir_ / "neither.npz");
  neither.add("scores", NpyArray::from<float>({2}, {1, 2}));
  neither.commit();
  EXPECT_NE(error_reading(dir_ / "neither.npz").find("got scores"), std::string::npos);
}

TEST_F(MaskFiles, EmptyAxesAreRejectedNotDividedBy) {
  NpzWriter empty(dir_ / "empty.npz");
  empty.add("full", NpyArray::from<bool>({1, 1, 0, 0}, {}));
  empty.commit();
  EXPECT_NE(
      error_reading(dir_ / "empty.npz")
          .find("array 'full': expected every axis of length 1 or more, got shape [1, 1, 0, 0]"),
      std::string::npos);
  NpzWriter no_heads(dir_ / "no_heads.npz");
  no_heads.add("kv_num_blocks", NpyArray::from<std::int32_t>({1, 0, 2}, {}));
  no_heads.add("kv_indices", NpyArray::from<std::int32_t>({1, 0, 2, 2}, {}));
  no_heads.commit();
  EXPECT_NE(error_reading(dir_ / "no_heads.npz").find("expected every axis of length 1 or more"),
            std::string::npos);
}

TEST_F(MaskFiles, IndicesOutOfRangeAndCountsAboveNkAreNamed) {
  std::vector<std::int32_t> indices(2 * 8 * 8, 0);
  indices[0] = 8;
  const fs::path bad_index = flex_with("kv_indices", NpyArray::from({1, 2, 8, 8}, indices));
  EXPECT_NE(error_reading(bad_index).find(
                "array 'kv_indices' at [0, 0, 0, 0]: expected a kv block index in [0, 8), "
                "got 8"),
            std::string::npos)
      << error_reading(bad_index);
  std::vector<std::int32_t> counts(2 * 8, 0);
  counts[3] = 9;
  const fs::path big_count = flex_with("kv_num_blocks", NpyArray::from({1, 2, 8}, counts));
  EXPECT_NE(error_reading(big_count).find(
                "array 'kv_num_blocks' at [0, 0, 3]: expected a block count in [0, 8]"),
            std::string::npos)
      << error_reading(big_count);
}

TEST_F(MaskFiles, SequenceLengthsMustFitTheBlocks) {
  const fs::path bad_seq =
      flex_with("seq_lengths", NpyArray::from<std::int64_t>({2}, {5000, 1000}));
  EXPECT_NE(error_reading(bad_seq).find("array 'seq_lengths'[0]: expected a length in (896, 1024]"),
            std::string::npos)
      << error_reading(bad_seq);
}

TEST_F(MaskFiles, WritingIsAtomic) {
  // A folder that does not exist: the write fails and leaves nothing behind.
  EXPECT_THROW(write_mask(dir_ / "no" / "m.npz", sample_, MaskFileFormat::kDenseBlocks),
               std::exception);
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(MaskFiles, WritingAMaskPastTheMemoryLimitIsAnInputErrorAndWritesNothing) {
  // Both formats hold B x H x NQ x NK entries however sparse the mask (a 1M-token, 64-head mask
  // took 22 GB to write in the dense one): checked before anything is built. The sample has
  // 2 x 8 x 8 = 128 entries: 640 bytes to write densely, 3584 as a BlockMask.
  common::set_max_memory_bytes(1000);
  write_mask(dir_ / "dense.npz", sample_, MaskFileFormat::kDenseBlocks);
  std::string message;
  try {
    write_mask(dir_ / "flex.npz", sample_, MaskFileFormat::kFlexBlockMask);
  } catch (const common::InputError& e) {
    message = e.what();
  }
  common::set_max_memory_bytes(0);
  EXPECT_NE(message.find((dir_ / "flex.npz").string()), std::string::npos) << message;
  EXPECT_NE(message.find("2 x 8 x 8"), std::string::npos) << message;
  EXPECT_NE(message.find("3584 bytes"), std::string::npos) << message;
  EXPECT_TRUE(fs::exists(dir_ / "dense.npz"));
  EXPECT_FALSE(fs::exists(dir_ / "flex.npz"));
}

TEST_F(MaskFiles, TheRuleRoundTripsInBothLayoutsAndIsApplied) {
  const BlockLayout layout = generate_pattern(make_pattern_spec(
      "document", {{"seq", "1000"}, {"heads", "2"}, {"batch", "2"}, {"lengths", "300x700/999x1"}},
      "test"));
  ASSERT_TRUE(layout.rule.has_value());
  for (const MaskFileFormat format :
       {MaskFileFormat::kDenseBlocks, MaskFileFormat::kFlexBlockMask}) {
    const fs::path path = dir_ / "doc.npz";
    write_mask(path, layout, format);
    const common::NpzReader npz(path);
    EXPECT_EQ(npz.get("rule").dtype, common::DType::kUnicode);
    EXPECT_EQ(npz.get("rule").to_text("p", "rule"), "document,causal=1,lengths=300x700/999x1");
    // Without allowed_pairs in the file, the rule alone gives the exact counts back.
    NpzWriter stripped(dir_ / "stripped.npz");
    for (const std::string& n : npz.names()) {
      if (n != "allowed_pairs") stripped.add(n, npz.get(n));
    }
    stripped.commit();
    EXPECT_EQ(read_mask(dir_ / "stripped.npz"), layout);
    EXPECT_EQ(read_mask(path), layout);
  }
}

TEST_F(MaskFiles, NattensPaddedLayoutRoundTripsWithItsTiling) {
  // Q 4x4 / KV 2x8 tiles over 33x20 tokens in dilation groups 2x3, one causal dimension: the
  // tiling (Q and KV tile shapes, dilation groups) comes back and still fits the geometry.
  const BlockLayout layout = generate_pattern(make_pattern_spec("gna",
                                                                {{"dims", "33x20"},
                                                                 {"window", "9x6"},
                                                                 {"dilation", "2x3"},
                                                                 {"causal", "1x0"},
                                                                 {"stride", "3x2"},
                                                                 {"q_tile", "4x4"},
                                                                 {"kv_tile", "2x8"}},
                                                                "test"));
  ASSERT_TRUE(layout.tiling.has_value());
  EXPECT_EQ(layout.geometry.seq_q, 960);   // 2 x 5 x 4 by 3 x 2 x 4
  EXPECT_EQ(layout.geometry.seq_kv, 864);  // 2 x 9 x 2 by 3 x 1 x 8
  for (const MaskFileFormat format :
       {MaskFileFormat::kDenseBlocks, MaskFileFormat::kFlexBlockMask}) {
    const fs::path path = dir_ / "natten.npz";
    write_mask(path, layout, format);
    const BlockLayout back = read_mask(path);
    EXPECT_EQ(back, layout);
    ASSERT_TRUE(back.tiling.has_value());
    EXPECT_EQ(*back.tiling, *layout.tiling);
    EXPECT_EQ(back.tiling->dilation, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(back.tiling->q_tile(), (std::vector<std::int64_t>{4, 4}));
    // Tiles that no longer fit the geometry are named.
    NpzWriter npz(path);
    const common::NpzReader original(path);
    for (const std::string& n : original.names()) npz.add(n, original.get(n));
    npz.add("tile_dilation", NpyArray::from<std::int64_t>({2}, {1, 3}));
    npz.commit();
    EXPECT_NE(error_reading(path).find("arrays 'token_dims' and 'tile_dims'"), std::string::npos)
        << error_reading(path);
  }
}

TEST_F(MaskFiles, ARuleThatMasksAFullBlockIsAnInputErrorNamingTheBlock) {
  // Dense blocks: every block FULL, but the rule is causal.
  const BlockLayout dense = generate_pattern(make_pattern_spec("dense", {{"seq", "512"}}, "t"));
  const fs::path path = dir_ / "bad.npz";
  write_mask(path, dense, MaskFileFormat::kDenseBlocks);
  NpzWriter npz(path);
  const common::NpzReader original(path);
  for (const std::string& n : original.names()) npz.add(n, original.get(n));
  npz.add("rule", NpyArray::from_text("causal"));
  npz.commit();
  EXPECT_EQ(error_reading(path).rfind(path.string() + ": rule: expected FULL blocks that rule "
                                                      "'causal' allows entirely",
                                      0),
            0u)
      << error_reading(path);
  EXPECT_NE(error_reading(path).find("(batch 0, head 0, q block 0, kv block 0)"),
            std::string::npos);
  // A malformed rule is named as the array.
  npz.add("rule", NpyArray::from_text("causal,window=3"));
  npz.commit();
  EXPECT_NE(error_reading(path).find(path.string() + ": array 'rule': "), std::string::npos)
      << error_reading(path);
}

}  // namespace
}  // namespace attnsim::gpu
