// softmax-error: measures the hardware softmax (models/softmax.h) against float64.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <vector>

#include "models/softmax.h"
#include "sim/common/cli.h"
#include "sim/common/input_error.h"
#include "sim/common/json_output.h"
#include "sim/common/output_format.h"
#include "sim/common/run_report.h"

namespace {

namespace po = boost::program_options;
using attnsim::common::Rows;
using attnsim::models::SoftmaxParams;

// Each section prints its table (--format table) and fills its rows (json, csv).
struct Section {
  bool print;
  Rows rows;
};

// 2^f over every representable exponent in [-1, 0]: the approximation alone, without the shift.
void print_exp_error(const SoftmaxParams& base, Section& out) {
  out.rows.columns = {"lut_bits", "max_rel_err", "mean_rel_err", "default"};
  if (out.print) {
    std::printf(
        "exp: 2^t by %d-bit table + linear interpolation, relative error over t in [-1, 0]\n",
        base.lut_index_bits);
    std::printf("%10s %14s %14s\n", "lut bits", "max rel err", "mean rel err");
  }
  for (int bits = 3; bits <= 7; ++bits) {
    SoftmaxParams p = base;
    p.lut_index_bits = bits;
    const auto table = attnsim::models::exp2_table(p);
    const std::int64_t one = std::int64_t{1} << p.exponent_frac_bits;
    double max_err = 0, sum_err = 0;
    for (std::int64_t t = -one; t <= 0; ++t) {
      const double exact = std::exp2(std::ldexp(static_cast<double>(t), -p.exponent_frac_bits));
      const double got = std::ldexp(static_cast<double>(attnsim::models::exp2_fixed(t, p, table)),
                                    -p.exp_frac_bits);
      const double err = std::fabs(got - exact) / exact;
      max_err = std::max(max_err, err);
      sum_err += err;
    }
    const double mean_err = sum_err / static_cast<double>(one + 1);
    if (out.print) {
      std::printf("%10d %14.3g %14.3g%s\n", bits, max_err, mean_err,
                  bits == base.lut_index_bits ? "   <- default" : "");
    }
    out.rows.rows.push_back({bits, max_err, mean_err, bits == base.lut_index_bits});
  }
}

void print_softmax_error(const SoftmaxParams& base, int trials, int n, unsigned seed,
                         Section& out) {
  out.rows.columns = {"prob_bits", "sigma", "max_abs_err", "mean_abs_err", "max_rel_err_p_ge_1e-2"};
  if (out.print) {
    std::printf(
        "\nsoftmax: n = %d, logits ~ N(0, sigma^2) (after the 1/sqrt(D) scale), %d trials\n", n,
        trials);
    std::printf("%10s %8s %14s %14s %18s\n", "prob bits", "sigma", "max abs err", "mean abs err",
                "max rel (p>=1e-2)");
  }
  std::mt19937_64 rng(seed);
  for (int prob_bits : {8, 12, 16}) {
    for (double sigma : {1.0, 2.0, 4.0}) {
      SoftmaxParams p = base;
      p.prob_frac_bits = prob_bits;
      std::normal_distribution<double> logit(0.0, sigma);
      const double to_score =
          std::ldexp(std::sqrt(static_cast<double>(p.head_dim)), p.score_frac_bits);
      double max_abs = 0, sum_abs = 0, max_rel = 0;
      long count = 0;
      for (int t = 0; t < trials; ++t) {
        std::vector<std::int64_t> s(static_cast<std::size_t>(n));
        for (auto& x : s) x = std::llround(logit(rng) * to_score);
        const auto fixed = attnsim::models::softmax_fixed(s, p);
        const auto exact = attnsim::models::softmax_reference(s, p);
        for (std::size_t j = 0; j < s.size(); ++j) {
          const double got = std::ldexp(static_cast<double>(fixed[j]), -prob_bits);
          const double err = std::fabs(got - exact[j]);
          max_abs = std::max(max_abs, err);
          sum_abs += err;
          ++count;
          if (exact[j] >= 1e-2) max_rel = std::max(max_rel, err / exact[j]);
        }
      }
      const double mean_abs = sum_abs / static_cast<double>(count);
      if (out.print) {
        std::printf("%10d %8.1f %14.3g %14.3g %18.3g\n", prob_bits, sigma, max_abs, mean_abs,
                    max_rel);
      }
      out.rows.rows.push_back({prob_bits, sigma, max_abs, mean_abs, max_rel});
    }
  }
}

// The max stage as a choice (issue 16): the safe max-subtract against the public design's stages
// (no max pass: exp of the raw score in a format with exp_int_bits integer bits, saturating).
// Logits ~ N(mu, sigma^2): a positive mean is what a missing max pass must absorb.
void print_max_stage_error(const SoftmaxParams& base, int trials, int n, unsigned seed,
                           Section& out) {
  out.rows.columns = {"softmax",     "mu",           "sigma",
                      "max_abs_err", "mean_abs_err", "max_rel_err_p_ge_1e-2"};
  if (out.print) {
    std::printf("\nmax stage: 12-bit probabilities, n = %d, %d trials, logits ~ N(mu, sigma^2)\n",
                n, trials);
    std::printf("%-22s %6s %6s %14s %14s %18s\n", "softmax", "mu", "sigma", "max abs err",
                "mean abs err", "max rel (p>=1e-2)");
  }
  struct Variant {
    const char* name;
    bool subtract_max;
    int exp_int_bits;
  };
  for (const Variant& v :
       {Variant{"max-subtract", true, 11}, Variant{"no max, 32-bit exp", false, 11},
        Variant{"no max, 24-bit exp", false, 3}}) {
    std::mt19937_64 rng(seed);  // the same vectors for every variant
    for (const auto& [mu, sigma] : {std::pair<double, double>{0, 1}, {0, 4}, {8, 2}, {12, 4}}) {
      SoftmaxParams p = base;
      p.subtract_max = v.subtract_max;
      p.exp_int_bits = v.exp_int_bits;
      std::normal_distribution<double> logit(mu, sigma);
      const double to_score =
          std::ldexp(std::sqrt(static_cast<double>(p.head_dim)), p.score_frac_bits);
      double max_abs = 0, sum_abs = 0, max_rel = 0;
      long count = 0;
      for (int t = 0; t < trials; ++t) {
        std::vector<std::int64_t> s(static_cast<std::size_t>(n));
        for (auto& x : s) x = std::llround(logit(rng) * to_score);
        const auto fixed = attnsim::models::softmax_fixed(s, p);
        const auto exact = attnsim::models::softmax_reference(s, p);
        for (std::size_t j = 0; j < s.size(); ++j) {
          const double got = std::ldexp(static_cast<double>(fixed[j]), -p.prob_frac_bits);
          const double err = std::fabs(got - exact[j]);
          max_abs = std::max(max_abs, err);
          sum_abs += err;
          ++count;
          if (exact[j] >= 1e-2) max_rel = std::max(max_rel, err / exact[j]);
        }
      }
      const double mean_abs = sum_abs / static_cast<double>(count);
      if (out.print) {
        std::printf("%-22s %6.1f %6.1f %14.3g %14.3g %18.3g\n", v.name, mu, sigma, max_abs,
                    mean_abs, max_rel);
      }
      out.rows.rows.push_back({v.name, mu, sigma, max_abs, mean_abs, max_rel});
    }
  }
}

int run(int argc, char** argv) {
  po::options_description options("softmax-error: hardware softmax against float64");
  int trials = 0, n = 0;
  unsigned seed = 0;
  std::string format = "table", out_dir;
  options.add_options()("help,h", "show this help")(
      "trials", po::value(&trials)->default_value(200), "random score vectors per row")(
      "n", po::value(&n)->default_value(1024), "scores per vector")(
      "seed", po::value(&seed)->default_value(1), "seed")(
      "format", po::value(&format)->default_value(format), attnsim::common::kOutputFormatHelp)(
      "out", po::value(&out_dir), "run folder: results.json and report.html (interactive plots)")(
      "no-report", attnsim::common::kNoReportHelp);
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options << '\n';
    return attnsim::common::kExitOk;
  }
  po::notify(vm);
  if (trials < 1 || n < 1) {
    throw attnsim::common::InputError("command line", "--trials/--n", "positive integers",
                                      std::to_string(trials) + "/" + std::to_string(n));
  }
  const attnsim::common::OutputFormat output = attnsim::common::parse_output_format(format);
  const bool table = output == attnsim::common::OutputFormat::kTable;
  const SoftmaxParams p;
  if (table) {
    std::printf(
        "# defaults: score frac %d, D %d, constant frac %d, exponent frac %d, exp frac %d\n",
        p.score_frac_bits, p.head_dim, p.constant_frac_bits, p.exponent_frac_bits, p.exp_frac_bits);
  }
  Section exp_section{table, {}}, softmax_section{table, {}}, max_section{table, {}};
  print_exp_error(p, exp_section);
  print_softmax_error(p, trials, n, seed, softmax_section);
  print_max_stage_error(p, trials, n, seed, max_section);
  const boost::json::object report{{"tool", "softmax-error"},
                                   {"trials", trials},
                                   {"n", n},
                                   {"seed", seed},
                                   {"exp", exp_section.rows.to_json()},
                                   {"softmax", softmax_section.rows.to_json()},
                                   {"max_stage", max_section.rows.to_json()}};
  attnsim::common::write_run_folder(out_dir, report);
  if (output == attnsim::common::OutputFormat::kJson) {
    std::cout << attnsim::common::to_pretty_json(report);
  } else if (output == attnsim::common::OutputFormat::kCsv) {
    // One CSV per section would need three files; stdout gets them one after another, each
    // headed by a "# section" line.
    std::cout << "# exp\n"
              << exp_section.rows.to_csv() << "# softmax\n"
              << softmax_section.rows.to_csv() << "# max_stage\n"
              << max_section.rows.to_csv();
  }
  // Last: the results above are complete whatever becomes of the report.
  if (!out_dir.empty() && !vm.count("no-report")) {
    attnsim::common::write_run_report("softmax-error", out_dir);
  }
  return attnsim::common::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return attnsim::common::run_cli("softmax-error", [&] { return run(argc, argv); });
}
