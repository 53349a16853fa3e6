"""tilesim timelines as Chrome / Perfetto trace JSON (open in https://ui.perfetto.dev or
chrome://tracing): one process per SM, one thread per SM slot, one complete event ("ph": "X") per
work item, named by its head and q tile, with its tile counts as args. Times are in
microseconds, as the trace format's `ts` and `dur` are.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.chrome_trace timeline.csv --out trace.json
    attnsim.gpu.predict(mask, timeline=True).timeline.to_chrome_trace()   # the same, in memory
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import Mapping, Sequence

COLUMNS = ("slot", "sm", "batch", "head", "q_tile", "start_us", "end_us", "tiles_full",
           "tiles_partial", "tiles_empty_visited")


def chrome_trace(columns: Mapping[str, Sequence], name: str = "tilesim") -> dict:
    """The trace of one timeline given as columns (Timeline.to_dict(), or read from the CSV)."""
    events = []
    sms = sorted({int(sm) for sm in columns["sm"]})
    for sm in sms:
        events.append({"ph": "M", "name": "process_name", "pid": sm, "tid": 0,
                       "args": {"name": f"SM {sm}"}})
        events.append({"ph": "M", "name": "process_sort_index", "pid": sm, "tid": 0,
                       "args": {"sort_index": sm}})
    slots = sorted({(int(sm), int(slot)) for sm, slot in zip(columns["sm"], columns["slot"])})
    for sm, slot in slots:
        events.append({"ph": "M", "name": "thread_name", "pid": sm, "tid": slot,
                       "args": {"name": f"slot {slot}"}})
    for i in range(len(columns["slot"])):
        start, end = float(columns["start_us"][i]), float(columns["end_us"][i])
        events.append({
            "ph": "X", "cat": "work_item", "pid": int(columns["sm"][i]),
            "tid": int(columns["slot"][i]), "ts": start, "dur": end - start,
            "name": f"b{int(columns['batch'][i])} h{int(columns['head'][i])} "
                    f"q{int(columns['q_tile'][i])}",
            "args": {k: int(columns[k][i]) for k in
                     ("batch", "head", "q_tile", "tiles_full", "tiles_partial",
                      "tiles_empty_visited")}})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"source": name, "work_items": len(columns["slot"])}}


def read_timeline_csv(path: Path, mask: str | None = None) -> tuple[str, dict[str, list]]:
    """One mask's columns from `tilesim predict --trace t.csv` CSV (the first mask by default)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or any(c not in rows[0] for c in ("mask",) + COLUMNS):
        raise ValueError(f"{path}: not a tilesim timeline CSV (columns mask, "
                         f"{', '.join(COLUMNS)})")
    mask = rows[0]["mask"] if mask is None else mask
    rows = [r for r in rows if r["mask"] == mask]
    if not rows:
        raise ValueError(f"{path}: mask '{mask}' is not in the timeline")
    return mask, {c: [float(r[c]) if c.endswith("_us") else int(r[c]) for r in rows]
                  for c in COLUMNS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("timeline", type=Path, help="tilesim predict --trace CSV")
    parser.add_argument("--out", type=Path, required=True, help="trace JSON to write")
    parser.add_argument("--mask", help="which mask of a multi-mask timeline (default: the first)")
    args = parser.parse_args(argv)
    try:
        mask, columns = read_timeline_csv(args.timeline, args.mask)
    except (OSError, ValueError) as error:
        print(f"chrome_trace: error: {error}", file=sys.stderr)
        return 2
    tmp = args.out.with_name(f"{args.out.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(chrome_trace(columns, mask)))
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(columns['slot'])} work items of {mask}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
