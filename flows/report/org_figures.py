"""The figures of an org unit (a county, a city, the province) from one built warehouse.

One build holds each county's totals before division (`county_totals`, from the rows'
`raw.<ledger>._county`); a city's or the province's figure adds them up by
`flows.transform.rollup` (the SQL of `org_indicators`): counts and sums add up, a rate is
recomputed from the summed numerator and denominator. `tally indicators --org`, `tally report
--org` and `tally completeness --org` read an org through this module:

- `county_totals_for(con, year)` is the ONE place the per-county totals come from. A county's
  signed totals (sign-off) replace its current ones here, before any roll-up.
- `org_figures(con, org, year)` gives one column per county (code order) and the org's total;
  a county that sent nothing for the year is late (`LATE`), never a column of zeros.
- `org_completeness(con, org, year)` gives the month marks of `submissions` per county, with a
  county that sent nothing shown as missing (`未报`) for every month that is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from flows.contract import org_units
from flows.contract.catalog import load_catalog
from flows.contract.spec import OrgUnit
from flows.errors import TallyError
from flows.report.submissions import ACCEPTED_STATUSES, MARK_ZH
from flows.report.submissions import completeness as month_statuses
from flows.transform import rollup as rollups
from flows.transform.indicators import value_text

RELATION = "county_totals"
LATE = "未报"  # a county that sent nothing for the year: no figure, never a zero
TOTAL_ZH = "合计"


class NotBuiltPerCounty(TallyError):
    """The warehouse was built before figures were kept per county (no `county_totals`)."""


def county_totals_for(con, year: int, signed: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return every county's totals of `year` before division, as the roll-up reads them.

    One row per (county, year, code) with rows: county, year, code, aggregation, row_count,
    numerator_count, amount_sum, distinct_count (`flows.transform.rollup.TOTALS_SCHEMA`), from
    the build's `county_totals`. This is where a county's signed totals replace its current
    ones: `signed` (the same columns; extra ones are dropped) takes the place of the current
    totals of every county it has rows for. Raises NotBuiltPerCounty on a warehouse built
    before the relation existed.
    """
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ?", [RELATION]).fetchone()[0]
    if not found:
        raise NotBuiltPerCounty("仓库中没有按县区的指标合计（county_totals）：请先运行 tally indicators --build"
                                " · no county_totals in the warehouse: rebuild with tally indicators --build")
    frame = con.execute(
        f"SELECT county, year, code, aggregation, row_count, numerator_count, amount_sum, distinct_count "
        f"FROM {RELATION} WHERE county IS NOT NULL ORDER BY county, code").pl()
    current = rollups.shaped(frame.filter(pl.col("year") == year))
    if signed is None or signed.is_empty():
        return current
    signed = rollups.shaped(signed.filter(pl.col("year") == year))
    kept = current.filter(~pl.col("county").is_in(signed["county"].unique().implode()))
    return pl.concat([kept, signed]).sort("county", "code")


def submitted_ledgers(con, year: int) -> dict[str, set[str]]:
    """Return, per county, the ledgers it had some month or snapshot of `year` accepted for.

    A zero report counts. This is the rule of `tally indicators`' `reported`
    (flows.report.reported), per county: rows dated in the year that came in another year's
    files do not make it a year the county reported.
    """
    found = month_statuses(con, year)
    own = org_units.own()
    accepted = found.filter(pl.col("status").is_in([*ACCEPTED_STATUSES, "snapshot"]))
    ledgers: dict[str, set[str]] = {}
    for scope, ledger in accepted.select("scope", "ledger").unique().iter_rows():
        county = org_units.county_of_scope(scope, own)
        if county is not None:
            ledgers.setdefault(county, set()).add(ledger)
    return ledgers


@dataclass(frozen=True)
class OrgFigures:
    """One org's figures of a year: a row per indicator, a column per county and the total."""

    unit: OrgUnit
    year: int
    counties: list[OrgUnit]  # at or under the unit, in code order
    late: list[str]  # codes of the counties that sent nothing for the year
    table: pl.DataFrame  # code, name_zh, unit, one column per county code, `total` (raw values)
    # county code -> the snapshot its signed figures were read from; None: no sign-off source (a single file)
    signed: dict[str, int] | None = None

    def text(self, *, printed: bool = False) -> pl.DataFrame:
        """Return the table as text: values as `tally indicators` writes them, late counties `未报`.

        Columns: code, 指标, 单位, one per county named in Chinese, and 合计 (a city or the
        province; a county has its own column only). With `printed`, the total as the report
        prints it is added (报告写法).
        """
        catalog = load_catalog()
        rows = []
        for row in self.table.iter_rows(named=True):
            line = {"code": row["code"], "指标": row["name_zh"], "单位": row["unit"]}
            for county in self.counties:
                line[county.name_zh] = (LATE if county.code in self.late
                                        else value_text(row[county.code], row["unit"]) or "—")
            if len(self.counties) > 1:
                line[TOTAL_ZH] = value_text(row["total"], row["unit"]) or "—"
            if printed:
                total = row["total"]
                line["报告写法"] = "—" if total is None else catalog[row["code"]].render(Decimal(str(total))) or ""
            rows.append(line)
        return pl.DataFrame(rows, orient="row") if rows else pl.DataFrame()


