"""Token-level mask rules (sim/gpu/mask_rules.md) as predicates, once, for numpy and torch.

    pred = predicate("band,left=300,right=300", Geometry(seq_q=4096, seq_kv=4096))
    keep = pred(b, h, q_idx, kv_idx)      # numpy arrays, or torch tensors inside a mask_mod

Every predicate is written against an array namespace `xp` (numpy or torch) with operations both
have: `//`, `%`, comparisons, `&`, `|`, `xp.where`. The same function is
FlexAttention's mask_mod on the GPU and the brute-force reference here (`block_classes`).
Rule text is `NAME[,key=value...]`; lists use `x`, per-batch lists `/` (document lengths).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class RuleError(ValueError):
    """Rule text that names an unknown rule, misses a key or has a bad value."""


@dataclass(frozen=True)
class Geometry:
    seq_q: int
    seq_kv: int
    batch: int = 1
    heads: int = 1
    block: int = 128


# name -> {key: default (None = required)}
RULE_KEYS: dict[str, dict[str, str | None]] = {
    "allow": {},
    "causal": {},
    "causal_window": {"window": None},
    "band": {"left": None, "right": None},
    "sliding_window": {"window": None, "dilation": "1", "stride": "1"},
    "gna": {"dims": None, "window": None, "stride": "1", "dilation": "1"},
    "document": {"lengths": None, "causal": "1"},
    "prefix_lm": {"prefix": None},
    "a_shape": {"sinks": None, "window": None},
    "custom": {},
}
RULE_NAMES = list(RULE_KEYS)


@dataclass(frozen=True)
class Rule:
    name: str
    params: dict = field(default_factory=dict)  # key -> text, as written (no defaults added)

    def text(self) -> str:
        """Canonical text: the name, then key=value in key order (as tilesim's MaskRule::text)."""
        return ",".join([self.name] + [f"{k}={self.params[k]}" for k in sorted(self.params)])

    def get(self, key: str) -> str:
        value = self.params.get(key, RULE_KEYS[self.name][key])
        if value is None:
            raise RuleError(f"rule '{self.text()}': missing key '{key}' "
                            f"(keys of {self.name}: {', '.join(RULE_KEYS[self.name]) or 'none'})")
        return value

    def int(self, key: str, lo: int = 0) -> int:
        value = self.get(key)
        try:
            number = int(value)
        except ValueError:
            raise RuleError(f"rule '{self.text()}': key '{key}': expected an integer, "
                            f"got '{value}'") from None
        if number < lo:
            raise RuleError(f"rule '{self.text()}': key '{key}': expected >= {lo}, got {number}")
        return number

    def ints(self, key: str, lo: int = 0) -> list[int]:
        """An `x`-list such as 64x64 (one value is a list of one)."""
        value = self.get(key)
        try:
            numbers = [int(v) for v in value.split("x")]
        except ValueError:
            raise RuleError(f"rule '{self.text()}': key '{key}': expected integers separated by "
                            f"'x', got '{value}'") from None
        if any(n < lo for n in numbers):
            raise RuleError(f"rule '{self.text()}': key '{key}': expected values >= {lo}, "
                            f"got '{value}'")
        return numbers

    def normalized(self) -> dict:
        """Every key with defaults filled in (for comparing two rules' meaning); per-dimension
        lists whose entries are all equal read as that one value ("1x1" is "1")."""
        def canonical(value):
            parts = str(value).split("x") if value is not None else [value]
            return parts[0] if len(set(parts)) == 1 else str(value)
        return {k: canonical(self.params.get(k, d)) for k, d in RULE_KEYS[self.name].items()}

    @property
    def depends_on_batch(self) -> bool:
        return self.name == "document" and "/" in self.params.get("lengths", "")

    @property
    def depends_on_head(self) -> bool:
        return False


def parse_rule(text: str) -> Rule:
    """`NAME[,key=value...]` -> Rule; RuleError naming the rule and the key on bad text."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(f"rule {text!r}: empty rule text")
    name, *items = [t.strip() for t in text.strip().split(",")]
    if name not in RULE_KEYS:
        raise RuleError(f"rule '{text}': unknown rule '{name}' (known: {', '.join(RULE_NAMES)})")
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise RuleError(f"rule '{text}': item '{item}' is not key=value")
        if key not in RULE_KEYS[name]:
            raise RuleError(f"rule '{text}': {name} takes no key '{key}' "
                            f"(keys: {', '.join(RULE_KEYS[name]) or 'none'})")
        if key in params:
            raise RuleError(f"rule '{text}': key '{key}' given twice")
        params[key] = value
    rule = Rule(name, params)
    for key, default in RULE_KEYS[name].items():
        if default is None:
            rule.get(key)
    for key, value in params.items():  # every value is an integer or an x-list of them
        if key != "lengths":
            rule.ints(key)
            continue
        for part in value.split("/"):
            if not all(n.isdigit() for n in part.split("x")):
                raise RuleError(f"rule '{text}': key 'lengths': expected integers separated by "
                                f"'x' (per batch by '/'), got '{value}'")
    return rule


def rules_equivalent(a: str, b: str) -> bool:
    ra, rb = parse_rule(a), parse_rule(b)
    return ra.name == rb.name and ra.normalized() == rb.normalized()


def document_ids(rule: Rule, geometry: Geometry) -> np.ndarray:
    """[batch, seq] int32 document id of every token; lengths must sum to seq in each batch."""
    if geometry.seq_q != geometry.seq_kv:
        raise RuleError(f"rule '{rule.text()}': document needs seq_q == seq_kv "
                        f"(got {geometry.seq_q}, {geometry.seq_kv})")
    per_batch = rule.get("lengths").split("/")
    if len(per_batch) not in (1, geometry.batch):
        raise RuleError(f"rule '{rule.text()}': key 'lengths': {len(per_batch)} per-batch lists "
                        f"for batch {geometry.batch}")
    ids = np.empty((geometry.batch, geometry.seq_q), np.int32)
    for b in range(geometry.batch):
        text = per_batch[b if len(per_batch) > 1 else 0]
        lengths = Rule("document", {"lengths": text}).ints("lengths", lo=1)
        if sum(lengths) != geometry.seq_q:
            raise RuleError(f"rule '{rule.text()}': key 'lengths': batch {b} sums to "
                            f"{sum(lengths)}, not seq {geometry.seq_q}")
        ids[b] = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    return ids


def _gna_member(xp, x, y, n: int, window: int, stride: int, dilation: int):
    """Key coordinate y in gna_range(x, n, window, stride, dilation) (sim/gpu/patterns/gna.cc)."""
    residue = x % dilation
    m = x // dilation
    sub_n = (n - residue + dilation - 1) // dilation
    # Clamps through `where`: torch's clip with tensor bounds breaks under FlexAttention's vmap.
    w = xp.where(sub_n < window, sub_n, window)
    leader = (m // stride) * stride + stride // 2
    leader = xp.where(leader < sub_n - 1, leader, sub_n - 1)
    start = leader - window // 2
    start = xp.where(start > sub_n - w, sub_n - w, start)
    start = xp.where(start < 0, 0, start)
    ym = y // dilation
    return (y % dilation == residue) & (ym >= start) & (ym < start + w)


def predicate(rule_text: str | Rule, geometry: Geometry, xp=np, device=None):
    """mask_mod(b, h, q_idx, kv_idx) -> bool array of `rule_text` at `geometry`."""
    rule = rule_text if isinstance(rule_text, Rule) else parse_rule(rule_text)
    g = geometry
    name = rule.name
    if name == "allow":
        limit = g.seq_q + g.seq_kv
        return lambda b, h, q, kv: kv - q < limit
    if name == "causal":
        return lambda b, h, q, kv: q >= kv
    if name == "causal_window":
        w = rule.int("window", lo=1)
        return lambda b, h, q, kv: (q >= kv) & (q - kv < w)
    if name == "band":
        left, right = rule.int("left"), rule.int("right")
        return lambda b, h, q, kv: (kv >= q - left) & (kv <= q + right)
    if name == "prefix_lm":
        p = rule.int("prefix")
        return lambda b, h, q, kv: (kv < p) | (q >= kv)
    if name == "a_shape":
        sinks, w = rule.int("sinks"), rule.int("window", lo=1)
        return lambda b, h, q, kv: (q >= kv) & ((kv < sinks) | (q - kv < w))
    if name == "sliding_window":
        if g.seq_q != g.seq_kv:
            raise RuleError(f"rule '{rule.text()}': sliding_window needs seq_q == seq_kv")
        n = g.seq_q
        w, s, d = rule.int("window", 1), rule.int("stride", 1), rule.int("dilation", 1)
        if w * d > n or s > w:
            raise RuleError(f"rule '{rule.text()}': key 'window': window x dilation <= seq "
                            f"({n}) and stride <= window needed")
        return lambda b, h, q, kv: _gna_member(xp, q, kv, n, w, s, d)
    if name == "gna":
        dims = rule.ints("dims", lo=1)
        if int(np.prod(dims)) != g.seq_q or g.seq_q != g.seq_kv or not 1 <= len(dims) <= 3:
            raise RuleError(f"rule '{rule.text()}': key 'dims': 1-3 dims whose product is the "
                            f"sequence length {g.seq_q} (seq_kv {g.seq_kv})")
        per_dim = {}
        for key in ("window", "stride", "dilation"):
            values = rule.ints(key, lo=1)
            if len(values) == 1:
                values = values * len(dims)
            if len(values) != len(dims):
                raise RuleError(f"rule '{rule.text()}': key '{key}': one value or one per "
                                f"dimension of {len(dims)}")
            per_dim[key] = values
        for i, n in enumerate(dims):
            if per_dim["window"][i] * per_dim["dilation"][i] > n or \
                    per_dim["stride"][i] > per_dim["window"][i]:
                raise RuleError(f"rule '{rule.text()}': key 'window': window x dilation <= "
                                f"dim ({n}) and stride <= window needed in dimension {i}")
        # row-major: the last dimension fastest
        spans = [int(np.prod(dims[i + 1:])) for i in range(len(dims))]

        def gna(b, h, q, kv):
            keep = None
            for i, n in enumerate(dims):
                x = (q // spans[i]) % n
                y = (kv // spans[i]) % n
                member = _gna_member(xp, x, y, n, per_dim["window"][i], per_dim["stride"][i],
                                     per_dim["dilation"][i])
                keep = member if keep is None else keep & member
            return keep

        return gna
    if name == "document":
        causal = rule.get("causal")
        if causal not in ("0", "1"):
            raise RuleError(f"rule '{rule.text()}': key 'causal': expected 0 or 1, got '{causal}'")
        ids = document_ids(rule, g)
        # Padded to whole blocks (and one more) with -1: kernels may evaluate the rule on
        # positions past the end of the sequence in a partial last block.
        pad = -(-g.seq_q // g.block) * g.block + g.block - g.seq_q
        ids = np.concatenate([ids, np.full((g.batch, pad), -1, np.int32)], axis=1)
        doc = ids if xp is np else xp.as_tensor(ids, device=device)
        if causal == "1":
            return lambda b, h, q, kv: (doc[b, q] == doc[b, kv]) & (q >= kv)
        return lambda b, h, q, kv: doc[b, q] == doc[b, kv]
    raise RuleError(f"rule '{rule.text()}': {name} has no predicate (blocks come from the file)")


EMPTY, PARTIAL, FULL = 0, 1, 2


def allowed_matrix(rule_text: str | Rule, geometry: Geometry, b: int = 0) -> np.ndarray:
    """[seq_q, seq_kv] bool of batch element `b` (numpy brute force: small sequences only)."""
    pred = predicate(rule_text, geometry)
    q = np.arange(geometry.seq_q)[:, None]
    kv = np.arange(geometry.seq_kv)[None, :]
    keep = pred(np.full_like(q, b), np.zeros_like(q), q, kv)
    return np.broadcast_to(keep, (geometry.seq_q, geometry.seq_kv))


def block_classes(rule_text: str | Rule, geometry: Geometry, block: int = 128):
    """Brute-force block classes [batch, NQ, NK] (EMPTY/PARTIAL/FULL) and allowed pairs per block,
    as FlexAttention's create_block_mask and tilesim classify them: the mask is padded with False
    to whole blocks, so a block clipped by a sequence end is PARTIAL."""
    nq, nk = -(-geometry.seq_q // block), -(-geometry.seq_kv // block)
    classes = np.zeros((geometry.batch, nq, nk), np.int8)
    pairs = np.zeros((geometry.batch, nq, nk), np.int64)
    area = block * block
    for b in range(geometry.batch):
        keep = np.zeros((nq * block, nk * block), bool)
        keep[:geometry.seq_q, :geometry.seq_kv] = allowed_matrix(rule_text, geometry, b)
        p = keep.reshape(nq, block, nk, block).sum(axis=(1, 3))
        pairs[b] = p
        classes[b] = np.where(p == 0, EMPTY, np.where(p == area, FULL, PARTIAL))
    return classes, pairs


def classes_from_lists(lists: dict, nk: int) -> np.ndarray:
    """[batch, heads, NQ, NK] classes from BlockMask lists (kv_num_blocks, kv_indices, full_*)."""
    num = np.asarray(lists["kv_num_blocks"])
    out = np.zeros(num.shape + (nk,), np.int8)
    for key, cls in (("kv", PARTIAL), ("full_kv", FULL)):
        n = np.asarray(lists[f"{key}_num_blocks"])
        idx = np.asarray(lists[f"{key}_indices"])[..., :nk]
        valid = np.arange(idx.shape[-1]) < n[..., None]
        b, h, r, j = np.nonzero(valid)
        out[b, h, r, idx[b, h, r, j]] = cls
    return out
