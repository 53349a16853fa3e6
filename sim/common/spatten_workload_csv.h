// The workload CSV of the public SpAtten hardware simulator: read, validate, write
// (traces/README.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace attnsim::common {

/// One head-step (iteration, layer, head). Fields as in the file; -1 means "not quantized / not
/// used" wherever the format allows it.
struct SpattenWorkloadRow {
  int iteration_id = 0;
  int layer_id = 0;
  int head_id = 0;
  int embedding_length_d = 64;  ///< written "64.0" as the public files do
  int sentence_length_l = 0;
  int key_fetch_num = 0;
  int quant_key_bit = -1;
  int quant_query_bit = -1;
  double auto_requant_thres = -1;
  bool if_requant = false;
  int auto_requant_incre = -1;
  int value_fetch_num = 0;
  int quant_value_bit = -1;
  bool if_accumulate_importance = false;
  bool if_rescale_previous_importance = false;
  bool if_topk = false;
  int topk = -1;

  friend bool operator==(const SpattenWorkloadRow& a, const SpattenWorkloadRow& b);
};

/// A whole file: the rows plus the trailing line naming the run's config (empty if absent).
struct SpattenWorkload {
  std::vector<SpattenWorkloadRow> rows;
  std::string config_path;
};

/// The column names, in file order (the header line is these joined by commas).
const std::vector<std::string>& spatten_workload_columns();

/// Parses CSV text; `source` names the file in errors. Every row is validated (see
/// validate_spatten_row); problems throw InputError "<source>:<line>: <column>: expected ..., got
/// ...". Accepts a final line holding only the config path with empty fields.
SpattenWorkload parse_spatten_workload(const std::string& text, const std::string& source);

/// Reads and parses a file (InputError if it cannot be read).
SpattenWorkload read_spatten_workload(const std::filesystem::path& path);

/// Checks one row's values and their relations (counts >= 0, fetch counts <= L, value fetches <=
/// key fetches, -1 or a valid width for bit fields, topk set iff if_topk). Throws InputError with
/// `where` ("file:line") as the source.
void validate_spatten_row(const SpattenWorkloadRow& row, const std::string& where);

/// The file text: header, rows, config line; byte-identical to the public files for their rows.
std::string format_spatten_workload(const SpattenWorkload& workload);

/// Validates every row, then writes the file atomically.
void write_spatten_workload(const std::filesystem::path& path, const SpattenWorkload& workload);

}  // namespace attnsim::common