def org_figures(con, org: str, year: int, totals: pl.DataFrame | None = None,
                signed: pl.DataFrame | None = None) -> OrgFigures:
    """Return the figures of `org` (code, Chinese name or alias) for `year`, per county and total.

    `totals` are county totals as `county_totals_for` gives them (default: read from con, with
    `signed`, `flows.run.signoff.signed_totals` of the year, in place of each signed county's
    current totals: a city reads its counties' signed figures by default). A
    county with no accepted submission for the year is late: its column says so, and the
    total is of the others. A county's figure whose ledgers it did not all submit for the year
    has no value (as `tally indicators` says `—`); one it submitted with no rows (zero reports)
    is 0, and a rate nothing. Raises UnknownOrgUnit, NotBuiltPerCounty, and TallyError when no
    county of the org submitted anything for the year.
    """
    unit = org_units.resolve(org)
    counties = sorted(org_units.counties_under(unit.code), key=lambda u: u.code)
    totals = county_totals_for(con, year, signed) if totals is None else totals
    submitted = submitted_ledgers(con, year)
    late = [c.code for c in counties if c.code not in submitted]
    if len(late) == len(counties):
        raise TallyError(f"{unit.name_zh}（{unit.code}）{year} 年没有任何县区报送台账"
                         f" · no county of {unit.code} submitted anything for {year}")
    # a late county's rows (dated in the year, from another year's files) stay out of the sums
    figures, _ = rollups.rollup(totals.filter(~pl.col("county").is_in(late)), unit.code)
    figures = figures.filter(pl.col("year") == year)
    catalog = load_catalog()
    values = {(r["org"], r["code"]): r["value"] for r in figures.iter_rows(named=True)}
    rows = []
    for code, entry in catalog.items():
        row = {"code": code, "name_zh": entry.name_zh, "unit": entry.unit}
        reported = [c.code for c in counties if set(entry.ledgers) <= submitted.get(c.code, set())]
        for county in counties:
            row[county.code] = _value(values, county.code, entry) if county.code in reported else None
        row["total"] = _value(values, unit.code, entry) if reported else None
        rows.append(row)
    schema = {"code": pl.Utf8, "name_zh": pl.Utf8, "unit": pl.Utf8,
              **{c.code: pl.Float64 for c in counties}, "total": pl.Float64}
    table = pl.DataFrame(rows, schema=schema, orient="row")
    in_force = None if signed is None else {
        r["county"]: r["snapshot_id"] for r in signed.select("county", "snapshot_id").unique().iter_rows(named=True)
        if r["county"] in {c.code for c in counties}}
    return OrgFigures(unit, year, counties, late, table, in_force)


def _value(values: dict, org: str, entry) -> float | None:
    """An org's value of one indicator; an org with submissions but no rows: 0, a rate nothing."""
    if (org, entry.code) in values:
        found = values[org, entry.code]
        return None if found is None else float(found)
    if entry.aggregation == "rate" or entry.needs_snapshot:
        return None
    return 0.0


def org_completeness(con, org: str, year: int, *, deadline_day: int | None = None,
                     today: date | None = None) -> pl.DataFrame:
    """Return, per county of `org` (code order), ledger and month, the mark of `submissions`.

    Columns: county, county_zh, ledger, ledger_zh, unit_zh, month (null for the roster),
    mark (已报 · 零报告 · 逾期 · 未报 · 未到期 · 已报*; the roster: 名录快照 or 未报), submitted_on,
    deadline. A county that sent nothing has no lines in `submissions`: it gets the lines of
    the first county that has (the same ledgers and deadlines), every due month marked 未报.
    """
    unit = org_units.resolve(org)
    counties = sorted(org_units.counties_under(unit.code), key=lambda u: u.code)
    found = month_statuses(con, year, deadline_day=deadline_day, today=today)
    own = org_units.own()
    found = found.with_columns(
        pl.col("scope").map_elements(lambda s: org_units.county_of_scope(s, own), return_dtype=pl.Utf8)
        .alias("county"))
    found = found.with_columns(
        pl.when(pl.col("month").is_null())
        .then(pl.when(pl.col("latest_snapshot").is_not_null()).then(pl.lit("名录快照")).otherwise(pl.lit(LATE)))
        .otherwise(pl.col("mark")).alias("mark"))
    template = found.filter(pl.col("county") == found["county"].drop_nulls().first()) if found.height else found
    parts = []
    for county in counties:
        mine = found.filter(pl.col("county") == county.code)
        if mine.is_empty():
            mine = template.with_columns(
                county=pl.lit(county.code),
                mark=pl.when(pl.col("status") == "not_due").then(pl.lit(MARK_ZH["not_due"])).otherwise(pl.lit(LATE)),
                submitted_on=pl.lit(None, pl.Date), latest_snapshot=pl.lit(None, pl.Date))
        parts.append(mine.with_columns(county_zh=pl.lit(county.name_zh)))
    columns = ("county", "county_zh", "ledger", "ledger_zh", "unit_zh", "month", "mark", "submitted_on", "deadline")
    if not parts or all(p.is_empty() for p in parts):
        return pl.DataFrame(schema={c: pl.Utf8 for c in columns})
    return pl.concat([p.select(columns) for p in parts if not p.is_empty()], how="vertical_relaxed")


def completeness_matrix(frame: pl.DataFrame, counties: list[OrgUnit]) -> pl.DataFrame:
    """Return one row per ledger and month, one column per county (Chinese name): each county's mark.

    The shape a city reads to chase the late counties: a row is a ledger-month, a column a county.
    """
    if frame.is_empty():
        return frame
    wide = frame.with_columns(pl.col("month").cast(pl.Utf8).fill_null("名录")).pivot(
        on="county_zh", index=["ledger_zh", "month"], values="mark", aggregate_function="first",
        maintain_order=True)
    names = [c.name_zh for c in counties if c.name_zh in wide.columns]
    return wide.rename({"ledger_zh": "台账", "month": "月"}).select("台账", "月", *names)
