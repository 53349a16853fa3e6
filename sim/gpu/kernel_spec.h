// KernelSpec: how an attention kernel tiles, visits, masks and schedules its work.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/validation.h"
#include "sim/gpu/launch_order.h"

namespace attnsim::gpu {

/// Which kernel tiles a work item (one CTA's Q tile) computes.
enum class VisitRule {
  kListDriven,   ///< only non-empty tiles (FlexAttention, Block-Sparse-Attention, MInference)
  kRangeDriven,  ///< every tile between the first and last non-empty one (FA2/FA3 causal/local)
};

/// When a kernel pays for element-wise masking.
enum class MaskingRule {
  kPerTile,         ///< partial tiles masked, full tiles not (FlexAttention's two block lists)
  kGlobalFastPath,  ///< one decision per problem: any partial tile makes every tile masked
  kAlwaysMask,      ///< every tile masked
};

/// How a kernel evaluates a mask rule on a masked tile.
enum class MaskEvaluation {
  kExpression,   ///< the rule's expression on every element (FlexAttention's mask_mod)
  kPrecomputed,  ///< per-row and per-column values precomputed, a fixed test per element (golden)
};

std::string to_string(VisitRule rule);
std::string to_string(MaskEvaluation evaluation);
std::optional<MaskEvaluation> parse_mask_evaluation(const std::string& text);
std::string to_string(MaskingRule rule);
std::optional<VisitRule> parse_visit_rule(const std::string& text);
std::optional<MaskingRule> parse_masking_rule(const std::string& text);

/// Bytes per element of a named dtype (bf16, fp16, fp8, fp32); 0 when unknown.
int dtype_bytes(const std::string& dtype);

/// One kernel. The cost-model defaults are used until a calibration replaces them.
struct KernelSpec {
  std::string name;
  std::int64_t tile_q = 128;
  std::int64_t tile_kv = 128;
  VisitRule visit_rule = VisitRule::kListDriven;
  MaskingRule masking_rule = MaskingRule::kPerTile;
  std::string scheduler = "non_persistent";  ///< a name known to make_scheduler()
  LaunchOrder launch_order;
  int ctas_per_sm = 1;
  std::int64_t head_dim = 128;
  std::string dtype = "bf16";
  int q_heads_per_kv_head = 1;  ///< GQA group size (1 = multi-head attention)
  /// The kernel compiles a bounds-checked variant, slower on every tile, when a sequence length
  /// is not a multiple of its tile (FlexAttention: Triton's IS_DIVISIBLE).
  bool unaligned_variant = false;
  MaskEvaluation mask_evaluation = MaskEvaluation::kExpression;
  /// Another preset whose calibrations this kernel accepts: the same CTA code on another grid
  /// (sm90_persistent: sm90's), so tile and per-item costs carry over and only the schedule
  /// differs. Empty: only calibrations fitted for this kernel's own name.
  std::string calibrated_as;
  /// A work item's fixed cost on this kernel's grid over the cost model's per-item cost (cta_us,
  /// which calibrations fit on the grid they were measured on). A persistent CTA that moves to its
  /// next item pays less than a new CTA of the flat grid (no block launch, the next item's loads
  /// issued while the last one drains): sm90_persistent takes sm90's calibrations with a ratio
  /// fitted on the persistent grid's runs (its preset says which). 1: the calibrated cost.
  double item_overhead_ratio = 1.0;
  /// A cost model's per-item cost (CostParams::cta_us) on this kernel's grid.
  double item_us(double cta_us) const { return cta_us * item_overhead_ratio; }

  /// One grid of a kernel that has two (grid_choice): the scheduling fields of the preset that
  /// models that grid, which replace this kernel's for a launch on it.
  struct Grid {
    std::string preset;  ///< the preset it is read from (sm90, sm90_persistent)
    std::string scheduler;
    LaunchOrder launch_order;
    std::optional<std::string> dense_scheduler;
    double item_overhead_ratio = 1.0;
  };
  /// A kernel that picks its grid per mask and head dim on the host, before launching: the sm90
  /// kernel's `bsattn-bench --grid auto`, whose estimate (sim/gpu/schedulers/sm90_grid_choice.h)
  /// simulate() makes on the mask before simulating the launch on the grid it picks. Both grids
  /// run this kernel's CTA code: only their scheduling fields differ (sm90_auto: the presets sm90
  /// and sm90_persistent). Absent: the kernel has one grid, its own fields'.
  struct GridChoice {
    Grid flat;        ///< one CTA per item, dispatched in launch order to the first free SM
    Grid persistent;  ///< one CTA per SM, each head's items longest first, round robin
  };
  std::optional<GridChoice> grid_choice;
  /// This kernel on one of its grids: that grid's scheduling fields, and no choice left.
  KernelSpec on_grid(const Grid& grid) const;

