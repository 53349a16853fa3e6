// The plain and banked HBM timing models.
#include "sim/accel/hbm.h"

#include <algorithm>

namespace attnsim::accel {
namespace {

// Books one transaction that returns its data at `done_cycle` after `burst` cycles on the bus:
// the window closes at the last return, and the first transaction's return opens it.
void complete(DramWindow& w, ChannelStats& channel, bool first, std::int64_t done_cycle,
              int burst) {
  if (first) w.first_cycle = done_cycle;
  w.last_cycle = std::max(w.last_cycle, done_cycle);
  channel.transactions += 1;
  channel.busy_cycles += burst;
}

// Bandwidth and a fixed latency per channel: a transaction occupies its channel's data bus for
// burst_cycles() and returns latency_cycles after it starts.
class PlainHbm : public HbmModel {
 public:
  explicit PlainHbm(const HbmParams& p)
      : HbmModel(p.channels), p_(p), bus_free_(static_cast<std::size_t>(p.channels), 0) {}

  DramWindow access(const std::vector<std::uint64_t>& blocks, std::int64_t issue_cycle,
                    int issue_per_cycle) override {
    DramWindow w{issue_cycle, issue_cycle};
    const int burst = p_.burst_cycles();
    const auto channels = static_cast<std::uint64_t>(p_.channels);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const std::size_t c = blocks[i] % channels;
      const std::int64_t issue = issue_cycle + static_cast<std::int64_t>(i) / issue_per_cycle;
      const std::int64_t start = std::max(issue, bus_free_[c]);
      bus_free_[c] = start + burst;
      complete(w, stats_[c], i == 0, start + burst + p_.latency_cycles, burst);
    }
    return w;
  }

 private:
  HbmParams p_;
  std::vector<std::int64_t> bus_free_;
};

// Open-page banks: a row hit issues its read at once; a miss activates (tRCD) and a conflict first
// precharges (tRP, not before tRAS after the last activate). Data returns tCL after the read and
// then needs the channel's data bus for burst_cycles(). Within a channel, consecutive
// transactions fill a row's columns, then move to the next bank: row-major interleaving
// (row : bank : column : channel), so a sequential stream hits open rows. Activates of a channel
// keep tRRD apart and at most four fall in any tFAW window (the controller issues them in order);
// every tREFI cycles an all-bank refresh holds the channel for tRFC and closes its rows.
class BankedHbm : public HbmModel {
 public:
  explicit BankedHbm(const HbmParams& p)
      : HbmModel(p.channels),
        p_(p),
        bus_free_(static_cast<std::size_t>(p.channels), 0),
        activates_(static_cast<std::size_t>(p.channels)),
        banks_(static_cast<std::size_t>(p.channels) *
               static_cast<std::size_t>(p.banks_per_channel)) {}

  DramWindow access(const std::vector<std::uint64_t>& blocks, std::int64_t issue_cycle,
                    int issue_per_cycle) override {
    DramWindow w{issue_cycle, issue_cycle};
    const int burst = p_.burst_cycles();
    const auto channels = static_cast<std::uint64_t>(p_.channels);
    const auto columns = static_cast<std::uint64_t>(p_.row_bytes / p_.transaction_bytes);
    const auto banks = static_cast<std::uint64_t>(p_.banks_per_channel);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const std::size_t c = blocks[i] % channels;
      const std::uint64_t in_channel = blocks[i] / channels;
      const std::uint64_t bank_index = (in_channel / columns) % banks;
      const std::int64_t row = static_cast<std::int64_t>(in_channel / columns / banks);
      Bank& bank = banks_[c * banks + bank_index];
      std::int64_t t = after_refresh(
          std::max(issue_cycle + static_cast<std::int64_t>(i) / issue_per_cycle, bank.ready));
      // A refresh since the row was opened closed it.
      if (p_.t_refi_cycles > 0 && bank.open_row >= 0 &&
          bank.activated / p_.t_refi_cycles < t / p_.t_refi_cycles) {
        bank.open_row = -1;
      }
      if (bank.open_row != row) {
        if (bank.open_row >= 0) {
          t = std::max(t, bank.activated + p_.t_ras_cycles) + p_.t_rp_cycles;
          stats_[c].row_conflicts += 1;
        } else {
          stats_[c].row_misses += 1;
        }
        t = activate(activates_[c], t);
        bank.activated = t;
        t += p_.t_rcd_cycles;
        bank.open_row = row;
      } else {
        stats_[c].row_hits += 1;
      }
      const std::int64_t data = std::max(t + p_.t_cl_cycles, bus_free_[c]);
      bus_free_[c] = data + burst;
      // The next read of this bank may follow one burst later (column commands pipeline).
      bank.ready = data - p_.t_cl_cycles + burst;
      complete(w, stats_[c], i == 0, data + burst + p_.latency_cycles, burst);
    }
    return w;
  }

 private:
  struct Bank {
    std::int64_t open_row = -1;
    std::int64_t ready = 0;
    std::int64_t activated = 0;
  };
  // The last four activates of a channel, oldest first (for tRRD and tFAW).
  struct Activates {
    std::int64_t at[4] = {kNever, kNever, kNever, kNever};
  };
  static constexpr std::int64_t kNever = -(std::int64_t{1} << 40);

  // The first cycle at or after t outside a refresh.
  std::int64_t after_refresh(std::int64_t t) const {
    if (p_.t_refi_cycles == 0) return t;
    const std::int64_t start = t / p_.t_refi_cycles * p_.t_refi_cycles;
    return t < start + p_.t_rfc_cycles ? start + p_.t_rfc_cycles : t;
  }

  // Issues an activate no earlier than t, tRRD after the previous one and tFAW after the fourth
  // last; returns its cycle.
  std::int64_t activate(Activates& a, std::int64_t t) const {
    // A zero parameter is no constraint at all (not "in order"): with neither, activates stay
    // where the banks put them, as before these timings existed.
    if (p_.t_rrd_cycles > 0) t = std::max(t, a.at[3] + p_.t_rrd_cycles);
    if (p_.t_faw_cycles > 0) t = std::max(t, a.at[0] + p_.t_faw_cycles);
    t = after_refresh(t);
    a.at[0] = a.at[1];
    a.at[1] = a.at[2];
    a.at[2] = a.at[3];
    a.at[3] = t;
    return t;
  }

  HbmParams p_;
  std::vector<std::int64_t> bus_free_;
  std::vector<Activates> activates_;
  std::vector<Bank> banks_;
};

}  // namespace

std::unique_ptr<HbmModel> make_hbm_model(const HbmParams& params, HbmTiming timing) {
  if (timing == HbmTiming::kPlain) return std::make_unique<PlainHbm>(params);
  return std::make_unique<BankedHbm>(params);
}

}  // namespace attnsim::accel
