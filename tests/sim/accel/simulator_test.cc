// The SystemC pipeline against closed forms, the models/ top-k latency, conservation of DRAM
// bytes and the analytical model. One simulation per test case (one process each under ctest);
// a test comparing two configs runs the other in a forked child (cycles_in_child).
#include "sim/accel/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>

#include <sys/wait.h>
#include <unistd.h>

#include "models/spatten_analytical.h"
#include "models/topk.h"
#include "models/topk_latency.h"
#include "sim/accel/report.h"
#include "sim/common/spatten_workload_csv.h"

namespace attnsim::accel {
namespace {

const std::string kTraces = ATTNSIM_TRACES_DIR;

AccelWorkload synthetic(int steps, int tokens, int key_fetch, int value_fetch, int bits) {
  common::SpattenWorkload csv;
  for (int i = 0; i < steps; ++i) {
    common::SpattenWorkloadRow r;
    r.iteration_id = i / 12;
    r.layer_id = i % 12;
    r.sentence_length_l = tokens;
    r.key_fetch_num = key_fetch + (i * 37) % 61;  // varied, so the sums are not a product
    if (r.key_fetch_num > tokens) r.key_fetch_num = tokens;
    r.value_fetch_num = value_fetch < 0 ? r.key_fetch_num : value_fetch;
    r.quant_key_bit = r.quant_query_bit = r.quant_value_bit = bits;
    csv.rows.push_back(r);
  }
  return workload_from_csv(csv, "synthetic");
}

// A DRAM so wide it never limits: 1,024 channels, no latency.
AccelConfig with_ideal_dram() {
  AccelConfig c;
  c.hbm.timing = HbmTiming::kPlain;
  c.hbm.channels = 1024;
  c.hbm.latency_cycles = 0;
  c.fetcher.address_ports = c.fetcher.data_ports = 4096;
  c.fetcher.crossbar_latency_cycles = 0;
  return c;
}

TEST(AccelSimulator, QkFillTimeIsCeilFetchOverKeysPerCycle) {
  const AccelConfig c = with_ideal_dram();
  const AccelWorkload w = synthetic(40, 1000, 64, -1, 6);
  const AccelStats s = simulate(c, w);
  std::int64_t expected = 0;
  for (const auto& step : w.steps) expected += (step.key_fetch + 7) / 8;  // 512 / 64 = 8 keys/cycle
  EXPECT_EQ(s.qk.busy_cycles, expected);
  EXPECT_EQ(s.qk.jobs, 40);
  EXPECT_EQ(s.head_steps, 40);
}

TEST(AccelSimulator, TopkLatencyEqualsTheModelsLatencyFunction) {
  AccelConfig c = with_ideal_dram();
  c.softmax.lanes = 16;  // probabilities stream at P per cycle: no input gaps
  const AccelWorkload w = synthetic(12, 1000, 300, 60, 6);
  const AccelStats s = simulate(c, w);
  ASSERT_EQ(s.vtopk_cycles_per_step.size(), 12u);
  std::uint16_t lfsr = c.topk.engine.lfsr_seed;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < w.steps.size(); ++i) {
    const auto scores = synthetic_probabilities(w.steps[i], w.steps[i].key_fetch, 1);
    const std::int64_t expected = models::topk_latency_cycles(scores, 60, c.topk.engine, lfsr);
    lfsr = models::topk_select(scores, 60, c.topk.engine, lfsr).lfsr_state_after;
    EXPECT_EQ(s.vtopk_cycles_per_step[i], expected) << "head-step " << i;
    total += expected;
  }
  EXPECT_EQ(s.vtopk.busy_cycles, total);
  EXPECT_EQ(s.vtopk.jobs, 12);
}

TEST(AccelSimulator, OverlappedTopkKeepsEachJobsLatencyAndShortensTheEngineOccupancy) {
  // topk.microarch overlapped = pipelined per job, plus the next job starting while this one's
  // output pass streams: every job's latency is the pipelined engine's (models::topk_timing),
  // and the engine is busy from each job's start to its last decide + 1 at least
  // (output_start_cycle), but less than the sum of the latencies a one-job-at-a-time engine is
  // busy for (TopkLatencyEqualsTheModelsLatencyFunction).
  AccelConfig c = with_ideal_dram();
  c.softmax.lanes = 16;  // probabilities stream at P per cycle: no input gaps
  c.topk.engine.microarch = models::TopkMicroarch::kOverlapped;
  c.topk.engine.pivot_setup_cycles = 0;
  const AccelWorkload w = synthetic(48, 1000, 300, 60, 6);
  const AccelStats s = simulate(c, w);
  ASSERT_EQ(s.vtopk_cycles_per_step.size(), w.steps.size());
  models::TopkParams pipelined = c.topk.engine;
  pipelined.microarch = models::TopkMicroarch::kPipelined;
  std::uint16_t lfsr = c.topk.engine.lfsr_seed;
  std::int64_t decide_total = 0;
  std::int64_t latency_total = 0;
  for (std::size_t i = 0; i < w.steps.size(); ++i) {
    const auto scores = synthetic_probabilities(w.steps[i], w.steps[i].key_fetch, 1);
    const models::TopkResult r = models::topk_select(scores, 60, pipelined, lfsr);
    lfsr = r.lfsr_state_after;
    const models::TopkTiming t = models::topk_timing(r, w.steps[i].key_fetch, 60, pipelined);
    EXPECT_EQ(s.vtopk_cycles_per_step[i], t.latency_cycles) << "head-step " << i;
    decide_total += t.output_start_cycle;
    latency_total += t.latency_cycles;
  }
  EXPECT_EQ(s.vtopk.jobs, 48);
  EXPECT_GE(s.vtopk.busy_cycles, decide_total);
  EXPECT_LT(s.vtopk.busy_cycles, latency_total);
}

TEST(AccelSimulator, OneChannelDramTimeIsBandwidthBound) {
  AccelConfig c;
  c.hbm.timing = HbmTiming::kPlain;
  c.hbm.channels = 1;
  const AccelWorkload w = synthetic(24, 1000, 1000, -1, 16);
  const AccelStats s = simulate(c, w);
  std::int64_t transactions = 0;
  for (const auto& ch : s.channels) transactions += ch.transactions;
  // Q (128 B) + K and V (L x 128 B each), all whole 32-byte transactions.
  std::int64_t expected = 0;
  for (const auto& step : w.steps) expected += 4 + 2 * step.key_fetch * 4;
  EXPECT_EQ(transactions, expected);
  // One transaction per cycle on the only channel: at least that long, and no longer than that
  // plus one head-step's compute tail (the last step's V fetch, prob x V and its latencies).
  const models::AnalyticalResult one =
      models::analytical_cycles({w.steps.back()}, analytical_params(c), {});
  EXPECT_GE(s.cycles, transactions);
  EXPECT_LE(s.cycles, transactions + one.additive_cycles - one.dram_cycles);
}

TEST(AccelSimulator, QueriesOfOneHeadShareOneFetchAndStreamBackToBack) {
  AccelConfig c;
  AccelWorkload w = synthetic(12, 384, 384, -1, 12);
  expand_queries(w, 64);
  const AccelStats s = simulate(c, w);
  EXPECT_EQ(s.head_steps, 12 * 64);
  EXPECT_EQ(s.qk.jobs, 12 * 64);
  // K and V are fetched once per head: 384 rows x 96 bytes = 1,152 transactions each.
  EXPECT_EQ(s.dram_k_msb.transactions, 12 * 1152);
  EXPECT_EQ(s.dram_v.transactions, 12 * 1152);
  // Each query's 96-byte Q row (token 383, 32-byte aligned) is 3 transactions.
  EXPECT_EQ(s.dram_q.transactions, 12 * 64 * 3);
  // Queries after the first take no buffer half, so they stream: the softmax (two passes of
  // 384 / 8 cycles per query, the slowest stage) is busy nearly all the time.
  EXPECT_GT(static_cast<double>(s.softmax.busy_cycles) / static_cast<double>(s.cycles), 0.9);
}

common::SpattenWorkload gpt2(const std::string& name) {
  return common::read_spatten_workload(kTraces + "/spatten/" + name);
}

TEST(AccelSimulator, Gpt2DramBytesAreConservedAndOrderIsKept) {
  const common::SpattenWorkload csv = gpt2("summary-gpt2-small-wikitext2-per8.csv");
  const AccelWorkload w = workload_from_csv(csv, "gpt2");
  const AccelConfig c;
  const AccelStats s = simulate(c, w);
  // Expected payload straight from the CSV fields: D x bits / 8 per row of each kind.
  std::int64_t q = 0, k = 0, lsb = 0, v = 0, requant = 0;
  for (const auto& r : csv.rows) {
    q += 64 * 16 / 8;
    k += static_cast<std::int64_t>(r.key_fetch_num) * 64 * 6 / 8;
    if (r.if_requant) {
      lsb += static_cast<std::int64_t>(r.key_fetch_num) * 64 * 4 / 8;
      ++requant;
    }
    v += static_cast<std::int64_t>(r.value_fetch_num) * 64 * 6 / 8;
  }
  EXPECT_EQ(s.dram_q.payload_bytes, q);
  EXPECT_EQ(s.dram_k_msb.payload_bytes, k);
  EXPECT_EQ(s.dram_k_lsb.payload_bytes, lsb);
  EXPECT_EQ(s.dram_v.payload_bytes, v);
  EXPECT_EQ(s.requant_steps, requant);
  // Transaction rounding: every kind moves at least its payload, and a fetched row (48 or 32 B)
  // touches at most 3 (or 2) blocks.
  for (const DramKindStats* kind : {&s.dram_q, &s.dram_k_msb, &s.dram_k_lsb, &s.dram_v}) {
    EXPECT_GE(kind->transactions * 32, kind->payload_bytes);
  }
  std::int64_t k_rows = 0;
  for (const auto& r : csv.rows) k_rows += r.key_fetch_num;
  EXPECT_LE(s.dram_k_msb.transactions, 2 * k_rows);
  std::int64_t per_channel = 0;
  for (const auto& ch : s.channels) per_channel += ch.transactions;
  EXPECT_EQ(per_channel, s.dram_q.transactions + s.dram_k_msb.transactions +
                             s.dram_k_lsb.transactions + s.dram_v.transactions);
  ASSERT_EQ(s.completion_order.size(), csv.rows.size());
  for (std::size_t i = 0; i < s.completion_order.size(); ++i) {
    ASSERT_EQ(s.completion_order[i], static_cast<std::int32_t>(i));
  }
}

TEST(AccelSimulator, SoftmaxWithoutMaxStageIsOnePassStreamingWithQk) {
  // One head-step on an ideal DRAM: scores arrive at 512 / 64 = 8 per cycle, the 8 lanes keep
  // pace, so exp-and-sum ends with the stream: ceil(n / 8) busy cycles (the max stage would add
  // a second pass: SoftmaxWithMaxStageMakesTwoPasses).
  AccelConfig c = with_ideal_dram();
  c.softmax.max_stage = MaxStage::kNone;
  const AccelWorkload w = synthetic(1, 1000, 300, 60, 6);
  const AccelStats s = simulate(c, w);
  EXPECT_EQ(s.softmax.busy_cycles, (w.steps[0].key_fetch + 7) / 8);
}

TEST(AccelSimulator, SoftmaxWithMaxStageMakesTwoPasses) {
  const AccelConfig c = with_ideal_dram();
  const AccelWorkload w = synthetic(1, 1000, 300, 60, 6);
  const AccelStats s = simulate(c, w);
  EXPECT_EQ(s.softmax.busy_cycles, 2 * ((w.steps[0].key_fetch + 7) / 8));
}

TEST(AccelSimulator, PipelinedMaxStageKeepsOnePassPerHeadStep) {
  // 24 queries of one head stream back to back at the Q x K rate (no DRAM after the first):
  // with its own max unit the exp unit makes one pass per query, as without a max stage; serial,
  // it would need two (SoftmaxWithMaxStageMakesTwoPasses).
  AccelConfig c = with_ideal_dram();
  c.softmax.max_stage = MaxStage::kPipelined;
  AccelWorkload w = synthetic(1, 1000, 400, -1, 6);  // every V row kept: no top-k job
  expand_queries(w, 24);
  const AccelStats s = simulate(c, w);
  const std::int64_t pass = (w.steps[0].key_fetch + 7) / 8;
  EXPECT_EQ(s.softmax.busy_cycles, 24 * pass);
  EXPECT_EQ(s.qk.busy_cycles, 24 * pass);
  // The exp unit keeps pace: the whole run, fill and drain included, takes fewer cycles than the
  // 48 passes a serial unit would be busy for.
  EXPECT_LT(s.cycles, 2 * 24 * pass);
}

TEST(AccelSimulator, PaperPresetOverlapsMoreAndStillFetchesExactlyTheWorkload) {
  // spatten-paper: ring-allocated buffers (more head-steps in flight), pipelined top-k, HBM2 with
  // tRRD/tFAW/refresh. DRAM payload by kind must still be the CSV's, computed from its fields.
  const common::SpattenWorkload csv = gpt2("summary-gpt2-small-wikitext2-per8.csv");
  const AccelWorkload w = workload_from_csv(csv, "gpt2");
  const AccelConfig c = load_accel_config("spatten-paper", ATTNSIM_ACCEL_PRESETS_SOURCE_DIR);
  const AccelStats s = simulate(c, w);
  std::int64_t q = 0, k = 0, lsb = 0, v = 0;
  for (const auto& r : csv.rows) {
    q += 64 * 16 / 8;
    k += static_cast<std::int64_t>(r.key_fetch_num) * 64 * 6 / 8;
    if (r.if_requant) lsb += static_cast<std::int64_t>(r.key_fetch_num) * 64 * 4 / 8;
    v += static_cast<std::int64_t>(r.value_fetch_num) * 64 * 6 / 8;
  }
  EXPECT_EQ(s.dram_q.payload_bytes, q);
  EXPECT_EQ(s.dram_k_msb.payload_bytes, k);
  EXPECT_EQ(s.dram_k_lsb.payload_bytes, lsb);
  EXPECT_EQ(s.dram_v.payload_bytes, v);
  // More than the two halves' worth of head-steps overlapped, never more than the ring's handles.
  EXPECT_GT(s.key_buffer_peak_head_steps, 2);
  EXPECT_LE(s.key_buffer_peak_head_steps, c.pipeline.ring_handles);
  ASSERT_EQ(s.completion_order.size(), csv.rows.size());
  for (std::size_t i = 0; i < s.completion_order.size(); ++i) {
    ASSERT_EQ(s.completion_order[i], static_cast<std::int32_t>(i));
  }
}

TEST(AccelSimulator, ReusedQueriesWithRefetchesAndTopkStallsNeverDeadlock) {
  // Queries reusing their head's K take no key buffer half, so only the front-end slots bound
  // them; re-fetches, held beats and local-V top-k back-pressure meet here. Without the slots the
  // first GPT-2 layer with 8 queries per head deadlocked before any head-step finished.
  common::SpattenWorkload csv = gpt2("summary-gpt2-small-wikitext2-per8.csv");
  csv.rows.resize(24);
  AccelWorkload w = workload_from_csv(csv, "gpt2-24");
  expand_queries(w, 8);
  std::int64_t requant = 0;
  for (const auto& r : csv.rows) requant += r.if_requant ? 1 : 0;
  const AccelStats s = simulate(AccelConfig{}, w);
  EXPECT_EQ(s.head_steps, 24 * 8);
  EXPECT_EQ(s.requant_steps, requant);  // the first query of each re-quantized head
  EXPECT_TRUE(std::is_sorted(s.completion_order.begin(), s.completion_order.end()));
}

TEST(AccelSimulator, Gpt2LiesBetweenTheOverlapBoundAndTheAdditiveModel) {
  const AccelWorkload w = workload_from_csv(gpt2("summary-gpt2-small-wikitext2-per8.csv"), "gpt2");
  AccelConfig c;
  c.hbm.timing = HbmTiming::kPlain;  // the analytical model knows bandwidth and latency only
  const AccelStats s = simulate(c, w);
  const models::AnalyticalResult a =
      models::analytical_cycles(w.steps, analytical_params(c), s.vtopk_cycles_per_step);
  EXPECT_GE(s.cycles, a.bound_cycles);
  EXPECT_LE(s.cycles, a.additive_cycles);
}

models::AttentionTensors random_trace() {
  models::AttentionTensors t;
  t.layers = 2;
  t.heads = 4;
  t.tokens = 96;
  t.head_dim = 64;
  t.prompt_tokens = 80;
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  const std::size_t n = static_cast<std::size_t>(t.layers * t.heads * t.tokens * t.head_dim);
  for (auto* x : {&t.q, &t.k, &t.v}) {
    x->resize(n);
    for (double& e : *x) e = normal(rng);
  }
  return t;
}

TEST(AccelSimulator, TraceDrivenRunsFetchWhatTheFunctionalModelsDecided) {
  AccelConfig c;
  c.algorithm.token_keep = {1.0, 0.5};
  c.algorithm.value_keep = 0.25;
  const models::AttentionTensors trace = random_trace();
  const AccelWorkload w = workload_from_trace(c, trace, "random.npz", "test");
  ASSERT_TRUE(w.from_trace);
  // The same decisions straight from the functional models, for the expected bytes.
  models::SpattenParams p;
  p.token_schedule.keep_ratio = {1.0, 0.5};
  p.value_keep_ratio = 0.25;
  p.topk.max_n = 96;
  p.prompt_all_queries = false;  // the config's default: the prompt's last query only
  const models::SpattenRunResult run = models::run_spatten(trace, p);
  ASSERT_EQ(run.head_steps.size(), w.steps.size());
  std::int64_t k_bytes = 0, v_bytes = 0, lsb_bytes = 0, requant = 0;
  for (std::size_t i = 0; i < run.head_steps.size(); ++i) {
    const models::HeadStepRecord& r = run.head_steps[i];
    k_bytes += static_cast<std::int64_t>(r.key_fetch) * 64 * 6 / 8;
    lsb_bytes += r.requantized ? static_cast<std::int64_t>(r.key_fetch) * 64 * 4 / 8 : 0;
    v_bytes += static_cast<std::int64_t>(r.value_fetch) * 64 * 6 / 8;
    requant += r.requantized ? 1 : 0;
    // Kept V rows are real token ids among the keys the query read.
    std::vector<int> rows = r.value_rows;
    std::sort(rows.begin(), rows.end());
    EXPECT_EQ(w.value_rows[i], rows);
    for (int row : rows) {
      EXPECT_TRUE(std::binary_search(w.key_rows[i].begin(), w.key_rows[i].end(), row));
    }
  }
  EXPECT_GT(requant, 0);  // the random trace exercises the re-fetch path
  std::int64_t importance_cycles = 0;
  for (const models::LayerRecord& l : run.layers) {
    importance_cycles += l.token_topk_cycles + l.head_topk_cycles;
  }
  EXPECT_GT(importance_cycles, 0);
  const AccelStats s = simulate(c, w);
  // The engines charge the functional models' real latencies (one query per head-step here).
  ASSERT_EQ(s.vtopk_cycles_per_step.size(), run.head_steps.size());
  for (std::size_t i = 0; i < run.head_steps.size(); ++i) {
    ASSERT_EQ(run.head_steps[i].queries, 1);
    EXPECT_EQ(s.vtopk_cycles_per_step[i], run.head_steps[i].value_topk_cycles_total) << i;
    EXPECT_EQ(w.value_topk_output_start[i], run.head_steps[i].value_topk_output_start_total) << i;
  }
  EXPECT_EQ(s.token_topk.busy_cycles, importance_cycles);
  EXPECT_EQ(s.dram_k_msb.payload_bytes, k_bytes);
  EXPECT_EQ(s.dram_k_lsb.payload_bytes, lsb_bytes);
  EXPECT_EQ(s.dram_v.payload_bytes, v_bytes);
  EXPECT_EQ(s.requant_steps, requant);
  EXPECT_EQ(s.head_steps, static_cast<std::int64_t>(w.steps.size()));
  ASSERT_EQ(s.completion_order.size(), w.steps.size());
  EXPECT_TRUE(std::is_sorted(s.completion_order.begin(), s.completion_order.end()));
}

TEST(AccelSimulator, EveryPromptQueryRunsWithItsOwnDecisions) {
  // prompt_all_queries: iteration 0 runs all 80 prompt queries of every head. Each becomes a
  // head-step with the functional models' own key count, kept V rows and top-k latency; K is
  // fetched once per head, V rows once per head (the union over its queries).
  AccelConfig c;
  c.algorithm.token_keep = {1.0, 0.5};
  c.algorithm.value_keep = 0.25;
  c.algorithm.prompt_all_queries = true;
  const models::AttentionTensors trace = random_trace();
  const AccelWorkload w = workload_from_trace(c, trace, "random.npz", "test");
  models::SpattenParams p;
  p.token_schedule.keep_ratio = {1.0, 0.5};
  p.value_keep_ratio = 0.25;
  p.topk.max_n = 96;
  p.prompt_all_queries = true;
  p.record_queries = true;
  const models::SpattenRunResult run = models::run_spatten(trace, p);
  // Expected from the functional records: per-query latencies and key counts, K once per head
  // (the last query's alive set), V rows once per head (the union over its queries).
  std::vector<std::int64_t> cycles, output_starts;
  std::vector<int> keys_per_query;
  std::int64_t k_bytes = 0, v_bytes = 0, multi = 0;
  for (const models::HeadStepRecord& r : run.head_steps) {
    ASSERT_EQ(r.query_records.size(), static_cast<std::size_t>(r.queries));
    k_bytes += static_cast<std::int64_t>(r.key_fetch) * 64 * 6 / 8;
    multi += r.queries > 1;
    std::set<int> rows;
    for (const models::QueryRecord& q : r.query_records) {
      cycles.push_back(q.value_topk_cycles);
      output_starts.push_back(q.value_topk_output_start);
      // The first query fetches the head's keys and runs Q x K over all of them (the causal mask
      // of its own row is not modelled); later ones over their own.
      keys_per_query.push_back(&q == &r.query_records.front() ? r.key_fetch : q.key_fetch);
      rows.insert(q.value_rows.begin(), q.value_rows.end());
    }
    v_bytes += static_cast<std::int64_t>(rows.size()) * 64 * 6 / 8;
  }
  EXPECT_EQ(multi, 8);  // 2 layers x 4 heads of iteration 0
  ASSERT_EQ(w.steps.size(), cycles.size());
  EXPECT_EQ(w.value_topk_cycles, cycles);
  EXPECT_EQ(w.value_topk_output_start, output_starts);  // each query's own job, not a mean
  for (std::size_t i = 0; i < w.steps.size(); ++i) {
    EXPECT_EQ(w.steps[i].key_fetch, keys_per_query[i]) << i;
  }
  const AccelStats s = simulate(c, w);
  ASSERT_EQ(s.vtopk_cycles_per_step.size(), cycles.size());
  for (std::size_t i = 0; i < cycles.size(); ++i) {
    EXPECT_EQ(s.vtopk_cycles_per_step[i], cycles[i]) << "query-step " << i;
  }
  EXPECT_EQ(s.dram_k_msb.payload_bytes, k_bytes);
  EXPECT_EQ(s.dram_v.payload_bytes, v_bytes);
  EXPECT_EQ(s.head_steps, static_cast<std::int64_t>(w.steps.size()));
  EXPECT_TRUE(std::is_sorted(s.completion_order.begin(), s.completion_order.end()));
}

// SystemC elaborates once per process: runs `simulate` in a child process (fork) and returns
// its stats' cycles and local-V top-k busy cycles, so a test can compare two configs.
std::pair<std::int64_t, std::int64_t> cycles_in_child(const AccelConfig& c,
                                                      const AccelWorkload& w) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {  // never returns: the child must not go on running tests
    close(fds[0]);
    bool ok = false;
    try {
      const AccelStats s = simulate(c, w);
      const std::int64_t out[2] = {s.cycles, s.vtopk.busy_cycles};
      ok = write(fds[1], out, sizeof out) == static_cast<ssize_t>(sizeof out);
    } catch (...) {
    }
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  std::int64_t in[2] = {-1, -1};
  const bool ok = read(fds[0], in, sizeof in) == static_cast<ssize_t>(sizeof in);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("the child simulation failed");
  }
  return {in[0], in[1]};
}

