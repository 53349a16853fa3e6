// Every parameter of the SpAtten model: one params struct per component, units in field names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "models/topk.h"
#include "models/validation.h"
#include "sim/accel/buffer_ring.h"

namespace attnsim::accel {

/// Which DRAM timing model the HBM uses (a policy chosen by name in the config).
enum class HbmTiming { kPlain, kBanked };

/// HBM: channels of 32-byte transactions. `plain` charges bandwidth + a fixed latency per channel;
/// `banked` adds open-page bank and row-buffer timing (HBM2; each value's source is in the presets
/// and sim/accel/README.md "HBM2 timings"). A zero timing is "not modelled".
struct HbmParams {
  HbmTiming timing = HbmTiming::kBanked;
  int channels = 16;
  int transaction_bytes = 32;
  int bytes_per_cycle_per_channel = 32;  ///< 128-bit channel at 2 Gb/s/pin = 32 B/ns
  int latency_cycles = 40;               ///< plain: request to data; banked: controller + PHY only
  /// banked: independent halves (quarters, ...) of a channel, each with its own data bus of
  /// bytes_per_cycle_per_channel / pseudo_channels, its own banks and its own activate window
  /// (HBM2 pseudo-channel mode); 1 = legacy mode, the whole channel is one.
  int pseudo_channels = 1;
  int banks_per_channel = 16;  ///< split evenly among the pseudo-channels
  int bank_groups = 1;         ///< per pseudo-channel; bank b is in group b mod bank_groups
  int row_bytes = 2048;        ///< row-buffer (page) size per bank
  int t_rcd_cycles = 14;       ///< activate to read
  int t_rp_cycles = 14;        ///< precharge
  int t_cl_cycles = 14;        ///< read to data
  int t_ras_cycles = 33;       ///< activate to precharge
  int t_rrd_cycles = 0;    ///< tRRD_L: activate to activate, same bank group (every activate of a
                           ///< pseudo-channel when bank_groups = 1)
  int t_rrd_s_cycles = 0;  ///< tRRD_S: activate to activate, any two of a pseudo-channel
  int t_ccd_l_cycles = 0;  ///< tCCD_L: read to read command, same bank group
  int t_ccd_s_cycles = 0;  ///< tCCD_S: read to read command, any two of a pseudo-channel
  int t_faw_cycles = 0;    ///< window holding at most four activates per pseudo-channel
  int t_refi_cycles = 0;   ///< all-bank refresh interval (0: no refresh)
  int t_rfc_cycles = 0;    ///< refresh cycle: the channel is blocked, its rows close

