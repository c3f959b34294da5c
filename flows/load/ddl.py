"""The warehouse's loader tables: raw ledger rows with their lineage, and the load history.

Raw tables live in the `raw` schema, one per ledger (`raw.inspections`, …), append-only:
every row of every file version that was ever loaded, with the version it came from. The
loader keeps `file_versions.status`; which version is current is said once, by the view
`sql/staging/current_versions.sql`, and the staging models in `sql/staging/` read only the
rows of current versions through it.
"""

from __future__ import annotations

from flows.contract.ledgers import LEDGERS, Column, Ledger

DUCKDB_TYPES = {
    "date": "DATE",
    "int": "BIGINT",
    "money": "DECIMAL(18, 2)",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
    "enum": "VARCHAR",
    "text": "VARCHAR",
    "names": "VARCHAR[]",
}

# Every raw row carries where it came from: the file version, the sheet, and the row
# number as the spreadsheet shows it (1-based, title rows included); and the county it belongs
# to (`_county`, its GB/T 2260 code: the bureau's own unit, or the county folder of a city's
# inbox; flows.load.org), so that a city's or a province's rows can be told apart and rolled up.
LINEAGE = (("_version_id", "BIGINT"), ("_sheet", "VARCHAR"), ("_row", "INTEGER"), ("_county", "VARCHAR"))


def extra_columns(column: Column) -> list[tuple[str, str]]:
    """Columns derived from one template column before masking (keys, check results)."""
    extras: list[tuple[str, str]] = []
    if column.personal in ("person_name", "id_number", "phone") and column.type != "names":
        # A keyed hash of the clear value, so that a repeat party can be recognised (a
        # list of names has one per name, `_keys` below).
        extras.append((f"{column.name}_key", "VARCHAR"))
    if column.personal == "id_number":
        extras.append((f"{column.name}_kind", "VARCHAR"))  # resident_id | uscc | other
        extras.append((f"{column.name}_valid", "BOOLEAN"))  # its check digit holds
    if column.type == "names":
        extras.append((f"{column.name}_keys", "VARCHAR[]"))
    return extras


def raw_columns(ledger: Ledger) -> list[tuple[str, str]]:
    """The columns of `raw.<ledger>`, in order: data, derived, lineage."""
    cols: list[tuple[str, str]] = []
    for column in ledger.columns:
        cols.append((column.name, DUCKDB_TYPES[column.type]))
        cols.extend(extra_columns(column))
    return [*cols, *LINEAGE]


