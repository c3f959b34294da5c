"""Sign-off (签核) of a county's figures for a year, pinned to a lake snapshot and kept as events.

DHIS2's data approval, the part that matters for a city or a province: before it prints its
own figures, it signs off each county's. A sign-off pins the county's figures of one year to
the lake's snapshot at that moment:

- `signoffs` gets one appended row (county, year, snapshot id, when, by whom, and the sign-off
  it replaces), and `signed_totals` the county's totals per indicator as its own build at that
  snapshot counted them, so that a city reads its counties' signed figures without rebuilding
  each county;
- nothing is ever updated or deleted: on DuckLake an UPDATE or a DELETE of a shared table
  conflicts with any concurrent insert (issue 17's spike: 20 of 48 failed), and the county
  loads keep appending while a city signs. A later sign-off of the same county and year
  supersedes the earlier one (the latest `signed_at` wins, `current_signoffs` says which);
  both stay;
- later resubmissions load as before (`lake_run.load_county` is unchanged); the signed figures
  stay reproducible because the lake keeps the snapshot: `reproduce` rebuilds the county at it
  and gives exactly the stored totals, as long as the snapshot is not expired (`lake.maintain`
  expires nothing by default);
- `changes_since_signoff` says which figures moved since, and which of the county's files
  came in after the signed snapshot.

A city's roll-up takes each signed county's signed totals and the current totals of the
others, marked 未签核: `signed_totals` and `prefer_signed`.
"""

from __future__ import annotations

import getpass
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from flows import resources
from flows.connections import open_duckdb
from flows.contract import org_units
from flows.contract.spec import OrgUnit
from flows.errors import TallyError
from flows.load import comments
from flows.load import lake as store
from flows.load.ddl import quote
from flows.load.ddl_docs import SIGNOFF_DOCS
from flows.load.warehouse import connect, set_timezone
from flows.report.reported import codes_with_data, year_reported
from flows.run.context import Steps
from flows.run.lake_run import build_from_lake
from flows.transform.rollup import COUNTY_TOTALS

SIGNOFFS, SIGNED_TOTALS, CURRENT_SIGNOFFS = "signoffs", "signed_totals", "current_signoffs"
SIGNED_ZH, UNSIGNED_ZH = "已签核", "未签核"
FIGURES_SQL = resources.SQL_DIR / "reports" / "signoff_figures.sql"
CHANGES_SQL = resources.SQL_DIR / "reports" / "signoff_changes.sql"
FILES_SQL = resources.SQL_DIR / "reports" / "signoff_files.sql"
SIGNED_ALIAS = "lake_signed"  # the lake attached at a sign-off's snapshot (signoff_files.sql reads it)

# The columns of a county's totals, as `flows.transform.rollup.county_totals` gives them and
# `sql/indicators/org_indicators.sql` adds up (through `rollup`).
TOTALS_COLUMNS = ("county", "year", "code", "aggregation", "row_count", "numerator_count", "amount_sum",
                  "distinct_count")
TOTALS_SCHEMA = {"county": pl.Utf8, "year": pl.Int64, "code": pl.Utf8, "aggregation": pl.Utf8,
                 "row_count": pl.Int64, "numerator_count": pl.Int64, "amount_sum": pl.Decimal(38, 2),
                 "distinct_count": pl.Int64}

SIGNOFF_DDL = (
    f"""
    CREATE TABLE IF NOT EXISTS {SIGNOFFS} (
        signoff_id   VARCHAR NOT NULL,     -- a UUID: DuckLake has no sequences
        county       VARCHAR NOT NULL,     -- GB/T 2260 code
        year         INTEGER NOT NULL,
        snapshot_id  BIGINT NOT NULL,      -- the lake snapshot the figures were built from
        signed_at    TIMESTAMPTZ NOT NULL,
        signed_by    VARCHAR NOT NULL,
        supersedes   VARCHAR               -- the sign-off it replaces (NULL: the first)
    )""",
    f"""
    CREATE TABLE IF NOT EXISTS {SIGNED_TOTALS} (
        signoff_id       VARCHAR NOT NULL,
        county           VARCHAR NOT NULL,
        year             INTEGER NOT NULL,
        code             VARCHAR NOT NULL,
        aggregation      VARCHAR NOT NULL,
        row_count        BIGINT,           -- NULL: the indicator had no row that year
        numerator_count  BIGINT,
        amount_sum       DECIMAL(38, 2),
        distinct_count   BIGINT,
        value            DECIMAL(18, 2),   -- the county's figure (yuan; a rate in percent)
        reported         BOOLEAN NOT NULL  -- its ledgers were submitted for the year
    )""",
    # The sign-off in force per county and year: the latest; the earlier ones stay in `signoffs`.
    f"""
    CREATE OR REPLACE VIEW {CURRENT_SIGNOFFS} AS
    SELECT * FROM {SIGNOFFS}
    QUALIFY row_number() OVER (PARTITION BY county, year ORDER BY signed_at DESC, signoff_id DESC) = 1""",
)


