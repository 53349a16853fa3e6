// Kernels of block_topk's fast path. Nothing here decides a mask on its own: the scan's filter is
// exact integer arithmetic, and approx_noise only bounds scores, with a margin (kNormalError)
// 10^4 times its proven worst case. The exact scores are never computed here (this file's
// AVX-512 functions may contract a x b + c into one rounding; the exact ones must not).
//
// Error of approx_noise (N = sqrt(-2 ln u1) x cos(2 pi u2), u1 = m 2^-53 exactly):
//   ln u1 = (e - 53) ln 2 + ln f, m = f 2^e, f in [sqrt(1/2), sqrt(2)); ln f = 2 atanh(t),
//   t = (f - 1) / (f + 1), |t| <= 0.1716, by its series to t^9: the rest is below
//   2 |t|^11 / 11 / (1 - t^2) < 7e-10, and below 2e-9 |ln f| (as |ln f| >= 2 |t|). So ln u1 is
//   within 2e-9 of itself relatively: when e = 53 it is ln f; otherwise |ln u1| >= ln 2 - 0.35
//   > 0.34 while the error is below 7e-10 (roundings: below 1e-15 relative). Hence R =
//   sqrt(-2 ln u1) within 1.1e-9 relatively, R <= 8.6: R error < 1e-8;
//   cos(y) = sin(w), w = |y - pi| - pi / 2 in [-pi/2, pi/2] (y = 2 pi u2 rounded as the exact code
//   rounds it), by its series to w^15: rest < (pi/2)^17 / 17! < 1e-11, roundings < 1e-15;
//   so |N error| < 1e-8 + 8.6 x 1e-11, and the math library's own log, cos, sqrt (< 1 ulp) add
//   below 1e-14. exp(x) = 2^j exp(r), |r| <= 0.35, by its series to r^10 (rest < 3e-13
//   relative): relative error < 1e-12 with |x| <= 86, and the exact exp(sigma N) differs from exp
//   of the exact product by < 1e-14 relative. Bounder's factors allow sigma x 1e-4 in the
//   exponent (10^4 times the N error) and 1e-9 relative besides.
#include "sim/gpu/patterns/topk_scores.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>

#include "sim/gpu/patterns/rng.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 warns about the intrinsics' own _mm512_undefined_* placeholders.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define ATTNSIM_TOPK_AVX512 1
#define ATTNSIM_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx512cd")))
#endif

