"""A small inbox with the shape of the sample's (inspections by month, a penalty-case register),
and a warehouse built from it by a whole run, for the tests that read the warehouse as an analyst."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledgerfiles import write_xlsx

from flows.run.pipeline import run_pipeline

INSPECTION_HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
CASE_HEADER = ["序号", "案件编号", "立案日期", "当事人", "当事人类型", "案由", "场所类型", "处罚决定日期", "罚款金额"]


def write_inspections(inbox: Path, month: int, rows: list[tuple[int, str]]) -> Path:
    """Write `inspections/2024-MM.xlsx`: one inspection per (day, venue type)."""
    body = [[i, date(2024, month, day), "日常检查", f"场所{month}-{i}", venue, 2, "张三、李四", "未发现问题"]
            for i, (day, venue) in enumerate(rows, 1)]
    return write_xlsx(inbox / "inspections" / f"2024-{month:02d}.xlsx", {"Sheet1": [INSPECTION_HEADER, *body]})


def write_cases(inbox: Path) -> Path:
    """Write the case register of March 2024: three cases, fines of 500, 1000 and 2500 yuan."""
    body = [
        [1, "文旅罚〔2024〕1号", date(2024, 2, 1), "某某网络会所有限公司", "单位", "接纳未成年人", "网吧",
         date(2024, 3, 4), 500],
        [2, "文旅罚〔2024〕2号", date(2024, 2, 6), "某某歌舞厅有限公司", "单位", "超时经营", "歌舞娱乐场所",
         date(2024, 3, 8), 1000],
        [3, "文旅罚〔2024〕3号", date(2024, 2, 9), "某某书店有限公司", "单位", "销售非法出版物",
         "出版物经营单位", date(2024, 3, 12), 2500],
    ]
    return write_xlsx(inbox / "cases" / "2024-03.xlsx", {"Sheet1": [CASE_HEADER, *body]})


def build(root: Path, *, second_run: bool = True) -> Path:
    """Build a warehouse under root by whole runs (models, checks, swap); return its path.

    The first run loads January's inspections and the cases; the second, February's inspections
    (an incremental build and a second swap), unless `second_run` is False.
    """
    inbox, warehouse = root / "inbox", root / "warehouse" / "tally.duckdb"
    write_inspections(inbox, 1, [(5, "网吧"), (10, "网吧"), (12, "歌舞娱乐场所")])
    write_cases(inbox)
    run_pipeline(inbox, warehouse, checks=())  # the GX suites are not what these tests are about
    if second_run:
        write_inspections(inbox, 2, [(3, "网吧")])
        run_pipeline(inbox, warehouse, checks=())
    return warehouse
