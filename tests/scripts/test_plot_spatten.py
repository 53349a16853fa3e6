"""The spatten-sim plot reads the stats it needs, draws a PNG, and names the missing field of a
file that is not a spatten-sim stats.json."""
import json

import pytest

from attnsim import plot_spatten

STATS = {
    "cycles": 1000,
    "utilization": {"qk": {"utilization": 0.25}, "local_v_topk": {"utilization": 0.75}},
    "dram": {"bytes_by_kind": {"k_msb": {"transferred_bytes": 600}, "v": {"transferred_bytes": 200}},
             "dense_baseline_bytes": 8000,
             "reduction": {"total": 10.0, "token_pruning": 4.0, "local_v_pruning": 1.5,
                           "head_pruning": 1.0, "quantization": 1.7}},
}


def test_reads_what_it_plots_and_writes_a_png(tmp_path):
    (tmp_path / "stats.json").write_text(json.dumps(STATS))
    stats = plot_spatten.read_stats(tmp_path / "stats.json")
    assert stats["utilization"] == {"qk": 0.25, "local_v_topk": 0.75}
    assert stats["by_kind"] == {"k_msb": 600, "v": 200} and stats["dense_bytes"] == 8000
    assert plot_spatten.main([str(tmp_path / "stats.json"), "--out", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_without_the_fields_is_a_clear_error(tmp_path, capsys):
    broken = dict(STATS, dram={"bytes_by_kind": {}})
    (tmp_path / "stats.json").write_text(json.dumps(broken))
    assert plot_spatten.main([str(tmp_path / "stats.json"), "--out", str(tmp_path / "p.png")]) == 2
    assert "field 'dense_baseline_bytes'" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()
    with pytest.raises(plot_spatten.StatsError, match="not readable"):
        plot_spatten.read_stats(tmp_path / "absent.json")