namespace attnsim::gpu::topk_scores {
namespace {

constexpr double kLn2 = 0.6931471805599453;
constexpr double kLog2e = 1.4426950408889634;
constexpr double kPi = 3.141592653589793;
constexpr double kHalfPi = 1.5707963267948966;
constexpr double kSqrtHalf = 0.7071067811865476;
constexpr double kTwoPi = 6.283185307179586;  // normal_of's constant

// 1 / (2j + 1), j = 4 .. 0: ln f = 2 t sum_j t^(2j) / (2j + 1).
constexpr double kLnCoefficients[] = {1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1.0};
// (-1)^j / (2j + 1)!, j = 7 .. 0: sin w = w sum_j (-1)^j w^(2j) / (2j + 1)!.
constexpr double kSinCoefficients[] = {
    -1.0 / 1307674368000.0, 1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0,
    -1.0 / 5040.0,          1.0 / 120.0,        -1.0 / 6.0,        1.0};
// 1 / j!, j = 10 .. 0.
constexpr double kExpCoefficients[] = {
    1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
    1.0 / 24.0,      1.0 / 6.0,      1.0 / 2.0,     1.0,          1.0};

std::atomic<bool> g_portable{false};
std::atomic<std::uint64_t> g_rows{0}, g_retries{0}, g_all_rows{0}, g_exact_rows{0};

bool cpu_has_avx512() {
#ifdef ATTNSIM_TOPK_AVX512
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd");
  return has;
#else
  return false;
#endif
}

template <std::size_t N>
double horner(const double (&c)[N], double x) {
  double p = c[0];
  for (std::size_t i = 1; i < N; ++i) p = p * x + c[i];
  return p;
}

void scan_portable(std::uint64_t state, std::int64_t n, std::uint64_t threshold, std::int32_t* out,
                   std::int64_t& count) {
  std::int64_t c = 0;
  std::uint64_t x = state + SplitMix64::kGamma;
  for (std::int64_t kb = 0; kb < n; ++kb, x += 2 * SplitMix64::kGamma) {
    out[c] = static_cast<std::int32_t>(kb);
    c += SplitMix64::mix(x) >= threshold ? 1 : 0;
  }
  count = c;
}

bool screen_keeps(std::uint64_t state, std::int32_t kb, const Cut& cut, std::int64_t current) {
  if (kb == 0 || std::abs(current - kb) < cut.near) return true;
  const auto k = static_cast<std::uint64_t>(kb);
  const std::uint64_t m = (std::uint64_t{1} << 53) - (SplitMix64::draw(state, 2 * k) >> 11);
  const auto exponent = static_cast<std::int64_t>(__builtin_clzll(m)) - 10;  // m >= 1
  const auto j =
      std::min<std::uint64_t>(static_cast<std::uint64_t>(exponent - cut.first_exponent), 15);
  const auto v =
      static_cast<std::int64_t>(SplitMix64::draw(state, 2 * k + 1) >> 11) - (std::int64_t{1} << 52);
  return (v < 0 ? -v : v) > cut.drop[j];
}

#ifdef ATTNSIM_TOPK_AVX512
ATTNSIM_TARGET_AVX512 inline __m512i mix8(__m512i z) {
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                         _mm512_set1_epi64(static_cast<long long>(0xBF58476D1CE4E5B9ull)));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                         _mm512_set1_epi64(static_cast<long long>(0x94D049BB133111EBull)));
  return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// The output's top 31 bits are those of the second product (the last xor-shift moves bits down
// by 31), so for a threshold whose low 33 bits are zero (make_cut's), output >= threshold exactly
// when that product is: the scan skips the last step then.
ATTNSIM_TARGET_AVX512 inline __m512i mix8_top(__m512i z) {
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                         _mm512_set1_epi64(static_cast<long long>(0xBF58476D1CE4E5B9ull)));
  return _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                            _mm512_set1_epi64(static_cast<long long>(0x94D049BB133111EBull)));
}