TEST(AccelSimulator, TraceTopkJobsOverlapAsTheSchedulerPlacesThem) {
  // An attention-trace workload whose 8 local-V jobs have hand-set timings: latency 1,000 cycles,
  // output pass from cycle 600 (the engine decides in 600 cycles, then streams 400). The engine
  // is the bottleneck by far, so every job's input is waiting when the engine frees itself.
  // One job at a time (pipelined): 8 x 1,000 engine cycles. Overlapped (TopkJobScheduler): job
  // j + 1 starts at job j's output start, 600 cycles after job j started; its own output start
  // (+600) is after job j's end (+400), so it never waits: busy 600 per job, and the last job
  // ends 7 x 400 = 2,800 cycles earlier than one at a time, and so does the run.
  AccelConfig c = with_ideal_dram();
  c.softmax.lanes = 16;  // probabilities stream at P per cycle: no input gaps
  c.pipeline.buffer_allocation = BufferAllocation::kRing;  // inputs queue ahead of the engine
  const int jobs = 8;
  AccelWorkload w = synthetic(jobs, 64, 64, 16, 6);
  for (models::HeadStepShape& s : w.steps) s.key_fetch = 64;
  w.from_trace = true;
  std::vector<int> keys(64);
  for (int t = 0; t < 64; ++t) keys[static_cast<std::size_t>(t)] = t;
  w.key_rows.assign(jobs, keys);
  w.value_rows.assign(jobs, std::vector<int>(keys.begin(), keys.begin() + 16));
  w.value_topk_cycles.assign(jobs, 1000);
  w.value_topk_output_start.assign(jobs, 600);
  w.importance_topk_cycles.assign(jobs, 0);
  c.topk.engine.microarch = models::TopkMicroarch::kPipelined;
  const auto [one_at_a_time_cycles, one_at_a_time_busy] = cycles_in_child(c, w);
  EXPECT_EQ(one_at_a_time_busy, jobs * 1000);
  EXPECT_GE(one_at_a_time_cycles, jobs * 1000);

  c.topk.engine.microarch = models::TopkMicroarch::kOverlapped;
  const AccelStats s = simulate(c, w);
  EXPECT_EQ(s.vtopk.jobs, jobs);
  EXPECT_EQ(s.vtopk.busy_cycles, jobs * 600);
  ASSERT_EQ(s.vtopk_cycles_per_step.size(), static_cast<std::size_t>(jobs));
  for (std::int64_t latency : s.vtopk_cycles_per_step) EXPECT_EQ(latency, 1000);
  EXPECT_EQ(s.cycles, one_at_a_time_cycles - (jobs - 1) * 400);
  EXPECT_EQ(s.head_steps, jobs);
  EXPECT_TRUE(std::is_sorted(s.completion_order.begin(), s.completion_order.end()));
}

