// Shipped presets load and validate; bad presets are reported with file, line and field.
#include "sim/gpu/presets.h"

#include <gtest/gtest.h>

#include <fstream>

#include "sim/common/input_error.h"
#include "tests/support/input_error_of.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::gpu {
namespace {

using attnsim::testing::input_error_of;

namespace fs = std::filesystem;

const PresetDirs kShipped{ATTNSIM_GPU_PRESETS_SOURCE_DIR};

TEST(Presets, EveryShippedGpuAndKernelLoads) {
  EXPECT_EQ(preset_names("gpus", kShipped),
            (std::vector<std::string>{"a100", "b200", "h100", "h200"}));
  for (const std::string& name : preset_names("gpus", kShipped)) {
    EXPECT_TRUE(load_gpu(name, kShipped).validate().ok()) << name;
  }
  const std::vector<std::string> kernels = preset_names("kernels", kShipped);
  for (const char* required : {"flexattention", "fa2", "fa3", "block_sparse_attn"}) {
    EXPECT_NE(std::find(kernels.begin(), kernels.end(), required), kernels.end()) << required;
  }
  for (const std::string& name : kernels) {
    EXPECT_EQ(load_kernel(name, kShipped).name, name);
  }
}

TEST(Presets, KernelsCarryTheDocumentedScheduling) {
  const KernelSpec flex = load_kernel("flexattention", kShipped);
  EXPECT_EQ(flex.scheduler, "non_persistent");
  EXPECT_EQ(flex.launch_order.to_string(), "q,b,h");
  EXPECT_EQ(flex.ctas_per_sm, 1);
  EXPECT_EQ(flex.visit_rule, VisitRule::kListDriven);
  const KernelSpec fa3 = load_kernel("fa3", kShipped);
  EXPECT_EQ(fa3.scheduler, "dynamic_longest_first");
  EXPECT_EQ(fa3.dense_variant().scheduler, "static_persistent");
  EXPECT_EQ(fa3.dense_variant().tile_kv, 176);
  EXPECT_EQ(fa3.visit_rule, VisitRule::kRangeDriven);
  // block_sparse_attn inherits FA2's tiles and overrides the visit rule.
  const KernelSpec bsa = load_kernel("block_sparse_attn", kShipped);
  EXPECT_EQ(bsa.tile_kv, load_kernel("fa2", kShipped).tile_kv);
  EXPECT_EQ(bsa.visit_rule, VisitRule::kListDriven);
  // The project's sm_90a kernel on its flat grid (golden/hopper: Sm90KernelGeometry).
  const KernelSpec sm90 = load_kernel("sm90", kShipped);
  EXPECT_EQ(sm90.tile_q, 128);
  EXPECT_EQ(sm90.tile_kv, 128);
  EXPECT_EQ(sm90.ctas_per_sm, 1);
  EXPECT_EQ(sm90.scheduler, "non_persistent");
  EXPECT_EQ(sm90.launch_order.to_string(), "q,h,b");
  EXPECT_EQ(sm90.visit_rule, VisitRule::kListDriven);
  // Its persistent grid: the flat grid's costs, static round robin over each head's Q tiles
  // longest first.
  const KernelSpec persistent = load_kernel("sm90_persistent", kShipped);
  EXPECT_EQ(persistent.scheduler, "static_persistent");
  EXPECT_TRUE(persistent.launch_order.longest_first_q);
  EXPECT_EQ(persistent.launch_order.to_string(), "q,h,b");
  EXPECT_EQ(persistent.mma_efficiency, sm90.mma_efficiency);
  EXPECT_EQ(persistent.tile_kv, sm90.tile_kv);
  EXPECT_FALSE(sm90.launch_order.longest_first_q);
  EXPECT_EQ(load_gpu("h200", kShipped).sm_count, 132);
}

TEST(Presets, Sm90AutoIsSm90WithBothGridsToChooseFrom) {
  // bsattn-bench --grid auto: sm90's CTA code and calibrations; per mask the grid of sm90 or of
  // sm90_persistent (simulate() picks it).
  const KernelSpec sm90 = load_kernel("sm90", kShipped);
  const KernelSpec automatic = load_kernel("sm90_auto", kShipped);
  EXPECT_EQ(automatic.name, "sm90_auto");
  EXPECT_EQ(automatic.calibrated_as, "sm90");
  EXPECT_EQ(automatic.tile_q, sm90.tile_q);
  EXPECT_EQ(automatic.tile_kv, sm90.tile_kv);
  EXPECT_EQ(automatic.ctas_per_sm, sm90.ctas_per_sm);
  EXPECT_EQ(automatic.mask_evaluation, sm90.mask_evaluation);
  EXPECT_EQ(automatic.mma_efficiency, sm90.mma_efficiency);
  EXPECT_EQ(automatic.mask_op_efficiency, sm90.mask_op_efficiency);
  EXPECT_EQ(automatic.cta_overhead_us, sm90.cta_overhead_us);
  EXPECT_EQ(automatic.launch_overhead_us, sm90.launch_overhead_us);
  EXPECT_EQ(automatic.host_floor_us, sm90.host_floor_us);
  EXPECT_EQ(automatic.clock_headroom.size(), sm90.clock_headroom.size());
  EXPECT_FALSE(sm90.grid_choice.has_value());
  ASSERT_TRUE(automatic.grid_choice.has_value());
  const KernelSpec::GridChoice& grids = *automatic.grid_choice;
  EXPECT_EQ(grids.flat.preset, "sm90");
  EXPECT_EQ(grids.flat.scheduler, "non_persistent");
  EXPECT_EQ(grids.flat.launch_order.to_string(), "q,h,b");
  EXPECT_EQ(grids.persistent.preset, "sm90_persistent");
  EXPECT_EQ(grids.persistent.scheduler, "static_persistent");
  EXPECT_TRUE(grids.persistent.launch_order.longest_first_q);
  // On a grid it is that grid's preset, as far as scheduling goes.
  const KernelSpec persistent = load_kernel("sm90_persistent", kShipped);
  const KernelSpec on_persistent = automatic.on_grid(grids.persistent);
  EXPECT_EQ(on_persistent.scheduler, persistent.scheduler);
  EXPECT_EQ(on_persistent.launch_order.to_string(), persistent.launch_order.to_string());
  EXPECT_EQ(on_persistent.launch_order.longest_first_q, persistent.launch_order.longest_first_q);
  EXPECT_FALSE(on_persistent.grid_choice.has_value());
}

TEST(Presets, GridChoiceNamesAFlatAndAPersistentPresetWithOneGridEach) {
  attnsim::testing::ScratchDir scratch;
  fs::create_directories(scratch.path() / "kernels");
  const PresetDirs dirs{scratch.path(), ATTNSIM_GPU_PRESETS_SOURCE_DIR};
  const auto error_of = [&](const std::string& yaml) {
    std::ofstream(scratch.path() / "kernels" / "bad.yaml") << yaml;
    return input_error_of([&] { load_kernel("bad", dirs); });
  };
  std::string message = error_of("grid_choice: {flat: sm90_persistent, persistent: sm90}\n");
  EXPECT_NE(message.find("grid_choice.flat: expected a non_persistent preset"), std::string::npos)
      << message;
  EXPECT_NE(message.find("grid_choice.persistent: expected a static_persistent preset"),
            std::string::npos)
      << message;
  message = error_of("grid_choice: {flat: sm90, persistent: sm90_auto}\n");
  EXPECT_NE(message.find("expected a preset with one grid"), std::string::npos) << message;
  message = error_of("grid_choice: {flat: sm90, persistent: nope}\n");
  EXPECT_NE(message.find("unknown kernel preset 'nope'"), std::string::npos) << message;
  message = error_of("grid_choice: {flat: sm90, persistant: sm90_persistent}\n");
  EXPECT_NE(message.find("persistant"), std::string::npos) << message;
}

TEST(PresetsLongestFirst, NeedsQFirstAndNoReverse) {
  attnsim::testing::ScratchDir scratch;
  fs::create_directories(scratch.path() / "kernels");
  std::ofstream(scratch.path() / "kernels" / "bad.yaml")
      << "launch_order: h,q,b\nlongest_first_q: true\n";
  const std::string message = input_error_of([&] { load_kernel("bad", {scratch.path()}); });
  EXPECT_NE(message.find("longest_first_q: expected launch_order with q first"), std::string::npos)
      << message;
}

class PresetFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.path();
    fs::create_directories(dir_ / "kernels");
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "kernels" / (name + ".yaml")) << text;
  }
  attnsim::testing::ScratchDir scratch_;
  fs::path dir_;
};

