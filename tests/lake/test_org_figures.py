"""Figures at every org level from one build: a city's and the province's are their counties' sums.

Four counties send small ledgers (three of 固原市 640400, one of 银川市); 泾源县 and 彭阳县 of
固原市 send nothing. One lake build of all counties, and the same inbox through the single
file, give: each county's figures as its own build gives them; the city's and the province's
counts and sums as the sum of their counties'; rates recomputed from the summed numerator and
denominator; the late counties shown as 未报 in `tally indicators/completeness/report --org`.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from ledgerfiles import write_xlsx
from rich.cells import cell_len
from typer.testing import CliRunner

from flows.cli import app
from flows.load.lake import Lake
from flows.report.org_figures import LATE, county_totals_for, org_completeness, org_figures
from flows.run.lake_run import build_from_lake, load_county
from flows.run.pipeline import run_pipeline
from flows.transform.rollup import rollup

HEADER = ["序号", "检查日期", "检查类型", "专项行动名称", "抽查任务编号", "检查对象", "场所类型", "出动人次",
          "执法人员", "检查结果", "公示日期"]
CITY, PROVINCE = "640400", "640000"
LATE_COUNTIES = ["640424", "640425"]  # 泾源县, 彭阳县: nothing sent
# county -> month -> rows: (type, campaign, task, people, disclosed)
SENT = {
    "640402": {3: [("双随机抽查", None, "SJ-1", 2, True), ("双随机抽查", None, "SJ-2", 3, False),
                   ("联合抽查", None, "LH-1", 4, False), ("专项检查", "清源行动", None, 5, False)]},
    "640422": {3: [("双随机抽查", None, "SJ-1", 1, True)],
               4: [("联合抽查", None, "LH-1", 6, False), ("联合抽查", None, "LH-2", 2, False),
                   ("网上巡查", None, None, 1, False), ("专项检查", "清源行动", None, 3, False)]},
    "640423": {4: [("双随机抽查", None, "SJ-9", 7, False), ("双随机抽查", None, "SJ-8", 2, False),
                   ("双随机抽查", None, "SJ-7", 2, True), ("双随机抽查", None, "SJ-6", 1, True)]},
    "640104": {5: [("双随机抽查", None, "SJ-1", 4, True), ("专项检查", "护苗行动", None, 2, False)]},
}


def write_inbox(root: Path) -> Path:
    """A province's inbox: a folder per county that sent something, one workbook per month."""
    inbox = root / "inbox"
    for county, months in SENT.items():
        for month, rows in months.items():
            write_xlsx(inbox / county / "inspections" / f"2024-{month:02d}.xlsx", {"S": [HEADER, *[
                [i, date(2024, month, i), kind, campaign, task, f"场所{i}", "网吧", people, "张三", "未发现问题",
                 date(2024, month, 20) if disclosed else None]
                for i, (kind, campaign, task, people, disclosed) in enumerate(rows, 1)]]})
    return inbox