TEST(AccelSimulator, TraceRunsWithTheOverlappedEngineTakeFewerCycles) {
  // The random trace's real jobs (latencies and output starts from models::topk_timing on the
  // real probabilities): the overlapped engine is busy at least up to each job's output start and
  // less than the jobs' latencies, the per-job latencies stay the functional models', and the run
  // ends earlier than the same run with jobs one at a time.
  AccelConfig c = load_accel_config("spatten-paper", ATTNSIM_ACCEL_PRESETS_SOURCE_DIR);
  c.algorithm.token_keep = {1.0, 0.5};
  c.algorithm.value_keep = 0.25;
  c.algorithm.prompt_all_queries = true;
  ASSERT_EQ(c.topk.engine.microarch, models::TopkMicroarch::kOverlapped);
  const AccelWorkload w = workload_from_trace(c, random_trace(), "random.npz", "test");
  ASSERT_EQ(w.value_topk_output_start.size(), w.steps.size());
  std::int64_t decide_total = 0, latency_total = 0, ran = 0;
  for (std::size_t i = 0; i < w.steps.size(); ++i) {
    EXPECT_LE(w.value_topk_output_start[i], w.value_topk_cycles[i]) << i;
    EXPECT_EQ(w.value_topk_output_start[i] > 0, w.value_topk_cycles[i] > 0) << i;
    decide_total += w.value_topk_output_start[i];
    latency_total += w.value_topk_cycles[i];
    ran += w.value_topk_cycles[i] > 0;
  }
  ASSERT_GT(ran, 100);
  AccelConfig one = c;
  one.topk.engine.microarch = models::TopkMicroarch::kPipelined;
  const auto [one_at_a_time_cycles, one_at_a_time_busy] = cycles_in_child(one, w);
  EXPECT_GE(one_at_a_time_busy, latency_total);

  const AccelStats s = simulate(c, w);
  ASSERT_EQ(s.vtopk_cycles_per_step, w.value_topk_cycles);
  EXPECT_EQ(s.vtopk.jobs, ran);
  EXPECT_GE(s.vtopk.busy_cycles, decide_total);
  EXPECT_LT(s.vtopk.busy_cycles, latency_total);
  EXPECT_LT(s.cycles, one_at_a_time_cycles);
  EXPECT_EQ(s.head_steps, static_cast<std::int64_t>(w.steps.size()));
  EXPECT_TRUE(std::is_sorted(s.completion_order.begin(), s.completion_order.end()));
}

