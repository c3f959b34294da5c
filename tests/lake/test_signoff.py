"""Sign-off (issue 17 point 5): sign a county's year, resubmit a corrected month, and the signed
figures still reproduce exactly from the signed snapshot while the changes are listed."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
from polars.testing import assert_frame_equal
from test_lake_load import inspections, lake_query
from typer.testing import CliRunner

from flows.cli import app
from flows.load.lake import Lake, attach
from flows.run import signoff
from flows.run.lake_run import load_county

XIJI = "640422"


def setup(root: Path, catalog: str, monkeypatch) -> tuple[Path, Lake]:
    """A city's inbox with 西吉县's March (2 and 3 people out) and April (4), and a tally.toml naming the lake."""
    inbox = root / "inbox"
    inspections(inbox / "西吉县" / "inspections" / "2024-03.xlsx", 3, 2, 3)
    inspections(inbox / "西吉县" / "inspections" / "2024-04.xlsx", 4, 4)
    (root / "tally.toml").write_text(f'inbox = "inbox"\nwarehouse = "ducklake:postgres:{catalog}"\n'
                                     'lake_data_path = "lake/data"\n', encoding="utf-8")
    monkeypatch.chdir(root)
    return inbox, Lake(f"ducklake:postgres:{catalog}", root / "lake" / "data")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_signed_figures_reproduce_after_a_corrected_month_and_the_changes_are_listed(tmp_path, catalog, monkeypatch):
    inbox, lake = setup(tmp_path, catalog, monkeypatch)
    load_county(inbox, lake, XIJI, checks=())

    signed = invoke("signoff", "--org", "西吉县", "--year", "2024", "--by", "张三")
    assert signed.exit_code == 0, signed.output
    assert "已签核" in signed.output and "西吉县（640422）" in signed.output and "张三" in signed.output
    first = signoff.latest(lake, XIJI, 2024)
    assert (first.county, first.year, first.signed_by, first.supersedes) == (XIJI, 2024, "张三", None)
    stored = {r["code"]: r for r in first.figures.iter_rows(named=True)}
    assert stored["inspector_person_times"]["value"] == Decimal("9.00")  # 2 + 3 + 4
    assert (stored["inspector_person_times"]["row_count"], stored["inspector_person_times"]["amount_sum"]) == (
        3, Decimal("9.00"))
    assert stored["inspector_person_times"]["reported"] is True

    # The clerk corrects March: a new version of the file, 7 people out on one inspection.
    inspections(inbox / "西吉县" / "inspections" / "2024-03_v2.xlsx", 3, 7)
    again = load_county(inbox, lake, XIJI, checks=())
    assert again.ingested.summary.files_loaded == 1

    # The signed figures, rebuilt at the signed snapshot, are exactly the stored ones.
    kept, rebuilt = signoff.reproduce(lake, XIJI, 2024)
    assert kept.signoff_id == first.signoff_id
    assert_frame_equal(rebuilt, kept.figures)
    # The current figures differ: 7 + 4 = 11 people on 2 inspections.
    changes = signoff.changes_since_signoff(lake, XIJI, 2024)
    assert changes.current_snapshot > first.snapshot_id
    moved = {r["code"]: (r["signed_value"], r["current_value"], r["change"])
             for r in changes.figures.iter_rows(named=True)}
    assert moved["inspector_person_times"] == (Decimal("9.00"), Decimal("11.00"), Decimal("2.00"))
    assert set(moved) == {"inspector_person_times", "venue_inspections"}
    assert moved["venue_inspections"] == (Decimal("3.00"), Decimal("2.00"), Decimal("-1.00"))
    assert changes.files.select("path", "period", "status", "rows_loaded", "replaced_path").rows() == [
        ("西吉县/inspections/2024-03_v2.xlsx", "2024-03", "loaded", 1, "西吉县/inspections/2024-03.xlsx")]

    shown = invoke("indicators", "--org", XIJI, "--year", "2024", "--changes-since-signoff")
    assert shown.exit_code == 0, shown.output
    for text in ("张三", "inspector_person_times", "出动检查人次", "9人次", "11人次", "+2人次", "-1家次", "取代 西吉县/inspections/2024-03.xlsx",
                 "西吉县/inspections/2024-03_v2.xlsx", "2024-03", "已载入"):
        assert text in shown.output, (text, shown.output)
    as_json = invoke("indicators", "--org", XIJI, "--year", "2024", "--changes-since-signoff", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert (body["signed_snapshot"], [f["code"] for f in body["figures"]], [f["path"] for f in body["files"]]) == (
        first.snapshot_id, ["inspector_person_times", "venue_inspections"], ["西吉县/inspections/2024-03_v2.xlsx"])

    # A city reads the signed totals, not the current ones; an unsigned county has none.
    city = signoff.signed_totals(lake, 2024, [XIJI, "640423"])
    assert set(city["county"]) == {XIJI} and set(city["snapshot_id"]) == {first.snapshot_id}
    people = city.filter(pl.col("code") == "inspector_person_times").row(0, named=True)
    assert (people["row_count"], people["amount_sum"]) == (3, Decimal("9.00"))
    assert city.columns[:8] == list(signoff.TOTALS_COLUMNS)

    # Every write of the sign-off was an append: no snapshot of the lake updated or deleted a row.
    kinds = {key for (changed,) in lake_query(lake, "SELECT changes FROM ducklake_snapshots('lake')") for key in changed}
    assert not any("delete" in kind or "update" in kind for kind in kinds), kinds


def test_signing_twice_unknown_counties_and_years_without_data(tmp_path, catalog, monkeypatch):
    inbox, lake = setup(tmp_path, catalog, monkeypatch)
    empty = invoke("signoff", "--org", XIJI, "--year", "2024")
    assert empty.exit_code == 1 and "湖仓中还没有任何载入的数据" in empty.output, empty.output
    load_county(inbox, lake, XIJI, checks=())

    unknown = invoke("signoff", "--org", "某某县", "--year", "2024")
    assert unknown.exit_code == 2 and "未知的单位「某某县」" in unknown.output, unknown.output
    city = invoke("signoff", "--org", "固原市", "--year", "2024")
    assert city.exit_code == 1 and "不是县级单位" in city.output, city.output
    no_year = invoke("signoff", "--org", XIJI, "--year", "2023")
    assert no_year.exit_code == 1 and "2023 年没有报送任何台账" in no_year.output, no_year.output
    no_county = invoke("signoff", "--org", "隆德县", "--year", "2024")  # in the contract, never loaded
    assert no_county.exit_code == 1 and "隆德县（640423）2024 年没有报送任何台账" in no_county.output
    never = invoke("indicators", "--org", "隆德县", "--year", "2024", "--changes-since-signoff")
    assert never.exit_code == 1 and "尚未签核" in never.output, never.output
    assert signoff.history(lake, XIJI, 2024) == []

    assert invoke("signoff", "--org", XIJI, "--year", "2024", "--by", "张三").exit_code == 0
    second = invoke("signoff", "--org", XIJI, "--year", "2024", "--by", "李四")
    assert second.exit_code == 0, second.output
    assert "取代" in second.output and "张三" in second.output and "数字与上次相同" in second.output
    events = signoff.history(lake, XIJI, 2024)
    assert [e[3] for e in events] == ["张三", "李四"]  # both kept
    assert events[1][4] == events[0][0]  # the second names the one it supersedes
    assert signoff.latest(lake, XIJI, 2024).signed_by == "李四"  # the latest wins
    assert lake_query(lake, "SELECT count(*) FROM lake.signed_totals") == [(2 * signoff.latest(
        lake, XIJI, 2024).figures.height,)]
    assert signoff.signed_totals(lake, 2024)["signed_by"].unique().to_list() == ["李四"]

    verified = invoke("signoff", "--org", XIJI, "--year", "2024", "--verify")
    assert verified.exit_code == 0 and "复核一致" in verified.output and "李四" in verified.output, verified.output
    assert len(signoff.history(lake, XIJI, 2024)) == 2  # --verify signs nothing

    unchanged = invoke("indicators", "--org", XIJI, "--year", "2024", "--changes-since-signoff")
    assert unchanged.exit_code == 0 and "自签核以来没有变化" in unchanged.output, unchanged.output
    alone = invoke("indicators", "--year", "2024", "--changes-since-signoff")
    assert alone.exit_code == 2 and "--org" in alone.output

    with duckdb.connect() as con:
        attach(con, lake)  # a sign-off whose stored figure was altered: --verify finds it out
        con.execute("INSERT INTO lake.signoffs SELECT 'forged', county, year, snapshot_id, signed_at + INTERVAL 1 HOUR, "
                    "'王五', signoff_id FROM lake.current_signoffs")
        con.execute("INSERT INTO lake.signed_totals SELECT * REPLACE ('forged' AS signoff_id, CASE WHEN code = "
                    "'inspector_person_times' THEN value + 1 ELSE value END AS value) FROM lake.signed_totals "
                    "WHERE signoff_id = (SELECT supersedes FROM lake.current_signoffs)")
    forged = invoke("signoff", "--org", XIJI, "--year", "2024", "--verify")
    assert forged.exit_code == 1 and "复核不一致" in forged.output, forged.output
    assert "inspector_person_times：value 10.00 → 9.00" in forged.output, forged.output

    with duckdb.connect() as con:  # the tables say what they hold, in Chinese and English
        attach(con, lake, read_only=True)
        said = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE database_name = 'lake' "
                                "AND table_name IN ('signoffs', 'signed_totals')").fetchall())
        columns = con.execute("SELECT count(*) FROM duckdb_columns() WHERE database_name = 'lake' AND "
                              "table_name IN ('signoffs', 'signed_totals') AND comment IS NULL").fetchone()[0]
    assert said["signoffs"].startswith("签核记录") and " · sign-offs" in said["signoffs"]
    assert said["signed_totals"].startswith("签核的数字") and columns == 0
