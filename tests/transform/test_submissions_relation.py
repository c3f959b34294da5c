"""The `submissions` relation: one row per unit, ledger and month, judged by when tally first saw a file."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
from ledgerfiles import write_xlsx

from flows.report.submissions import completeness, submissions
from flows.transform import indicators
from flows.transform.model_docs import parse_header
from flows.transform.submissions import MODEL_SQL

INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]


def inspection(day: str) -> list:
    return [day, "日常检查", "某网吧", "网吧", 2, "未发现问题"]


def seen(ws, path_like: str, when: str) -> None:
    """Say that tally first saw these files at `when` (Beijing time), as a run then would have."""
    with duckdb.connect(str(ws.warehouse)) as con:
        con.execute("UPDATE file_versions SET seen_at = CAST(? AS TIMESTAMPTZ) WHERE path LIKE ?",
                    [when + "+08", path_like])


def history(ws) -> None:
    """Tally first ran on 2024-02-03 and found December 2023 (back-loaded) and January 2024;
    February came on 2024-03-20 (late), March on 2024-04-06 01:30 (inside the grace), and
    March's posts on 2024-04-08 (late); a copy of the inbox later rewrote every file's time."""
    write_xlsx(ws.path("inspections/2023-12.xlsx"), {"S": [INSPECTION, inspection("2023-12-09")]})
    write_xlsx(ws.path("inspections/2024-01.xlsx"), {"S": [INSPECTION, inspection("2024-01-09")]})
    write_xlsx(ws.path("wechat_posts/2024-01.xlsx"), {"S": [["推送日期", "标题"]]})  # zero report
    ws.run()
    seen(ws, "%", "2024-02-03 09:00:00")
    write_xlsx(ws.path("inspections/2024-02.xlsx"), {"S": [INSPECTION, inspection("2024-02-09")]})
    ws.run()
    seen(ws, "inspections/2024-02%", "2024-03-20 09:00:00")
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [INSPECTION, inspection("2024-03-09")]})
    write_xlsx(ws.path("wechat_posts/2024-03.xlsx"), {"S": [["推送日期", "标题"]]})
    ws.run()
    seen(ws, "inspections/2024-03%", "2024-04-06 01:30:00")
    seen(ws, "wechat_posts/2024-03%", "2024-04-08 10:00:00")
    with duckdb.connect(str(ws.warehouse)) as con:
        # a copy of the inbox (cp without -p): every file looks modified on one day, long after
        con.execute("UPDATE file_versions SET modified_at = TIMESTAMPTZ '2024-06-01 12:00:00+08'")
        indicators.build(con)


def statuses(con, ledger: str, today: date, **kw) -> dict[str, str]:
    frame = submissions(con, today=today, **kw).filter(pl.col("ledger") == ledger)
    return dict(zip(frame["period"], frame["status"], strict=True))


def test_each_month_is_on_time_late_before_tracking_missing_or_not_due(ws):
    history(ws)
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        got = statuses(con, "inspections", date(2024, 5, 1))
        posts = statuses(con, "wechat_posts", date(2024, 5, 1))
        row = submissions(con, 2024, today=date(2024, 5, 1)).filter(
            (pl.col("ledger") == "inspections") & (pl.col("month") == 2)).row(0, named=True)
    assert got["2023-12"] == "before_tracking"  # due before tally first looked: time unknown
    assert [got[f"2024-0{m}"] for m in range(1, 6)] == ["on_time", "late", "on_time", "not_due", "not_due"]
    assert (posts["2024-01"], posts["2024-02"], posts["2024-03"]) == ("on_time", "missing", "late")
    assert (row["unit"], row["unit_zh"], row["ledger_zh"]) == ("enforcement", "执法大队", "执法检查台账")
    assert row["deadline"] == date(2024, 3, 5)
    assert row["received_on"] == date(2024, 3, 20)
    assert row["files"] == ["inspections/2024-02.xlsx"]
    assert (row["submitted"], row["late"], row["on_time"], row["missing"]) == (True, True, False, False)
    # 2023 and 2024 are in scope: every monthly ledger, every month (the roster is due no month)
    assert submissions(duckdb.connect(str(ws.warehouse), read_only=True), today=date(2024, 5, 1)).filter(
        pl.col("expected")).height == 2 * 12 * 9


def test_a_later_deadline_day_and_a_later_today_move_months_as_the_rule_says(ws):
    history(ws)
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        later = statuses(con, "inspections", date(2024, 5, 1), deadline_day=25)
        after = statuses(con, "inspections", date(2024, 6, 6))
        # the variables are the caller's for one query: the stored rule applies again after it
        plain = statuses(con, "inspections", date(2024, 5, 1))
    assert later["2024-02"] == "on_time"
    assert (after["2024-05"], after["2024-06"]) == ("missing", "not_due")
    assert plain["2024-02"] == "late"


def test_the_rule_is_stored_in_the_warehouse_and_read_by_the_sql(ws):
    history(ws)
    with duckdb.connect(str(ws.warehouse)) as con:
        assert con.execute("SELECT deadline_day, grace_hours, timezone FROM seed_submission_rules").fetchall() == [
            (5, 24, "Asia/Shanghai")]
        con.execute("UPDATE seed_submission_rules SET grace_hours = 0")
        frame = con.execute("SELECT period, status FROM submissions WHERE ledger = 'inspections' "
                            "AND period = '2024-03'").fetchall()
    assert frame == [("2024-03", "late")]  # seen at 01:30 after the 5th: late without the grace


def test_completeness_without_built_models_reads_the_same_sql(ws):
    history(ws)
    with duckdb.connect(str(ws.warehouse)) as con:
        con.execute("DROP VIEW submissions")
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        frame = completeness(con, 2024, today=date(2024, 5, 1))
    months = frame.filter(pl.col("ledger") == "inspections").sort("month")
    assert months["status"].to_list()[:4] == ["on_time", "late", "on_time", "not_due"]


def test_a_resubmission_keeps_the_first_receipt_and_lists_both_files(ws):
    history(ws)
    write_xlsx(ws.path("inspections/2024-02（修订）.xlsx"), {"S": [INSPECTION, inspection("2024-02-10")]})
    ws.run()
    with duckdb.connect(str(ws.warehouse)) as con:
        indicators.build(con)
        row = con.execute("SELECT received_at, files, status FROM submissions "
                          "WHERE ledger = 'inspections' AND period = '2024-02'").fetchone()
    assert row[0] == datetime.fromisoformat("2024-03-20T09:00:00+08:00")
    assert row[1] == ["inspections/2024-02.xlsx", "inspections/2024-02（修订）.xlsx"]
    assert row[2] == "late"


def test_the_relation_its_seeds_and_every_column_have_a_comment(ws):
    history(ws)
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        relations = dict(con.execute(
            "SELECT view_name, comment FROM duckdb_views() WHERE view_name = 'submissions' UNION ALL "
            "SELECT table_name, comment FROM duckdb_tables() WHERE table_name IN "
            "('seed_submission_rules', 'seed_ledger_units', 'notices_sent')").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE table_name IN "
            "('submissions', 'seed_submission_rules', 'seed_ledger_units')").fetchall()
    assert set(relations) == {"submissions", "seed_submission_rules", "seed_ledger_units"}
    assert all(relations.values()) and relations["submissions"].startswith("台账报送情况")
    assert len(columns) == 27 + 3 + 6
    # the header's column list is the relation's, in its order
    listed = list(parse_header(MODEL_SQL.read_text(encoding="utf-8")).columns)
    assert listed == [c for t, c, _ in columns if t == "submissions"]
    assert [(t, c) for t, c, text in columns if not text or " · " not in text] == []


def test_the_completeness_table_fits_80_columns_whole(ws, monkeypatch):
    from rich.cells import cell_len
    from typer.testing import CliRunner

    from flows.cli import app

    history(ws)
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, ["completeness", "-y", "2024", "-w", str(ws.warehouse)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert "…" not in result.stdout  # nothing cut short
    assert any(line.split()[:4] == ["执法大队", "执法检查台账", "2", "逾期"] for line in lines if line.strip())
    assert any("已报*" in line and "开始跟踪前收到" in line for line in lines)  # the legend