TEST_F(PresetFiles, UnalignedWeightsLoadAndBadOnesNameTheirEntry) {
  const KernelSpec d64 = load_kernel("flexattention_d64", kShipped);
  ASSERT_EQ(d64.unaligned_weights.size(), 2u);
  EXPECT_EQ(d64.unaligned_weights[0].multiple_of, 64);
  EXPECT_DOUBLE_EQ(d64.unaligned_weights[0].weight, 0.35);
  write("bad",
        "unaligned_variant: true\ncost:\n  unaligned_weights:\n"
        "    - {multiple_of: 64, weight: 0.5}\n    - {multiple_of: 48, weight: -1}\n");
  const std::string message = input_error_of([&] { load_kernel("bad", {dir_}); });
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("cost.unaligned_weights[1].multiple_of: expected a power of two >= 2, "
                         "got 48"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("cost.unaligned_weights[1].weight"), std::string::npos) << message;
}

TEST_F(PresetFiles, ClockHeadroomLoadsAndBadEntriesNameTheirField) {
  // The sm90 kernel reaches the H200's power limit (its preset lists both head dims), the
  // flat and the persistent grid alike; FlexAttention does not (none listed: 1).
  for (const char* name : {"sm90", "sm90_persistent"}) {
    KernelSpec sm90 = load_kernel(name, kShipped);
    ASSERT_EQ(sm90.clock_headroom.size(), 2u) << name;
    EXPECT_GT(sm90.clock_headroom_ratio(), 1.0) << name;
    sm90.head_dim = 64;
    EXPECT_GT(sm90.clock_headroom_ratio(), 1.0) << name;
  }
  EXPECT_DOUBLE_EQ(load_kernel("flexattention", kShipped).clock_headroom_ratio(), 1.0);
  write("bad",
        "clock_headroom:\n  - {head_dim: 128, ratio: 1.2}\n  - {head_dim: 128, ratio: 0.9}\n");
  const std::string message = input_error_of([&] { load_kernel("bad", {dir_}); });
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("clock_headroom[1].ratio: expected a ratio in [1, 2]"), std::string::npos)
      << message;
  EXPECT_NE(message.find("clock_headroom[1].head_dim: expected a head dim listed once"),
            std::string::npos)
      << message;
  write("unknown", "clock_headroom:\n  - {head_dim: 128, clock: 1.2}\n");
  const std::string unknown = input_error_of([&] { load_kernel("unknown", {dir_}); });
  EXPECT_NE(unknown.find("clock"), std::string::npos) << unknown;
}

