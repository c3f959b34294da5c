"""The README's analyst question "which units submitted late, per month", run as written on a built warehouse."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb
from ledgerfiles import write_xlsx
from received_at import received

from flows.transform import indicators

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- analyst-query: late-units-per-month"
INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
POST = ["推送日期", "标题"]


def readme_query() -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index(MARKER):]
    return re.search(r"```sql\n(.*?)```", after, re.S).group(1)


def inspection(day: str) -> list:
    return [day, "日常检查", "某网吧", "网吧", 2, "未发现问题"]


def test_the_readme_sql_lists_the_late_units_month_by_month(ws):
    files = {
        "inspections/2024-01.xlsx": ([INSPECTION, inspection("2024-01-09")], datetime(2024, 2, 3, 9)),
        "wechat_posts/2024-01.xlsx": ([POST], datetime(2024, 2, 3, 9)),
        "inspections/2024-02.xlsx": ([INSPECTION, inspection("2024-02-09")], datetime(2024, 3, 20, 9)),
        "safety_incidents/2024-02.xlsx": ([["发生日期", "场所名称", "事故等级"]], datetime(2024, 3, 9, 9)),
        "wechat_posts/2024-02.xlsx": ([POST], datetime(2024, 3, 10, 9)),
        "relic_patrols/2024-02.xlsx": ([["巡查日期", "文物名称", "保护级别"]], datetime(2024, 3, 4, 9)),  # on time: not listed
        "inspections/2024-03.xlsx": ([INSPECTION, inspection("2024-03-09")], datetime(2024, 4, 30, 9)),
    }
    for rel, (rows, _) in files.items():
        write_xlsx(ws.path(rel), {"S": rows})
    ws.run()
    received(ws.warehouse, {rel: when for rel, (_, when) in files.items()})
    with duckdb.connect(str(ws.warehouse)) as con:
        indicators.build(con)
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        rows = con.execute(readme_query()).fetchall()
    assert rows == [
        ("2024-02", "宣传股", "微信公众号推送台账", 1),
        ("2024-02", "执法大队", "执法检查台账、安全生产事故台账", 2),
        ("2024-03", "执法大队", "执法检查台账", 1),
    ]
