#!/usr/bin/python3
"""Turns the Yosys statistics of scripts/synth_topk.sh into synth_topk.json and a summary table.

Inputs (written by the Yosys run): stat.json (`stat -json` after ABC: generic gates, flip-flops and
the kept $mem_v2 cells) and mem.il (`dump t:$mem_v2`: the buffers' WIDTH and SIZE).

Method (also written into the JSON, so that no number travels without it):
- Logic: every generic Yosys cell is weighted in NAND2 gate equivalents (GE), from the X1 cell
  areas of the NanGate 45 nm Open Cell Library divided by its NAND2_X1 (0.57 um x 1.4 um =
  0.798 um^2). A flip-flop with enable is a flip-flop plus a 2:1 mux. No Liberty file for a 40 nm
  (or any) library ships with Debian, so there is no real technology mapping.
- Logic area = GE x NAND2 area / placement utilisation; NAND2 at 40 nm is taken as 0.63 um^2
  (NanGate's 0.798 um^2 scaled by (40/45)^2), range 0.5 .. 0.8 um^2; utilisation 0.7, range
  0.6 .. 0.8.
- Buffers: SRAM macros, area = bits x 6T bit cell / array efficiency. Bit cell 0.242 um^2 (TSMC's
  40 nm LP/G high-density cell, TSMC press release of 24 March 2008); array efficiency (bit cells
  over macro area) 0.55, range 0.4 .. 0.7 for small, wide single-port macros.
"""

import argparse
import json
import re
import sys

# NAND2 equivalents of Yosys's generic cells (NanGate 45 nm X1 area / NAND2_X1 area).
GE_COMB = {
    "$_NOT_": 0.67, "$_BUF_": 0.67,
    "$_NAND_": 1.0, "$_NOR_": 1.0,
    "$_AND_": 1.33, "$_OR_": 1.33, "$_ANDNOT_": 1.33, "$_ORNOT_": 1.33,
    "$_XOR_": 2.0, "$_XNOR_": 2.0,
    "$_MUX_": 2.33, "$_NMUX_": 2.67,
    "$_AOI3_": 1.33, "$_OAI3_": 1.33, "$_AOI4_": 1.67, "$_OAI4_": 1.67,
}
GE_DFF = 5.67          # DFF_X1 4.522 um^2
GE_DFF_RESET = 6.67    # DFFR_X1 / DFFS_X1 5.32 um^2
GE_ENABLE = GE_COMB["$_MUX_"]

NAND2_UM2 = {"nominal": 0.63, "low": 0.5, "high": 0.8}
UTILISATION = {"nominal": 0.7, "low": 0.8, "high": 0.6}  # low area <- high utilisation
BITCELL_UM2 = 0.242
ARRAY_EFFICIENCY = {"nominal": 0.55, "low": 0.7, "high": 0.4}

SPATTEN = {"chip_mm2": 18.71, "chip_w": 8.30, "topk_area_share": 0.027, "topk_power_share": 0.01}

METHOD = {
    "logic_ge": "Yosys 0.23 synth -flatten (buffers kept as $mem_v2), techmap, abc -fast to the "
                "generic gate set; each cell weighted in NAND2 equivalents from NanGate 45 nm "
                "X1 areas / NAND2_X1 (0.798 um^2); flip-flop with enable = flip-flop + MUX2",
    "logic_area": "GE x NAND2 area (40 nm: 0.63 um^2 = 0.798 x (40/45)^2, range 0.5..0.8) / "
                  "placement utilisation (0.7, range 0.6..0.8); no Liberty file in Debian, so "
                  "no real 40 nm mapping, sizing, clock tree or wiring",
    "sram_area": "bits x 0.242 um^2 (TSMC 40 nm 6T high-density bit cell, TSMC press release "
                 "2008-03-24) / array efficiency (0.55, range 0.4..0.7) for small single-port "
                 "macros",
}


def is_ff(cell):
    return cell.startswith(("$_DFF", "$_SDFF", "$_DFFE", "$_SDFFE", "$_DLATCH", "$_ALDFF"))


def ff_ge(cell):
    # Yosys names: $_DFF_P_, $_DFF_PN0_ (async reset), $_DFFE_PN0P_ (async reset, enable),
    # $_SDFF_PP0_ (sync reset), $_SDFFE_PP0P_, $_DFFSR_PNN_, ...
    kind, _, pol = cell[len("$_"):-1].partition("_")
    reset = kind.startswith(("SDFF", "DFFSR")) or (kind in ("DFF", "DFFE") and len(pol) >= 3)
    ge = GE_DFF_RESET if reset else GE_DFF
    if kind.endswith("E"):
        ge += GE_ENABLE
    return ge