class SignoffError(TallyError):
    """A sign-off that cannot be made or read: not a county, no data for the year, never signed."""


@dataclass(frozen=True)
class Signoff:
    """One sign-off event: a county's figures of a year as built at one lake snapshot.

    `figures` has one row per indicator of the catalog: code, aggregation, row_count,
    numerator_count, amount_sum (yuan, DECIMAL), distinct_count (NULL when the indicator had no
    row that year), value (the county's figure: yuan, a rate in percent) and reported.
    """

    signoff_id: str
    county: str
    year: int
    snapshot_id: int
    signed_at: datetime
    signed_by: str
    supersedes: str | None
    figures: pl.DataFrame
    same_as_superseded: bool | None = None  # set by `sign`: the figures equal the replaced sign-off's

    @property
    def county_zh(self) -> str:
        """The county's Chinese name with its code: 西吉县（640422）."""
        return county_label(self.county)


@dataclass(frozen=True)
class Changes:
    """What moved since a county's latest sign-off of a year.

    `figures`: one row per indicator whose figure differs (code, name_zh, unit, signed_value,
    current_value, change = current − signed, signed_reported, current_reported);
    `files`: the county's file versions received after the signed snapshot that bear on the
    year (version_id, path, ledger, ledger_zh, period, status, rows_loaded, seen_at,
    replaced_path, reason). Both empty: nothing changed.
    """

    signoff: Signoff
    current_snapshot: int
    figures: pl.DataFrame
    files: pl.DataFrame

    @property
    def unchanged(self) -> bool:
        """True when no figure moved and no file of the year came in after the sign-off."""
        return self.figures.is_empty() and self.files.is_empty()


def county_label(code: str) -> str:
    """A county's Chinese name and code, `西吉县（640422）`; the code alone if the contract lacks it."""
    unit = org_units.units().get(code)
    return f"{unit.name_zh}（{code}）" if unit is not None else code


def county_unit(org: str) -> OrgUnit:
    """Return the county `org` names (GB/T 2260 code, Chinese name or alias).

    Raises UnknownOrgUnit for a name no unit has, SignoffError for a city or a province: a
    sign-off is of one county's figures; a city's are its counties' signed figures added up.
    """
    unit = org_units.resolve(org)
    if unit.level != "county":
        raise SignoffError(f"「{org}」是{unit.name_zh}（{unit.code}），不是县级单位：签核只对县区的数据，"
                           f"市、区的数字由其各县签核后的数字汇总 · {org} is not a county: sign off each county")
    return unit


