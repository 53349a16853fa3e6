// QKV fetcher: turns a head-step's token indices into 32-byte HBM transactions through the
// 32->16 address crossbar, and restores their order through the 16->32 data crossbar into the
// double-buffered key and value SRAMs.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "sim/accel/hbm.h"
#include "sim/accel/pipeline_context.h"

namespace attnsim::accel {

/// Contract: serves, in this priority, K LSB re-fetches (`refetch`, into the head-step's own key
/// buffer allocation), V fetches (`v_req`, each needing room in the value SRAM) and new
/// head-steps (`k_req`: Q + K MSBs, each needing a front-end slot from `slots` and, unless it
/// reuses its head's K, room in the key SRAM). The SRAMs are BufferRings (halves or a ring,
/// `pipeline.buffer_allocation`); `k_free` and `v_free` carry the head-steps whose allocations
/// are released. Writes one beat per fetch to `k_out` or `v_out`, stamped with the cycles its
/// first and last data arrive.
class QkvFetcher : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(QkvFetcher);
  QkvFetcher(sc_core::sc_module_name name, PipelineContext& ctx, BeatFifo& k_req, BeatFifo& refetch,
             BeatFifo& v_req, sc_core::sc_fifo<int>& slots, sc_core::sc_fifo<int>& k_free,
             sc_core::sc_fifo<int>& v_free, BeatFifo& k_out, BeatFifo& v_out)
      : sc_module(name),
        ctx_(ctx),
        k_req_(k_req),
        refetch_(refetch),
        v_req_(v_req),
        slots_(slots),
        k_free_(k_free),
        v_free_(v_free),
        k_out_(k_out),
        v_out_(v_out),
        hbm_(make_hbm_model(ctx.config.hbm, ctx.config.effective_hbm_timing())),
        k_ring_(ctx.config.pipeline.buffer_allocation, ctx.config.sram.key_bytes,
                ctx.config.pipeline.ring_handles),
        v_ring_(ctx.config.pipeline.buffer_allocation, ctx.config.sram.value_bytes,
                ctx.config.pipeline.ring_handles) {
    SC_THREAD(run);
  }

  const HbmModel& hbm() const { return *hbm_; }

 private:
  void run() {
    std::optional<models::HeadStepBeat> pending_v, pending_k;
    std::int64_t k_wait_since = -1;
    models::HeadStepBeat b;
    int released = 0;
    for (;;) {
      while (k_free_.nb_read(released)) k_ring_.release(released);
      while (v_free_.nb_read(released)) v_ring_.release(released);
      if (!pending_v && v_req_.nb_read(b)) pending_v = b;
      if (!pending_k && k_req_.nb_read(b)) pending_k = b;
      if (refetch_.nb_read(b)) {
        fetch_keys(b, /*lsb=*/true);
        continue;
      }
      // A query reusing its head's K and V needs no buffer half of its own.
      if (pending_v && (ctx_.step(pending_v->step).kv_reused ||
                        v_ring_.try_allocate(pending_v->step,
                                             buffer_bytes(value_rows_of_head(pending_v->step))))) {
        ctx_.stats.value_buffer_peak_head_steps = v_ring_.peak_live();
        fetch_values(*pending_v);
        pending_v.reset();
        continue;
      }
      if (pending_k) {
        const bool reused = ctx_.step(pending_k->step).kv_reused;
        if (slots_.num_available() > 0 &&
            (reused || k_ring_.try_allocate(pending_k->step,
                                            buffer_bytes(ctx_.step(pending_k->step).key_fetch)))) {
          slots_.read();
          ctx_.stats.key_buffer_peak_head_steps = k_ring_.peak_live();
          if (k_wait_since >= 0) ctx_.stats.fetch_issue_stall_cycles += ctx_.now() - k_wait_since;
          k_wait_since = -1;
          fetch_keys(*pending_k, /*lsb=*/false);
          pending_k.reset();
          continue;
        }
        if (k_wait_since < 0) k_wait_since = ctx_.now();
      }
      sc_core::wait(refetch_.data_written_event() | v_req_.data_written_event() |
                    k_req_.data_written_event() | k_free_.data_written_event() |
                    slots_.data_written_event() | v_free_.data_written_event());
    }
  }

  // SRAM bytes a head-step's rows take: the buffers hold every element at the workload's full key
  // width (as sram.key_bytes is sized: 2 x 1024 tokens x 64 dims x 12 bits), so an LSB re-fetch
  // lands in the same allocation.
  std::int64_t buffer_bytes(int rows) const {
    return (static_cast<std::int64_t>(rows) * ctx_.workload.head_dim * ctx_.workload.max_key_bits +
            7) /
           8;
  }

