"""Whatever layout a clerk gives a sheet, the same rows load to the same values (hypothesis)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledgerfiles import write_csv, write_xlsx

from flows.run.stages import run_ingest

# (header variants, how a value is written) for each column of the inspections ledger.
HEADERS = {
    "inspection_date": ["检查日期", "日期", "检查时间", "检查\n日期"],
    "inspection_type": ["检查类型", "检查 类型"],
    "venue_name": ["检查对象", "场所名称", "经营单位", "检查场所"],
    "venue_type": ["场所类型"],
    "inspectors": ["出动人次", "出动人数", "出动\n人次", "执法人次（人）"],
    "result": ["检查结果", "处理结果"],
}
DATE_FORMS = [
    lambda d: d,
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: f"{d.month}月{d.day}日",
]
COUNT_FORMS = [lambda n: n, lambda n: str(n), lambda n: f"{n}人", lambda n: f"{n}.0",
               lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))]
# Types that need no campaign or task number (those are required_if rules, tested elsewhere).
TYPE_FORMS = {"日常检查": ["日常检查", "日常巡查"], "网上巡查": ["网上巡查", "网络巡查", "线上巡查"]}
VENUE_FORMS = {"网吧": ["网吧"], "歌舞娱乐场所": ["歌舞娱乐场所", "KTV", "ktv"], "出版物经营单位": ["书店"]}

row_strategy = st.fixed_dictionaries({
    "inspection_date": st.dates(date(2024, 3, 1), date(2024, 3, 31)),
    "inspection_type": st.sampled_from(sorted(TYPE_FORMS)),
    "venue_name": st.text(alphabet="网吧书店某号甲乙丙丁", min_size=1, max_size=6).map(lambda s: s.strip() or "某"),
    "venue_type": st.sampled_from(sorted(VENUE_FORMS)),
    "inspectors": st.integers(1, 12),
    "result": st.just("未发现问题"),
})


@st.composite
def sheets(draw):
    rows = draw(st.lists(row_strategy, min_size=1, max_size=8))
    order = draw(st.permutations(list(HEADERS)))
    headers = [draw(st.sampled_from(HEADERS[c])) for c in order]
    titles = draw(st.lists(st.sampled_from([["执法检查台账（2024年3月）"], [], ["填报单位：执法大队"]]), max_size=3))
    written = []
    for row in rows:
        cells = {
            "inspection_date": draw(st.sampled_from(DATE_FORMS))(row["inspection_date"]),
            "inspection_type": draw(st.sampled_from(TYPE_FORMS[row["inspection_type"]])),
            "venue_name": row["venue_name"],
            "venue_type": draw(st.sampled_from(VENUE_FORMS[row["venue_type"]])),
            "inspectors": draw(st.sampled_from(COUNT_FORMS))(row["inspectors"]),
            "result": row["result"],
        }
        written.append([cells[c] for c in order])
        if draw(st.booleans()):
            written.append([])  # a blank row between data rows
    footer = [["合计"], ["填表人：某某", None, "审核人：某某"]] if draw(st.booleans()) else []
    kind = draw(st.sampled_from(["xlsx", "utf-8", "utf-8-sig", "gbk"]))
    return rows, [*titles, headers, *written, *footer], kind


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=sheets())
def test_any_layout_loads_the_same_rows(tmp_path: Path, case):
    rows, grid, kind = case
    root = tmp_path / "case"
    shutil.rmtree(root, ignore_errors=True)
    inbox = root / "inbox"
    if kind == "xlsx":
        write_xlsx(inbox / "inspections" / "2024-03.xlsx", {"3月": grid})
    else:
        grid = [[c.isoformat() if isinstance(c, date) else c for c in row] for row in grid]
        write_csv(inbox / "inspections" / "2024-03.csv", grid, encoding=kind)
    summary = run_ingest(inbox, root / "w.duckdb")
    assert summary.files_rejected == 0, summary.rejected
    footers = 2 if grid[-1] and str(grid[-1][0]).startswith("填表人") else 0  # read, and skipped
    assert (summary.rows_read, summary.rows_loaded, summary.rows_skipped) == (len(rows) + footers, len(rows), footers)
    import duckdb

    with duckdb.connect(str(root / "w.duckdb"), read_only=True) as con:
        got = con.execute("SELECT inspection_date, inspection_type, venue_name, venue_type, inspectors, result "
                          "FROM raw.inspections ORDER BY _row").fetchall()
    assert got == [tuple(r[c] for c in HEADERS) for r in rows]
