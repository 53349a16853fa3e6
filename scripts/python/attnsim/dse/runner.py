"""Running a sweep: the run folder, the executors (in-process, a local Dask cluster, or an
existing one at tcp://host:port) and the results export.

The client process alone writes the store: workers only evaluate and return records, and each
record is committed as it arrives, so a killed sweep loses at most the points in flight.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from .. import REPO_ROOT
from ..runinfo import git_revision, write_json_atomically
from .evaluators import Context, evaluate_batch, evaluate_point
from .spec import Spec, column_name, evaluate_expression, expand_points, point_key
from .store import Store

STORE_NAME = "store.sqlite"
RESULTS_NAME = "results.csv"


class SchedulerError(Exception):
    """The --scheduler given cannot be reached; the message is one line naming it."""


def check_scheduler(address: str, timeout_s: float = 5.0) -> None:
    """Fails fast, before a run folder exists, when nothing listens at tcp://host:port (Dask's
    own client would wait 30 s and end in a traceback)."""
    parts = urlsplit(address if "://" in address else "tcp://" + address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise SchedulerError(f"--scheduler: expected tcp://host:port, got {address!r}")
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise SchedulerError(f"--scheduler {address}: cannot connect: {reason}") from None


# "<name>.tmp-<pid>" and "<stem>.tmp-<pid>.<ext>": what this package and the tools write before
# renaming into place.
_TEMPORARY = re.compile(r".*\.tmp-(\d+)(\.[^/]*)?$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Removes temporaries that a killed run left in its folder (their writer is gone)."""
    removed = []
    for path in [folder, *folder.rglob("*")] if folder.is_dir() else []:
        match = _TEMPORARY.fullmatch(path.name)
        if match and path.is_file() and not _pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def default_run_folder(build_dir: Path, spec: Spec) -> Path:
    """Stable for a spec, so running the same spec again resumes it."""
    return build_dir / "runs" / f"dse-{spec.name}-{spec.hash()}"


def prepare_run_folder(folder: Path, spec: Spec, build_dir: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    (folder / "plots").mkdir(exist_ok=True)
    write_json_atomically(folder / "spec.resolved.json", spec.resolved())
    if not (folder / "spec.yaml").exists():
        shutil.copyfile(spec.source, folder / "spec.yaml")
    write_json_atomically(folder / "provenance.json", {
        "git": git_revision(REPO_ROOT), "spec_file": str(spec.source),
        "spec_hash": spec.hash(), "build_dir": str(build_dir), "python": sys.version.split()[0],
    })


def _progress(total: int, done: int, quiet: bool):
    return tqdm(total=total, initial=done, unit="pt", desc="dse", file=sys.stderr,
                disable=quiet, dynamic_ncols=True, smoothing=0.1)


def run_serial(pending: list[tuple[str, dict]], context: Context, store: Store, bar) -> None:
    for key, point in pending:
        store.add(point, evaluate_point(key, point, context))
        bar.update(1)


def run_dask(pending: list[tuple[str, dict]], context: Context, store: Store, bar,
             scheduler: str | None, workers: int) -> None:
    from distributed import Client, LocalCluster, as_completed

    # Worker processes import this package by name: make sure they can find it.
    scripts_dir = str(Path(__file__).resolve().parents[2])  # the folder holding attnsim/
    path = os.environ.get("PYTHONPATH", "")
    if scripts_dir not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = scripts_dir + (os.pathsep + path if path else "")

    cluster = None
    if scheduler is None:
        # A folder of its own for the workers' scratch space: the shared default collects stale
        # folders of killed workers, which every later cluster purges with a log line.
        scratch = tempfile.mkdtemp(prefix="attnsim-dask-")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40,
                               local_directory=scratch)
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout=30)
    try:
        points = dict(pending)
        batches = batch_points(pending, workers)
        # The batch's point keys name the task: resubmitting after a lost client reuses nothing
        # stale, and a task the scheduler reruns on another worker (its first worker died) keeps
        # it. A killed sweep loses at most the batches in flight.
        futures = {client.submit(evaluate_batch, batch, context, key=batch_task_key(batch),
                                 pure=False, retries=2): batch
                   for batch in batches}
        for future in as_completed(futures):
            try:
                records = future.result()
            except Exception as error:  # noqa: BLE001 (CancelledError is one too)
                # KilledWorker: the task took down (or went down with) too many workers.
                records = [{"key": key, "status": "failed", "result": None, "seconds": None,
                            "worker": None, "error": f"{type(error).__name__}: {error}"}
                           for key, _ in futures[future]]
            for record in records:
                store.add(points[record["key"]], record)
                bar.update(1)
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            shutil.rmtree(scratch, ignore_errors=True)


