// Functional-model decisions -> SpAtten workload rows and a decisions JSON.
#include "sim/common/spatten_derivation.h"

namespace attnsim::common {
namespace {

bool prunes(const models::PruningSchedule& schedule) {
  for (double r : schedule.keep_ratio) {
    if (r < 1.0) return true;
  }
  return false;
}

template <typename T>
boost::json::array to_json_array(const std::vector<T>& values) {
  boost::json::array out;
  for (const T& v : values) out.emplace_back(v);
  return out;
}

}  // namespace

SpattenWorkload to_spatten_workload(const models::SpattenRunResult& run,
                                    const models::SpattenParams& params,
                                    const std::string& config_path) {
  SpattenWorkload workload;
  workload.config_path = config_path;
  const bool progressive = params.quantize && params.progressive.enabled;
  for (const models::HeadStepRecord& s : run.head_steps) {
    SpattenWorkloadRow r;
    r.iteration_id = s.iteration;
    r.layer_id = s.layer;
    r.head_id = s.head;
    r.embedding_length_d = s.head_dim;
    r.sentence_length_l = s.sentence_length;
    r.key_fetch_num = s.key_fetch;
    r.quant_key_bit = params.quantize ? params.key_msb_bits : -1;
    r.quant_query_bit = params.quantize ? params.query_bits : -1;
    r.auto_requant_thres = progressive ? params.progressive.max_prob_threshold : -1;
    r.if_requant = s.requantized;
    r.auto_requant_incre = progressive ? params.key_lsb_bits : -1;
    r.value_fetch_num = s.value_fetch;
    r.quant_value_bit = params.quantize ? params.value_bits : -1;
    r.if_accumulate_importance = prunes(params.token_schedule);
    r.if_rescale_previous_importance = false;  // importance is never rescaled in our model
    r.if_topk = s.token_topk_after;
    r.topk = s.token_topk_after ? s.token_topk_k : -1;
    workload.rows.push_back(r);
  }
  return workload;
}

boost::json::object action_counts_to_json(const models::ActionCounts& c) {
  return {{"macs", c.macs},
          {"comparisons", c.comparisons},
          {"adds", c.adds},
          {"exps", c.exps},
          {"divides", c.divides},
          {"sram_read_bytes", c.sram_read_bytes},
          {"sram_write_bytes", c.sram_write_bytes},
          {"dram_read_bytes", c.dram_read_bytes}};
}

boost::json::value decisions_to_json(const models::SpattenRunResult& run) {
  boost::json::array layers;
  for (const models::LayerRecord& l : run.layers) {
    layers.push_back({{"iteration", l.iteration},
                      {"layer", l.layer},
                      {"alive_tokens", to_json_array(l.alive_tokens)},
                      {"alive_heads", to_json_array(l.alive_heads)},
                      {"token_topk_cycles", l.token_topk_cycles},
                      {"head_topk_cycles", l.head_topk_cycles}});
  }
  boost::json::array steps;
  for (const models::HeadStepRecord& s : run.head_steps) {
    steps.push_back({{"iteration", s.iteration},
                     {"layer", s.layer},
                     {"head", s.head},
                     {"sentence_length", s.sentence_length},
                     {"key_fetch", s.key_fetch},
                     {"value_fetch", s.value_fetch},
                     {"requantized", s.requantized},
                     {"token_topk_k", s.token_topk_after ? s.token_topk_k : -1},
                     {"queries", s.queries},
                     {"key_fetch_total", s.key_fetch_total},
                     {"value_fetch_total", s.value_fetch_total},
                     {"requantized_queries", s.requantized_queries},
                     {"value_topk_cycles_total", s.value_topk_cycles_total},
                     {"value_rows", to_json_array(s.value_rows)},
                     {"counts", action_counts_to_json(s.counts)}});
  }
  return {{"layers", std::move(layers)},
          {"head_steps", std::move(steps)},
          {"token_importance", to_json_array(run.token_importance)},
          {"head_importance", to_json_array(run.head_importance)},
          {"total_counts", action_counts_to_json(run.total)}};
}

}  // namespace attnsim::common
