"""A sweep survives kills: kill -9 the sweep process mid-run and rerun it, or kill -9 one of two
Dask workers of an existing cluster mid-sweep; either way every point ends up in the store
exactly once and the store passes SQLite's integrity check."""
import sqlite3
import subprocess
import time

import pytest

from dse_support import (PYTHON, REPO, dse_command, env, free_port, kill_group,
                         manifest_or_skip, spatten_spec, store_rows)
from attnsim.dse.spec import expand_points, load_spec, point_key

SRAM = "  sram.value_bytes: {values: [196608, 262144]}\n"


def _spec(tmp_path):
    manifest = manifest_or_skip()
    if manifest.tool("spatten-sim") is None:
        pytest.skip("this build has no spatten-sim (SystemC)")
    path = spatten_spec(tmp_path / "kill.yaml", [4, 8, 16, 32], [4, 8, 16], SRAM)
    keys = {point_key(p) for p in expand_points(load_spec(path))}
    assert len(keys) == 24
    return path, keys


def _wait_for_rows(store, at_least, process, timeout_s=90):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(store_rows(store)) >= at_least:
            return
        if process.poll() is not None:
            pytest.fail(f"the sweep ended early (exit {process.returncode}): "
                        + process.stderr.read().decode()[-2000:])
        time.sleep(0.05)
    pytest.fail(f"fewer than {at_least} points stored after {timeout_s} s")


def _assert_complete(store, keys):
    rows = store_rows(store)
    assert sorted(k for k, _ in rows) == sorted(keys)  # each exactly once, nothing else
    assert all(status == "ok" for _, status in rows)
    db = sqlite3.connect(str(store))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_kill_9_mid_sweep_then_rerun_finishes_every_point_once(tmp_path):
    spec, keys = _spec(tmp_path)
    out = tmp_path / "run"
    store = out / "store.sqlite"
    sweep = subprocess.Popen(dse_command("run", spec, "--out", out, "--workers", "2", "--quiet"),
                             env=env(), cwd=REPO, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_rows(store, 3, sweep)
        sweep.kill()  # SIGKILL to the client alone, as a user's kill -9 would
        sweep.wait(timeout=10)
    finally:
        kill_group(sweep)  # its orphaned Dask workers
    survived = len(store_rows(store))
    assert 3 <= survived < len(keys), "the kill came too late to test anything"
    rerun = subprocess.run(dse_command("run", spec, "--out", out, "--serial", "--quiet"),
                           env=env(), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"({len(keys) - survived} evaluated now)" in rerun.stdout
    _assert_complete(store, keys)


def _start(command, log):
    return subprocess.Popen(command, env=env(), cwd=REPO, start_new_session=True,
                            stdout=log, stderr=subprocess.STDOUT)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # tornado, inside distributed
def test_killing_one_of_two_dask_workers_mid_sweep_loses_no_point(tmp_path):
    spec, keys = _spec(tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    log = open(tmp_path / "cluster.log", "wb")
    children = []
    try:
        children.append(_start([PYTHON, "-m", "distributed.cli.dask_scheduler", "--host",
                                "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                "--no-dashboard"], log))
        for name in ("w1", "w2"):
            children.append(_start([PYTHON, "-m", "distributed.cli.dask_worker", address,
                                    "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                    "--name", name], log))
        from distributed import Client
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        out = tmp_path / "run"
        sweep = subprocess.Popen(dse_command("run", spec, "--out", out, "--scheduler", address,
                                             "--quiet"),
                                 env=env(), cwd=REPO, start_new_session=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        children.append(sweep)
        _wait_for_rows(out / "store.sqlite", 3, sweep)
        kill_group(children[1])  # worker w1 and its spatten-sim, with SIGKILL
        assert len(store_rows(out / "store.sqlite")) < len(keys), "killed too late"
        stdout, stderr = sweep.communicate(timeout=180)
        assert sweep.returncode == 0, stderr.decode()[-2000:]
        assert f"{len(keys)} points ({len(keys)} evaluated now), {len(keys)} ok" in stdout.decode()
        _assert_complete(out / "store.sqlite", keys)
    finally:
        for child in reversed(children):
            kill_group(child)
        log.close()


