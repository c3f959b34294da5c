"""`problem_log` is a SQL model (sql/marts/problem_log.sql): what a clerk must look at.

It holds the problems of current versions, the files whose latest submission was rejected
and the cross-check warnings; a warehouse that was only loaded reads the same model as a query.
"""

from __future__ import annotations

from datetime import date

import duckdb
from rawdata import RawWarehouse

from flows.report.problem_report import problem_log_source, problem_rows
from flows.transform import models
from flows.validate.cross_checks import CHECK_TABLE_DDL

COLUMNS = ["source", "ledger", "scope", "period", "dated", "version_id", "path", "sheet", "row", "column",
           "header", "raw_value", "rule", "severity", "message"]  # fmt: skip


def inspection(day: date) -> dict:
    return {"inspection_date": day, "inspection_type": "日常检查", "venue_name": "某网吧",
            "venue_type": "网吧", "inspectors": 2, "result": "未发现问题"}  # fmt: skip


def problem(w: RawWarehouse, version_id: int, row: int, rule: str, severity: str, raw_value: str) -> None:
    w.con.execute(
        "INSERT INTO problems VALUES (?, ?, 'Sheet1', ?, 'inspectors', '出动人次', ?, ?, ?, '请核对出动人次')",
        [version_id, w.path(version_id), row, raw_value, rule, severity],
    )


def loaded_only(path: str) -> RawWarehouse:
    """A month replaced by a revision, each with a problem; a path rejected, then loaded; one rejected."""
    w = RawWarehouse(path)
    old = w.version("inspections", "2024-03", [inspection(date(2024, 3, 2))])
    new = w.version("inspections", "2024-03", [inspection(date(2024, 3, 9))])
    w.con.execute("UPDATE file_versions SET status = 'superseded', superseded_by = ? WHERE version_id = ?",
                  [new, old])
    problem(w, old, 5, "integer", "error", "两人")  # history only: its version was replaced
    problem(w, new, 4, "minimum", "warning", "0")
    first = w.version("hotline", "2024-05", status="rejected")
    again = w.version("hotline", "2024-05", [])
    w.con.execute("UPDATE file_versions SET path = 'hotline/2024-05.xlsx', reason = '空文件' WHERE version_id IN (?, ?)",
                  [first, again])  # the same path, rejected then loaded: nothing to fix any more
    gone = w.version("wechat_posts", "2024-06", status="rejected")
    w.con.execute("UPDATE file_versions SET reason = '不是工作簿', sheet = NULL WHERE version_id = ?", [gone])
    w.expected = [  # type: ignore[attr-defined]
        ("load", "inspections", "2024-03", date(2024, 3, 1), new, w.path(new), "Sheet1", 4, "minimum", "warning"),
        ("rejected", "wechat_posts", "2024-06", date(2024, 6, 1), gone, w.path(gone), None, None,
         "file_rejected", "error"),
    ]
    return w


def rows(con, source: str) -> list[tuple]:
    return con.execute(
        f'SELECT source, ledger, period, dated, version_id, path, sheet, "row", rule, severity '
        f"FROM {source} AS log ORDER BY path, source"
    ).fetchall()


def test_problem_log_is_a_view_in_the_marts():
    model = models.discover()["problem_log"]
    assert (model.layer, model.materialization) == ("marts", "view")
    assert models.references(model.sql) == {"problems", "file_versions", "current_versions", "check_warnings"}


def test_a_loaded_warehouse_reads_the_model_as_a_query_and_a_built_one_the_view(tmp_path):
    path = str(tmp_path / "w.duckdb")
    w = loaded_only(path)
    expected = w.expected
    w.con.close()
    with duckdb.connect(path, read_only=True) as con:  # as `tally problems` opens it
        assert problem_log_source(con) != "problem_log"
        assert rows(con, problem_log_source(con)) == expected
        before = problem_rows(con, 2024)
    assert before.columns[: len(COLUMNS)] == COLUMNS
    assert before["message"].to_list() == ["请核对出动人次", "不是工作簿"]
    assert before["unit_zh"].to_list() == ["执法大队", "宣传股"]

    with duckdb.connect(path) as con:
        models.build(con)  # creates check_warnings, still empty: the checks have not run
        kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
        assert (kinds["problem_log"], kinds["check_warnings"]) == ("VIEW", "BASE TABLE")
        assert rows(con, "problem_log") == expected
        assert problem_rows(con, 2024).equals(before)
        assert problem_rows(con, 2023).height == 0


def test_check_warnings_replaced_by_the_checks_show_in_the_view_without_a_rebuild():
    w = loaded_only(":memory:")
    models.build(w.con)
    version = w.expected[0][4]
    w.con.execute(CHECK_TABLE_DDL)  # as run_cross_checks does, after the models
    w.con.execute(
        "INSERT INTO check_warnings VALUES (?, ?, 'Sheet1', 4, 'officers', '执法人员', '王某某', "
        "'officer_not_certified', 'warning', '执法人员不在名录中', 'officer_not_certified')",
        [version, w.path(version)],
    )
    assert rows(w.con, "problem_log") == [
        ("check", "inspections", "2024-03", date(2024, 3, 1), version, w.path(version), "Sheet1", 4,
         "officer_not_certified", "warning"),
        *w.expected,
    ]