def rate(numerator: int, denominator: int) -> Decimal | None:
    """Percent with one decimal, rounded half up: what indicators.sql prints."""
    if denominator == 0:
        return None
    return (Decimal(100 * numerator) / denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def assert_org_adds_up(con, org: str, counties: list[str]) -> None:
    """Every count, sum and distinct figure of `org` is its counties' sum; every rate is recomputed."""
    totals = county_totals_for(con, 2024)
    figures = org_figures(con, org, 2024)
    assert figures.late == [u.code for u in figures.counties if u.code not in SENT]
    mine = totals.filter(pl.col("county").is_in(counties))
    by_code = {r["code"]: r for r in figures.table.iter_rows(named=True)}
    checked = 0
    for code, row in by_code.items():
        parts = mine.filter(pl.col("code") == code)
        aggregation = (parts["aggregation"][0] if parts.height else None)
        if aggregation == "rate":
            expected = rate(int(parts["numerator_count"].sum()), int(parts["row_count"].sum()))
            assert (None if row["total"] is None else Decimal(str(row["total"])).quantize(Decimal("0.1"))) == expected, code
        elif aggregation is not None:
            counted = {"count": "row_count", "sum": "amount_sum", "distinct": "distinct_count"}[aggregation]
            assert row["total"] == pytest.approx(float(parts[counted].sum())), code
            # ... and the per-county columns add up to it
            assert sum(row[c] for c in counties) == pytest.approx(row["total"]), code
        checked += parts.height > 0
    assert checked >= 6
    # the built model says the same as the roll-up of the frame
    built = dict(con.execute("SELECT code, value FROM org_indicators WHERE org = ? AND year = 2024", [org]).fetchall())
    rolled, late = rollup(totals, org)
    assert {r["code"]: r["value"] for r in rolled.filter((pl.col("org") == org) & (pl.col("year") == 2024))
            .iter_rows(named=True)} == built
    assert late == figures.late


def check_build(path: Path) -> None:
    """The figures of one build of every county: per county, the city, the province."""
    with duckdb.connect(str(path), read_only=True) as con:
        city = org_figures(con, CITY, 2024)
        assert [c.code for c in city.counties] == ["640402", "640422", "640423", "640424", "640425"]
        assert city.late == LATE_COUNTIES
        by = {r["code"]: r for r in city.table.iter_rows(named=True)}
        # written by hand from SENT: people, spot checks disclosed, joint tasks per county
        assert by["inspector_person_times"]["total"] == 2 + 3 + 4 + 5 + 1 + 6 + 2 + 1 + 3 + 7 + 2 + 2 + 1
        # spot checks (random and joint) disclosed: 1 of 3, 1 of 3, 2 of 4 -> 4 of 10 = 40.0%,
        # not the 38.9% an average of 33.3, 33.3 and 50.0 would give
        rates = by["spot_check_disclosure_rate"]
        assert [rates[c] for c in ("640402", "640422", "640423", "640424")] == [33.3, 33.3, 50.0, None]
        assert rates["total"] == 40.0
        assert by["inspector_person_times"]["640402"] == 14 and by["inspector_person_times"]["640424"] is None
        assert by["joint_spot_checks"]["total"] == 1 + 2  # LH-1 in two counties is two tasks
        # no county sent a case register: no case figure, as `tally indicators` says `—`, never 0
        assert (by["cases_filed"]["640422"], by["cases_filed"]["total"]) == (None, None)
        text = city.text()
        assert text.filter(pl.col("code") == "cases_filed")["西吉县"].to_list() == ["—"]
        assert text["泾源县"].to_list() == [LATE] * text.height and text["彭阳县"].to_list() == [LATE] * text.height
        assert_org_adds_up(con, CITY, ["640402", "640422", "640423"])
        assert_org_adds_up(con, PROVINCE, list(SENT))
        province = org_figures(con, PROVINCE, 2024)
        assert len(province.late) == 22 - 4
        assert {r["code"]: r["total"] for r in province.table.iter_rows(named=True)}["market_campaigns"] == 3
        # the whole build's figures are the province's: a distinct value counts once per county
        whole = dict(con.execute("SELECT code, value FROM indicators WHERE year = 2024").fetchall())
        assert dict(con.execute("SELECT code, value FROM org_indicators WHERE org = ? AND year = 2024",
                                [PROVINCE]).fetchall()) == whole
        marks = org_completeness(con, CITY, 2024, today=date(2025, 6, 1))
        late_marks = marks.filter(pl.col("county").is_in(LATE_COUNTIES) & pl.col("month").is_not_null())
        assert late_marks.height > 0 and set(late_marks["mark"].to_list()) == {"未报"}
        sent = marks.filter((pl.col("county") == "640422") & (pl.col("ledger") == "inspections"))
        assert sent.filter(pl.col("month").is_in([3, 4]))["mark"].to_list() == ["已报*", "已报*"]


def test_one_lake_build_gives_every_org_level(tmp_path, catalog):
    inbox = write_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    for county in SENT:
        load_county(inbox, lake, county, checks=())
    built = tmp_path / "all.duckdb"
    build_from_lake(lake, built)  # one build, one pinned snapshot, every county
    check_build(built)
    # each county's figures in the one build are those of its own build
    with duckdb.connect(str(built), read_only=True) as con:
        one_build = con.execute("SELECT org, code, value FROM org_indicators WHERE year = 2024").fetchall()
    for county in ("640402", "640423"):
        own = tmp_path / f"{county}.duckdb"
        build_from_lake(lake, own, county=county)
        with duckdb.connect(str(own), read_only=True) as con:
            alone = dict(con.execute("SELECT code, value FROM indicators WHERE year = 2024").fetchall())
        assert {code: value for org, code, value in one_build if org == county} == alone
    # the same inbox through the single file gives the same figures at every level
    single = tmp_path / "single.duckdb"
    run_pipeline(inbox, single, checks=())
    check_build(single)
    with duckdb.connect(str(single), read_only=True) as con:
        assert sorted(con.execute("SELECT org, code, value FROM org_indicators WHERE year = 2024").fetchall()) == \
            sorted(one_build)


def test_the_commands_show_counties_and_the_late_ones(tmp_path, catalog):
    inbox = write_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    for county in ("640402", "640422", "640423"):
        load_county(inbox, lake, county, checks=())
    built = tmp_path / "all.duckdb"
    build_from_lake(lake, built)
    runner = CliRunner()
    city = runner.invoke(app, ["indicators", "--year", "2024", "--org", "固原市", "-w", str(built)],
                         terminal_width=80)
    assert city.exit_code == 0, city.output
    assert max(cell_len(line) for line in city.output.splitlines()) <= 80  # terminal cells: 汉字 are two
    for name in ("原州区", "西吉县", "隆德县", "泾源县", "彭阳县", "合计", LATE):
        assert name in city.output
    assert "泾源县、彭阳县" in city.output
    county = runner.invoke(app, ["indicators", "--year", "2024", "--org", "640422", "-w", str(built), "-f", "csv"])
    assert county.exit_code == 0, county.output
    rows = {line.split(",")[0]: line for line in county.output.splitlines()}
    assert rows["inspector_person_times"].split(",")[3] == "13"  # 1 + 6 + 2 + 1 + 3
    csv = runner.invoke(app, ["indicators", "--year", "2024", "--org", "640400", "-w", str(built), "-f", "csv"])
    header = csv.output.splitlines()[0].split(",")
    assert header[3:] == ["640402", "640422", "640423", "640424", "640425", "total", "printed"]
    completeness = runner.invoke(app, ["completeness", "--year", "2024", "--org", "640400", "-w", str(built)],
                                 terminal_width=80)
    assert completeness.exit_code == 0, completeness.output
    assert "彭阳县" in completeness.output and "未报" in completeness.output
    assert max(cell_len(line) for line in completeness.output.splitlines()) <= 80
    report = runner.invoke(app, ["report", "--year", "2024", "--org", "640400", "-w", str(built), "-f", "md",
                                 "-o", "-"])
    assert report.exit_code == 0, report.output
    assert "| 指标 | 单位 | 原州区 | 西吉县 | 隆德县 | 泾源县 | 彭阳县 | 合计 | 报告写法 |" in report.output
    for fmt in ("xlsx", "docx", "html"):
        target = tmp_path / f"city.{fmt}"
        written = runner.invoke(app, ["report", "--year", "2024", "--org", "640400", "-w", str(built), "-f", fmt,
                                      "-o", str(target)])
        assert written.exit_code == 0 and target.stat().st_size > 0, written.output
    unknown = runner.invoke(app, ["indicators", "--year", "2024", "--org", "火星", "-w", str(built)])
    assert unknown.exit_code == 2 and "未知的单位" in unknown.output


def test_signed_totals_take_the_place_of_a_countys_current_ones(tmp_path):
    single = tmp_path / "single.duckdb"
    run_pipeline(write_inbox(tmp_path), single, checks=())
    with duckdb.connect(str(single), read_only=True) as con:
        current = county_totals_for(con, 2024)
        signed = current.filter(pl.col("county") == "640422").with_columns(
            amount_sum=pl.when(pl.col("code") == "inspector_person_times").then(pl.lit(100.0))
            .otherwise(pl.col("amount_sum")))
        totals = county_totals_for(con, 2024, signed=signed)
        assert totals.height == current.height
        figures = org_figures(con, CITY, 2024, totals=totals)
    row = figures.table.filter(pl.col("code") == "inspector_person_times").row(0, named=True)
    assert (row["640422"], row["640402"], row["640423"], row["total"]) == (100, 14, 12, 100 + 14 + 12)