template <bool kTopOnly>
ATTNSIM_TARGET_AVX512 void scan_avx512(std::uint64_t state, std::int64_t n, std::uint64_t threshold,
                                       std::int32_t* out, std::int64_t& count) {
  const auto g = SplitMix64::kGamma;
  const __m512i lanes = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  __m512i x =
      _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(state)),
                       _mm512_mullo_epi64(lanes, _mm512_set1_epi64(static_cast<long long>(g))));
  __m512i x2 = _mm512_add_epi64(x, _mm512_set1_epi64(static_cast<long long>(16 * g)));
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(32 * g));
  const __m512i t = _mm512_set1_epi64(static_cast<long long>(threshold));
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i sixteen = _mm512_set1_epi32(16);
  std::int64_t c = 0;
  std::int64_t kb = 0;
  // 32 candidates per step: the first 16 here, the next 16 in the loop below.
  const __m512i step16 = _mm512_set1_epi64(static_cast<long long>(16 * g));
  for (; kb + 32 <= n; kb += 32) {
    const __m512i x3 = _mm512_add_epi64(x2, step16);
    const __m512i x4 = _mm512_add_epi64(x3, step16);
    const __mmask16 m = static_cast<__mmask16>(
        _mm512_cmpge_epu64_mask(kTopOnly ? mix8_top(x) : mix8(x), t) |
        (static_cast<unsigned>(_mm512_cmpge_epu64_mask(kTopOnly ? mix8_top(x2) : mix8(x2), t))
         << 8));
    const __mmask16 m2 = static_cast<__mmask16>(
        _mm512_cmpge_epu64_mask(kTopOnly ? mix8_top(x3) : mix8(x3), t) |
        (static_cast<unsigned>(_mm512_cmpge_epu64_mask(kTopOnly ? mix8_top(x4) : mix8(x4), t))
         << 8));
    _mm512_storeu_si512(out + c, _mm512_maskz_compress_epi32(m, index));
    c += __builtin_popcount(m);
    _mm512_storeu_si512(out + c, _mm512_maskz_compress_epi32(m2, _mm512_add_epi32(index, sixteen)));
    c += __builtin_popcount(m2);
    x = _mm512_add_epi64(x, step);
    x = _mm512_add_epi64(x, step);
    x2 = _mm512_add_epi64(x2, step);
    x2 = _mm512_add_epi64(x2, step);
    index = _mm512_add_epi32(index, _mm512_add_epi32(sixteen, sixteen));
  }
  for (; kb + 16 <= n; kb += 16) {
    const __mmask16 m = static_cast<__mmask16>(
        _mm512_cmpge_epu64_mask(kTopOnly ? mix8_top(x) : mix8(x), t) |
        (static_cast<unsigned>(_mm512_cmpge_epu64_mask(kTopOnly ? mix8_top(x2) : mix8(x2), t))
         << 8));
    // A register compress and a whole-vector store: the compressing store to memory is
    // microcoded and slow on some CPUs (AMD Zen 4).
    _mm512_storeu_si512(out + c, _mm512_maskz_compress_epi32(m, index));
    c += __builtin_popcount(m);
    x = _mm512_add_epi64(x, step);
    x2 = _mm512_add_epi64(x2, step);
    index = _mm512_add_epi32(index, sixteen);
  }
  std::uint64_t y = state + (2 * static_cast<std::uint64_t>(kb) + 1) * g;
  for (; kb < n; ++kb, y += 2 * g) {
    out[c] = static_cast<std::int32_t>(kb);
    c += SplitMix64::mix(y) >= threshold ? 1 : 0;
  }
  count = c;
}

ATTNSIM_TARGET_AVX512 inline __m512d horner8(const double* c, std::size_t n, __m512d x) {
  __m512d p = _mm512_set1_pd(c[0]);
  for (std::size_t i = 1; i < n; ++i) p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(c[i]));
  return p;
}

struct Bounds8 {
  __m512d lo, hi;
};