# tilesim points take about a millisecond in-process, Dask's per-task cost several: batch them.
# spatten-sim points are process runs of a tenth of a second or more: one task each.
TILESIM_BATCH = 32


def batch_points(pending: list[tuple[str, dict]], workers: int) -> list[list[tuple[str, dict]]]:
    """Dask tasks of points: single points, or batches of tilesim points small enough that every
    worker gets several (the last ones finish together)."""
    if not pending or pending[0][1].get("evaluator") != "tilesim":
        return [[item] for item in pending]
    size = max(1, min(TILESIM_BATCH, len(pending) // max(1, 4 * workers)))
    return [pending[i:i + size] for i in range(0, len(pending), size)]


def batch_task_key(batch: list[tuple[str, dict]]) -> str:
    if len(batch) == 1:
        return f"dse-{batch[0][0]}"
    digest = hashlib.sha256("".join(key for key, _ in batch).encode()).hexdigest()[:16]
    return f"dse-batch-{len(batch)}-{digest}"


def run_sweep(spec: Spec, folder: Path, build_dir: Path, *, scheduler: str | None = None,
              workers: int = 0, serial: bool = False, quiet: bool = False,
              tilesim_via_cli: bool = False, plots: bool = True,
              retry_failed: bool = False) -> dict:
    points = expand_points(spec)
    if scheduler is not None and not serial:
        check_scheduler(scheduler)
    prepare_run_folder(folder, spec, build_dir)
    context = Context(build_dir=str(build_dir), tilesim_via_cli=tilesim_via_cli)
    with Store(folder / STORE_NAME) as store:
        store.check_spec(spec.hash())
        if retry_failed:
            store.forget_failed()
        finished = store.finished_keys()
        keyed = [(point_key(p), p) for p in points]
        pending = [(k, p) for k, p in keyed if k not in finished]
        bar = _progress(len(keyed), len(keyed) - len(pending), quiet)
        try:
            if pending:
                if serial:
                    run_serial(pending, context, store, bar)
                else:
                    run_dask(pending, context, store, bar, scheduler,
                             workers or os.cpu_count() or 1)
        finally:
            bar.close()
        rows = store.rows()
    table = export_results(spec, rows, folder / RESULTS_NAME)
    written = []
    if plots and spec.plots:
        from .plots import draw_plots
        written = draw_plots(spec, table, folder / "plots")
        from ..html_report import try_write_report
        report = try_write_report(folder, "dse")
        if report is not None:
            written.append(report)
    ok = sum(r["status"] == "ok" for r in rows)
    summary = {"points": len(keyed), "evaluated_now": len(pending), "ok": ok,
               "failed": len(rows) - ok, "plots": [str(p) for p in written]}
    write_json_atomically(folder / "summary.json", summary)
    return summary


def result_table(spec: Spec, rows: list[dict]) -> tuple[list[str], list[dict]]:
    """Columns and rows of the results: key, status, error, parameters, fixed axes, metrics,
    derived columns. Rows in key order."""
    param_columns = [p.name for p in spec.parameters]
    axis_columns = list(spec.fixed_axes)
    metric_columns: list[str] = []
    seen = set()
    for row in rows:
        for name in (row["result"] or {}):
            if name not in seen:
                seen.add(name)
                metric_columns.append(name)
    # Headline metrics first, the flattened stats after them, each group in a fixed order.
    metric_columns.sort(key=lambda c: (c.startswith("stats."), c))
    table = []
    for row in rows:
        point = row["point"]
        out = {"key": row["key"], "status": row["status"], "error": row["error"] or ""}
        out.update({name: point["params"].get(name) for name in param_columns})
        out.update({axis: point.get(axis) for axis in axis_columns})
        result = row["result"] or {}
        out.update({name: result.get(name) for name in metric_columns})
        for name, expression in spec.derived.items():
            out[name] = (evaluate_expression(expression, out) if row["status"] == "ok"
                         else None)
        table.append(out)
    columns = (["key", "status", "error"] + param_columns + axis_columns + metric_columns
               + list(spec.derived))
    return columns, table


def export_results(spec: Spec, rows: list[dict], path: Path) -> list[dict]:
    """Writes results.csv (byte-identical for the same spec and seed: key order, no timings)."""
    columns, table = result_table(spec, rows)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_text(text.getvalue())
    os.replace(tmp, path)
    return table


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


__all__ = ["run_sweep", "default_run_folder", "result_table", "column_name"]