def _lake_connection(lake: store.Lake, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = open_duckdb()
    try:
        set_timezone(con)
        store.attach(con, lake, read_only=read_only)
    except BaseException:
        con.close()
        raise
    return con


def _has_relation(con: duckdb.DuckDBPyConnection, name: str, database: str = store.ALIAS) -> bool:
    return con.execute("SELECT count(*) FROM (SELECT table_name AS name, database_name FROM duckdb_tables() "
                       "UNION ALL SELECT view_name, database_name FROM duckdb_views()) "
                       "WHERE database_name = ? AND name = ?", [database, name]).fetchone()[0] > 0


def ensure_signoff_tables(con: duckdb.DuckDBPyConnection, alias: str = store.ALIAS) -> None:
    """Create `signoffs`, `signed_totals` and the view `current_signoffs` in the lake if missing.

    In a transaction of their own, with their comments (Chinese · English, `ddl_docs.SIGNOFF_DOCS`)
    written in the same transaction: a comment is an ALTER of the table on DuckLake, so it is
    written once, when the table is created, never beside later appends.
    """
    def create() -> None:
        for ddl in SIGNOFF_DDL:
            con.execute(ddl)
        comments.apply(con, SIGNOFF_DOCS)

    store.create_once(con, alias, lambda: not _has_relation(con, CURRENT_SIGNOFFS, alias), create)


def county_figures(con: duckdb.DuckDBPyConnection, county: OrgUnit, year: int) -> pl.DataFrame:
    """The figures a sign-off stores, from a county's own build open on `con`.

    One row per catalog indicator (see `Signoff.figures`). Raises SignoffError when nothing was
    submitted for the year (the same rule as `tally indicators`: `report.reported`).
    """
    if not year_reported(con, year):
        raise SignoffError(f"{county.name_zh}（{county.code}）{year} 年没有报送任何台账（湖仓中没有该县该年度的文件），"
                           f"无可签核 · nothing was submitted by {county.code} for {year}")
    totals = con.execute(COUNTY_TOTALS).pl()
    con.register("county_totals", totals.to_arrow() if not totals.is_empty() else
                 pl.DataFrame(schema={k: v for k, v in TOTALS_SCHEMA.items() if k != "county"}).to_arrow())
    try:
        figures = con.execute(FIGURES_SQL.read_text(encoding="utf-8"), {"year": year}).pl()
    finally:
        con.unregister("county_totals")
    with_data = codes_with_data(con, year)
    return figures.with_columns(reported=pl.col("code").is_in(list(with_data)))


def build_county(lake: store.Lake, county: str, snapshot: int, folder: Path) -> Path:
    """Build one county's figures from the lake at `snapshot` into a DuckDB file in `folder`.

    The cross-checks are left out: they warn about rows, they never change a figure.
    """
    out = folder / f"{county}-{snapshot}.duckdb"
    build_from_lake(lake, out, snapshot=snapshot, county=county, steps=Steps(cross_checks=lambda con: None))
    return out


def figures_at(lake: store.Lake, county: OrgUnit, year: int, snapshot: int) -> pl.DataFrame:
    """A county's figures of a year rebuilt from the lake at `snapshot` (see `Signoff.figures`)."""
    with tempfile.TemporaryDirectory(prefix="tally-signoff-") as folder:
        path = build_county(lake, county.code, snapshot, Path(folder))
        with connect(path, read_only=True) as con:
            return county_figures(con, county, year)


def login_name() -> str:
    """The login name of the user running tally (who signs when --by is not given); SignoffError if none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError) as exc:  # no LOGNAME/USER and no passwd entry (a bare container)
        raise SignoffError("无法得知签核人：请用 --by 写明 · cannot tell who signs: give --by NAME") from exc


def _nothing_loaded(county: OrgUnit, year: int) -> SignoffError:
    return SignoffError(f"湖仓中还没有任何载入的数据，{county.name_zh}（{county.code}）{year} 年无可签核"
                        f"（先运行 tally run --county {county.code}）· nothing loaded into the lake yet")


def sign(lake: store.Lake, org: str, year: int, *, signed_by: str | None = None) -> Signoff:
    """`tally signoff --org CODE --year Y`: sign off a county's figures of a year at the lake's current snapshot.

    Builds the county at the current snapshot, then appends the sign-off and its figures to the
    lake in one transaction (INSERTs only). A county signed before gets a new sign-off that
    names the one it supersedes. `signed_by` defaults to the login name of the user running it.
    Returns the new sign-off. Raises UnknownOrgUnit (no such unit), SignoffError (not a county,
    nothing loaded, nothing submitted for the year), LakeError (the lake cannot be reached).
    """
    unit = county_unit(org)
    signer = (signed_by or "").strip() or login_name()
    con = _lake_connection(lake, read_only=False)
    try:
        if not _has_relation(con, store.LOG_TABLE):
            raise _nothing_loaded(unit, year)
        snapshot = store.current_snapshot(con)
        figures = figures_at(lake, unit, year, snapshot)
        ensure_signoff_tables(con)
        signoff_id, signed_at = str(uuid.uuid4()), datetime.now(UTC)
        rows = figures.select(pl.lit(signoff_id).alias("signoff_id"), pl.lit(unit.code).alias("county"),
                              pl.lit(year).cast(pl.Int32).alias("year"), pl.all())

        def append() -> str | None:
            con.execute("BEGIN TRANSACTION")
            try:
                previous = con.execute(f"SELECT signoff_id FROM {store.ALIAS}.{CURRENT_SIGNOFFS} "
                                       "WHERE county = ? AND year = ?", [unit.code, year]).fetchall()
                supersedes = previous[0][0] if previous else None
                con.execute(f"INSERT INTO {store.ALIAS}.{SIGNOFFS} VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [signoff_id, unit.code, year, snapshot, signed_at, signer, supersedes])
                con.register("signed_rows", rows.to_arrow())
                con.execute(f"INSERT INTO {store.ALIAS}.{SIGNED_TOTALS} BY NAME SELECT * FROM signed_rows")
                con.unregister("signed_rows")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            return supersedes

        supersedes = store.retried(append)
        same = None
        if supersedes is not None:
            before = _figures_of(con, supersedes)
            same = before.equals(figures.select(before.columns).sort("code"))
    finally:
        con.close()
    return Signoff(signoff_id, unit.code, year, snapshot, signed_at, signer, supersedes, figures, same)


def _signoff_rows(con: duckdb.DuckDBPyConnection, where: str, params: list, alias: str) -> list[tuple]:
    return con.execute(f"SELECT signoff_id, county, year, snapshot_id, signed_at, signed_by, supersedes "
                       f"FROM {quote(alias)}.{CURRENT_SIGNOFFS} WHERE {where} ORDER BY county", params).fetchall()


def _figures_of(con: duckdb.DuckDBPyConnection, signoff_id: str, alias: str = store.ALIAS) -> pl.DataFrame:
    return con.execute(
        f"SELECT code, aggregation, row_count, numerator_count, amount_sum, distinct_count, value, reported "
        f"FROM {quote(alias)}.{SIGNED_TOTALS} WHERE signoff_id = ? ORDER BY code", [signoff_id]).pl()


def latest(lake: store.Lake, org: str, year: int) -> Signoff | None:
    """The sign-off in force for a county and year (the latest), with its stored figures; None if never signed."""
    unit = county_unit(org)
    con = _lake_connection(lake, read_only=True)
    try:
        if not _has_relation(con, CURRENT_SIGNOFFS):
            return None
        found = _signoff_rows(con, "county = ? AND year = ?", [unit.code, year], store.ALIAS)
        if not found:
            return None
        return Signoff(*found[0], figures=_figures_of(con, found[0][0]))
    finally:
        con.close()


def history(lake: store.Lake, org: str, year: int) -> list[tuple]:
    """Every sign-off of a county and year, oldest first: (signoff_id, snapshot_id, signed_at, signed_by, supersedes)."""
    unit = county_unit(org)
    con = _lake_connection(lake, read_only=True)
    try:
        if not _has_relation(con, SIGNOFFS):
            return []
        return con.execute(f"SELECT signoff_id, snapshot_id, signed_at, signed_by, supersedes FROM {store.ALIAS}."
                           f"{SIGNOFFS} WHERE county = ? AND year = ? ORDER BY signed_at, signoff_id",
                           [unit.code, year]).fetchall()
    finally:
        con.close()


def _not_signed(unit: OrgUnit, year: int) -> SignoffError:
    return SignoffError(f"{unit.name_zh}（{unit.code}）{year} 年尚未签核（先运行 tally signoff --org {unit.code} "
                        f"--year {year}）· {unit.code} has no sign-off for {year}")


def reproduce(lake: store.Lake, org: str, year: int) -> tuple[Signoff, pl.DataFrame]:
    """Rebuild a county's signed figures from the lake at the signed snapshot.

    Returns the sign-off in force (with its stored figures) and the figures rebuilt at its
    snapshot, in the same shape and order (by code): equal frames mean the signed figures
    reproduce. Raises SignoffError when the county and year were never signed.
    """
    unit = county_unit(org)
    signoff = latest(lake, org, year)
    if signoff is None:
        raise _not_signed(unit, year)
    rebuilt = figures_at(lake, unit, year, signoff.snapshot_id)
    return signoff, rebuilt.select(signoff.figures.columns).sort("code")


def changes_since_signoff(lake: store.Lake, org: str, year: int) -> Changes:
    """`tally indicators --org CODE --year Y --changes-since-signoff`: what moved since the sign-off.

    The county is rebuilt from the lake's current snapshot and its figures compared with the
    signed ones (`sql/reports/signoff_changes.sql`); its file versions received after the signed
    snapshot that bear on the year are listed (`sql/reports/signoff_files.sql`). Raises
    SignoffError when never signed, or when nothing is submitted for the year any more.
    """
    unit = county_unit(org)
    signoff = latest(lake, org, year)
    if signoff is None:
        raise _not_signed(unit, year)
    with _lake_connection(lake, read_only=True) as con:
        now = store.current_snapshot(con)
    with tempfile.TemporaryDirectory(prefix="tally-signoff-") as folder:
        path = build_county(lake, unit.code, now, Path(folder))
        con = connect(path)  # written to: the lake is attached to it, at the signed snapshot
        try:
            set_timezone(con)
            current = county_figures(con, unit, year)
            con.register("signed", signoff.figures.to_arrow())
            con.register("current", current.to_arrow())
            figures = con.execute(CHANGES_SQL.read_text(encoding="utf-8")).pl()
            store.attach(con, lake, alias=SIGNED_ALIAS, read_only=True, snapshot=signoff.snapshot_id)
            files = con.execute(FILES_SQL.read_text(encoding="utf-8"), {"year": year}).pl()
        finally:
            con.close()
    return Changes(signoff, now, figures, files)


def signed_totals(source: store.Lake | duckdb.DuckDBPyConnection, year: int,
                  counties: Iterable[str] | None = None) -> pl.DataFrame:
    """The signed totals of counties for a year, in the shape a city's roll-up adds up.

    `source`: the lake (attached read-only here), or a connection that has it attached as
    `lake` (or holds `signoffs` and `signed_totals` itself). `counties`: GB/T 2260 codes (None:
    every signed county). One row per (county, indicator with rows that year) of each county's
    sign-off in force, with the columns of `flows.transform.rollup.county_totals` (county, year,
    code, aggregation, row_count, numerator_count, amount_sum, distinct_count) and snapshot_id,
    signed_at, signed_by. A county never signed has no row.
    """
    if isinstance(source, store.Lake):
        con = _lake_connection(source, read_only=True)
        try:
            return signed_totals(con, year, counties)
        finally:
            con.close()
    con = source
    alias = store.ALIAS if _has_relation(con, SIGNOFFS) else None
    alias = alias or con.execute("SELECT current_database()").fetchone()[0]
    schema = {**TOTALS_SCHEMA, "snapshot_id": pl.Int64, "signed_at": pl.Datetime("us", "UTC"), "signed_by": pl.Utf8}
    if not _has_relation(con, CURRENT_SIGNOFFS, alias):
        return pl.DataFrame(schema=schema)
    wanted = None if counties is None else list(counties)
    frame = con.execute(
        f"SELECT t.county, CAST(t.year AS BIGINT) AS year, t.code, t.aggregation, t.row_count, t.numerator_count, "
        f"t.amount_sum, t.distinct_count, s.snapshot_id, s.signed_at, s.signed_by "
        f"FROM {quote(alias)}.{CURRENT_SIGNOFFS} AS s JOIN {quote(alias)}.{SIGNED_TOTALS} AS t USING (signoff_id) "
        f"WHERE s.year = ? AND t.row_count IS NOT NULL AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], s.county)) "
        f"ORDER BY t.county, t.code", [year, wanted, wanted]).pl()
    return frame.with_columns(pl.col("signed_at").dt.convert_time_zone("UTC")).cast(schema)


def prefer_signed(current: pl.DataFrame, signed: pl.DataFrame) -> pl.DataFrame:
    """A city's county totals: each signed county's signed totals, the others' current ones.

    `current`: counties' current totals (the columns of `rollup.county_totals`; other years are
    kept as they are); `signed`: `signed_totals(…)` of one year. A signed county's current rows
    of that year are replaced by its signed rows, whatever they are. Returns the roll-up's
    columns plus `signoff` (已签核 / 未签核), snapshot_id and signed_at (NULL when unsigned).
    """
    if signed.is_empty():
        return current.select(TOTALS_COLUMNS).with_columns(
            signoff=pl.lit(UNSIGNED_ZH), snapshot_id=pl.lit(None, pl.Int64),
            signed_at=pl.lit(None, pl.Datetime("us", "UTC")))
    keys = signed.select("county", "year").unique()
    unsigned = current.select(TOTALS_COLUMNS).join(keys, on=["county", "year"], how="anti").with_columns(
        signoff=pl.lit(UNSIGNED_ZH), snapshot_id=pl.lit(None, pl.Int64),
        signed_at=pl.lit(None, pl.Datetime("us", "UTC")))
    chosen = signed.select(*TOTALS_COLUMNS, pl.lit(SIGNED_ZH).alias("signoff"), "snapshot_id", "signed_at")
    return pl.concat([chosen, unsigned], how="vertical_relaxed").sort("county", "year", "code")
