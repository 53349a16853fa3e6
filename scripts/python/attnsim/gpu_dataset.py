"""The GPU validation datasets, written as mask files by `tilesim gen` with fixed seeds, plus
`cases.json` recording each case's exact command, so the masks (which are not committed) can be
regenerated bit for bit.

    /usr/bin/python3 -m attnsim.gpu_dataset --tilesim build/default/sim/gpu/tilesim --out DIR
    /usr/bin/python3 -m attnsim.gpu_dataset --dataset rules-2026-12 --tilesim ... --out DIR
    /usr/bin/python3 -m attnsim.gpu_dataset --dataset rules-2026-12 --cases-only --out DIR
    /usr/bin/python3 -m attnsim.gpu_dataset --check DIR     # file rules vs cases.json

`2026-11-23` (the default): every tilesim pattern family at four shapes, batch 1, 8-32 heads; head
dims (64, 128) are chosen at run time. `rules-2026-12` (issue #12, attnsim.gpu_dataset_rules):
the token-level mask rules people write with FlexAttention, with batch, GQA and unaligned lengths;
each case carries its head dims, GQA group, expected rule and role (calibration, rule_calibration,
held_out). Masks are written in FlexAttention's BlockMask layout.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from .runinfo import write_json_atomically

# (sequence length, heads): 4K-32K tokens, 8-32 heads, roughly constant work per shape.
SHAPES = [(4096, 32), (8192, 32), (16384, 16), (32768, 8)]


def family_args(family: str, seq: int) -> list[str]:
    """tilesim gen arguments of one family at sequence length `seq`."""
    side = {4096: "64x64", 8192: "64x128", 16384: "128x128", 32768: "128x256"}[seq]
    frames = {4096: 16, 8192: 32, 16384: 32, 32768: 64}[seq]
    return {
        "dense": [],
        "causal": [],
        "sliding_window": ["--window", str(seq // 8)],
        "gna": ["--dims", side, "--window", "31"],
        "causal_window": ["--window", str(seq // 8)],
        "band": ["--left", str(seq // 16), "--right", str(seq // 64)],
        "a_shape": ["--sinks", "128", "--window", str(seq // 8)],
        "vertical_slash": ["--verticals", "1000", "--local", "512"],
        "block_topk": ["--density", "0.15"],
        "permuted_block_sparse": ["--segment", "2048", "--k", "8"],
        "radial": ["--frames", str(frames)],
        "random": ["--density", "0.2"],
        "mixture": ["--window", str(seq // 16), "--density", "0.15"],
    }[family]


FAMILIES = ["dense", "causal", "sliding_window", "gna", "causal_window", "band", "a_shape",
            "vertical_slash", "block_topk", "permuted_block_sparse", "radial", "random", "mixture"]


def cases() -> list[dict]:
    out = []
    for seq, heads in SHAPES:
        for family in FAMILIES:
            name = f"{family}-s{seq}-h{heads}"
            args = ["gen", family, *family_args(family, seq), "--seq", str(seq), "--heads",
                    str(heads), "--seed", "1", "--format", "flex", "--out", f"masks/{name}.npz"]
            out.append({"name": name, "family": family, "seq": seq, "heads": heads,
                        "mask": f"masks/{name}.npz", "tilesim_args": args})
    return out


DATASETS = ["2026-11-23", "rules-2026-12", "blind-2026-12", "flex-costs-2026-12",
            "blind2-2026-12", "unaligned-2026-12", "blind3-2026-12", "cta-probe-2026-12",
            "blind4-2026-12", "blind5-2026-12", "dense-twins-2026-12", "blind6-2026-12",
            "blind7-2026-12", "split-probe-2026-12", "neighborhood-probe-2026-12"]


def dataset_cases(dataset: str = "2026-11-23") -> list[dict]:
    if dataset == "2026-11-23":
        return cases()
    if dataset == "rules-2026-12":
        from .gpu_dataset_rules import cases as rules_cases
        return rules_cases()
    if dataset == "blind-2026-12":
        from .gpu_dataset_rules import blind_cases
        return blind_cases()
    if dataset == "blind2-2026-12":
        from .gpu_dataset_rules import blind2_cases
        return blind2_cases()
    if dataset == "blind3-2026-12":
        from .gpu_dataset_rules import blind3_cases
        return blind3_cases()
    if dataset == "unaligned-2026-12":
        from .gpu_dataset_rules import unaligned_cases
        return unaligned_cases()
    if dataset == "dense-twins-2026-12":
        from .gpu_dataset_rules import dense_twin_cases
        return dense_twin_cases()
    if dataset == "blind6-2026-12":
        from .gpu_dataset_rules import blind6_cases
        return blind6_cases()
    if dataset == "blind7-2026-12":
        from .gpu_dataset_rules import blind7_cases
        return blind7_cases()
    if dataset == "blind5-2026-12":
        from .gpu_dataset_rules import blind5_cases
        return blind5_cases()
    if dataset == "blind4-2026-12":
        from .gpu_dataset_rules import blind4_cases
        return blind4_cases()
    if dataset == "cta-probe-2026-12":
        from .gpu_dataset_costs import cta_probe_cases
        return cta_probe_cases()
    if dataset == "split-probe-2026-12":
        from .gpu_dataset_costs import split_probe_cases
        return split_probe_cases()
    if dataset == "flex-costs-2026-12":
        from .gpu_dataset_costs import cases as cost_cases
        return cost_cases()
    if dataset == "neighborhood-probe-2026-12":
        from .gpu_dataset_costs import NEIGHBORHOOD_PROBE_BASES, cases as cost_cases
        return cost_cases(NEIGHBORHOOD_PROBE_BASES, first_index=100)
    raise ValueError(f"unknown dataset '{dataset}' (known: {', '.join(DATASETS)})")


def write_cases(out_dir: Path, dataset: str) -> list[dict]:
    all_cases = dataset_cases(dataset)
    out_dir.mkdir(parents=True, exist_ok=True)
    value = {"cases": all_cases} if dataset == "2026-11-23" else \
        {"dataset": dataset, "cases": all_cases}
    write_json_atomically(out_dir / "cases.json", value)
    return all_cases


def generate(tilesim: Path, out_dir: Path, dataset: str = "2026-11-23",
             roles: set[str] | None = None) -> list[dict]:
    """Writes the dataset's masks into out_dir/masks and its cases.json; with `roles`, only the
    masks of the cases with those roles (and what they derive from), and no cases.json."""
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    all_cases = dataset_cases(dataset)
    if roles is not None:  # those cases, and the generated masks theirs derive from
        wanted = [c for c in all_cases if c.get("role") in roles]
        sources = {c["derive"]["from"] for c in wanted if "derive" in c}
        wanted_names = {c["name"] for c in wanted}
        all_cases = [c for c in all_cases if c["name"] in wanted_names or c["mask"] in sources]
    generated = [c for c in all_cases if "tilesim_args" in c]
    for i, case in enumerate(generated, 1):
        result = subprocess.run([str(tilesim.resolve()), *case["tilesim_args"]], cwd=out_dir,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"tilesim {' '.join(case['tilesim_args'])}: {result.stderr.strip()}")
        print(f"\r[{i}/{len(generated)}] {case['name']:<40}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    derive(out_dir, all_cases)
    if roles is None:
        write_cases(out_dir, dataset)
    return all_cases


def derive(out_dir: Path, all_cases: list[dict]) -> int:
    """Masks derived from generated ones (cases with `derive`: the flex-costs probe's variants)."""
    from .gpu_dataset_costs import derive_all
    return derive_all(out_dir, all_cases)


def check_rules(out_dir: Path) -> list[str]:
    """Problems where a generated mask's `rule` differs from the rule its case expects."""
    import numpy as np

    from .mask_rules import RuleError, rules_equivalent
    problems = []
    for case in json.loads((out_dir / "cases.json").read_text())["cases"]:
        if "rule" not in case:
            continue
        path = out_dir / case["mask"]
        try:
            with np.load(path) as z:
                found = str(z["rule"][()]) if "rule" in z.files else None
        except (OSError, ValueError) as error:
            problems.append(f"{path}: unreadable: {error}")
            continue
        expected = case["rule"] or None
        try:
            same = (found is None and expected is None) or (
                found is not None and expected is not None and rules_equivalent(found, expected))
        except RuleError as error:
            problems.append(f"{path}: {error}")
            continue
        if not same:
            problems.append(f"{path}: rule {found!r}, case expects {expected!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=DATASETS, default="2026-11-23")
    parser.add_argument("--tilesim", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cases-only", action="store_true",
                        help="write cases.json only (masks are generated where they are timed)")
    parser.add_argument("--derive", type=Path, metavar="DIR",
                        help="write the derived masks of DIR/cases.json (after tilesim gen)")
    parser.add_argument("--check", type=Path, metavar="DIR",
                        help="compare each generated mask's rule with its case's; exit 1 on any")
    args = parser.parse_args(argv)
    if args.derive:
        count = derive(args.derive, json.loads((args.derive / "cases.json").read_text())["cases"])
        print(f"gpu_dataset: {count} derived masks in {args.derive / 'masks'}")
        return 0
    if args.check:
        problems = check_rules(args.check)
        for problem in problems:
            print(f"gpu_dataset: RULE MISMATCH: {problem}", file=sys.stderr)
        print(f"gpu_dataset: {len(problems)} rule mismatches in {args.check}")
        return 1 if problems else 0
    if args.out is None:
        print("gpu_dataset: error: --out is required", file=sys.stderr)
        return 2
    if args.cases_only:
        written = write_cases(args.out, args.dataset)
        print(f"{len(written)} cases in {args.out / 'cases.json'}")
        return 0
    if args.tilesim is None or not args.tilesim.is_file():
        print(f"gpu_dataset: error: --tilesim: {args.tilesim}: not found", file=sys.stderr)
        return 2
    try:
        generated = generate(args.tilesim, args.out, args.dataset)
    except RuntimeError as error:
        print(f"gpu_dataset: error: {error}", file=sys.stderr)
        return 1
    print(f"{len(generated)} masks in {args.out / 'masks'}; cases in {args.out / 'cases.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
