"""attnsim.spatten_gpu's CPU side: reading the SpAtten workload's shape and counting its dense
attention's operations (the GPU timing itself runs on the H200 only; its results are committed in
golden/results/h200/2026-12-03-spatten-gpt2/)."""
import json
from pathlib import Path

import pytest

from attnsim import spatten_gpu, spatten_report
from attnsim.errors import InputError

HEADER = ("iteration_id,layer_id,head_id,embedding_length_D,sentence_length_L,key_fetch_num,"
          "quant_key_bit,quant_query_bit,auto_requant_thres,if_requant,auto_requant_incre,"
          "value_fetch_num,quant_value_bit,if_accumulate_importance,"
          "if_rescale_previous_importance,if_topk,topk\n")


def workload(tmp_path: Path, rows: list[tuple]) -> Path:
    path = tmp_path / "w.csv"
    body = "".join(f"{it},{layer},{head},64.0,{length},{length},6,16,0.05,True,4,10,6,True,False,"
                   "False,-1\n" for it, layer, head, length in rows)
    path.write_text(HEADER + body + "configs/x.yml" + "," * 16 + "\n")  # the trailing config line
    return path


def test_the_shape_and_dense_operations_of_a_small_workload(tmp_path):
    rows = [(it, layer, head, 100 + it) for it in (0, 1) for layer in (0, 1, 2) for head in (0, 1)]
    shape = spatten_gpu.workload_shape(workload(tmp_path, rows))
    assert shape == {"lengths": [100, 101], "layers": 3, "heads": 2, "head_dim": 64}
    # 3 layers x 2 heads x 64 dims x (Q x K + prob x V) x 2 ops per MAC x (100 + 101) keys
    assert spatten_gpu.executed_ops(shape) == 3 * 2 * 64 * 2 * 2 * 201


def test_the_bundled_workload_is_spatten_sims_dense_attention():
    shape = spatten_gpu.workload_shape(spatten_report.REPO_ROOT / spatten_report.PRUNED)
    assert shape["lengths"] == list(range(993, 1025))
    assert (shape["layers"], shape["heads"], shape["head_dim"]) == (12, 12, 64)
    # spatten-sim's stats.json ops.dense_equivalent for this workload
    assert spatten_gpu.executed_ops(shape) == 1189675008
    committed = json.loads((spatten_report.REPO_ROOT / spatten_report.GPU_RESULTS).read_text())
    assert committed["executed_ops"] == 1189675008


def test_lengths_that_differ_within_an_iteration_exit_2_naming_the_line(tmp_path, capsys):
    path = workload(tmp_path, [(0, 0, 0, 100), (0, 1, 0, 101)])
    with pytest.raises(InputError, match=r"w.csv:3: sentence_length_L 101 differs"):
        spatten_gpu.workload_shape(path)
    assert spatten_gpu.main(["--workload", str(path), "--out", str(tmp_path / "o.json")]) == 2
    assert "w.csv:3" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()


def test_a_non_integer_field_names_file_line_and_fields(tmp_path):
    path = workload(tmp_path, [(0, 0, 0, 100)])
    path.write_text(path.read_text().replace(",100,100,", ",1e2x,100,"))
    with pytest.raises(InputError, match=r"w.csv:2: expected integer .*sentence_length_L"):
        spatten_gpu.workload_shape(path)


def test_gpu_results_of_another_workload_are_refused():
    runs = {"paper_dense_16": {"dense_equivalent_ops": 1}, "paper_pruned_q": {"seconds": 1.0}}
    with pytest.raises(spatten_report.ReportError, match="is not the workload's dense attention"):
        spatten_report.against_gpu(runs)