  // V rows the head starting at `step` will hold: its first query's and every later query's new
  // ones (attention traces; a CSV head's later queries add none).
  int value_rows_of_head(int step) const {
    int rows = ctx_.step(step).value_fetch;
    const auto n = static_cast<int>(ctx_.workload.steps.size());
    for (int i = step + 1; i < n && ctx_.step(i).kv_reused; ++i)
      rows += ctx_.step(i).new_value_rows;
    return rows;
  }

  // Issues `blocks`, writes the beat and holds the address crossbar for its issue cycles.
  void issue(models::HeadStepBeat b, BeatFifo& out) {
    const FetcherParams& f = ctx_.config.fetcher;
    const std::int64_t start = ctx_.now();
    const std::int64_t n = static_cast<std::int64_t>(blocks_.size());
    const DramWindow w =
        n == 0 ? DramWindow{start, start}
               : hbm_->access(blocks_, start + f.crossbar_latency_cycles, f.address_ports);
    // The data crossbar restores order at data_ports words per cycle.
    const std::int64_t restore = models::ceil_div(n, f.data_ports);
    b.first_cycle = w.first_cycle + f.crossbar_latency_cycles;
    b.last_cycle = std::max(w.last_cycle, start + restore) + f.crossbar_latency_cycles;
    out.write(b);
    const std::int64_t issue_end = start + models::ceil_div(n, f.address_ports);
    ctx_.stats.fetcher.busy_cycles += issue_end - start;
    ctx_.stats.fetcher.jobs += 1;
    ctx_.wait_until(issue_end);
  }

  void count(DramKindStats& kind, std::int64_t payload, std::size_t blocks_before) {
    kind.payload_bytes += payload;
    kind.transactions += static_cast<std::int64_t>(blocks_.size() - blocks_before);
    models::ActionCounts counts;
    counts.dram_read_bytes = payload;
    ctx_.stats.count(ctx_.stats.module_actions.fetcher, counts);
  }

  void fetch_keys(const models::HeadStepBeat& b, bool lsb) {
    const models::HeadStepShape& s = ctx_.step(b.step);
    const models::StepBytes bytes = models::step_payload_bytes(s);
    const int tb = ctx_.config.hbm.transaction_bytes;
    blocks_.clear();
    if (!lsb) {
      append_row_blocks(blocks_, s, Plane::kQuery, {s.tokens - 1}, s.head_dim * s.query_bits, tb);
      count(ctx_.stats.dram_q, bytes.q, 0);
    }
    const std::size_t before = blocks_.size();
    const std::vector<int>& rows =
        s.kv_reused ? no_rows_ : ctx_.key_indices[static_cast<std::size_t>(b.step)];
    if (lsb) {
      append_row_blocks(blocks_, s, Plane::kKeyLsb, rows, s.head_dim * s.key_lsb_bits, tb);
      count(ctx_.stats.dram_k_lsb, bytes.k_lsb, before);
    } else {
      append_row_blocks(blocks_, s, Plane::kKeyMsb, rows, s.head_dim * s.key_msb_bits, tb);
      count(ctx_.stats.dram_k_msb, bytes.k_msb, before);
    }
    // The writes fill the key SRAM, which the power breakdown counts with Q x K (it owns it).
    models::ActionCounts counts;
    counts.sram_write_bytes = lsb ? bytes.k_lsb : bytes.k_msb;
    ctx_.stats.count(ctx_.stats.module_actions.qk, counts);
    issue(b, k_out_);
  }

  void fetch_values(const models::HeadStepBeat& b) {
    const models::HeadStepShape& s = ctx_.step(b.step);
    blocks_.clear();
    // A reused query's list holds only the rows no earlier query of its head fetched (empty for
    // CSV workloads, whose heads fetch V once).
    append_row_blocks(blocks_, s, Plane::kValue,
                      ctx_.value_indices[static_cast<std::size_t>(b.step)],
                      s.head_dim * s.value_bits, ctx_.config.hbm.transaction_bytes);
    const std::int64_t payload = models::step_payload_bytes(s).v;
    count(ctx_.stats.dram_v, payload, 0);
    models::ActionCounts counts;  // into the value SRAM: prob x V's in the power breakdown
    counts.sram_write_bytes = payload;
    ctx_.stats.count(ctx_.stats.module_actions.pv, counts);
    issue(b, v_out_);
  }

  PipelineContext& ctx_;
  BeatFifo& k_req_;
  BeatFifo& refetch_;
  BeatFifo& v_req_;
  sc_core::sc_fifo<int>& slots_;
  sc_core::sc_fifo<int>& k_free_;
  sc_core::sc_fifo<int>& v_free_;
  BeatFifo& k_out_;
  BeatFifo& v_out_;
  std::unique_ptr<HbmModel> hbm_;
  BufferRing k_ring_;
  BufferRing v_ring_;
  std::vector<std::uint64_t> blocks_;  // reused: no allocation per fetch
  const std::vector<int> no_rows_;     // a query whose K and V are already in the buffers
};

}  // namespace attnsim::accel
