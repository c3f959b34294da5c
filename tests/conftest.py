"""Shared fixtures: an inbox and a warehouse in a temporary folder, and a way to run and query."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("TALLY_HASH_KEY", "test-key")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


class Workspace:
    """An inbox folder and a warehouse file, with helpers to load and query."""

    def __init__(self, root: Path) -> None:
        self.inbox = root / "inbox"
        self.inbox.mkdir()
        self.warehouse = root / "warehouse" / "tally.duckdb"

    def path(self, rel: str) -> Path:
        return self.inbox / rel

    def run(self, **kwargs):
        from flows.ingest import run_ingest

        return run_ingest(self.inbox, self.warehouse, **kwargs)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params: list | None = None):
        rows = self.query(sql, params)
        assert len(rows) == 1, rows
        return rows[0] if len(rows[0]) > 1 else rows[0][0]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)
