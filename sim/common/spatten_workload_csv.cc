// SpAtten workload CSV: strict parsing with file:line:column errors, and exact re-serialisation.
#include "sim/common/spatten_workload_csv.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"

namespace attnsim::common {
namespace {

constexpr int kColumns = 17;

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::stringstream stream(line);
  while (std::getline(stream, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();  // getline drops a final empty
  return fields;
}

// Parses the whole field or throws: "12abc" and "" are errors, not 12 and 0.
int parse_int(const std::string& text, const std::string& where, const std::string& column) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    throw InputError(where, column, "an integer", "'" + text + "'");
  }
  return value;
}

double parse_double(const std::string& text, const std::string& where, const std::string& column) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(value)) {
    throw InputError(where, column, "a finite number", "'" + text + "'");
  }
  return value;
}

// D is written "64.0": accept an integral decimal number.
int parse_integral(const std::string& text, const std::string& where, const std::string& column) {
  const double value = parse_double(text, where, column);
  if (value != std::floor(value) || std::fabs(value) > 1e9) {
    throw InputError(where, column, "an integral number", "'" + text + "'");
  }
  return static_cast<int>(value);
}

bool parse_bool(const std::string& text, const std::string& where, const std::string& column) {
  if (text == "True") return true;
  if (text == "False") return false;
  throw InputError(where, column, "True or False", "'" + text + "'");
}

std::string format_double(double value) {
  char buffer[64];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;  // 64 characters always suffice for the shortest form of a double
  return std::string(buffer, ptr);
}

const char* format_bool(bool value) { return value ? "True" : "False"; }

void require(bool ok, const std::string& where, const std::string& column,
             const std::string& expected, double got) {
  if (!ok) throw InputError(where, column, expected, format_double(got));
}

void require_bits(int bits, const std::string& where, const std::string& column) {
  require(bits == -1 || (bits >= 1 && bits <= 32), where, column,
          "-1 (unused) or a width in [1, 32]", bits);
}

}  // namespace

bool operator==(const SpattenWorkloadRow& a, const SpattenWorkloadRow& b) {
  return a.iteration_id == b.iteration_id && a.layer_id == b.layer_id && a.head_id == b.head_id &&
         a.embedding_length_d == b.embedding_length_d &&
         a.sentence_length_l == b.sentence_length_l && a.key_fetch_num == b.key_fetch_num &&
         a.quant_key_bit == b.quant_key_bit && a.quant_query_bit == b.quant_query_bit &&
         a.auto_requant_thres == b.auto_requant_thres && a.if_requant == b.if_requant &&
         a.auto_requant_incre == b.auto_requant_incre && a.value_fetch_num == b.value_fetch_num &&
         a.quant_value_bit == b.quant_value_bit &&
         a.if_accumulate_importance == b.if_accumulate_importance &&
         a.if_rescale_previous_importance == b.if_rescale_previous_importance &&
         a.if_topk == b.if_topk && a.topk == b.topk;
}

const std::vector<std::string>& spatten_workload_columns() {
  static const std::vector<std::string> columns{"iteration_id",
                                                "layer_id",
                                                "head_id",
                                                "embedding_length_D",
                                                "sentence_length_L",
                                                "key_fetch_num",
                                                "quant_key_bit",
                                                "quant_query_bit",
                                                "auto_requant_thres",
                                                "if_requant",
                                                "auto_requant_incre",
                                                "value_fetch_num",
                                                "quant_value_bit",
                                                "if_accumulate_importance",
                                                "if_rescale_previous_importance",
                                                "if_topk",
                                                "topk"};
  return columns;
}

void validate_spatten_row(const SpattenWorkloadRow& r, const std::string& where) {
  require(r.iteration_id >= 0, where, "iteration_id", "a count >= 0", r.iteration_id);
  require(r.layer_id >= 0, where, "layer_id", "a count >= 0", r.layer_id);
  require(r.head_id >= 0, where, "head_id", "a count >= 0", r.head_id);
  require(r.embedding_length_d >= 1, where, "embedding_length_D", "a length >= 1",
          r.embedding_length_d);
  require(r.sentence_length_l >= 1, where, "sentence_length_L", "a length >= 1",
          r.sentence_length_l);
  const std::string up_to_l =
      "a count in [0, sentence_length_L = " + std::to_string(r.sentence_length_l) + "]";
  require(r.key_fetch_num >= 0 && r.key_fetch_num <= r.sentence_length_l, where, "key_fetch_num",
          up_to_l, r.key_fetch_num);
  require(r.value_fetch_num >= 0 && r.value_fetch_num <= r.sentence_length_l, where,
          "value_fetch_num", up_to_l, r.value_fetch_num);
  require(r.value_fetch_num <= r.key_fetch_num, where, "value_fetch_num",
          "at most key_fetch_num = " + std::to_string(r.key_fetch_num) +
              " (V rows come from fetched keys)",
          r.value_fetch_num);
  require_bits(r.quant_key_bit, where, "quant_key_bit");
  require_bits(r.quant_query_bit, where, "quant_query_bit");
  require_bits(r.quant_value_bit, where, "quant_value_bit");
  require(r.auto_requant_thres == -1 || (r.auto_requant_thres >= 0 && r.auto_requant_thres <= 1),
          where, "auto_requant_thres", "-1 (unused) or a probability in [0, 1]",
          r.auto_requant_thres);
  require(r.auto_requant_incre == -1 || (r.auto_requant_incre >= 0 && r.auto_requant_incre <= 32),
          where, "auto_requant_incre", "-1 (unused) or a bit count in [0, 32]",
          r.auto_requant_incre);
  if (r.if_requant) {
    require(r.quant_key_bit > 0 && r.auto_requant_incre > 0, where, "if_requant",
            "False unless quant_key_bit and auto_requant_incre are set", 1);
  }
  if (r.if_topk) {
    require(r.topk >= 1, where, "topk", "a count >= 1 when if_topk is True", r.topk);
  } else {
    require(r.topk == -1, where, "topk", "-1 when if_topk is False", r.topk);
  }
}

