"""The results store: SQLite in WAL mode, one row per point, one transaction per point.

Append-only: a point's row is written once, when its result arrives, in its own transaction; a
process killed at any moment leaves every committed point intact (SQLite's journal rolls back a
half-written one) and loses only the points still in flight. A rerun reads the finished keys
and evaluates the rest. Only the sweep's client process writes; workers return records.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
  key TEXT PRIMARY KEY,
  point TEXT NOT NULL,      -- the resolved point (JSON), what the key hashes
  status TEXT NOT NULL,     -- ok | failed
  error TEXT,
  result TEXT,              -- metrics (JSON) when ok
  seconds REAL,             -- evaluation wall time on the worker
  worker TEXT
);
"""


class StoreError(Exception):
    pass


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            # isolation_level=None: transactions are explicit, one per point.
            self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit survives a power loss too, not only a killed process.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path}: not a results store of this tool ({error}); use "
                             "another --out folder") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check_spec(self, spec_hash: str) -> None:
        """Binds the store to one resolved spec: resuming another spec's store is an error."""
        row = self.db.execute("SELECT value FROM meta WHERE name='spec_hash'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('spec_hash', ?)", (spec_hash,))
        elif row[0] != spec_hash:
            raise StoreError(f"{self.path}: holds results of another spec (hash {row[0]}, this "
                             f"spec {spec_hash}); use another --out folder")

    def finished_keys(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT key FROM points")}

    def add(self, point: dict, record: dict) -> bool:
        """Writes one finished point; False when it was already there (never written twice)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO points (key, point, status, error, result, seconds, worker)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record["key"], json.dumps(point, sort_keys=True), record["status"],
                 record["error"],
                 None if record["result"] is None else json.dumps(record["result"],
                                                                  sort_keys=True),
                 record.get("seconds"), record.get("worker")))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return cursor.rowcount == 1

    def forget_failed(self) -> int:
        """Drops the failed points' rows, so the next evaluation runs them again; a kill before
        they are re-run only leaves them missing, which a rerun evaluates anyway."""
        return self.db.execute("DELETE FROM points WHERE status='failed'").rowcount

    def rows(self) -> list[dict]:
        """Every point, ordered by key (never by completion order)."""
        out = []
        for key, point, status, error, result, seconds in self.db.execute(
                "SELECT key, point, status, error, result, seconds FROM points ORDER BY key"):
            out.append({"key": key, "point": json.loads(point), "status": status,
                        "error": error, "result": json.loads(result) if result else None,
                        "seconds": seconds})
        return out

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM points GROUP BY status"))
