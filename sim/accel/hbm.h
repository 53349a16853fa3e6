// HBM timing: channels of fixed-size transactions, a plain bandwidth/latency model and an
// open-page bank/row-buffer model, behind one interface. No SystemC: the fetcher calls it and
// waits for the cycles it returns (transaction-level), so millions of transactions stay cheap.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/accel/config.h"

namespace attnsim::accel {

/// When a batch of transactions delivers its data.
struct DramWindow {
  std::int64_t first_cycle = 0;  ///< the first transaction's data is back
  std::int64_t last_cycle = 0;   ///< every transaction's data is back
};

/// Counters of one channel.
struct ChannelStats {
  std::int64_t transactions = 0;
  std::int64_t row_hits = 0;       ///< banked only
  std::int64_t row_misses = 0;     ///< banked only: activate into a closed (idle) bank
  std::int64_t row_conflicts = 0;  ///< banked only: precharge + activate
  std::int64_t busy_cycles = 0;    ///< data-bus cycles
};

/// Contract: `access` serves transactions (addresses in units of transaction_bytes) issued in
/// order, `issue_per_cycle` per cycle from `issue_cycle`; each channel serves its transactions in
/// order (FCFS); the channel of a transaction is its address modulo the channel count (address
/// bits just above the 32-byte offset, as the public design interleaves). The banked model maps
/// the rest, low to high, as pseudo-channel : column : bank : row (a = address / channels:
/// pseudo-channel a mod P, column (a / P) mod C, bank (a / P / C) mod B, row a / P / C / B, with
/// P pseudo-channels, C = row_bytes / transaction_bytes and B banks per pseudo-channel). Calls
/// advance the model's state and must come with non-decreasing `issue_cycle`.
class HbmModel {
 public:
  virtual ~HbmModel() = default;
  virtual DramWindow access(const std::vector<std::uint64_t>& blocks, std::int64_t issue_cycle,
                            int issue_per_cycle) = 0;
  const std::vector<ChannelStats>& channel_stats() const { return stats_; }

 protected:
  explicit HbmModel(int channels) : stats_(static_cast<std::size_t>(channels)) {}
  std::vector<ChannelStats> stats_;
};

/// The model named by params.timing.
std::unique_ptr<HbmModel> make_hbm_model(const HbmParams& params, HbmTiming timing);

}  // namespace attnsim::accel