  // Uncalibrated cost model (see cost_model.h).
  double mma_efficiency = 0.5;       ///< fraction of the per-SM peak a full tile runs at
  double mask_op_efficiency = 0.25;  ///< fraction of the SM's INT32 rate mask rules run at
  double cta_overhead_us = 2.0;      ///< per work item: prologue, Q load, epilogue
  double launch_overhead_us = 10.0;  ///< per kernel launch
  double host_floor_us = 0.0;        ///< shortest time per launch, back to back (host dispatch)
  double unaligned_tile_cost_ratio = 0.0;  ///< unaligned variant: extra per tile / full tile
  /// Unaligned variant: a masked tile's mask work (masked path and rule) times this. Measured on
  /// FlexAttention (H200, 2026-12-02 flex-costs probe): bounds-checked index arithmetic costs
  /// about 1.85x the aligned mask work, for every rule with a token predicate.
  double unaligned_mask_factor = 1.0;
  /// Unaligned variant: how much of its cost (unaligned_tile_us, and unaligned_mask_factor's
  /// excess over 1) a launch pays when both lengths are multiples of `multiple_of` (the largest
  /// listed one that divides both applies; none: all of it). Triton proves alignment from the
  /// constant lengths: FlexAttention d64 pays a third of the bounds-check cost when the lengths
  /// are multiples of 64 (the 2026-12-02 unaligned sweep, H200).
  struct UnalignedWeight {
    std::int64_t multiple_of = 0;
    double weight = 1.0;
  };
  std::vector<UnalignedWeight> unaligned_weights;
  /// Per-element operations of the neighborhood rules (sliding_window, gna) by the shape of their
  /// mask code, in the units of cost_model.cc's op counts (the masked path is 1.6): a base per
  /// number of dimensions, plus per dilated dimension, per dilation and per grid extent that is
  /// not a power of two. The code a compiler makes of one rule differs between kernel
  /// configurations (registers per thread, spills, rows and columns each thread holds), so a
  /// kernel may carry its own, measured from its SASS (attnsim.flex_sass); the defaults are the
  /// 2026-12-02 op counts fitted to FlexAttention timings.
  struct NeighborhoodOps {
    std::array<double, 3> dims{0.8, 4.2, 9.8};  ///< 1-D, 2-D, 3-D
    double dilated_dim = 4.2;
    double non_pow2_dilation = 1.6;
    double non_pow2_extent = 1.6;  ///< gna only (1-D windows have no grid)
  };
  NeighborhoodOps neighborhood_ops;
  /// Kernels that precompute their rules (mask_evaluation: precomputed): what a neighborhood
  /// rule's masked tile costs per element, in the units of cost_model.cc's kPrecomputedOps (the
  /// fixed per-element test, 5), measured by the precomputed-costs probe (every visited tile
  /// masked, golden/results/h200/2026-12-04-precomputed-costs). Such a tile first stages one
  /// packed key word per key (golden/neighborhood.h: divisions by each dimension's extent and
  /// dilation), so its cost grows with the grid's dimensions; dilation and stride do not change
  /// it. A kernel that tests an undilated 1-D neighborhood as one interval per row (sm90's
  /// kNeighborhood1d) has no words to stage there.
  struct PrecomputedNeighborhood {
    double word_ops_per_dim = 0.0;  ///< added per grid dimension (1 for sliding_window)
    /// the whole per-element cost of the interval test, when the kernel has one; absent: the
    /// key-word path for every neighborhood
    std::optional<double> interval_1d_ops;
  };
  PrecomputedNeighborhood precomputed_neighborhood;

  /// How much faster than its full-chip rate a tile of this kernel may run when the launch draws
  /// less power: the GPU's maximum SM clock over the clock it holds under this kernel's full
  /// load at `head_dim` (1: the kernel never reaches the GPU's power limit). A kernel that runs
  /// into the power limit (the sm90 kernel at d128 on the H200: about 1695 of 1980 MHz) is timed
  /// dense at the capped clock, but a sparse or tail-heavy launch, or one too short for the
  /// power controller, runs at up to the maximum clock, so its speedup can exceed the
  /// constant-rate schedule bound by this ratio (golden/results/h200/2026-12-03-active-sm-probe).
  struct ClockHeadroom {
    std::int64_t head_dim = 0;
    double ratio = 1.0;
  };
  std::vector<ClockHeadroom> clock_headroom;

  /// Rules (mask_rules.md names) whose PARTIAL tiles this kernel first tests against the rule's
  /// geometry over the tile's rows inside the sequence, running a tile the rule keeps entirely
  /// unmasked (golden/token_rule_device.cuh tile_needs_mask: the window and prefix rules; the
  /// sm90 kernel's undilated 1-D neighborhood too). It matters where seq_q cuts the last Q
  /// tile: the lists mark that row's blocks PARTIAL (create_block_mask pads rows past seq_q with
  /// False), so an unaligned causal mask has a whole row of PARTIAL tiles that such a kernel runs
  /// as FULL (BlockLayout::q_cut_rule_full). Measured on the H200 (2026-12-03 auto visit, sm90
  /// d64): charging them as masked over-predicted unaligned causal masks by 9-20 %.
  std::vector<std::string> unmasked_covered_rules;
  /// Whether unmasked_covered_rules lists `rule`.
  bool runs_covered_tiles_unmasked(const std::string& rule) const;
  /// The clock headroom at this kernel's head dim (1 when none is listed for it).
  double clock_headroom_ratio() const;

  /// The dense baseline may run another configuration of the same kernel (FA3 uses 128x176
  /// tiles and a static scheduler without a causal mask).
  std::optional<std::int64_t> dense_tile_q;
  std::optional<std::int64_t> dense_tile_kv;
  std::optional<std::string> dense_scheduler;

  /// This kernel as it runs the dense baseline.
  KernelSpec dense_variant() const;
  /// Every reason this spec is unusable, fields named as in the YAML.
  models::Violations validate() const;
};

}  // namespace attnsim::gpu