SpattenWorkload parse_spatten_workload(const std::string& text, const std::string& source) {
  SpattenWorkload workload;
  const std::vector<std::string>& columns = spatten_workload_columns();
  std::stringstream stream(text);
  std::string line;
  int line_number = 0;
  bool seen_config = false;
  while (std::getline(stream, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = source + ":" + std::to_string(line_number);
    if (line_number == 1) {
      std::string expected;
      for (const std::string& c : columns) expected += (expected.empty() ? "" : ",") + c;
      if (line != expected)
        throw InputError(where, "header", "'" + expected + "'", "'" + line + "'");
      continue;
    }
    if (line.empty()) continue;
    if (seen_config) {
      throw InputError(where, "row", "nothing after the config-path line", "'" + line + "'");
    }
    const std::vector<std::string> f = split_fields(line);
    if (static_cast<int>(f.size()) != kColumns) {
      throw InputError(where, "row", std::to_string(kColumns) + " comma-separated fields",
                       std::to_string(f.size()) + " fields");
    }
    bool rest_empty = true;
    for (int i = 1; i < kColumns; ++i) rest_empty = rest_empty && f[i].empty();
    if (rest_empty && !f[0].empty()) {
      // The public simulator's last line: the run's config path, every other field empty.
      workload.config_path = f[0];
      seen_config = true;
      continue;
    }
    SpattenWorkloadRow r;
    r.iteration_id = parse_int(f[0], where, columns[0]);
    r.layer_id = parse_int(f[1], where, columns[1]);
    r.head_id = parse_int(f[2], where, columns[2]);
    r.embedding_length_d = parse_integral(f[3], where, columns[3]);
    r.sentence_length_l = parse_int(f[4], where, columns[4]);
    r.key_fetch_num = parse_int(f[5], where, columns[5]);
    r.quant_key_bit = parse_int(f[6], where, columns[6]);
    r.quant_query_bit = parse_int(f[7], where, columns[7]);
    r.auto_requant_thres = parse_double(f[8], where, columns[8]);
    r.if_requant = parse_bool(f[9], where, columns[9]);
    r.auto_requant_incre = parse_int(f[10], where, columns[10]);
    r.value_fetch_num = parse_int(f[11], where, columns[11]);
    r.quant_value_bit = parse_int(f[12], where, columns[12]);
    r.if_accumulate_importance = parse_bool(f[13], where, columns[13]);
    r.if_rescale_previous_importance = parse_bool(f[14], where, columns[14]);
    r.if_topk = parse_bool(f[15], where, columns[15]);
    r.topk = parse_int(f[16], where, columns[16]);
    validate_spatten_row(r, where);
    workload.rows.push_back(r);
  }
  if (line_number == 0)
    throw InputError(source, "header", "the SpAtten workload header", "an empty file");
  return workload;
}

SpattenWorkload read_spatten_workload(const std::filesystem::path& path) {
  return parse_spatten_workload(read_file(path), path.string());
}

std::string format_spatten_workload(const SpattenWorkload& workload) {
  std::string out;
  for (const std::string& c : spatten_workload_columns()) out += (out.empty() ? "" : ",") + c;
  out += '\n';
  for (const SpattenWorkloadRow& r : workload.rows) {
    std::ostringstream row;
    row << r.iteration_id << ',' << r.layer_id << ',' << r.head_id << ',' << r.embedding_length_d
        << ".0," << r.sentence_length_l << ',' << r.key_fetch_num << ',' << r.quant_key_bit << ','
        << r.quant_query_bit << ',' << format_double(r.auto_requant_thres) << ','
        << format_bool(r.if_requant) << ',' << r.auto_requant_incre << ',' << r.value_fetch_num
        << ',' << r.quant_value_bit << ',' << format_bool(r.if_accumulate_importance) << ','
        << format_bool(r.if_rescale_previous_importance) << ',' << format_bool(r.if_topk) << ','
        << r.topk << '\n';
    out += row.str();
  }
  if (!workload.config_path.empty()) {
    out += workload.config_path + std::string(kColumns - 1, ',') + '\n';
  }
  return out;
}

void write_spatten_workload(const std::filesystem::path& path, const SpattenWorkload& workload) {
  for (std::size_t i = 0; i < workload.rows.size(); ++i) {
    validate_spatten_row(workload.rows[i], path.string() + ": row " + std::to_string(i + 1));
  }
  if (workload.config_path.find_first_of(",\n\r") != std::string::npos) {
    throw InputError(path.string(), "config_path", "no commas or line breaks",
                     "'" + workload.config_path + "'");
  }
  write_file_atomically(path, format_spatten_workload(workload));
}

}  // namespace attnsim::common