// Bounds of 8 candidates' scores (lanes outside `valid`: anything).
ATTNSIM_TARGET_AVX512 inline Bounds8 bound8(std::uint64_t state, __m256i kb32, __mmask8 valid,
                                            const Bounder& b) {
  const auto g = SplitMix64::kGamma;
  const __m512i x1 =
      _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(state + g)),
                       _mm512_mullo_epi64(_mm512_cvtepi32_epi64(kb32),
                                          _mm512_set1_epi64(static_cast<long long>(2 * g))));
  const __m512i h1 = mix8(x1);
  const __m512i h2 = mix8(_mm512_add_epi64(x1, _mm512_set1_epi64(static_cast<long long>(g))));
  // u1 = m 2^-53 with m = 2^53 - (h1 >> 11) in [1, 2^53]: exact as a double.
  const __m512d m = _mm512_cvtepi64_pd(
      _mm512_sub_epi64(_mm512_set1_epi64(std::int64_t{1} << 53), _mm512_srli_epi64(h1, 11)));
  __m512d e = _mm512_getexp_pd(m);
  __m512d f = _mm512_getmant_pd(m, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
  const __mmask8 big = _mm512_cmp_pd_mask(f, _mm512_set1_pd(2 * kSqrtHalf), _CMP_GT_OQ);
  f = _mm512_mask_mul_pd(f, big, f, _mm512_set1_pd(0.5));
  e = _mm512_mask_add_pd(e, big, e, _mm512_set1_pd(1.0));
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d t = _mm512_div_pd(_mm512_sub_pd(f, one), _mm512_add_pd(f, one));
  const __m512d ln_f = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(2.0), t),
                                     horner8(kLnCoefficients, 5, _mm512_mul_pd(t, t)));
  const __m512d ln_u1 =
      _mm512_fmadd_pd(_mm512_sub_pd(e, _mm512_set1_pd(53.0)), _mm512_set1_pd(kLn2), ln_f);
  const __m512d r = _mm512_sqrt_pd(
      _mm512_max_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), ln_u1), _mm512_setzero_pd()));
  const __m512d u2 =
      _mm512_mul_pd(_mm512_cvtepi64_pd(_mm512_srli_epi64(h2, 11)), _mm512_set1_pd(0x1.0p-53));
  const __m512d y = _mm512_mul_pd(_mm512_set1_pd(kTwoPi), u2);
  const __m512d w =
      _mm512_sub_pd(_mm512_abs_pd(_mm512_sub_pd(y, _mm512_set1_pd(kPi))), _mm512_set1_pd(kHalfPi));
  const __m512d cosine = _mm512_mul_pd(w, horner8(kSinCoefficients, 8, _mm512_mul_pd(w, w)));
  const __m512d x = _mm512_mul_pd(_mm512_set1_pd(b.sigma), _mm512_mul_pd(r, cosine));
  const __m512d j = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(kLog2e)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512d rest = _mm512_fnmadd_pd(j, _mm512_set1_pd(kLn2), x);
  const __m512d noise = _mm512_mul_pd(_mm512_set1_pd(b.noise),
                                      _mm512_scalef_pd(horner8(kExpCoefficients, 11, rest), j));
  // Deterministic parts: by distance, candidate 0's with the sink.
  const __m256i d = _mm256_abs_epi32(
      _mm256_sub_epi32(kb32, _mm256_set1_epi32(static_cast<std::int32_t>(b.current))));
  __m512d det = _mm512_mask_i32gather_pd(_mm512_setzero_pd(), valid, d, b.det_by_distance, 8);
  det = _mm512_mask_mov_pd(det, _mm256_cmpeq_epi32_mask(kb32, _mm256_setzero_si256()) & valid,
                           _mm512_set1_pd(b.det0));
  return {_mm512_mul_pd(_mm512_fmadd_pd(noise, _mm512_set1_pd(b.lo_factor), det),
                        _mm512_set1_pd(1 - 1e-12)),
          _mm512_mul_pd(_mm512_fmadd_pd(noise, _mm512_set1_pd(b.hi_factor), det),
                        _mm512_set1_pd(1 + 1e-12))};
}

ATTNSIM_TARGET_AVX512 inline void keep8(const Bounds8& v, __m256i kb32, __mmask8 valid,
                                        double floor, Bounded& out, std::int64_t& size) {
  const __mmask8 keep = _mm512_cmp_pd_mask(v.hi, _mm512_set1_pd(floor), _CMP_GT_OQ) & valid;
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.kb.data() + size),
                      _mm256_maskz_compress_epi32(keep, kb32));
  _mm512_storeu_pd(out.lo.data() + size, _mm512_maskz_compress_pd(keep, v.lo));
  _mm512_storeu_pd(out.hi.data() + size, _mm512_maskz_compress_pd(keep, v.hi));
  size += __builtin_popcount(keep);
}

