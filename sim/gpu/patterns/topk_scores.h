// block_topk's synthetic scores without evaluating every candidate: kernels that find the few
// candidates of a row that can reach its top k, and bounds on their scores that need no log, cos
// or exp from the math library. The exact scores stay block_topk.cc's (see exact_noise).
#pragma once

#include <cstdint>
#include <vector>

namespace attnsim::gpu::topk_scores {

/// A row's candidate kb has score det(kb) + noise x exp(sigma x N), N = SplitMix64::normal_of
/// (draw 2 kb, draw 2 kb + 1) of the row's generator (seeded with the row's `state`).

/// Writes to out[0 .. count), in increasing order, every kb in [0, n) whose first draw is
/// >= `threshold` (SplitMix64::draw(state, 2 kb) >= threshold) and returns count; `out` grows to
/// n + 16 entries when smaller (the kernel stores whole vectors past count). One hash per
/// candidate; AVX-512 where the CPU has it.
std::int64_t scan_first_draws(std::uint64_t state, std::int64_t n, std::uint64_t threshold,
                              std::vector<std::int32_t>& out);

/// noise x exp(sigma x normal_of(first, second)) from polynomials: its exponent sigma x N is
/// within sigma x kNormalError of the exact one's (proof in topk_scores.cc), so the exact value
/// lies in [approx x lo_factor, approx x hi_factor] (see Bounder).
double approx_noise(std::uint64_t first, std::uint64_t second, double noise, double sigma);

/// |N(approx) - N(exact)| <= kNormalError for every pair of draws (proven: below 1e-8).
inline constexpr double kNormalError = 1e-4;

/// Lower and upper bounds of candidates' exact scores.
struct Bounder {
  double noise = 0;
  double sigma = 0;
  double lo_factor = 0;                     // exp(-sigma x kNormalError) x (1 - 1e-9)
  double hi_factor = 0;                     // exp(sigma x kNormalError) x (1 + 1e-9)
  const double* det_by_distance = nullptr;  // exp(-d / decay) for d in [0, n)
  double det0 = 0;                          // candidate 0's deterministic part (with the sink)
  std::int64_t current = 0;

  Bounder(double noise, double sigma);
  double det(std::int64_t kb) const {
    return kb == 0 ? det0 : det_by_distance[kb > current ? kb - current : current - kb];
  }
  /// Bounds of the exact score (det + noise x exp(...), rounded) from the approximate noise.
  double lo(double det, double approx) const { return (det + approx * lo_factor) * (1 - 1e-12); }
  double hi(double det, double approx) const { return (det + approx * hi_factor) * (1 + 1e-12); }
};

/// Candidates with their score bounds, in parallel arrays (with room past size() for the
/// kernels' whole-vector stores).
struct Bounded {
  std::vector<std::int32_t> kb;
  std::vector<double> lo;
  std::vector<double> hi;
  std::int64_t size = 0;
  void reserve(std::int64_t n);
  void push(std::int32_t k, double l, double h) {
    kb[size] = k;
    lo[size] = l;
    hi[size] = h;
    ++size;
  }
};

/// Bounds the scores of candidates kbs[0 .. count) of the row seeded with `state` and appends
/// those with hi > floor to `out` (which must have room for `count` more plus 16).
void bound_scores(std::uint64_t state, const std::int32_t* kbs, std::int64_t count,
                  const Bounder& bounder, double floor, Bounded& out);

/// A cut-off of the scan: the candidates whose first draw gives u1 <= m0 2^-53 are listed; every
/// other candidate's noise term is below `floor`. The screen then drops listed candidates whose
/// score is <= floor for sure: u1 in [2^-e', 2^(1 - e')) bounds R = sqrt(-2 ln u1) by
/// sqrt(2 e' ln 2), so N = R cos(2 pi u2) <= sqrt(-2 ln(m0 2^-53)) when cos(2 pi u2) <= c(e'), a
/// range of u2 given as an integer bound on |(second draw >> 11) - 2^52|; candidates whose
/// deterministic part could matter (distance < near, and block 0) are never dropped.
struct Cut {
  std::uint64_t m0 = 0;
  std::uint64_t threshold = 0;  // first draw >= threshold <=> u1 <= m0 2^-53
  double floor = 0;             // noise x exp(sigma x (sqrt(-2 ln(m0 2^-53)) + 1e-4)) (1 + 1e-9)
  std::int64_t near = 0;  // exp(-d / decay) <= floor x (1 - exp(-sigma 1e-4)) / 2 for d >= near
  std::int64_t first_exponent = 0;  // smallest e' of a listed candidate: 53 - floor(log2 m0)
  std::int64_t drop[16] = {};       // by j = min(e' - first_exponent, 15); -1: never
};

/// The cut with m0 = floor(2^(53 - level / 4)) (level >= 1); det_tail[d] = max of exp(-d' / decay)
/// over d' >= d, ending with 0.
Cut make_cut(int level, double noise, double sigma, const std::vector<double>& det_tail);

/// Writes to out[0 .. returned) the candidates of kbs[0 .. count) (all listed by `cut`) that the
/// screen keeps; `out` needs room for count + 16.
std::int64_t screen(std::uint64_t state, const std::int32_t* kbs, std::int64_t count,
                    const Cut& cut, std::int64_t current, std::int32_t* out);

/// Writes to out[0 .. returned) the candidates of `b` with hi >= level, in order (`out` needs
/// room for b.size + 16).
std::int64_t reaching(const Bounded& b, double level, std::int32_t* out);

/// The keep-th largest of values[0 .. count) (1 <= keep <= count): the v with fewer than keep
/// values > v and at least keep >= v. `values` needs room for count + 8 (padding is written).
double kth_largest(double* values, std::int64_t count, std::int64_t keep);

/// How often block_topk's fast path took each way since the program started (tests check that
/// theirs cover every way).
struct PathCounts {
  std::uint64_t rows = 0;        // rows the fast path selected
  std::uint64_t retries = 0;     // scans repeated with a larger cut-off
  std::uint64_t all_rows = 0;    // rows that bounded every candidate
  std::uint64_t exact_rows = 0;  // rows whose bounds overlapped the level (exact scores decided)
};
PathCounts path_counts();
void count_path(bool retry, bool all, bool exact);

/// Tests: true makes every kernel take its portable path (no AVX-512).
void force_portable_kernels(bool portable);
/// Whether the kernels use AVX-512 now.
bool using_avx512();

}  // namespace attnsim::gpu::topk_scores
