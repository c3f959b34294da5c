"""A run that finds one changed file updates the marts, `indicator_totals` and the cross-checks
version by version: what it leaves must be exactly what a full build of the same inbox gives,
whatever the change (a cell, rows added, rows removed, a new month, another ledger's file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgerfiles import write_csv, write_xlsx

from flows.run.context import Steps
from flows.run.pipeline import run_pipeline
from flows.transform import models

INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
STAFF = ["姓名", "执法证号", "证件有效期至", "岗位"]
CASE = ["案件编号", "立案日期", "当事人", "当事人类型", "案由", "处罚决定日期", "公示日期", "结案日期"]
POST = ["发布日期", "标题", "栏目"]

# What a run leaves that the figures, the reports and the clerks read. Version ids differ between
# two warehouses that loaded the files in different runs: rows are compared without them.
RELATIONS = {
    "indicators": "SELECT year, code, value, printed FROM indicators",
    "series": "SELECT * FROM indicator_series_monthly",
    "quarterly": "SELECT * FROM indicator_series_quarterly",
    "county_totals": "SELECT * FROM county_totals",
    "org_indicators": "SELECT * FROM org_indicators",
    "totals": "SELECT county, code, year, month, distinct_value, sum(row_count), sum(numerator_count), "
              "sum(amount_sum) FROM indicator_totals GROUP BY ALL",
    "inspections": "SELECT * EXCLUDE (version_id) FROM inspections",
    "check_warnings": "SELECT * EXCLUDE (version_id) FROM check_warnings",
    "problem_log": "SELECT * EXCLUDE (version_id) FROM problem_log",
}


def visit(day: str, people: int, officers: str, kind: str = "日常检查") -> list:
    return [day, kind, "某网吧", "网吧", people, officers, "未发现问题"]


def case(no: str, filed: str, decided: str | None = None) -> list:
    return [no, filed, "某公司", "单位", "无证经营", decided, None, None]


MARCH = [INSPECTION, visit("2024-03-05", 2, "张三、李四"), visit("2024-03-06", 3, "李四、王五", "双随机抽查"),
         visit("2024-03-07", 1, "赵六"), visit("2024-03-09", 4, "张三")]  # fmt: skip
APRIL = [INSPECTION, visit("2024-04-02", 2, "张三"), visit("2024-04-03", 2, "王五", "联合抽查")]


def inbox(root: Path) -> Path:
    write_xlsx(root / "staff/执法人员名录2024-01-01.xlsx", {"S": [STAFF, ["张三", "A1", "2026-12-31", "执法"],
                                                               ["李四", "A2", "2024-03-31", "执法"]]})
    write_csv(root / "inspections/2024-03.csv", MARCH)
    write_csv(root / "inspections/2024-04.csv", APRIL)
    write_xlsx(root / "cases/2024-03.xlsx", {"S": [CASE, case("A1", "2024-03-01", "2024-07-01")]})
    write_csv(root / "wechat_posts/2024-03.csv", [POST, ["2024-03-05", "普法", "普法"]])
    return root


def snapshot(warehouse: Path) -> dict[str, list]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in RELATIONS.items()}


def run(inbox_dir: Path, warehouse: Path) -> None:
    result = run_pipeline(inbox_dir, warehouse, checks=(), steps=Steps(render_docs=lambda *a, **k: None))
    assert result.outcome == "completed"


CHANGES = {
    "a cell changed": lambda root: write_csv(root / "inspections/2024-03.csv",
                                             [MARCH[0], visit("2024-03-05", 7, "张三、李四"), *MARCH[2:]]),
    "rows added": lambda root: write_csv(root / "inspections/2024-04.csv",
                                         [*APRIL, visit("2024-04-20", 5, "李四、钱七"), visit("2024-04-21", 1, "张三")]),
    "rows removed": lambda root: write_csv(root / "inspections/2024-03.csv", [MARCH[0], MARCH[1], MARCH[4]]),
    "a file of a new month": lambda root: write_csv(root / "inspections/2024-05.csv",
                                                    [INSPECTION, visit("2024-05-02", 6, "李四", "联合抽查")]),
    "another ledger's file": lambda root: write_xlsx(root / "cases/2024-04.xlsx", {"S": [
        CASE, case("A1", "2024-03-01", "2024-03-20"), case("A2", "2024-04-01")]}),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_run_after_one_changed_file_leaves_what_a_full_build_gives(tmp_path, monkeypatch, change):
    root = inbox(tmp_path / "inbox")
    warehouse = tmp_path / "incremental" / "tally.duckdb"
    run(root, warehouse)
    CHANGES[change](root)
    updated: list[str] = []
    original = models.update_model

    def spy(con, model, ledgers):
        updated.append(model.name)
        return original(con, model, ledgers)

    monkeypatch.setattr(models, "update_model", spy)
    run(root, warehouse)
    monkeypatch.undo()
    if change != "another ledger's file":  # the cases mart is not incremental: the totals are built again
        assert updated == ["indicator_totals"]  # the inspections mart is a view of its staging rows
    fresh = tmp_path / "fresh" / "tally.duckdb"
    run(root, fresh)
    expected = snapshot(fresh)
    assert expected["check_warnings"] and expected["inspections"]  # there is something to compare
    assert snapshot(warehouse) == expected
