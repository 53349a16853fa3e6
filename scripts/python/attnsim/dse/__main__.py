#!/usr/bin/python3
"""python3 -m attnsim.dse run|check SPEC: design-space sweeps (see README.md in this folder).

Exit codes: 0 the sweep finished (failed points are recorded in the results, not an exit
status), 2 bad input (spec, folder of another spec, missing build), 3 an internal error.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import REPO_ROOT
from ..build_manifest import ManifestError, load_manifest
from ..output_format import add_format_option, emit, human
from .runner import SchedulerError, default_run_folder, run_sweep
from .spec import SpecError, expand_points, load_spec
from .store import StoreError


def default_build_dir() -> Path:
    return Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default"))


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python3 -m attnsim.dse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run (or resume) a sweep")
    check = sub.add_parser("check", help="check a spec and count its points; runs nothing")
    for p in (run, check):
        p.add_argument("spec", type=Path)
        add_format_option(p)
    run.add_argument("--out", type=Path, help="run folder (default: "
                     "<build>/runs/dse-<name>-<spec hash>, so a rerun resumes)")
    run.add_argument("--build-dir", type=Path, default=default_build_dir())
    where = run.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="an existing Dask scheduler, tcp://host:port")
    where.add_argument("--serial", action="store_true",
                       help="evaluate in this process, no Dask")
    run.add_argument("--workers", type=int, default=0,
                     help="local Dask worker processes (default: one per core)")
    run.add_argument("--tilesim-cli", action="store_true",
                     help="run tilesim as a process per point instead of in-process")
    run.add_argument("--retry-failed", action="store_true",
                     help="evaluate again the points a previous run recorded as failed")
    run.add_argument("--no-plots", action="store_true")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        spec = load_spec(args.spec)
        points = expand_points(spec)
        if args.command == "check":
            print(f"{args.spec}: {len(points)} points (spec hash {spec.hash()})",
                  file=human(args.format))
            emit(args.format, {"spec": str(args.spec), "points": len(points),
                               "spec_hash": spec.hash()})
            return 0
        if args.workers < 0:
            raise SpecError(f"--workers: expected a positive number, got {args.workers}")
        load_manifest(args.build_dir)
        folder = args.out or default_run_folder(args.build_dir, spec)
        summary = run_sweep(spec, folder, args.build_dir, scheduler=args.scheduler,
                            workers=args.workers, serial=args.serial, quiet=args.quiet,
                            tilesim_via_cli=args.tilesim_cli, plots=not args.no_plots,
                            retry_failed=args.retry_failed)
    except (SpecError, ManifestError, StoreError, SchedulerError) as error:
        print(f"dse: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the run folder cannot be made or written (--out under a file...)
        where = error.filename if error.filename is not None else args.out
        print(f"dse: {where}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"{folder}: {summary['points']} points ({summary['evaluated_now']} evaluated now), "
          f"{summary['ok']} ok, {summary['failed']} failed; results.csv"
          + (f", {len(summary['plots'])} plots" if summary["plots"] else ""),
          file=human(args.format))
    emit(args.format, {"folder": str(folder), **summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
