// Stream beats of the top-k engine, shared by the SystemC model and the RTL driver. Each struct
// carries the payload of one attn_topk stream (rtl/topk/attn_topk.sv) field for field (lanes fixed
// at kTopkMaxLanes here; the RTL has P lanes, and lanes >= P are zero).
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <vector>

#include "models/topk.h"

namespace attnsim::models {

/// One input beat: up to P (score, index) pairs; `count` lanes are valid, from lane 0.
/// RTL ports: in_score_i [P*ScoreW-1:0] and in_index_i [P*IndexW-1:0] (lane i at [i*W +: W]),
/// in_count_i, in_last_i.
struct TopkInBeat {
  std::array<std::int64_t, kTopkMaxLanes> score{};
  std::array<std::uint32_t, kTopkMaxLanes> index{};  ///< carried through to the output
  std::uint8_t count = 0;                            ///< valid lanes, 1..P
  bool last = false;                                 ///< final beat of the job
};

/// One output beat: up to P selected indices in original order.
/// RTL ports: out_index_o [P*IndexW-1:0] (lane i at [i*W +: W]), out_count_o, out_last_o.
struct TopkOutBeat {
  std::array<std::uint32_t, kTopkMaxLanes> index{};
  std::uint8_t count = 0;
  bool last = false;
};

/// Equality over the valid lanes and flags: what a beat-by-beat comparison checks. Lanes past
/// `count` are don't-care.
bool operator==(const TopkInBeat& a, const TopkInBeat& b);
bool operator==(const TopkOutBeat& a, const TopkOutBeat& b);
inline bool operator!=(const TopkInBeat& a, const TopkInBeat& b) { return !(a == b); }
inline bool operator!=(const TopkOutBeat& a, const TopkOutBeat& b) { return !(a == b); }

/// Printable form (sc_fifo needs operator<< for its trace output).
std::ostream& operator<<(std::ostream& os, const TopkInBeat& beat);
std::ostream& operator<<(std::ostream& os, const TopkOutBeat& beat);

/// Checks the beat rules of one top-k job: at least one beat, every beat but the last carrying
/// exactly `lanes` elements, the last 1..lanes with `last` set (and no other beat with it).
/// Returns n, the job's element count; throws std::invalid_argument naming the first bad beat.
int check_job_beats(const std::vector<TopkInBeat>& in, int lanes);

/// Packs scores (with their indices) into ceil(n / lanes) input beats, the last one marked.
std::vector<TopkInBeat> to_in_beats(const std::vector<std::int64_t>& scores,
                                    const std::vector<std::uint32_t>& indices, int lanes);

/// Packs selected indices into ceil(k / lanes) output beats, the last one marked.
std::vector<TopkOutBeat> to_out_beats(const std::vector<std::uint32_t>& indices, int lanes);

/// The indices carried by a sequence of output beats, in order.
std::vector<std::uint32_t> from_out_beats(const std::vector<TopkOutBeat>& beats);

}  // namespace attnsim::models
