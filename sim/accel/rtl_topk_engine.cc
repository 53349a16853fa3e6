// The RTL top-k engine behind spatten-sim's TopkEngine interface.
#include "sim/accel/rtl_topk_engine.h"

#include <stdexcept>

#include "models/beats.h"
#include "rtl/topk/topk_rtl.h"

namespace attnsim::accel {

RtlTopkEngine::RtlTopkEngine(const models::TopkParams& params, const std::string& source,
                             bool fst_waves)
    : params_(params),
      rtl_(rtl::make_topk_rtl(params, source,
                              fst_waves ? rtl::WaveFormat::kFst : rtl::WaveFormat::kVcd)) {}

RtlTopkEngine::~RtlTopkEngine() = default;

TopkJobResult RtlTopkEngine::run(const std::vector<std::int64_t>& scores, int k) {
  // The engine carries positions as its indices, so its output is the selected positions.
  std::vector<std::uint32_t> positions(scores.size());
  for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<std::uint32_t>(i);
  const rtl::TopkRtlJob job = rtl_->run(models::to_in_beats(scores, positions, params_.lanes), k);
  TopkJobResult out;
  for (std::uint32_t p : models::from_out_beats(job.out))
    out.selected.push_back(static_cast<int>(p));
  out.latency_cycles = job.cycles;
  out.first_output_cycle = job.out_beat_cycles.front();
  out.output_start_cycle = job.next_job_cycle;  // overlapped builds: when the output pass starts
  // Bytes as models::topk_select counts them: whole elements of the configured engine's width.
  const std::int64_t element_bytes = (models::topk_element_bits(params_) + 7) / 8;
  out.counts.comparisons = job.perf.comparisons;
  out.counts.sram_read_bytes = job.perf.reads * element_bytes;
  out.counts.sram_write_bytes = job.perf.writes * element_bytes;
  return out;
}

void RtlTopkEngine::trace_to(const std::string& path, std::int64_t max_cycles) {
  rtl_->trace_to(path, max_cycles);
}

std::int64_t RtlTopkEngine::simulated_cycles() const { return rtl_->simulated_cycles(); }

}  // namespace attnsim::accel