  models::Violations validate() const;
  /// Cycles one transaction occupies its channel's data bus (the channel as a whole).
  int burst_cycles() const {
    return (transaction_bytes + bytes_per_cycle_per_channel - 1) / bytes_per_cycle_per_channel;
  }
  /// Cycles one transaction occupies its pseudo-channel's data bus (banked model).
  int pseudo_channel_burst_cycles() const {
    const int per_pc = bytes_per_cycle_per_channel / pseudo_channels;
    return (transaction_bytes + per_pc - 1) / per_pc;
  }
};

/// QKV fetcher: the 32->16 address crossbar and the 16->32 data crossbar with its reorder FIFOs.
struct FetcherParams {
  int address_ports = 32;  ///< requests issued per cycle into the address crossbar
  int data_ports = 32;     ///< 32-byte words restored to order per cycle by the data crossbar
  int crossbar_latency_cycles = 2;  ///< one stage each way
};

/// Key and value SRAM buffers: double-buffered, each sized in bytes (both halves together).
struct SramParams {
  std::int64_t key_bytes = 196608;    ///< 2 x 1024 tokens x 64 dims x 12 bits
  std::int64_t value_bytes = 196608;  ///< same
  int read_latency_cycles = 1;
};

/// Q x K unit: broadcast Q, multiply `multipliers` K elements, reduce to multipliers/D scores.
struct QkParams {
  int multipliers = 512;
  int multiply_cycles = 1;
  int reduction_cycles = 9;  ///< log2(D)-level adder tree plus output register, at D = 64
};

/// How the softmax finds the max it subtracts (config `softmax.max_stage`).
enum class MaxStage {
  kSerial,     ///< the max streams with the scores, then exp-and-sum makes a pass: one unit
  kPipelined,  ///< a separate max unit with a row buffer: head-step i+1's max overlaps i's exp
  kNone,       ///< no max pass: exp-and-sum streams with the scores (models/softmax.h
               ///< subtract_max = false: saturates for large logits; softmax-error measures it)
};
const char* to_string(MaxStage stage);

/// Softmax unit: `lanes` probabilities per cycle; the pipeline latencies of its stages.
struct SoftmaxParams {
  MaxStage max_stage = MaxStage::kSerial;
  int lanes = 8;
  int dequant_cycles = 7;
  int exp_cycles = 21;
  int accumulate_cycles = 23;
  int divide_cycles = 29;
  int quant_cycles = 7;
};

/// Progressive-quantization controller: max-reduction over the probabilities and the decision.
struct ProgQuantParams {
  bool enabled = true;        ///< false: ignore the workload's re-quantization flags
  int max_reduce_cycles = 4;  ///< log2(lanes) comparator levels plus the threshold compare
};

/// The two top-k engines (token/head importance, local value pruning) share one parameter set.
struct TopkUnitParams {
  models::TopkParams engine;         ///< lanes P, widths, cycle constants (models/topk.h)
  std::uint64_t synthetic_seed = 1;  ///< CSV workloads: seed of the synthetic scores (README)
};

/// prob x V unit: `multipliers` MACs per cycle, D per kept V row.
struct PvParams {
  int multipliers = 512;
  int latency_cycles = 11;  ///< SRAM read, multiply, accumulate, output
};

/// Depth of every inter-module FIFO, in head-step beats, and how the key and value SRAMs are
/// shared by head-steps in flight (which bounds how many overlap; README "Pipeline overlap").
struct PipelineParams {
  int fifo_depth = 2;
  BufferAllocation buffer_allocation = BufferAllocation::kHalves;
  int ring_handles = 16;  ///< ring: most live allocations (the public BufferManager's maxReq)
};

/// Energy per action, picojoules. Defaults: 45 nm figures of Horowitz (ISSCC 2014) scaled to the
/// operand widths, HBM2 access energy of O'Connor et al. (MICRO 2017); README "Energy" gives the
/// derivation. 40/45 nm are treated alike.
struct EnergyParams {
  double mac_pj = 0.65;                  ///< 12x16-bit fixed-point multiply + accumulate
  double compare_pj = 0.05;              ///< 16-bit comparator
  double add_pj = 0.05;                  ///< 16-bit add (softmax sum, importance)
  double exp_pj = 1.0;                   ///< table look-up + interpolation multiply
  double divide_pj = 3.0;                ///< 20-bit fixed-point divide
  double sram_read_pj_per_byte = 1.25;   ///< 32-bit read of an 8 KiB SRAM: 5 pJ
  double sram_write_pj_per_byte = 1.25;  ///< taken equal to a read
  double dram_pj_per_byte = 31.2;        ///< HBM2: 3.9 pJ/bit
  double static_power_w = 0.0;           ///< leakage; unknown for the paper's chip, so 0 by default
  /// Further always-on terms (README "Energy": each cited or marked assumed; 0 in `spatten`):
  double sram_leakage_mw_per_kib = 0.0;   ///< SRAM leakage per KiB of buffers (incl. top-k's)
  double logic_leakage_mw_per_mm2 = 0.0;  ///< leakage of the non-SRAM area
  double clock_fraction = 0.0;    ///< clock tree, as a fraction of the datapath's dynamic energy
  double control_fraction = 0.0;  ///< control and sequencing, same base
};

/// Area per component, mm^2 at 40 nm (README "Area" gives the sources and what is assumed).
struct AreaParams {
  double multiplier_mm2 = 0.0045;    ///< one 12x16-bit multiplier with its adder-tree share
  double sram_mm2_per_kib = 0.0125;  ///< single-port SRAM macro incl. periphery
  double softmax_lane_mm2 = 0.05;    ///< exp table, interpolation, divider share
  double topk_engine_mm2 = 0.25;     ///< one top-k engine at P = 16, max_n = 4096, 32-bit scores
  /// Share of topk_engine_mm2 that grows with the lanes P (comparators, zero eliminators, row
  /// registers); the rest (the four buffers) grows with the buffer bits. 0.28: the Yosys estimate
  /// of the RTL, 0.099 mm^2 of logic in 0.358 mm^2 (rtl/README.md, Synthesis estimate).
  double topk_logic_share = 0.28;
  double fetcher_mm2 = 0.6;  ///< crossbars, reorder FIFOs, address generation
  double other_mm2 = 1.0;    ///< control, accumulators, I/O
};

/// How an attention trace (.npz) is turned into decisions by the functional models
/// (models::SpattenParams); unused for CSV workloads, whose decisions are already made.
struct AlgorithmParams {
  std::vector<double> token_keep;  ///< per-layer token keep ratios; empty: no token pruning
  std::vector<double> head_keep;   ///< per-layer head keep ratios; empty: no head pruning
  double value_keep = 1.0;         ///< local value pruning keep ratio (1: engine bypassed)
  bool quantize = true;            ///< false: 16-bit tensors, no progressive quantization
  bool progressive = true;         ///< re-fetch K LSBs when the max probability is low
  double requant_threshold = 0.05;
  int query_bits = 16;
  int key_msb_bits = 6;
  int key_lsb_bits = 4;
  int value_bits = 6;
  int prob_frac_bits = 12;
  bool prompt_all_queries = false;  ///< iteration 0 runs every prompt query (slow) or the last
};

/// The whole accelerator. `name` is informational (the preset it came from).
struct AccelConfig {
  std::string name = "spatten";
  double clock_hz = 1e9;
  bool detailed = true;  ///< false: the fast, timing-only DRAM (plain) whatever hbm.timing says
  HbmParams hbm;
  FetcherParams fetcher;
  SramParams sram;
  QkParams qk;
  SoftmaxParams softmax;
  ProgQuantParams progressive_quant;
  TopkUnitParams topk;
  PvParams pv;
  PipelineParams pipeline;
  EnergyParams energy;
  AreaParams area;
  AlgorithmParams algorithm;

  /// Every violation; workload-independent. Fields named as in the YAML ("hbm.channels").
  models::Violations validate() const;
  /// Violations that need the head dimension D (multipliers a multiple of D, SRAM holding one
  /// head's keys at `max_tokens` tokens of `key_bits` bits, softmax lanes).
  models::Violations validate_for_shape(int head_dim, int max_tokens, int key_bits) const;
  /// The HBM timing actually used (fast mode forces plain).
  HbmTiming effective_hbm_timing() const { return detailed ? hbm.timing : HbmTiming::kPlain; }
};

/// Loads a config file (YAML). A file may start from a preset (`inherits: spatten`), looked up
/// in `preset_dir`, and override any field. Unknown keys, wrong types and invalid values throw
/// InputError naming the file, line and field. The result is validated.
AccelConfig load_accel_config(const std::string& name_or_path,
                              const std::filesystem::path& preset_dir);

/// The fully resolved config, every field, for the run folder (and re-loadable as YAML/JSON).
boost::json::object config_to_json(const AccelConfig& config);

/// Name of an HBM timing model as written in configs.
const char* hbm_timing_name(HbmTiming timing);

}  // namespace attnsim::accel
