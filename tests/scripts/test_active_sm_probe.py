"""The active-SM probe's reading (attnsim.active_sm_probe): the committed H200 probe against the
kernel presets' clock_headroom, a hand-made probe folder with known clocks, and bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from attnsim import REPO_ROOT, active_sm_probe
from attnsim.errors import InputError

PROBE = REPO_ROOT / "golden" / "results" / "h200" / "2026-12-03-active-sm-probe"
KERNELS = REPO_ROOT / "sim" / "gpu" / "presets" / "kernels"


def preset_headroom(name: str) -> dict[int, float]:
    data = yaml.safe_load((KERNELS / f"{name}.yaml").read_text())
    return {e["head_dim"]: e["ratio"] for e in data.get("clock_headroom", [])}


def test_presets_carry_the_committed_probes_headroom():
    room = active_sm_probe.headroom(active_sm_probe.runs(PROBE))
    assert preset_headroom("sm90") == room["sm90"]
    # The second visit (another machine, the sm90 kernel only) measured the same headroom.
    assert active_sm_probe.headroom(active_sm_probe.runs(PROBE / "visit2")) == \
        {"sm90": room["sm90"]}
    # The probe saw the sm90 kernel power-capped at both head dims, FlexAttention never.
    assert all(ratio > 1.0 for ratio in room["sm90"].values())
    assert room["flexattention"] == {64: 1.0, 128: 1.0}
    for name in ("flexattention", "flexattention_d64"):
        assert preset_headroom(name) == {}
    # How the capped clock rises with fewer busy SMs: 99 of 132 held 1890 MHz where 132 held
    # 1710 (d128, the log and clocks.csv): ln(132 / 99) / ln(1890 / 1710) = 2.87.
    assert active_sm_probe.power_clock_exponent(active_sm_probe.runs(PROBE)) == 2.9


def test_committed_probe_shows_the_clock_falling_with_busy_sms():
    rows = active_sm_probe.runs(PROBE)
    by = {(r["kernel"], r["head_dim"], r["reps"], r["shape"]): r for r in rows}
    # sm90 d128, steady runs: up to half the SMs busy run at the maximum clock, uncapped; 99 of
    # 132 busy are capped a little lower; the whole chip lowest.
    mhz = {shape: by[("sm90", 128, 400, shape)]["median_mhz"] for shape in active_sm_probe.SHAPES}
    for shape in ("cta16", "cta33", "cta66"):
        assert mhz[shape] == 1980 and by[("sm90", 128, 400, shape)]["capped_share"] == 0
    assert 1800 < mhz["cta99"] < 1980
    assert mhz["cta132"] < 1750 and mhz["full"] < 1750
    assert by[("sm90", 128, 400, "full")]["capped_share"] > 0.9
    # Timed at the maximum clock, 16 and 33 CTAs take the same time per tile.
    few = [by[("sm90", 128, 20, s)]["us_per_tile_per_sm"] for s in ("cta16", "cta33")]
    assert few[0] == pytest.approx(few[1], rel=0.01)


def write_probe(folder: Path, full_mhz: int) -> None:
    """A probe folder whose steady sm90 full-chip runs sample at `full_mhz`, capped; every other
    run at 1980 MHz, uncapped."""
    folder.mkdir()
    lines = ["timestamp, clocks.current.sm [MHz], clocks.max.sm [MHz], power.draw [W], "
             "power.limit [W], temperature.gpu, clocks_event_reasons.active"]
    log, second = [], 0
    device = {"sm_count": 132}
    for d in (64, 128):
        for reps in (20, 400):
            for shape in active_sm_probe.SHAPES:
                start, end = f"10:00:{second:02d}.000", f"10:00:{second:02d}.900"
                log += [f"== sm90 d{d} reps{reps} {shape} start {start}000000", "x",
                        f"== end {end}000000"]
                steady = shape == "full" and reps == 400
                mhz, reasons = (full_mhz, "0x0000000000000004") if steady else (1980, "0x0")
                for tenth in range(1, 9):
                    lines.append(f"2026/12/03 10:00:{second:02d}.{tenth}00, {mhz} MHz, 1980 MHz, "
                                 f"600 W, 700.00 W, 50, {reasons}")
                seq_q = 16384 if shape == "full" else 128 * int(shape[3:])
                info = {"batch": 1, "heads": 32 if shape == "full" else 1, "seq_q": seq_q,
                        "seq_kv": 16384 if shape == "full" else 65536}
                (folder / f"sm90-d{d}-reps{reps}-{shape}.json").write_text(json.dumps(
                    {"device": device, "runs": [{"ms": 1.0, "head_dim": d, "info": info}]}))
                second += 1
    for reps in (20, 400):
        log += [f"== flexattention reps{reps} start 10:01:0{reps // 400}.000000000",
                f"== end 10:01:0{reps // 400}.900000000"]
        lines.append(f"2026/12/03 10:01:0{reps // 400}.500, 1980 MHz, 1980 MHz, 500 W, 700.00 W, "
                     "50, 0x0")
        (folder / f"flexattention-reps{reps}.json").write_text(json.dumps(
            {"device": device, "runs": [{"ms": 2.0, "head_dim": 128, "mask": "m/cta8.npz",
                                         "info": {"batch": 1, "heads": 1, "seq_q": 1024,
                                                  "seq_kv": 65536}}]}))
    (folder / "clocks.csv").write_text("\n".join(lines) + "\n")
    (folder / "active-sm-probe.log").write_text("\n".join(log) + "\n")


def test_headroom_is_max_clock_over_the_steady_full_chip_clock(tmp_path):
    write_probe(tmp_path / "p", full_mhz=1650)
    rows = active_sm_probe.runs(tmp_path / "p")
    room = active_sm_probe.headroom(rows)
    assert room == {"sm90": {64: 1.2, 128: 1.2}, "flexattention": {128: 1.0}}
    cta8 = next(r for r in rows if r["shape"] == "cta8" and r["kernel"] == "sm90")
    assert cta8["us_per_tile_per_sm"] == pytest.approx(1000.0 / 512)  # 8 CTAs, 512 tiles each


def test_missing_or_bad_files_are_input_errors_naming_the_file(tmp_path, capsys):
    write_probe(tmp_path / "p", full_mhz=1650)
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "p", bad)
    (bad / "clocks.csv").write_text("timestamp, a, b, c, d, e, f\n2026/12/03 10:00:00.1, fast\n")
    with pytest.raises(InputError, match="clocks.csv: row 2: expected a sample"):
        active_sm_probe.runs(bad)
    (bad / "clocks.csv").unlink()
    assert active_sm_probe.main([str(bad)]) == 2
    assert "clocks.csv: cannot read" in capsys.readouterr().out
