"""A city's figures from its counties': counts add up, a rate is recomputed, late counties are named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
from ledgerfiles import write_xlsx

from flows.load.lake import Lake
from flows.run.lake_run import build_from_lake, load_county
from flows.run.pipeline import run_pipeline
from flows.transform.rollup import rollup

HEADER = ["序号", "检查日期", "检查类型", "抽查任务编号", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果", "公示日期"]


def inspections(path: Path, rows: list[tuple[int, bool]]) -> None:
    """Spot checks of March: (people, disclosed) each."""
    write_xlsx(path, {"S": [HEADER, *[
        [i, date(2024, 3, i), "双随机抽查", f"SJ-{i}", f"场所{i}", "网吧", people, "张三", "未发现问题",
         date(2024, 3, 20) if disclosed else None]
        for i, (people, disclosed) in enumerate(rows, 1)]]})


def figures(path: Path) -> dict[str, Decimal]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute("SELECT code, value FROM indicators WHERE year = 2024").fetchall())


def test_city_figures_add_counts_and_recompute_rates(tmp_path, catalog):
    inbox = tmp_path / "inbox"
    inspections(inbox / "640422" / "inspections" / "2024-03.xlsx", [(2, True)])  # 1 of 1 disclosed
    inspections(inbox / "640423" / "inspections" / "2024-03.xlsx", [(3, True), (4, False), (5, False)])  # 1 of 3
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    builds = {}
    for county in ("640422", "640423"):
        load_county(inbox, lake, county, checks=())
        builds[county] = tmp_path / f"{county}.duckdb"
        build_from_lake(lake, builds[county], county=county)
    xiji, longde = figures(builds["640422"]), figures(builds["640423"])
    assert (xiji["spot_check_disclosure_rate"], longde["spot_check_disclosure_rate"]) == (Decimal("100.00"),
                                                                                          Decimal("33.30"))
    city, late = rollup(builds, "640400")
    assert late == ["640402", "640424", "640425"]  # 原州区, 泾源县, 彭阳县 have sent nothing
    by = {(r["org"], r["code"]): r for r in city.filter(city["year"] == 2024).iter_rows(named=True)}
    assert set(org for org, _ in by) == {"640400", "640422", "640423"}
    assert by["640400", "inspector_person_times"]["value"] == 2 + 3 + 4 + 5
    assert by["640400", "inspector_person_times"]["counties"] == 2
    # 2 of 4 disclosed: 50.0, not the 66.7 an average of 100.0 and 33.3 would give.
    assert by["640400", "spot_check_disclosure_rate"]["value"] == Decimal("50.00")
    for county, own in (("640422", xiji), ("640423", longde)):  # each county rolls up to its own figures
        assert {c: v for (o, c), v in ((k, r["value"]) for k, r in by.items()) if o == county} == {
            c: v for c, v in own.items() if (county, c) in by}
    # The city's figures equal the single file's for the same inbox, for every indicator with rows.
    single = tmp_path / "single.duckdb"
    run_pipeline(inbox, single, checks=())
    whole = figures(single)
    assert {c: r["value"] for (o, c), r in by.items() if o == "640400"} == {
        c: whole[c] for (o, c) in by if o == "640400"}
    province, late_province = rollup(builds, "宁夏")
    assert len(late_province) == 20
    assert set(province["org"].unique()) == {"640000", "640400", "640422", "640423"}