// Two vectors per step: each one's chain of dependent steps (hashes, logarithm, square root,
// sine and exponential polynomials) is long, and rows have only a few dozen candidates.
ATTNSIM_TARGET_AVX512 void bound_avx512(std::uint64_t state, const std::int32_t* kbs,
                                        std::int64_t count, const Bounder& b, double floor,
                                        Bounded& out) {
  const auto mask_of = [count](std::int64_t i) {
    return count - i >= 8 ? static_cast<__mmask8>(0xFF)
           : count > i    ? static_cast<__mmask8>((1u << (count - i)) - 1)
                          : static_cast<__mmask8>(0);
  };
  std::int64_t size = out.size;
  for (std::int64_t i = 0; i < count; i += 16) {
    const __mmask8 valid = mask_of(i);
    const __mmask8 valid2 = mask_of(i + 8);
    const __m256i kb = _mm256_maskz_loadu_epi32(valid, kbs + i);
    const __m256i kb2 = _mm256_maskz_loadu_epi32(valid2, kbs + i + 8);
    const Bounds8 v = bound8(state, kb, valid, b);
    const Bounds8 v2 = bound8(state, kb2, valid2, b);
    keep8(v, kb, valid, floor, out, size);
    keep8(v2, kb2, valid2, floor, out, size);
  }
  out.size = size;
}
ATTNSIM_TARGET_AVX512 std::int64_t screen_avx512(std::uint64_t state, const std::int32_t* kbs,
                                                 std::int64_t count, const Cut& cut,
                                                 std::int64_t current, std::int32_t* out) {
  const auto g = SplitMix64::kGamma;
  const __m512i two_gamma = _mm512_set1_epi64(static_cast<long long>(2 * g));
  const __m512i base = _mm512_set1_epi64(static_cast<long long>(state + g));
  const __m512i gamma = _mm512_set1_epi64(static_cast<long long>(g));
  const __m512i top = _mm512_set1_epi64(std::int64_t{1} << 53);
  const __m512i half = _mm512_set1_epi64(std::int64_t{1} << 52);
  const __m512i offset = _mm512_set1_epi64(10 + cut.first_exponent);
  const __m512i fifteen = _mm512_set1_epi64(15);
  const __m512i drop_lo = _mm512_loadu_si512(cut.drop);
  const __m512i drop_hi = _mm512_loadu_si512(cut.drop + 8);
  const __m256i current8 = _mm256_set1_epi32(static_cast<std::int32_t>(current));
  const __m256i near =
      _mm256_set1_epi32(static_cast<std::int32_t>(std::min<std::int64_t>(cut.near, 1 << 30)));
  std::int64_t size = 0;
  for (std::int64_t i = 0; i < count; i += 8) {
    const __mmask8 valid = count - i >= 8 ? static_cast<__mmask8>(0xFF)
                                          : static_cast<__mmask8>((1u << (count - i)) - 1);
    const __m256i kb32 = _mm256_maskz_loadu_epi32(valid, kbs + i);
    const __m512i x1 =
        _mm512_add_epi64(base, _mm512_mullo_epi64(_mm512_cvtepi32_epi64(kb32), two_gamma));
    const __m512i m = _mm512_sub_epi64(top, _mm512_srli_epi64(mix8(x1), 11));
    const __m512i j = _mm512_min_epu64(_mm512_sub_epi64(_mm512_lzcnt_epi64(m), offset), fifteen);
    const __m512i drop = _mm512_permutex2var_epi64(drop_lo, j, drop_hi);
    const __m512i v = _mm512_abs_epi64(
        _mm512_sub_epi64(_mm512_srli_epi64(mix8(_mm512_add_epi64(x1, gamma)), 11), half));
    const __mmask8 far = _mm512_cmpgt_epi64_mask(v, drop);
    const __mmask8 special =
        _mm256_cmpeq_epi32_mask(kb32, _mm256_setzero_si256()) |
        _mm256_cmplt_epi32_mask(_mm256_abs_epi32(_mm256_sub_epi32(kb32, current8)), near);
    const __mmask8 keep = (far | special) & valid;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + size),
                        _mm256_maskz_compress_epi32(keep, kb32));
    size += __builtin_popcount(keep);
  }
  return size;
}
// Ranks by counting (no branches to mispredict; std::nth_element took about 0.5 us for 36
// values here, longer than the scan of the row's 4096 candidates).
ATTNSIM_TARGET_AVX512 double kth_avx512(double* values, std::int64_t count, std::int64_t keep) {
  const std::int64_t padded = (count + 7) / 8 * 8;
  for (std::int64_t i = count; i < padded; ++i) values[i] = -HUGE_VAL;
  // Distinct values: the one with exactly keep - 1 greater. Ties: the general rank test.
  for (std::int64_t i = 0; i < count; ++i) {
    const __m512d v = _mm512_set1_pd(values[i]);
    std::int64_t greater = 0;
    for (std::int64_t j = 0; j < padded; j += 8) {
      greater += __builtin_popcount(_mm512_cmp_pd_mask(_mm512_loadu_pd(values + j), v, _CMP_GT_OQ));
    }
    if (greater == keep - 1) return values[i];
  }
  std::nth_element(values, values + (keep - 1), values + count, std::greater<>());
  return values[keep - 1];
}
ATTNSIM_TARGET_AVX512 std::int64_t reaching_avx512(const Bounded& b, double level,
                                                   std::int32_t* out) {
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < b.size; i += 8) {
    const __mmask8 valid = b.size - i >= 8 ? static_cast<__mmask8>(0xFF)
                                           : static_cast<__mmask8>((1u << (b.size - i)) - 1);
    const __mmask8 keep = _mm512_mask_cmp_pd_mask(
        valid, _mm512_maskz_loadu_pd(valid, b.hi.data() + i), _mm512_set1_pd(level), _CMP_GE_OQ);
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(out + n),
        _mm256_maskz_compress_epi32(keep, _mm256_maskz_loadu_epi32(valid, b.kb.data() + i)));
    n += __builtin_popcount(keep);
  }
  return n;
}
#endif

}  // namespace

