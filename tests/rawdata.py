"""A tiny warehouse built by hand: file versions and raw ledger rows inserted directly.

Lets the SQL models and indicators be tested on rows whose figures are computed by hand,
without the loader.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from flows.contract.ledgers import LEDGERS
from flows.load.ddl import create_loader_tables, quote, raw_columns


def period_start(period: str) -> date:
    """Return the first day a period names: '2024-03', '2024' or a snapshot date."""
    if len(period) == 4:
        return date(int(period), 1, 1)
    if len(period) == 7:
        return date(int(period[:4]), int(period[5:]), 1)
    return date.fromisoformat(period)


class RawWarehouse:
    """An in-memory warehouse with the loader's tables, filled one version at a time."""

    def __init__(self, path: str = ":memory:") -> None:
        self.con = duckdb.connect(path)
        create_loader_tables(self.con)
        self._next_id = 1

    def version(
        self,
        ledger: str,
        period: str,
        rows: list[dict] = (),
        *,
        status: str = "loaded",
        scope: str = "",
        sheet: str = "Sheet1",
        first_row: int = 4,
    ) -> int:
        """Record one file version of a ledger and its rows; return its version_id."""
        version_id = self._next_id
        self._next_id += 1
        path = f"{ledger}/{period}-v{version_id}.xlsx"
        self.con.execute(
            """
            INSERT INTO file_versions (version_id, run_id, path, scope, ledger, period,
                period_start, sheet, sha256, status, seen_at, rows_read, rows_loaded)
            VALUES (?, 'test-run', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [version_id, path, scope, ledger, period, period_start(period), sheet,
             f"sha-{version_id}", status, datetime(2025, 1, 1, tzinfo=UTC), len(rows), len(rows)],
        )  # fmt: skip
        for offset, row in enumerate(rows):
            self.insert_row(ledger, version_id, sheet, first_row + offset, row)
        return version_id

    def insert_row(self, ledger: str, version_id: int, sheet: str, row_no: int, row: dict) -> None:
        """Insert one raw row; template defaults fill the columns it leaves out."""
        spec = LEDGERS[ledger]
        defaults = {c.name: c.default for c in spec.columns if c.default is not None}
        unknown = set(row) - {name for name, _ in raw_columns(spec)}
        assert not unknown, f"not columns of raw.{ledger}: {unknown}"
        values = {**defaults, **row, "_version_id": version_id, "_sheet": sheet, "_row": row_no}
        names = list(values)
        placeholders = ", ".join("?" for _ in names)
        columns = ", ".join(quote(n) for n in names)
        self.con.execute(
            f"INSERT INTO raw.{quote(ledger)} ({columns}) VALUES ({placeholders})",
            [values[n] for n in names],
        )

    def path(self, version_id: int) -> str:
        """Return the path recorded for a version."""
        return self.con.execute(
            "SELECT path FROM file_versions WHERE version_id = ?", [version_id]
        ).fetchone()[0]