TEST_F(PresetFiles, UnmaskedCoveredRulesLoadAndAnUnknownNameIsNamed) {
  // The kernels whose tile_needs_mask skips tiles the window and prefix rules cover (both sm90
  // grids, golden); FlexAttention runs mask_mod on every PARTIAL tile. Packed documents are an
  // interval rule in the sm90 kernel (kDocumentRuns), not in golden's id test.
  for (const char* name : {"sm90", "sm90_persistent", "sm90_auto", "golden"}) {
    const KernelSpec kernel = load_kernel(name, kShipped);
    EXPECT_TRUE(kernel.runs_covered_tiles_unmasked("causal")) << name;
    EXPECT_TRUE(kernel.runs_covered_tiles_unmasked("prefix_lm")) << name;
    EXPECT_EQ(kernel.runs_covered_tiles_unmasked("document"), std::string(name) != "golden")
        << name;
  }
  EXPECT_FALSE(load_kernel("flexattention", kShipped).runs_covered_tiles_unmasked("causal"));
  write("bad", "unmasked_covered_rules: [causal, casual]\n");
  const std::string message = input_error_of([&] { load_kernel("bad", {dir_}); });
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("unmasked_covered_rules[1]: expected a mask rule name (mask_rules.md), "
                         "got 'casual'"),
            std::string::npos)
      << message;
}