def mems(il_text):
    out = []
    for block in il_text.split("cell $mem_v2 ")[1:]:
        params = dict(re.findall(r"parameter \\(\w+) (\S+)", block.split("\n  end")[0]))
        name = params.get("MEMID", "?").strip('"')
        width, size = int(params["WIDTH"]), int(params["SIZE"])
        out.append({"name": name.lstrip("\\"), "width": width, "words": size, "bits": width * size})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stat", required=True)
    ap.add_argument("--mem", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lanes", type=int, required=True)
    ap.add_argument("--max-n", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=None)
    args = ap.parse_args()

    with open(args.stat) as f:
        stat = json.load(f)
    cells = stat["design"]["num_cells_by_type"]
    with open(args.mem) as f:
        memories = mems(f.read())

    unknown = [c for c in cells if c != "$mem_v2" and not is_ff(c) and c not in GE_COMB]
    if unknown:
        sys.exit(f"synth_topk_report: no gate-equivalent weight for cell types {unknown}")
    flip_flops = sum(n for c, n in cells.items() if is_ff(c))
    comb_cells = sum(n for c, n in cells.items() if c in GE_COMB)
    ge_comb = sum(n * GE_COMB[c] for c, n in cells.items() if c in GE_COMB)
    ge_ff = sum(n * ff_ge(c) for c, n in cells.items() if is_ff(c))
    ge = ge_comb + ge_ff
    mem_bits = sum(m["bits"] for m in memories)

    def logic_mm2(case):
        return ge * NAND2_UM2[case] / UTILISATION[case] / 1e6

    def sram_mm2(case):
        return mem_bits * BITCELL_UM2 / ARRAY_EFFICIENCY[case] / 1e6

    area = {}
    for case in ("nominal", "low", "high"):
        total = logic_mm2(case) + sram_mm2(case)
        area[case] = {"logic_mm2": round(logic_mm2(case), 4), "sram_mm2": round(sram_mm2(case), 4),
                      "total_mm2": round(total, 4),
                      "share_of_spatten_chip": round(total / SPATTEN["chip_mm2"], 4)}

    report = {
        "config": {"lanes": args.lanes, "max_n": args.max_n, "score_bits": 32, "index_bits": 16},
        "tool": stat.get("creator", "yosys"),
        "cells_by_type": cells,
        "cells": sum(cells.values()),
        "combinational_cells": comb_cells,
        "flip_flops": flip_flops,
        "memories": memories,
        "memory_bits": mem_bits,
        "logic_ge": {"total": round(ge), "combinational": round(ge_comb), "flip_flops": round(ge_ff)},
        "area": area,
        "spatten": dict(SPATTEN, topk_area_mm2=round(SPATTEN["chip_mm2"] * SPATTEN["topk_area_share"], 3),
                        topk_power_w=round(SPATTEN["chip_w"] * SPATTEN["topk_power_share"], 3)),
        "method": METHOD,
        "yosys_seconds": args.seconds,
    }
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    n = area["nominal"]
    print(f"attn_topk  P={args.lanes}  MaxN={args.max_n}  ({report['tool']})")
    print(f"  cells (generic gates + FFs + memories) {report['cells']:>10,}")
    print(f"  combinational gates                    {comb_cells:>10,}")
    print(f"  flip-flops                             {flip_flops:>10,}")
    print(f"  memory bits ({len(memories)} $mem_v2)                {mem_bits:>10,}")
    print(f"  logic GE (NAND2 equivalents)           {round(ge):>10,}")
    for key, label in (("logic_mm2", "logic area"), ("sram_mm2", "SRAM area"), ("total_mm2", "total")):
        print(f"  {label:<12} mm^2  {n[key]:8.3f}  (range {area['low'][key]:.3f} .. "
              f"{area['high'][key]:.3f})")
    print(f"  share of SpAtten's 18.71 mm^2: {100 * n['share_of_spatten_chip']:.2f} % "
          f"(range {100 * area['low']['share_of_spatten_chip']:.2f} .. "
          f"{100 * area['high']['share_of_spatten_chip']:.2f} %); SpAtten: 2.7 % = "
          f"{report['spatten']['topk_area_mm2']} mm^2")


if __name__ == "__main__":
    main()
