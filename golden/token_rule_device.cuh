// The token rules (TokenRule, golden/block_sparse_attention.h) as the kernels evaluate them on the
// device: one source for the golden mma.sync kernel (golden/block_sparse_attention.cu) and the
// sm_90a kernel (golden/hopper/attention_sm90.cu). Each kernel keeps its own register layout; what
// is shared is what a rule means: which tiles need per-element masking, a row's state for a tile,
// a key's word, and the per-element test. The float32 reference (reference_attention.cu) keeps
// its own, independent evaluation.
#pragma once

#include <cstdint>

#include "golden/block_sparse_attention.h"
#include "golden/neighborhood.h"

namespace attnsim::golden::rules {

// Rules whose test compares a per-key word with per-row words: kDocument (one word each: the
// document id) and kNeighborhood (one word per key, two per row: neighborhood.h's packed form).
// A kernel computes a tile's key words once (one thread per key), not once per row.
template <TokenRule kRule>
constexpr bool kUsesWords = kRule == TokenRule::kDocument || kRule == TokenRule::kNeighborhood;
// Rules with a key interval [q - window_left, q + window_right] per row.
template <TokenRule kRule>
constexpr bool kHasInterval = kRule == TokenRule::kWindow || kRule == TokenRule::kPrefixWindow ||
                              kRule == TokenRule::kDocument;

// True when every (query, key) pair of the tile lies inside the window: the tile then needs no
// per-element masking (only tiles the window boundary crosses do, as in FlashAttention-2).
__device__ __forceinline__ bool window_covers_tile(const TokenRuleParams& rule, int q_first,
                                                   int q_last, int kv_first, int kv_last) {
  return kv_first >= q_last - rule.window_left && kv_last <= q_first + rule.window_right;
}

// Whether a tile of queries [q_first, q_last] and keys [kv_first, kv_last] needs per-element
// masking: PARTIAL tiles apply the rule (kWindow and kPrefixWindow skip tiles the window or the
// prefix covers entirely), any tile reaching past seq_kv masks its tail (`past_end`).
template <TokenRule kRule>
__device__ __forceinline__ bool tile_needs_mask(const TokenRuleParams& rule, bool is_partial,
                                                bool past_end, int q_first, int q_last,
                                                int kv_first, int kv_last) {
  if constexpr (kRule == TokenRule::kWindow) {
    return past_end ||
           (is_partial && !window_covers_tile(rule, q_first, q_last, kv_first, kv_last));
  } else if constexpr (kRule == TokenRule::kPrefixWindow) {
    const bool in_prefix =
        kv_last + 1 <= rule.prefix && (!rule.prefix_causal || kv_last <= q_first);
    return past_end || (is_partial && !in_prefix &&
                        !window_covers_tile(rule, q_first, q_last, kv_first, kv_last));
  } else {
    return is_partial || past_end;
  }
}

// Key `kv`'s word for the word rules (0 past seq_kv): the document id, or neighborhood.h's packed
// coordinates. `batch` picks the document ids' row.
template <TokenRule kRule>
__device__ __forceinline__ std::uint32_t key_word(const TokenRuleParams& rule, int batch, int kv,
                                                  int seq_kv) {
  if (kv >= seq_kv) return 0u;
  if constexpr (kRule == TokenRule::kDocument) {
    return static_cast<std::uint32_t>(
        rule.document_ids[static_cast<std::int64_t>(batch) * seq_kv + kv]);
  } else {
    return neighborhood_key_word(rule, kv);
  }
}

// Query `q`'s words for the word rules (0 past seq_q): `low` the document id or the neighborhood's
// first keys, `span` the neighborhood's extents (neighborhood.h).
template <TokenRule kRule>
__device__ __forceinline__ void row_words(const TokenRuleParams& rule, int batch, int q, int seq_q,
                                          int seq_kv, std::uint32_t* low, std::uint32_t* span) {
  *low = 0;
  *span = 0;
  if (q >= seq_q) return;
  if constexpr (kRule == TokenRule::kDocument) {
    *low = static_cast<std::uint32_t>(
        rule.document_ids[static_cast<std::int64_t>(batch) * seq_kv + q]);
  } else {
    neighborhood_row_words(rule, q, low, span);
  }
}

// kTokenMask: the bits of keys [kv0, kv0 + 32 * kWords) of row q (kv0 a multiple of 32); every bit
// set when the tile is not PARTIAL or the row is past seq_q, 0 past the row's last word.
template <int kWords>
__device__ __forceinline__ void token_mask_bits(const TokenRuleParams& rule, bool load, int q,
                                                int kv0, std::uint32_t (&bits)[kWords]) {
#pragma unroll
  for (int w = 0; w < kWords; ++w) bits[w] = ~0u;
  if (!load) return;
  const std::uint32_t* row =
      rule.token_mask + static_cast<std::int64_t>(q) * rule.token_mask_words_per_row;
  const int word = kv0 >> 5;
#pragma unroll
  for (int w = 0; w < kWords; ++w)
    bits[w] = word + w < rule.token_mask_words_per_row ? row[word + w] : 0u;
}

// One query row's state for one masked tile: a key interval, the prefix end, the row's words.
struct RowState {
  int lo, hi;               // allowed keys [lo, hi]: the window (PARTIAL tiles), else [0, seq_kv)
  int prefix_end;           // kPrefixWindow: keys below it are kept as well
  std::uint32_t low, span;  // word rules: the row's words
};

template <TokenRule kRule>
__device__ __forceinline__ RowState row_state(const TokenRuleParams& rule, bool is_partial, int q,
                                              int seq_kv, std::uint32_t low, std::uint32_t span) {
  RowState r{0, seq_kv - 1, 0, low, span};
  if constexpr (kHasInterval<kRule>) {
    if (is_partial) {
      r.lo = max(r.lo, q - rule.window_left);
      r.hi = min(r.hi, q + rule.window_right);
    }
  }
  if constexpr (kRule == TokenRule::kPrefixWindow) {
    r.prefix_end = is_partial ? min(rule.prefix, seq_kv) : 0;
    if (rule.prefix_causal) r.prefix_end = min(r.prefix_end, q + 1);
  }
  return r;
}

// Whether key `kv` is kept for the row of `r` (bitwise & and |, not && and ||: the short-circuit
// form made ptxas keep the golden kernel's document test in integer registers, 176 bytes of d128
// spill stores instead of 88 and 15-22 % slower document runs on the H200, 2026-12-03): two
// compares and a select for the interval rules,
// plus one bit test (kTokenMask: `token_bit`), one compare (kPrefixWindow) or one word test (word
// rules: the key's `word`; `guards` = neighborhood_guards(grid_rank)). FULL tiles that reach past
// seq_kv (is_partial false) test the interval alone.
template <TokenRule kRule>
__device__ __forceinline__ bool allows(const RowState& r, bool is_partial, int kv,
                                       std::uint32_t word, bool token_bit, std::uint32_t guards) {
  bool allowed = (kv >= r.lo) & (kv <= r.hi);
  if constexpr (kRule == TokenRule::kTokenMask) allowed = allowed & token_bit;
  if constexpr (kRule == TokenRule::kPrefixWindow) allowed = allowed | (kv < r.prefix_end);
  if constexpr (kRule == TokenRule::kDocument) allowed = allowed & (!is_partial | (word == r.low));
  if constexpr (kRule == TokenRule::kNeighborhood) {
    allowed = allowed & (!is_partial | neighborhood_allows(word, r.low, r.span, guards));
  }
  return allowed;
}

// allows() on a PARTIAL tile with the interval test only where the rule has one (the interval
// rules' [lo, hi] already stops at seq_kv): the other rules' callers test kv < seq_kv themselves
// on tiles that reach past it. The sm_90a kernel's per-element test.
template <TokenRule kRule>
__device__ __forceinline__ bool partial_allows(const RowState& r, int kv, std::uint32_t word,
                                               bool token_bit, std::uint32_t guards) {
  bool allowed = true;
  if constexpr (kHasInterval<kRule>) allowed = kv >= r.lo && kv <= r.hi;
  if constexpr (kRule == TokenRule::kTokenMask) allowed = token_bit;
  if constexpr (kRule == TokenRule::kPrefixWindow) allowed = allowed || kv < r.prefix_end;
  if constexpr (kRule == TokenRule::kDocument) allowed = allowed && word == r.low;
  if constexpr (kRule == TokenRule::kNeighborhood) {
    allowed = neighborhood_allows(word, r.low, r.span, guards);
  }
  return allowed;
}

}  // namespace attnsim::golden::rules
