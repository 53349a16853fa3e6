// Co-simulation: the Verilated attn_topk RTL as spatten-sim's top-k engine. Built only with
// Verilator (library attnsim_accel_rtl); spatten-sim --topk-engine rtl selects it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sim/accel/topk_engine.h"

namespace attnsim::rtl {
class TopkRtl;
}

namespace attnsim::accel {

/// Runs each job on the RTL, one input beat per cycle with the output always ready (the pipeline
/// around it absorbs a beat per cycle), and reports what the RTL did: the selected positions, the
/// measured cycles, and the activity counters converted to bytes as models/ counts them.
class RtlTopkEngine : public TopkEngine {
 public:
  /// Throws common::InputError naming `source` when no Verilated build runs `params`.
  /// `fst_waves`: trace_to writes FST instead of VCD.
  RtlTopkEngine(const models::TopkParams& params, const std::string& source,
                bool fst_waves = false);
  ~RtlTopkEngine() override;
  TopkJobResult run(const std::vector<std::int64_t>& scores, int k) override;
  /// Waveform of this engine's first `max_cycles` cycles.
  void trace_to(const std::string& path, std::int64_t max_cycles);
  std::int64_t simulated_cycles() const;

 private:
  models::TopkParams params_;
  std::unique_ptr<rtl::TopkRtl> rtl_;
};

}  // namespace attnsim::accel
