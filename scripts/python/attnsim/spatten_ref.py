"""NumPy references of the SpAtten functional models in models/ (fixed point, softmax, top-k,
progressive quantization, cascade token/head pruning, local value pruning).

Written from the algorithm descriptions in models/README.md, not from the C++: the pytest
agreement tests compare the two bit for bit. All arithmetic on codes is int64, so the results are
exact; the few float steps (quantization, table and constant rounding) use the same IEEE
operations in the same order as the C++ (math.pow, math.ldexp, floor(x + 0.5)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

LFSR_TAPS = 0xB400
LFSR_SEED = 0xACE1


# ---- fixed point -------------------------------------------------------------------------------

def quantize(x: np.ndarray, total_bits: int, frac_bits: int) -> np.ndarray:
    """Signed codes: round half away from zero, saturate."""
    if np.isnan(x).any():
        raise ValueError("NaN has no fixed-point code")
    lo, hi = -(1 << (total_bits - 1)), (1 << (total_bits - 1)) - 1
    scaled = np.ldexp(np.asarray(x, dtype=np.float64), frac_bits)
    rounded = np.copysign(np.floor(np.abs(scaled) + 0.5), scaled)
    out = np.where(scaled <= lo, lo, np.where(scaled >= hi, hi, rounded))
    return out.astype(np.int64)


def msb_only(codes: np.ndarray, lsb_bits: int) -> np.ndarray:
    return (codes >> lsb_bits) << lsb_bits


def choose_frac_bits(max_abs: float, bits: int) -> int:
    if not max_abs > 0.0:
        return 0
    top = math.ldexp(1.0, bits - 1) - 1.0
    f = 24  # capped so q_frac + k_frac stays a valid softmax shift
    while f > -16 and math.ldexp(max_abs, f) > top:
        f -= 1
    return f


# ---- softmax -----------------------------------------------------------------------------------

@dataclass
class Softmax:
    score_frac_bits: int = 12
    head_dim: int = 64
    constant_frac_bits: int = 16
    exponent_frac_bits: int = 16
    lut_index_bits: int = 5
    exp_frac_bits: int = 20
    prob_frac_bits: int = 12

    def constant(self) -> int:
        c = math.log2(math.exp(1.0)) / math.sqrt(self.head_dim)
        return int(math.floor(math.ldexp(c, self.constant_frac_bits) + 0.5))

    def table(self) -> np.ndarray:
        n = 1 << self.lut_index_bits
        return np.array([int(math.floor(math.ldexp(math.pow(2.0, i / n), self.exp_frac_bits) + 0.5))
                         for i in range(n + 1)], dtype=np.int64)


def exp2_fixed(t: np.ndarray, p: Softmax) -> np.ndarray:
    """2^t for fixed-point t <= 0: 2^frac by linear interpolation in a table, then a right shift."""
    table = p.table()
    ef = p.exponent_frac_bits
    integer = t >> ef
    frac = t - (integer << ef)
    rbits = ef - p.lut_index_bits
    seg = frac >> rbits
    rem = frac - (seg << rbits)
    y0, y1 = table[seg], table[seg + 1]
    mant = y0 + (((y1 - y0) * rem) >> rbits)
    # rounding shift (add half, then shift), as the hardware scales by 2^integer
    shift = np.minimum(-integer, 62)
    half = np.where(shift > 0, np.left_shift(1, np.maximum(shift - 1, 0)), 0)
    return np.where(shift >= 62, 0, (mant + half) >> shift)


def softmax_fixed(scores: np.ndarray, p: Softmax) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.int64)
    diff = np.maximum(scores - scores.max(), -(1 << 40))
    shift = p.score_frac_bits + p.constant_frac_bits - p.exponent_frac_bits
    e = exp2_fixed((diff * p.constant()) >> shift, p)
    total = int(e.sum())
    return ((e << p.prob_frac_bits) + total // 2) // total


# ---- top-k -------------------------------------------------------------------------------------

def lfsr_step(state: int) -> int:
    return (state >> 1) ^ (LFSR_TAPS if state & 1 else 0)


@dataclass
class TopkRun:
    selected: np.ndarray
    threshold: int
    kept_equal: int
    pass_candidates: list
    lfsr_after: int


def topk(scores: np.ndarray, k: int, lfsr: int) -> TopkRun:
    """Quick-select: pivot = candidates[(step(lfsr) * m) >> 16]; recurse into > or < until the
    k-th largest equals the pivot; keep all > threshold and the first q == threshold."""
    scores = np.asarray(scores, dtype=np.int64)
    cand, rank, passes = scores, k, []
    while True:
        m = len(cand)
        passes.append(m)
        lfsr = lfsr_step(lfsr)
        pivot = int(cand[(lfsr * m) >> 16])
        gt, lt = cand[cand > pivot], cand[cand < pivot]
        eq = m - len(gt) - len(lt)
        if rank <= len(gt):
            cand = gt
        elif rank <= len(gt) + eq:
            q = rank - len(gt)
            break
        else:
            rank -= len(gt) + eq
            cand = lt
    equal_rank = np.cumsum(scores == pivot) - 1
    keep = (scores > pivot) | ((scores == pivot) & (equal_rank < q))
    return TopkRun(np.flatnonzero(keep), pivot, q, passes, lfsr)


def topk_cycles(run: TopkRun, n: int, k: int, lanes: int = 16) -> int:
    """Cycles from the first input beat to the last output beat (models/README.md): load
    ceil(n/P); per pass 2 + ceil(m/P) + 3 + 1; output beat b leaves 4 cycles after the read of the
    row holding its last element, at most one beat per cycle."""
    start = -(-n // lanes) + sum(2 + -(-m // lanes) + 3 + 1 for m in run.pass_candidates)
    last = -1
    for b in range(-(-k // lanes)):
        row = int(run.selected[min((b + 1) * lanes, k) - 1]) // lanes
        last = max(start + row + 4, last + 1)
    return last + 1


def keep_count(ratio: float, full: int) -> int:
    return min(max(int(math.ceil(ratio * full)), 1), full)


# ---- the whole algorithm -----------------------------------------------------------------------

@dataclass
class Params:
    quantize: bool = True
    query_bits: int = 16
    key_msb_bits: int = 6
    key_lsb_bits: int = 4
    value_bits: int = 6
    dense_bits: int = 16
    softmax: Softmax = field(default_factory=Softmax)
    progressive: bool = True
    requant_threshold: float = 0.05
    token_keep: list | None = None
    head_keep: list | None = None
    value_keep: float = 1.0
    score_bits: int = 32
    prompt_all_queries: bool = True


def saturate(x: np.ndarray, bits: int) -> np.ndarray:
    hi = (1 << (bits - 1)) - 1
    return np.clip(x, -hi - 1, hi)


def given_probs(row: np.ndarray, rows: np.ndarray, prob_frac_bits: int) -> np.ndarray:
    """A probabilities trace: the row's probabilities over `rows`, renormalised (summed in key
    order, as the C++ does) and quantized to unsigned probability codes."""
    total = 0.0
    for j in rows:
        total += float(row[j])
    if total <= 0.0:
        return np.zeros(len(rows), dtype=np.int64)
    scaled = np.ldexp(row[rows] / total, prob_frac_bits)
    top = (1 << (prob_frac_bits + 1)) - 1
    return np.where(scaled >= top, top, np.floor(scaled + 0.5)).astype(np.int64)


def run(q, k, v: np.ndarray, causal: bool, prompt_tokens: int, p: Params,
        probs: np.ndarray | None = None) -> dict:
    """Runs the algorithm on float arrays [layer, head, token, dim] (q and k None with `probs`
    [layer, head, query, key] for a probabilities trace); returns the decisions."""
    layers, heads, tokens, dim = v.shape
    prob_only = q is None
    probs_in = probs
    kb = p.key_msb_bits + p.key_lsb_bits if p.quantize else p.dense_bits
    qb = p.query_bits if p.quantize else p.dense_bits
    vb = p.value_bits if p.quantize else p.dense_bits
    prog = p.quantize and p.progressive and not prob_only
    quant = {}
    for l in range(layers):
        for h in range(heads):
            fv = choose_frac_bits(float(np.abs(v[l, h]).max()), vb)
            if prob_only:
                quant[l, h] = (None, None, None, quantize(v[l, h], vb, fv), 0)
                continue
            fq = choose_frac_bits(float(np.abs(q[l, h]).max()), qb)
            fk = choose_frac_bits(float(np.abs(k[l, h]).max()), kb)
            kf = quantize(k[l, h], kb, fk)
            quant[l, h] = (quantize(q[l, h], qb, fq), kf,
                           msb_only(kf, p.key_lsb_bits) if prog else kf,
                           quantize(v[l, h], vb, fv), fq + fk)
    thr = int(math.floor(math.ldexp(p.requant_threshold, p.softmax.prob_frac_bits) + 0.5))
    tok_imp = np.zeros(0, dtype=np.int64)
    head_imp = np.zeros(heads, dtype=np.int64)
    imp_lfsr = val_lfsr = LFSR_SEED
    iterations = tokens - prompt_tokens + 1 if causal else 1
    out = {"layers": [], "head_steps": []}
    for it in range(iterations):
        visible = prompt_tokens + it if causal else tokens
        first = 0 if (not causal or (it == 0 and p.prompt_all_queries)) else visible - 1
        tok_imp = np.concatenate([tok_imp, np.zeros(visible - len(tok_imp), dtype=np.int64)])
        alive = np.arange(visible)
        alive_heads = np.arange(heads)
        for l in range(layers):
            token_cycles = head_cycles = 0
            if p.token_keep:
                keep = keep_count(p.token_keep[l], visible)
                if keep < len(alive):
                    r = topk(saturate(tok_imp[alive], p.score_bits), keep, imp_lfsr)
                    token_cycles = topk_cycles(r, len(alive), keep)
                    imp_lfsr = r.lfsr_after
                    alive = alive[r.selected]
                    if out["head_steps"]:
                        out["head_steps"][-1]["token_topk_k"] = len(alive)
            if p.head_keep:
                keep = keep_count(p.head_keep[l], heads)
                if keep < len(alive_heads):
                    r = topk(saturate(head_imp[alive_heads], p.score_bits), keep, imp_lfsr)
                    head_cycles = topk_cycles(r, len(alive_heads), keep)
                    imp_lfsr = r.lfsr_after
                    alive_heads = alive_heads[r.selected]
            out["layers"].append({"iteration": it, "layer": l, "alive_tokens": alive.tolist(),
                                  "alive_heads": alive_heads.tolist(),
                                  "token_topk_cycles": token_cycles,
                                  "head_topk_cycles": head_cycles})
            for h in alive_heads:
                qc, kf, km, vc, sfrac = quant[l, int(h)]
                sm = Softmax(**{**p.softmax.__dict__, "score_frac_bits": sfrac, "head_dim": dim})
                step = {"iteration": it, "layer": l, "head": int(h), "token_topk_k": -1,
                        "requantized_queries": 0, "key_fetch_total": 0, "value_fetch_total": 0,
                        "value_topk_cycles_total": 0}
                for qi in range(first, visible):
                    rows = alive[alive <= qi] if causal else alive
                    if len(rows) == 0:
                        continue
                    requant = False
                    if prob_only:
                        probs = given_probs(probs_in[l, int(h), qi], rows,
                                            p.softmax.prob_frac_bits)
                    else:
                        probs = softmax_fixed(km[rows] @ qc[qi], sm)
                    if prog and probs.max() < thr:
                        requant = True
                        probs = softmax_fixed(kf[rows] @ qc[qi], sm)
                    np.add.at(tok_imp, rows, probs)
                    vkeep = keep_count(p.value_keep, len(rows))
                    if vkeep < len(rows):
                        r = topk(probs, vkeep, val_lfsr)
                        step["value_topk_cycles_total"] += topk_cycles(r, len(rows), vkeep)
                        val_lfsr = r.lfsr_after
                        vrows, vprobs = rows[r.selected], probs[r.selected]
                    else:
                        vrows, vprobs = rows, probs
                    o = vprobs @ vc[vrows]
                    head_imp[h] += int((np.abs(o) >> p.softmax.prob_frac_bits).sum())
                    step.update(key_fetch=len(rows), value_fetch=len(vrows), requantized=requant,
                                value_rows=vrows.tolist())
                    step["requantized_queries"] += int(requant)
                    step["key_fetch_total"] += len(rows)
                    step["value_fetch_total"] += len(vrows)
                out["head_steps"].append(step)
    out["token_importance"] = tok_imp.tolist()
    out["head_importance"] = head_imp.tolist()
    return out
