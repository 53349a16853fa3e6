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
// then needs its pseudo-channel's data bus for pseudo_channel_burst_cycles(). Address bits, low to
// high: column-block offset, channel, pseudo-channel, column, bank, row (row : bank : column :
// pseudo-channel : channel), so a sequential stream spreads over every data bus and hits open rows.
// Per pseudo-channel (the controller issues commands in order): activates keep tRRD_S apart,
// tRRD_L within a bank group, at most four in any tFAW window; reads keep tCCD_S apart, tCCD_L
// within a bank group. Every tREFI cycles an all-bank refresh holds the channel (all its
// pseudo-channels) for tRFC and closes its rows. With one pseudo-channel and one bank group this
// is the legacy-mode model of issue 6 exactly.
class BankedHbm : public HbmModel {
 public:
  explicit BankedHbm(const HbmParams& p)
      : HbmModel(p.channels),
        p_(p),
        buses_(static_cast<std::size_t>(p.channels) * static_cast<std::size_t>(p.pseudo_channels)),
        groups_(buses_.size() * static_cast<std::size_t>(p.bank_groups)),
        banks_(static_cast<std::size_t>(p.channels) *
               static_cast<std::size_t>(p.banks_per_channel)) {}

  DramWindow access(const std::vector<std::uint64_t>& blocks, std::int64_t issue_cycle,
                    int issue_per_cycle) override {
    DramWindow w{issue_cycle, issue_cycle};
    const int burst = p_.pseudo_channel_burst_cycles();
    const auto channels = static_cast<std::uint64_t>(p_.channels);
    const auto pcs = static_cast<std::uint64_t>(p_.pseudo_channels);
    const auto columns = static_cast<std::uint64_t>(p_.row_bytes / p_.transaction_bytes);
    const auto banks = static_cast<std::uint64_t>(p_.banks_per_channel) / pcs;
    const auto groups = static_cast<std::uint64_t>(p_.bank_groups);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const std::size_t c = blocks[i] % channels;
      const std::uint64_t in_channel = blocks[i] / channels;
      const std::size_t pc = c * pcs + in_channel % pcs;
      const std::uint64_t in_pc = in_channel / pcs;
      const std::uint64_t bank_index = (in_pc / columns) % banks;
      const std::int64_t row = static_cast<std::int64_t>(in_pc / columns / banks);
      Bank& bank = banks_[pc * banks + bank_index];
      PseudoChannel& bus = buses_[pc];
      Group& group = groups_[pc * groups + bank_index % groups];
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
        t = activate(bus, group, t);
        bank.activated = t;
        t += p_.t_rcd_cycles;
        bank.open_row = row;
      } else {
        stats_[c].row_hits += 1;
      }
      // The read command: tCCD after the previous reads, and late enough that its data finds
      // the bus free.
      t = std::max({t, bus.last_read + p_.t_ccd_s_cycles, group.last_read + p_.t_ccd_l_cycles,
                    bus.free - p_.t_cl_cycles});
      const std::int64_t data = t + p_.t_cl_cycles;
      bus.free = data + burst;
      bus.last_read = t;
      group.last_read = t;
      // The next read of this bank may follow one burst later (column commands pipeline).
      bank.ready = t + burst;
      complete(w, stats_[c], i == 0, data + burst + p_.latency_cycles, p_.burst_cycles());
    }
    return w;
  }

 private:
  static constexpr std::int64_t kNever = -(std::int64_t{1} << 40);
  struct Bank {
    std::int64_t open_row = -1;
    std::int64_t ready = 0;
    std::int64_t activated = 0;
  };
  // One pseudo-channel: its data bus, its last read and its last four activates, oldest first
  // (for tCCD_S, tRRD_S and tFAW).
  struct PseudoChannel {
    std::int64_t free = 0;
    std::int64_t last_read = kNever;
    std::int64_t activates[4] = {kNever, kNever, kNever, kNever};
  };
  // One bank group of a pseudo-channel: its last read and activate (tCCD_L, tRRD_L).
  struct Group {
    std::int64_t last_read = kNever;
    std::int64_t last_activate = kNever;
  };

  // The first cycle at or after t outside a refresh. Refreshes start at k x tREFI for k >= 1, as
  // Ramulator 2's all-bank refresh manager schedules them (the first one tREFI after reset).
  std::int64_t after_refresh(std::int64_t t) const {
    if (p_.t_refi_cycles == 0) return t;
    const std::int64_t start = t / p_.t_refi_cycles * p_.t_refi_cycles;
    return start > 0 && t < start + p_.t_rfc_cycles ? start + p_.t_rfc_cycles : t;
  }

  // Issues an activate no earlier than t, tRRD_S after the pseudo-channel's previous one, tRRD_L
  // after its bank group's and tFAW after the fourth last; returns its cycle.
  std::int64_t activate(PseudoChannel& pc, Group& group, std::int64_t t) const {
    // A zero parameter is no constraint at all (not "in order"): with none, activates stay
    // where the banks put them, as before these timings existed.
    if (p_.t_rrd_s_cycles > 0) t = std::max(t, pc.activates[3] + p_.t_rrd_s_cycles);
    if (p_.t_rrd_cycles > 0) t = std::max(t, group.last_activate + p_.t_rrd_cycles);
    if (p_.t_faw_cycles > 0) t = std::max(t, pc.activates[0] + p_.t_faw_cycles);
    t = after_refresh(t);
    pc.activates[0] = pc.activates[1];
    pc.activates[1] = pc.activates[2];
    pc.activates[2] = pc.activates[3];
    pc.activates[3] = t;
    group.last_activate = t;
    return t;
  }

  HbmParams p_;
  std::vector<PseudoChannel> buses_;
  std::vector<Group> groups_;
  std::vector<Bank> banks_;
};

}  // namespace

std::unique_ptr<HbmModel> make_hbm_model(const HbmParams& params, HbmTiming timing) {
  if (timing == HbmTiming::kPlain) return std::make_unique<PlainHbm>(params);
  return std::make_unique<BankedHbm>(params);
}

}  // namespace attnsim::accel
