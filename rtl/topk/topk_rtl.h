// The Verilated attn_topk engine behind a C++ interface: drives the valid/ready streams cycle by
// cycle (optionally with random input gaps and output stalls), measures cycles, dumps waveforms.
// No Verilator header leaks out of here, so users need not know how the RTL was built.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/beats.h"
#include "models/topk.h"

namespace attnsim::rtl {

/// One Verilated build of attn_topk: its parameters (Verilator specialises them at build time).
struct TopkRtlBuild {
  int lanes = 0;
  int score_bits = 0;
  int index_bits = 0;
  int max_n = 0;
  std::uint16_t lfsr_seed = 0;
  models::TopkMicroarch microarch = models::TopkMicroarch::kSequential;
};

/// The cycle constants a build of this micro-architecture hard-wires (models::TopkParams with the
/// build's lanes, widths and seed; the pipelined RTL reads its pivot alongside the first row, so
/// its pivot_setup_cycles is 0).
models::TopkParams topk_params_of(const TopkRtlBuild& build);

/// Every build this binary contains (rtl/CMakeLists.txt chooses them).
std::vector<TopkRtlBuild> topk_rtl_builds();

/// The waveform format of an engine's trace_to. Verilator builds a model for one format, so an
/// engine is made for one (make_topk_rtl).
enum class WaveFormat { kVcd, kFst };

/// The format a waveform file's name asks for: ".vcd" or ".fst" (case-sensitive). Throws
/// common::InputError naming `path` otherwise.
WaveFormat wave_format_of(const std::string& path);

/// Expected waveform bytes per simulated cycle of one engine at `lanes` lanes, measured on
/// attn_topk (tests/rtl/test_topk_cosim.py checks the estimate against written files): VCD text
/// grows with the ports; FST is about 25 times smaller.
double wave_bytes_per_cycle(WaveFormat format, int lanes);

/// Random stall pattern the driver applies, per cycle: the input stream withholds its next beat
/// with probability `input_gap` (during the load phase), the output stream is not ready with
/// probability `output_stall`. Seeded: the same settings give the same cycles.
struct TopkBackpressure {
  double input_gap = 0.0;
  double output_stall = 0.0;
  std::uint64_t seed = 1;
};

/// The engine's activity counters for one job, in elements (perf_*_o of attn_topk).
struct TopkRtlPerf {
  std::int64_t comparisons = 0;
  std::int64_t reads = 0;
  std::int64_t writes = 0;
};

/// What one job did on the RTL.
struct TopkRtlJob {
  std::vector<models::TopkOutBeat> out;       ///< output beats as transferred
  std::vector<std::int64_t> out_beat_cycles;  ///< transfer cycle of each, cycle 0 = first input
  std::int64_t cycles = 0;                    ///< first input beat to last output beat, both in
  std::int64_t input_gap_cycles = 0;          ///< load-phase cycles without an input transfer
  std::int64_t output_stall_cycles = 0;       ///< cycles with out_valid && !out_ready
  /// The first cycle after the last input beat in which in_ready was high again, from the first
  /// input beat (run() only): one-job-at-a-time builds, cycles; overlapped, the output pass's
  /// start (the quick-select datapath takes the next job then).
  std::int64_t next_job_cycle = 0;
  /// The cycle of its first input beat, counted from the engine's reset.
  std::int64_t first_in_cycle = 0;
  TopkRtlPerf perf;
};

/// One job of a batch: its input beats and k.
struct TopkRtlInput {
  std::vector<models::TopkInBeat> in;
  int k = 0;
};

/// Contract: jobs run one at a time in call order on one engine instance, which keeps its state
/// (the LFSR) between jobs as the hardware does. `in` must be a well-formed job for this build
/// (every beat but the last full, 1 <= k <= n <= max_n, scores within score_bits); violations throw
/// std::invalid_argument before anything is driven. A job that does not finish within a generous
/// cycle limit throws std::runtime_error (an RTL bug, never a long job).
class TopkRtl {
 public:
  virtual ~TopkRtl() = default;
  virtual const TopkRtlBuild& build() const = 0;
  virtual void set_backpressure(const TopkBackpressure& backpressure) = 0;
  virtual TopkRtlJob run(const std::vector<models::TopkInBeat>& in, int k) = 0;
  /// Runs jobs back to back: each job's first beat is offered as soon as the previous job's last
  /// beat has transferred (gaps permitting), so an overlapped build loads the next job while
  /// this one's output streams. Output stalls count against the job whose beat waits; input gaps
  /// against the job being loaded. Same checks and limits as run().
  virtual std::vector<TopkRtlJob> run_jobs(const std::vector<TopkRtlInput>& jobs) = 0;
  /// Dumps a waveform of the cycles from now on to `path` (at most `max_cycles` of them), in the
  /// format the engine was made for (VCD or FST, whatever `path` is called: callers writing to a
  /// temporary name choose the format from the final one). Throws common::InputError when the
  /// file cannot be written.
  virtual void trace_to(const std::string& path, std::int64_t max_cycles) = 0;
  /// Total clock cycles simulated by this instance (for speed reports).
  virtual std::int64_t simulated_cycles() const = 0;
};

/// An engine, after reset, of the smallest build that runs `params`: same micro-architecture,
/// lanes, score width, LFSR seed and cycle constants, max_n at least params.max_n. Throws
/// common::InputError naming `source` and the builds that exist when none does.
/// `waves` chooses the build's VCD- or FST-tracing model (the same RTL, bit- and cycle-identical).
std::unique_ptr<TopkRtl> make_topk_rtl(const models::TopkParams& params, const std::string& source,
                                       WaveFormat waves = WaveFormat::kVcd);

}  // namespace attnsim::rtl
