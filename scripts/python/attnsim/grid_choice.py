"""The sm90 kernel's grid choice (sim/gpu/schedulers/sm90_grid_choice.h: bsattn-bench --grid auto
and tilesim's sm90_auto): its per-item costs fitted to measured runs of both grids, and the
choice checked on other runs.

The estimate is the C++ one: each work item (query tile, head, batch) costs its visited key
tiles plus a fixed item cost in tiles; the flat grid hands items in grid order to the SM that
frees first, the persistent grid deals each head's items longest first round robin over
min(items, SMs) CTAs; the shorter makespan wins. The item costs per head dim are the pair
(flat >= persistent, steps of 0.5 tile) whose flat / persistent makespan ratios best match the
measured time ratios (mean |log| difference).

    python3 -m attnsim.grid_choice --fit golden/results/h200/2026-12-03-sm90-dataset/visit2
    python3 -m attnsim.grid_choice --evaluate golden/results/h200/2026-12-03-verify/rules
        (item costs fitted on --fit-on, by default the visit 2 folder above)

A folder needs cases.json, its masks under masks/ (`python3 -m attnsim.gpu_dataset` or
scripts/validate_gpu.py writes them), the flat runs (sm90.json) and the persistent runs
(sm90_persistent.json, or sm90-persistent.json in the 2026-12-03 visit 2 folder); --evaluate also
compares with flexattention-d64.json / flexattention-d128.json where present.
"""
from __future__ import annotations

import heapq
import json
import math
import re
from pathlib import Path

import numpy as np

from . import REPO_ROOT
from .errors import InputError
from .output_format import add_format_option, emit, human

SM_COUNT = 132  # the H200's
# The runs the shipped item costs (sim/gpu/schedulers/sm90_grid_choice.cc) are fitted on.
VISIT2 = Path("golden/results/h200/2026-12-03-sm90-dataset/visit2")
COST_STEP = 0.5
COST_MAX = 12.0


def shipped_item_costs() -> dict[int, tuple[float, float]]:
    """h200_grid_item_costs (flat, persistent tiles per item) as
    sim/gpu/schedulers/sm90_grid_choice.cc writes it: {64: ..., 128: ...}, 128 standing for every
    head dim other than 64."""
    text = (REPO_ROOT / "sim" / "gpu" / "schedulers" / "sm90_grid_choice.cc").read_text()
    d64 = re.search(r"if \(head_dim == 64\) return \{([\d.]+), ([\d.]+)\};", text)
    other = re.search(r"\n  return \{([\d.]+), ([\d.]+)\};\n\}", text)
    return {64: (float(d64[1]), float(d64[2])), 128: (float(other[1]), float(other[2]))}


def item_tiles(mask: Path, batch: int, heads: int) -> np.ndarray:
    """Visited 128-key tiles per item, [batch, heads, query tiles], from a FlexAttention-layout
    mask file (PARTIAL + FULL blocks, 128 x 128k blocks)."""
    try:
        z = np.load(mask)
        n = (z["kv_num_blocks"].astype(np.int64) + z["full_kv_num_blocks"]) * \
            (int(z["BLOCK_SIZE"][1]) // 128)
    except (OSError, KeyError, ValueError) as error:
        raise InputError(f"{mask}: expected a FlexAttention-layout mask ({error})",
                         file=str(mask)) from None
    return np.ascontiguousarray(np.broadcast_to(n, (batch, heads, n.shape[2])))


def flat_makespan(tiles: np.ndarray, item_cost: float, sm_count: int = SM_COUNT) -> float:
    """Items in grid order (query tile fastest), each to the SM that frees first."""
    free_at = [0.0] * sm_count
    makespan = 0.0
    for t in tiles.reshape(-1).tolist():
        end = heapq.heappop(free_at) + t + item_cost
        heapq.heappush(free_at, end)
        makespan = max(makespan, end)
    return makespan


def persistent_makespan(tiles: np.ndarray, item_cost: float, sm_count: int = SM_COUNT) -> float:
    """Each head's items longest first (ties in grid order), dealt round robin."""
    order = np.argsort(-tiles, axis=2, kind="stable")
    seq = np.take_along_axis(tiles, order, axis=2).reshape(-1) + item_cost
    ctas = min(len(seq), sm_count)
    return max(float(seq[c::ctas].sum()) for c in range(ctas)) if ctas else 0.0


def _runs(path: Path) -> dict[tuple[str, int], float]:
    try:
        return {(r["mask"], r["head_dim"]): r["ms"] for r in json.loads(path.read_text())["runs"]}
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"{path}: expected a measurements JSON ({type(error).__name__}: {error})",
                         file=str(path)) from None


def measured_pairs(folder: Path) -> list[dict]:
    """Every (mask, head dim) timed on both grids, with its item tiles."""
    folder = Path(folder)
    persistent_file = next((folder / n for n in ("sm90_persistent.json", "sm90-persistent.json")
                            if (folder / n).exists()), folder / "sm90_persistent.json")
    flat, persistent = _runs(folder / "sm90.json"), _runs(persistent_file)
    try:
        cases = {c["mask"]: c for c in json.loads((folder / "cases.json").read_text())["cases"]}
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"{folder / 'cases.json'}: cannot read the cases ({error})",
                         file=str(folder / "cases.json")) from None
    pairs, tiles_of = [], {}
    for (mask, d), flat_ms in sorted(flat.items()):
        if (mask, d) not in persistent:
            continue
        if mask not in tiles_of:
            case = cases.get(mask)
            path = folder / mask
            if case is None or not path.exists():
                raise InputError(f"{path}: no such mask (generate the folder's masks first: "
                                 "python3 -m attnsim.gpu_dataset or scripts/validate_gpu.py)",
                                 file=str(path))
            tiles_of[mask] = item_tiles(path, case.get("batch", 1), case["heads"])
        pairs.append({"mask": mask, "head_dim": d, "tiles": tiles_of[mask], "flat_ms": flat_ms,
                      "persistent_ms": persistent[(mask, d)]})
    return pairs