def quote(identifier: str) -> str:
    """Quote a DuckDB identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def raw_table_ddl(ledger: Ledger) -> str:
    cols = ",\n    ".join(f"{quote(n)} {t}" for n, t in raw_columns(ledger))
    return f"CREATE TABLE IF NOT EXISTS raw.{quote(ledger.code)} (\n    {cols}\n)"


LOADER_DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SEQUENCE IF NOT EXISTS version_ids START 1",
    """
    CREATE TABLE IF NOT EXISTS runs (
        run_id            VARCHAR PRIMARY KEY,
        started_at        TIMESTAMPTZ NOT NULL,
        ended_at          TIMESTAMPTZ,
        inbox             VARCHAR,
        outcome           VARCHAR,     -- running | completed | failed
        files_loaded      INTEGER,
        files_unchanged   INTEGER,
        files_superseded  INTEGER,
        files_rejected    INTEGER,
        rows_loaded       BIGINT,
        rows_quarantined  BIGINT,
        warnings          BIGINT,
        message           VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS file_versions (
        version_id        BIGINT PRIMARY KEY,
        run_id            VARCHAR NOT NULL,
        path              VARCHAR NOT NULL,  -- relative to the inbox, '/' separated
        scope             VARCHAR NOT NULL,  -- folders above the ledger folder ('' for one county)
        ledger            VARCHAR,           -- NULL when the folder names no ledger
        period            VARCHAR,           -- 2024-03; a snapshot: 2024-12-31 or 2024
        period_start      DATE,
        sheet             VARCHAR,
        sha256            VARCHAR NOT NULL,  -- of the file's bytes
        content_sha256    VARCHAR,           -- of the sheet's cells, as read
        size              BIGINT,
        modified_at       TIMESTAMPTZ,
        revision          INTEGER NOT NULL DEFAULT 0,  -- from 修订 / 更正 / vN in the name
        status            VARCHAR NOT NULL,  -- loaded | unchanged | superseded | rejected
        rows_read         INTEGER,
        rows_loaded       INTEGER,
        rows_quarantined  INTEGER,
        rows_skipped      INTEGER,           -- totals, notes, hidden rows: read, not loaded
        zero_report       BOOLEAN,
        ignored_columns   VARCHAR[],
        reason            VARCHAR,
        seen_at           TIMESTAMPTZ NOT NULL,
        superseded_by     BIGINT
    )
    """,
    # Set when a file could not be read for a cause other than its content (unreadable,
    # changed while read, timeout, unexpected): such a verdict is not remembered, the next run
    # reads the file again. Added apart so that warehouses built before it gain it too.
    "ALTER TABLE file_versions ADD COLUMN IF NOT EXISTS failure VARCHAR",
    """
    CREATE TABLE IF NOT EXISTS problems (
        version_id  BIGINT NOT NULL,
        path        VARCHAR NOT NULL,
        sheet       VARCHAR,
        "row"       INTEGER,           -- as the spreadsheet shows it
        "column"    VARCHAR,           -- the warehouse column name
        header      VARCHAR,           -- the Chinese header as the file writes it
        raw_value   VARCHAR,
        rule        VARCHAR NOT NULL,
        severity    VARCHAR NOT NULL,  -- error (row quarantined) | warning (row loaded)
        message     VARCHAR NOT NULL   -- in Chinese, for the clerk
    )
    """,
    # A warehouse made before rows were skipped and counted lacks the column.
    "ALTER TABLE file_versions ADD COLUMN IF NOT EXISTS rows_skipped INTEGER",
    # The fingerprint of the contract (the file's ledger as the contract then read it) a verdict
    # was made under: a verdict under another contract is no verdict, the file is read again.
    # NULL in a warehouse made before it: taken as made under the contract in use.
    "ALTER TABLE file_versions ADD COLUMN IF NOT EXISTS contract VARCHAR",
    """
    CREATE TABLE IF NOT EXISTS skipped_rows (
        version_id  BIGINT NOT NULL,
        sheet       VARCHAR,
        "row"       INTEGER NOT NULL,  -- as the spreadsheet shows it
        kind        VARCHAR NOT NULL,  -- total | note | hidden | filtered | nothing (a zero report's 无)
        label       VARCHAR            -- the row's label (合计, 填表人, …) and nothing else of it
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quarantined_rows (
        version_id  BIGINT NOT NULL,
        sheet       VARCHAR,
        "row"       INTEGER NOT NULL,
        cells       JSON NOT NULL      -- header -> raw text, as the clerk wrote it
    )
    """,
    # The stat shortcut's memory (flows/load/inbox_hashes.py): the last listing's hashes and stats.
    """
    CREATE TABLE IF NOT EXISTS inbox_hashes (
        path          VARCHAR PRIMARY KEY,  -- relative to the inbox, '/' separated
        sha256        VARCHAR NOT NULL,
        size          BIGINT NOT NULL,
        mtime_ns      BIGINT NOT NULL,
        ctime_ns      BIGINT NOT NULL,
        inode         BIGINT NOT NULL,
        device        BIGINT NOT NULL,
        hashed_at_ns  BIGINT NOT NULL      -- the clock when it was hashed, ns since the epoch
    )
    """,
]


def create_loader_tables(con) -> None:
    """Create the load history and every raw ledger table, if missing."""
    for ddl in LOADER_DDL:
        con.execute(ddl)
    for ledger in LEDGERS.values():
        con.execute(raw_table_ddl(ledger))
        # A warehouse made before rows carried their county lacks the column: its rows get the
        # county of their file's scope, as a load would give them (flows.load.org), so that a
        # case resubmitted after the upgrade is not counted once per county value.
        missing = not con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'raw' AND table_name = ? AND column_name = '_county'", [ledger.code]).fetchone()[0]
        if missing:
            con.execute(f"ALTER TABLE raw.{quote(ledger.code)} ADD COLUMN _county VARCHAR")
            backfill_county(con, ledger.code)


def backfill_county(con, ledger: str) -> None:
    """Set `_county` of a raw table's rows from their file version's scope (flows.load.org's rule)."""
    from flows.contract import org_units

    own = org_units.own()
    scopes = con.execute(
        f"SELECT DISTINCT v.version_id, v.scope FROM file_versions AS v "
        f"WHERE v.version_id IN (SELECT DISTINCT _version_id FROM raw.{quote(ledger)})").fetchall()
    for version_id, scope in scopes:
        county = org_units.county_of_scope(scope, own)
        if county is not None:
            con.execute(f"UPDATE raw.{quote(ledger)} SET _county = ? WHERE _version_id = ?", [county, version_id])