TEST_F(PresetFiles, ItemOverheadRatioLoadsAndABadOneIsNamed) {
  // The persistent grid's item cost relative to the flat grid's calibrated one: measured 0.75
  // (sm90_persistent.yaml); the flat grid and sm90_auto's flat grid keep 1, its persistent grid
  // takes the persistent preset's.
  EXPECT_DOUBLE_EQ(load_kernel("sm90", kShipped).item_overhead_ratio, 1.0);
  EXPECT_DOUBLE_EQ(load_kernel("sm90_persistent", kShipped).item_overhead_ratio, 0.75);
  const KernelSpec choice = load_kernel("sm90_auto", kShipped);
  ASSERT_TRUE(choice.grid_choice.has_value());
  EXPECT_DOUBLE_EQ(choice.on_grid(choice.grid_choice->flat).item_overhead_ratio, 1.0);
  EXPECT_DOUBLE_EQ(choice.on_grid(choice.grid_choice->persistent).item_overhead_ratio, 0.75);
  EXPECT_DOUBLE_EQ(choice.on_grid(choice.grid_choice->persistent).item_us(4.0), 3.0);
  write("bad", "item_overhead_ratio: 0\n");
  const std::string message = input_error_of([&] { load_kernel("bad", {dir_}); });
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("item_overhead_ratio: expected a ratio in (0, 2]"), std::string::npos)
      << message;
}

TEST_F(PresetFiles, NeighborhoodOpsLoadAndBadOnesNameTheirField) {
  // FlexAttention d128 carries the op counts of its SASS (flexattention.yaml); d64 the defaults.
  const KernelSpec d128 = load_kernel("flexattention", kShipped);
  EXPECT_DOUBLE_EQ(d128.neighborhood_ops.dims[0], 0.0);
  EXPECT_DOUBLE_EQ(d128.neighborhood_ops.dims[1], 2.83);
  EXPECT_DOUBLE_EQ(d128.neighborhood_ops.dims[2], 6.44);
  EXPECT_DOUBLE_EQ(d128.neighborhood_ops.dilated_dim, 2.99);
  EXPECT_DOUBLE_EQ(d128.neighborhood_ops.non_pow2_extent, 0.8);
  const KernelSpec d64 = load_kernel("flexattention_d64", kShipped);
  EXPECT_DOUBLE_EQ(d64.neighborhood_ops.dims[2], 9.8);
  EXPECT_DOUBLE_EQ(d64.neighborhood_ops.dilated_dim, 4.2);
  write("short", "cost:\n  neighborhood_ops:\n    dims: [1, 2]\n");
  std::string message = input_error_of([&] { load_kernel("short", {dir_}); });
  EXPECT_NE(message.find("short.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("dims: expected a list of 3 numbers (1-D, 2-D, 3-D), got 2 entries"),
            std::string::npos)
      << message;
  write("negative", "cost:\n  neighborhood_ops:\n    dilated_dim: -1\n");
  message = input_error_of([&] { load_kernel("negative", {dir_}); });
  EXPECT_NE(message.find("cost.neighborhood_ops.dilated_dim: expected a non-negative number"),
            std::string::npos)
      << message;
  write("typo", "cost:\n  neighborhood_ops:\n    dilation_dim: 1\n");
  message = input_error_of([&] { load_kernel("typo", {dir_}); });
  EXPECT_NE(message.find("dilation_dim"), std::string::npos) << message;
}

TEST_F(PresetFiles, PrecomputedNeighborhoodOpsLoadAndBadOnesNameTheirField) {
  // The probe's numbers (sm90.yaml, golden.yaml); sm90's grids inherit them; NATTEN has none.
  const KernelSpec sm90 = load_kernel("sm90", kShipped);
  EXPECT_DOUBLE_EQ(sm90.precomputed_neighborhood.word_ops_per_dim, 1.2);
  ASSERT_TRUE(sm90.precomputed_neighborhood.interval_1d_ops.has_value());
  EXPECT_DOUBLE_EQ(*sm90.precomputed_neighborhood.interval_1d_ops, 3.5);
  EXPECT_DOUBLE_EQ(
      load_kernel("sm90_persistent", kShipped).precomputed_neighborhood.word_ops_per_dim, 1.2);
  const KernelSpec golden = load_kernel("golden", kShipped);
  EXPECT_DOUBLE_EQ(golden.precomputed_neighborhood.word_ops_per_dim, 1.1);
  EXPECT_FALSE(golden.precomputed_neighborhood.interval_1d_ops.has_value());
  EXPECT_DOUBLE_EQ(load_kernel("natten", kShipped).precomputed_neighborhood.word_ops_per_dim, 0.0);
  write("negative", "cost:\n  precomputed_neighborhood:\n    interval_1d_ops: -1\n");
  std::string message = input_error_of([&] { load_kernel("negative", {dir_}); });
  EXPECT_NE(message.find("negative.yaml"), std::string::npos) << message;
  EXPECT_NE(
      message.find("cost.precomputed_neighborhood.interval_1d_ops: expected a non-negative number"),
      std::string::npos)
      << message;
  write("typo", "cost:\n  precomputed_neighborhood:\n    word_ops: 1\n");
  message = input_error_of([&] { load_kernel("typo", {dir_}); });
  EXPECT_NE(message.find("word_ops"), std::string::npos) << message;
}

TEST_F(PresetFiles, NegativeTileSizesAreRejectedWithTheField) {
  write("bad", "tile_q: -64\ntile_kv: 0\n");
  const std::string message = input_error_of([&] { load_kernel("bad", {dir_}); });
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("tile_q: expected a value in [1, 65536], got -64"), std::string::npos)
      << message;
  EXPECT_NE(message.find("tile_kv: expected a value in [1, 65536], got 0"), std::string::npos)
      << message;
}