std::int64_t reaching(const Bounded& b, double level, std::int32_t* out) {
#ifdef ATTNSIM_TOPK_AVX512
  if (using_avx512()) return reaching_avx512(b, level, out);
#endif
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < b.size; ++i) {
    out[n] = b.kb[i];
    n += b.hi[i] >= level ? 1 : 0;
  }
  return n;
}

double kth_largest(double* values, std::int64_t count, std::int64_t keep) {
#ifdef ATTNSIM_TOPK_AVX512
  if (using_avx512()) return kth_avx512(values, count, keep);
#endif
  std::nth_element(values, values + (keep - 1), values + count, std::greater<>());
  return values[keep - 1];
}

Cut make_cut(int level, double noise, double sigma, const std::vector<double>& det_tail) {
  Cut cut;
  cut.m0 = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ldexp(std::exp2(-level / 4.0), 53)));
  cut.m0 = std::min<std::uint64_t>(cut.m0, std::uint64_t{1} << 53);
  // A multiple of 2^22 gives a threshold with 33 low zero bits (the scan's shortcut).
  if (cut.m0 >= (std::uint64_t{1} << 22)) cut.m0 &= ~((std::uint64_t{1} << 22) - 1);
  cut.threshold = ((std::uint64_t{1} << 53) - cut.m0) << 11;
  const double log_cut = -std::log(static_cast<double>(cut.m0) * 0x1.0p-53);  // >= 0
  const double r0 = std::sqrt(2 * log_cut);
  cut.floor = noise * std::exp(sigma * (r0 + 1e-4)) * (1 + 1e-9);
  const double delta = cut.floor * -std::expm1(-sigma * 1e-4) / 2;
  cut.near = std::partition_point(det_tail.begin(), det_tail.end(),
                                  [&](double det) { return det > delta; }) -
             det_tail.begin();
  cut.first_exponent = 53 - (63 - __builtin_clzll(cut.m0));
  for (int j = 0; j < 16; ++j) {
    cut.drop[j] = -1;
    // Too small a sigma leaves no room for the deterministic parts' share: no screen.
    if (j == 15 || sigma < 1e-6 || log_cut <= 0) continue;
    const double exponent = static_cast<double>(cut.first_exponent + j);
    const double c = std::sqrt(log_cut / (exponent * kLn2)) * (1 - 1e-6);
    if (c >= 1) {
      cut.drop[j] = std::int64_t{1} << 52;  // cos <= 1 <= c: every u2
      continue;
    }
    const double a = std::acos(c) / kTwoPi + 1e-9;  // cos(2 pi u2) <= c for u2 in [a, 1 - a]
    if (a < 0.5) cut.drop[j] = static_cast<std::int64_t>(std::floor((0.5 - a) * 0x1.0p53));
  }
  return cut;
}

