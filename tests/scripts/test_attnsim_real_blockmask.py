"""attnsim.gpu on BlockMasks that torch 2.11 built on the H200 (create_block_mask on CUDA,
exported there by attnsim.gpu.blockmask_arrays; golden/results/h200/2026-12-02-blockmask-export):
predict on the arrays equals the tilesim CLI on the same file, with hand-counted tiles."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from attnsim import REPO_ROOT
import attnsim.gpu
import attnsim.native

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default")).resolve()
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
EXPORTS = REPO_ROOT / "golden" / "results" / "h200" / "2026-12-02-blockmask-export"
pytestmark = pytest.mark.skipif(not TILESIM.exists(), reason=f"{TILESIM} is not built")

# FlexAttention's d128 tiles are 128 x 64: every 128 x 128 block is two tiles. Causal over n
# blocks: n diagonal blocks partial, n (n - 1) / 2 full. S = 3000: 24 blocks, the last cut by the
# sequence end (56 keys: one 64-wide tile), so the last row's 24 blocks are all partial, and the
# full blocks are those below the diagonal in the other 23 rows.
EXPECTED_TILES = {
    "causal4096": (2 * 32 * 31 // 2, 2 * 32),
    "causal3000": (2 * (23 * 22 // 2), 2 * 23 + (2 * 23 + 1)),
}


@pytest.mark.parametrize("name", ["causal4096", "document4096", "causal3000"])
def test_predict_on_a_real_blockmask_equals_the_cli(name):
    # The sanitize build has tilesim but no attnsim_native (sim/bindings/CMakeLists.txt).
    try:
        attnsim.native.module()
    except attnsim.native.NativeModuleMissing:
        pytest.skip(f"this build has no attnsim_native ({BUILD})")
    path = EXPORTS / f"{name}.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    assert arrays["kv_num_blocks"].dtype == np.int32
    result = attnsim.gpu.predict(arrays, kernel="flexattention").to_dict()
    cli = json.loads(subprocess.run([str(TILESIM), "predict", str(path), "--kernel",
                                     "flexattention"], capture_output=True, text=True,
                                    check=True).stdout)["results"][0]
    assert {k: v for k, v in result.items() if k != "mask"} == \
        {k: v for k, v in cli.items() if k != "mask"}
    if name in EXPECTED_TILES:
        assert (result["tiles_full"], result["tiles_partial"]) == EXPECTED_TILES[name]