TEST_F(PresetFiles, TyposAndBadEnumsNameFileLineAndField) {
  write("typo", "tile_q: 128\ntile_kvv: 64\n");
  EXPECT_NE(input_error_of([&] { load_kernel("typo", {dir_}); }).find("typo.yaml:2: tile_kvv"),
            std::string::npos);
  write("rule", "visit_rule: sometimes\n");
  EXPECT_NE(input_error_of([&] {
              load_kernel("rule", {dir_});
            }).find("visit_rule: expected one of list, range, got 'sometimes'"),
            std::string::npos);
  write("sched", "scheduler: fifo\n");
  EXPECT_NE(
      input_error_of([&] { load_kernel("sched", {dir_}); }).find("scheduler: expected one of"),
      std::string::npos);
}

TEST_F(PresetFiles, UnknownPresetsListTheKnownOnes) {
  const std::string message = input_error_of([&] { load_gpu("h300", kShipped); });
  EXPECT_NE(message.find("unknown gpu preset 'h300' (known: a100, b200, h100, h200"),
            std::string::npos)
      << message;
  EXPECT_NE(
      input_error_of([&] { load_kernel("fa4", kShipped); }).find("unknown kernel preset 'fa4'"),
      std::string::npos);
}

TEST_F(PresetFiles, BadInheritsNamesTheFileAndLineHoldingIt) {
  write("child", "tile_q: 64\ninherits: fa9\n");
  const std::string unknown = input_error_of([&] { load_kernel("child", {dir_}); });
  EXPECT_NE(unknown.find("child.yaml:2: inherits: unknown kernel preset 'fa9'"), std::string::npos)
      << unknown;
  write("long", "inherits: " + std::string(300, 'x') + ".yaml\n");
  const std::string too_long = input_error_of([&] { load_kernel("long", {dir_}); });
  EXPECT_NE(too_long.find("long.yaml:1: inherits: cannot open kernel file"), std::string::npos)
      << too_long;
  EXPECT_NE(too_long.find("File name too long"), std::string::npos) << too_long;
}

TEST_F(PresetFiles, DuplicateAndNonScalarKeysNameFileAndLine) {
  write("dup", "tile_q: 64\ntile_kv: 64\ntile_q: -5\n");
  EXPECT_NE(input_error_of([&] {
              load_kernel("dup", {dir_});
            }).find("dup.yaml:3: tile_q: expected each key once in a mapping"),
            std::string::npos);
  write("listkey", "tile_q: 64\n[x]: 3\n");
  EXPECT_NE(input_error_of([&] {
              load_kernel("listkey", {dir_});
            }).find("listkey.yaml:2: <document>: expected keys that are plain scalars"),
            std::string::npos);
}

TEST_F(PresetFiles, OverlongPresetNamesAreInputErrors) {
  const std::string name(300, 'k');
  EXPECT_NE(
      input_error_of([&] { load_kernel(name, {dir_}); }).find("--kernel: unknown kernel preset"),
      std::string::npos);
  const std::string message = input_error_of([&] { load_gpu(name + "/x.yaml", {dir_}); });
  EXPECT_NE(message.find("--gpu: cannot open gpu file"), std::string::npos) << message;
}

}  // namespace
}  // namespace attnsim::gpu