def fit(folder: Path) -> dict[int, tuple[float, float]]:
    """Per head dim, the (flat, persistent) item costs that best match the measured ratios."""
    pairs = measured_pairs(folder)
    steps = np.arange(0.0, COST_MAX + COST_STEP / 2, COST_STEP)
    out = {}
    for d in sorted({p["head_dim"] for p in pairs}):
        rows = [p for p in pairs if p["head_dim"] == d]
        flat = {c: [flat_makespan(p["tiles"], c) for p in rows] for c in steps}
        persistent = {c: [persistent_makespan(p["tiles"], c) for p in rows] for c in steps}
        measured = [math.log(p["flat_ms"] / p["persistent_ms"]) for p in rows]
        best = None
        for cf in steps:
            for cp in steps[steps <= cf]:
                err = sum(abs(math.log(f / q) - m) for f, q, m in
                          zip(flat[cf], persistent[cp], measured)) / len(rows)
                if best is None or err < best[0] - 1e-12:
                    best = (err, float(cf), float(cp))
        out[d] = (best[1], best[2])
    return out


def evaluate(folder: Path, costs: dict[int, tuple[float, float]]) -> list[dict]:
    """Per head dim: masks, wrong picks, the chosen grid's time over the faster one's (max,
    mean), and where FlexAttention's runs are in the folder, how many masks the chosen grid runs
    at least as fast as FlexAttention and the worst ratio (FlexAttention time / chosen)."""
    folder = Path(folder)
    pairs = measured_pairs(folder)
    rows = []
    for d in sorted({p["head_dim"] for p in pairs}):
        cf, cp = costs[d]
        flex_path = folder / f"flexattention-d{d}.json"
        flex = _runs(flex_path) if flex_path.exists() else {}
        picks = []
        for p in (p for p in pairs if p["head_dim"] == d):
            persistent = persistent_makespan(p["tiles"], cp) < flat_makespan(p["tiles"], cf)
            chosen = p["persistent_ms"] if persistent else p["flat_ms"]
            picks.append({"mask": p["mask"], "persistent": persistent, "chosen_ms": chosen,
                          "loss": chosen / min(p["flat_ms"], p["persistent_ms"]),
                          "wrong": persistent != (p["persistent_ms"] < p["flat_ms"]),
                          "flex_ratio": flex[(p["mask"], d)] / chosen
                          if (p["mask"], d) in flex else None})
        versus = [x["flex_ratio"] for x in picks if x["flex_ratio"] is not None]
        rows.append({"head_dim": d, "masks": len(picks), "persistent_picks":
                     sum(x["persistent"] for x in picks), "wrong_picks":
                     sum(x["wrong"] for x in picks), "max_loss": max(x["loss"] for x in picks),
                     "mean_loss": sum(x["loss"] for x in picks) / len(picks),
                     "at_least_flexattention": sum(r >= 1 for r in versus) if versus else None,
                     "worst_vs_flexattention": min(versus) if versus else None})
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="the sm90 kernel's grid choice: fit its item "
                                     "costs, or check its picks on measured runs of both grids")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--fit", type=Path, metavar="DIR", help="fit the item costs on DIR's runs")
    action.add_argument("--evaluate", type=Path, metavar="DIR",
                        help="check the picks of the item costs fitted on --fit-on on DIR's runs")
    parser.add_argument("--fit-on", type=Path, metavar="DIR", default=VISIT2,
                        help=f"where --evaluate's item costs are fitted (default: {VISIT2}, "
                             "the runs sim/gpu/schedulers/sm90_grid_choice.cc's costs come from)")
    add_format_option(parser)
    args = parser.parse_args(argv)
    try:
        if args.fit:
            costs = [{"head_dim": d, "flat_tiles": cf, "persistent_tiles": cp}
                     for d, (cf, cp) in fit(args.fit).items()]
            if args.format != "table":
                emit(args.format, {"item_costs": costs}, rows=costs)
                return 0
            for c in costs:
                print(f"d{c['head_dim']}: flat {c['flat_tiles']:.1f} tiles, persistent "
                      f"{c['persistent_tiles']:.1f} tiles per item")
            return 0
        rows = evaluate(args.evaluate, fit(args.fit_on))
        if args.format != "table":
            emit(args.format, {"picks": rows}, rows=rows)
            return 0
        for r in rows:
            flex = "" if r["at_least_flexattention"] is None else (
                f"; >= FlexAttention on {r['at_least_flexattention']} of {r['masks']}, worst "
                f"{r['worst_vs_flexattention']:.3f}")
            print(f"d{r['head_dim']}: {r['masks']} masks, persistent picked for "
                  f"{r['persistent_picks']}, {r['wrong_picks']} picks of the slower grid, chosen "
                  f"/ faster time max {r['max_loss']:.3f} mean {r['mean_loss']:.4f}{flex}")
        return 0
    except InputError as error:
        print(f"grid_choice: error: {error}", file=human(args.format))
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