std::int64_t screen(std::uint64_t state, const std::int32_t* kbs, std::int64_t count,
                    const Cut& cut, std::int64_t current, std::int32_t* out) {
#ifdef ATTNSIM_TOPK_AVX512
  if (using_avx512()) return screen_avx512(state, kbs, count, cut, current, out);
#endif
  std::int64_t size = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    if (screen_keeps(state, kbs[i], cut, current)) out[size++] = kbs[i];
  }
  return size;
}

Bounder::Bounder(double noise_, double sigma_)
    : noise(noise_),
      sigma(sigma_),
      lo_factor(std::exp(-sigma_ * kNormalError) * (1 - 1e-9)),
      hi_factor(std::exp(sigma_ * kNormalError) * (1 + 1e-9)) {}

void Bounded::reserve(std::int64_t n) {
  const auto room = static_cast<std::size_t>(n + 16);
  if (kb.size() < room) {
    kb.resize(room);
    lo.resize(room);
    hi.resize(room);
  }
}

double approx_noise(std::uint64_t first, std::uint64_t second, double noise, double sigma) {
  const auto m = static_cast<double>((std::uint64_t{1} << 53) - (first >> 11));
  int e = 0;
  double f = std::frexp(m, &e);  // m = f 2^e, f in [1/2, 1)
  if (f < kSqrtHalf) {
    f *= 2;
    --e;
  }
  const double t = (f - 1) / (f + 1);
  const double ln_u1 = (e - 53) * kLn2 + 2 * t * horner(kLnCoefficients, t * t);
  const double r = std::sqrt(std::max(0.0, -2 * ln_u1));
  const double y = kTwoPi * SplitMix64::uniform_of(second);
  const double w = std::abs(y - kPi) - kHalfPi;
  const double x = sigma * (r * (w * horner(kSinCoefficients, w * w)));
  const double j = std::nearbyint(x * kLog2e);
  return noise * std::ldexp(horner(kExpCoefficients, x - j * kLn2), static_cast<int>(j));
}

std::int64_t scan_first_draws(std::uint64_t state, std::int64_t n, std::uint64_t threshold,
                              std::vector<std::int32_t>& out) {
  if (out.size() < static_cast<std::size_t>(n + 16)) out.resize(static_cast<std::size_t>(n + 16));
  std::int64_t count = 0;
#ifdef ATTNSIM_TOPK_AVX512
  if (using_avx512()) {
    if ((threshold & ((std::uint64_t{1} << 33) - 1)) == 0) {
      scan_avx512<true>(state, n, threshold, out.data(), count);
    } else {
      scan_avx512<false>(state, n, threshold, out.data(), count);
    }
    return count;
  }
#endif
  scan_portable(state, n, threshold, out.data(), count);
  return count;
}

void bound_scores(std::uint64_t state, const std::int32_t* kbs, std::int64_t count,
                  const Bounder& b, double floor, Bounded& out) {
#ifdef ATTNSIM_TOPK_AVX512
  if (using_avx512()) {
    bound_avx512(state, kbs, count, b, floor, out);
    return;
  }
#endif
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int32_t kb = kbs[i];
    const auto k = static_cast<std::uint64_t>(kb);
    const double noise = approx_noise(SplitMix64::draw(state, 2 * k),
                                      SplitMix64::draw(state, 2 * k + 1), b.noise, b.sigma);
    const double det = b.det(kb);
    const double hi = b.hi(det, noise);
    if (hi > floor) out.push(kb, b.lo(det, noise), hi);
  }
}

PathCounts path_counts() {
  return {g_rows.load(), g_retries.load(), g_all_rows.load(), g_exact_rows.load()};
}

void count_path(bool retry, bool all, bool exact) {
  g_rows.fetch_add(1, std::memory_order_relaxed);
  if (retry) g_retries.fetch_add(1, std::memory_order_relaxed);
  if (all) g_all_rows.fetch_add(1, std::memory_order_relaxed);
  if (exact) g_exact_rows.fetch_add(1, std::memory_order_relaxed);
}

void force_portable_kernels(bool portable) { g_portable = portable; }

bool using_avx512() { return !g_portable && cpu_has_avx512(); }

}  // namespace attnsim::gpu::topk_scores
