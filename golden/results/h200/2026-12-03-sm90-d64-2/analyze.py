#!/usr/bin/python3
"""The A/B tables of this folder's README: base (main 650c900) and new (this branch) sm90 builds,
min over the repeated runs, against FlexAttention (this visit's d64 runs, and the 2026-12-03
retime runs of both head dims, copied here as retime-*.json). Run in this folder."""
import glob
import json
import re
import statistics
from pathlib import Path


def load(path):
    # Mask paths as written differ ("masks/x.npz", "../rules/masks/x.npz"): keyed by file name.
    return {("masks/" + Path(r["mask"]).name, int(r["head_dim"])): float(r["ms"])
            for r in json.load(open(path))["runs"]}


def best(pattern):
    out = {}
    for path in sorted(glob.glob(pattern)):
        for key, ms in load(path).items():
            out[key] = min(ms, out.get(key, float("inf")))
    return out


def stem(mask):
    return Path(mask).stem


sets = {
    "dataset": (best("sm90-base-*.json"), best("sm90-new-*.json"),
                {**load("retime-dataset-flexattention-d64.json"),
                 **load("retime-dataset-flexattention-d128.json")},
                best("flexattention-dataset-d64.json")),
    "rules": (best("rules-sm90-base-*.json"), best("rules-sm90-new-*.json"),
              {**load("retime-rules-flexattention-d64.json"),
               **load("retime-rules-flexattention-d128.json")},
              best("flexattention-rules-d64.json")),
}
listed = r"document-026|band-033|block_topk-072|causal_window-039|a_shape-s4096|block_topk-s4096|" \
         r"block_topk-s8192|causal_window-s4096"
print("## Listed masks and controls (d64 unless marked)\n")
print("| set | mask | d | Flex ms (this visit) | Flex ms (retime) | base ms | new ms | new / base "
      "| Flex / base | Flex / new (this visit) | Flex / new (retime) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for name, (base, new, retime, flex) in sets.items():
    for key in sorted(base):
        mask, d = key
        if key not in new:
            continue
        if key not in flex and not (re.search(listed, mask) and d == 64):
            continue
        f = flex.get(key)
        r = retime.get(key)
        cells = [f"{f:.4f}" if f else "", f"{r:.4f}" if r else "", f"{base[key]:.4f}",
                 f"{new[key]:.4f}", f"{new[key] / base[key]:.3f}",
                 f"{(f or r) / base[key]:.3f}" if (f or r) else "",
                 f"{f / new[key]:.3f}" if f else "", f"{r / new[key]:.3f}" if r else ""]
        mark = " **" if re.search(listed, mask) else ""
        print(f"| {name} | {stem(mask)}{mark} | {d} | " + " | ".join(cells) + " |")
print("\n## Every mask: new / base time (min of the runs) and masks at >= FlexAttention's speed "
      "(retime FlexAttention)\n")
print("| set | d | masks | new/base median | min (mask) | max (mask) | >= Flex base | >= Flex new "
      "| worst Flex/new (mask) |")
print("|---|---|---|---|---|---|---|---|---|")
for name, (base, new, retime, flex) in sets.items():
    for d in (64, 128):
        keys = [k for k in base if k[1] == d and k in new]
        if not keys:
            continue
        ratio = {k: new[k] / base[k] for k in keys}
        lo, hi = min(ratio, key=ratio.get), max(ratio, key=ratio.get)
        fk = [k for k in keys if k in retime]
        fb = sum(retime[k] >= base[k] for k in fk)
        fn = sum(retime[k] >= new[k] for k in fk)
        worst = min(fk, key=lambda k: retime[k] / new[k]) if fk else None
        print(f"| {name} | {d} | {len(keys)} | {statistics.median(ratio.values()):.3f} | "
              f"{ratio[lo]:.3f} ({stem(lo[0])}) | {ratio[hi]:.3f} ({stem(hi[0])}) | "
              f"{fb} of {len(fk)} | {fn} of {len(fk)} | "
              + (f"{retime[worst] / new[worst]:.3f} ({stem(worst[0])}) |" if worst else " |"))
print("\n## Masks below FlexAttention's speed after (retime FlexAttention)\n")
for name, (base, new, retime, flex) in sets.items():
    for key in sorted(new):
        if key in retime and retime[key] < new[key]:
            print(f"- {name} {stem(key[0])} d{key[1]}: Flex/new {retime[key] / new[key]:.3f} "
                  f"(Flex/base {retime[key] / base[key]:.3f})")

# The committed kernel: its word-path neighborhood kernels (gna, dilated sliding_window) have the
# base build's PTX (identical, normalised), the others the measured new build's instructions
# (reordered producer address arithmetic): "final" takes base times for the former.
cases = json.load(open("../2026-12-02-rules/cases.json"))["cases"]
word_path = {c["name"] for c in cases
             if c["family"] == "gna" or (c["family"] == "sliding_window" and "dilation" in c["rule"])}
word_path |= {f"gna-s{s}-h{h}" for s, h in ((4096, 32), (8192, 32), (16384, 16), (32768, 8))}
print("\n## Final kernel (new, with the word-path neighborhood kernels at base times)\n")
print("| set | d | masks | final/base median | max (mask) | >= Flex base | >= Flex final |")
print("|---|---|---|---|---|---|---|")
for name, (base, new, retime, flex) in sets.items():
    final = {k: (base[k] if stem(k[0]) in word_path else v) for k, v in new.items()}
    for d in (64, 128):
        keys = [k for k in base if k[1] == d and k in final]
        ratio = {k: final[k] / base[k] for k in keys}
        hi = max(ratio, key=ratio.get)
        fk = [k for k in keys if k in retime]
        print(f"| {name} | {d} | {len(keys)} | {statistics.median(ratio.values()):.3f} | "
              f"{ratio[hi]:.3f} ({stem(hi[0])}) | {sum(retime[k] >= base[k] for k in fk)} of "
              f"{len(fk)} | {sum(retime[k] >= final[k] for k in fk)} of {len(fk)} |")