TEST(AccelSimulator, ModuleActionsSumToTheTotalAndModuleCostsToTheChip) {
  AccelConfig c = with_ideal_dram();
  c.energy.sram_leakage_mw_per_kib = 0.01;
  c.energy.logic_leakage_mw_per_mm2 = 20;
  c.energy.clock_fraction = 0.3;
  c.energy.control_fraction = 0.1;
  const AccelWorkload w = synthetic(40, 1000, 64, 32, 6);
  const AccelStats s = simulate(c, w);
  const ModuleActions& m = s.module_actions;
  models::ActionCounts sum = m.fetcher;
  for (const models::ActionCounts* part :
       {&m.qk, &m.softmax, &m.requant, &m.topk, &m.importance, &m.pv}) {
    sum += *part;
  }
  EXPECT_EQ(sum, s.actions);
  std::int64_t qk_macs = 0, pv_macs = 0;
  for (const auto& step : w.steps) {
    qk_macs += std::int64_t{step.key_fetch} * 64;
    pv_macs += std::int64_t{step.value_fetch} * 64;
  }
  EXPECT_EQ(m.qk.macs, qk_macs);  // no re-quantization in this workload
  EXPECT_EQ(m.pv.macs, pv_macs);
  double energy = 0, area = 0;
  for (const ModuleCost& cost : module_costs(c, s)) {
    EXPECT_GT(cost.energy_j, 0) << cost.name;
    energy += cost.energy_j;
    area += cost.area_mm2;
  }
  EXPECT_NEAR(energy, energy_of(c, s).on_chip_j(), 1e-12 * energy);
  EXPECT_NEAR(area, area_mm2(c), 1e-12);
}

}  // namespace
}  // namespace attnsim::accel
