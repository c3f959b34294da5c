"""The fast paths of reading and parsing give exactly what the full paths give (hypothesis)."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.contract.ledgers import LEDGERS, Column
from flows.extract.cells import fast_cell, parse_cell
from flows.extract.headers import HeaderMatch
from flows.extract.parse import (
    SheetToParse,
    classify_rows,
    data_rows,
    labelled_rows,
    read_as_data,
    surely_data,
    with_continuations,
)
from flows.extract.readers import csv_grid, decode_text, grid_extent
from flows.textnorm import WHITESPACE_CHARS

COLUMNS = [c for ledger in LEDGERS.values() for c in ledger.columns]
# Of every kind: clean forms the fast path takes, near misses it must leave alone.
PIECES = [
    "2024-03-05", "2024-3-5", "2024-02-30", "2024-03-05 00:00:00", "2024-03-05 08:30", "２０２４-03-05",
    "+2024-03-05", "20240305", "45356", "3月5日", "0", "1", "12", "007", "-3", "3.0", "3.", "1,200",
    "1200.5", "0.12万", "¥300", "99999999999999999999", "3人", "是", "否", "Y", "y", "√", "×", "无", "1.0",
    "检查", "日常检查", "网吧", "合格", "责令整改", "KTV", "ＫＴＶ", "张三、李四", "张三,李四", "、张三",
    "张三、、李四", "张三 李四", "", " ", "\u3000", "\t", "/", "—", "-", "١٢",
]  # fmt: skip
cells = st.one_of(
    st.none(),
    st.sampled_from(PIECES),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map("".join),
    st.text(max_size=6),
)


def both(column: Column, raw: list[str | None], scale: float = 1.0) -> pl.DataFrame:
    frame = pl.DataFrame({"raw": raw, "_year": [2024] * len(raw)}, schema={"raw": pl.Utf8, "_year": pl.Int32})
    fast = fast_cell(pl.col("raw"), column, scale=scale)
    full = parse_cell(pl.col("raw"), column, year=pl.col("_year"), scale=scale)
    return frame.select(
        pl.col("raw"), fast.value.alias("fast"), fast.settled.alias("settled"),
        full.value.alias("full"), full.rule.alias("rule"),
    )  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(column=st.sampled_from(COLUMNS), raw=st.lists(cells, min_size=1, max_size=12),
       scale=st.sampled_from([1.0, 10_000.0]))
def test_a_settled_cell_has_the_full_parse_value_and_no_problem(column, raw, scale):
    out = both(column, raw, scale).filter(pl.col("settled"))
    assert out["rule"].null_count() == out.height, out
    assert out["fast"].to_list() == out["full"].to_list(), out


def test_clean_forms_are_settled():
    ledger = LEDGERS["inspections"]
    assert both(ledger.column("inspection_date"), ["2024-03-05", "2024-03-05 00:00:00"])["settled"].all()
    assert both(ledger.column("inspectors"), ["3", "12"])["settled"].all()
    assert both(ledger.column("officers"), ["张三、李四", "王五"])["settled"].all()
    assert not both(ledger.column("inspectors"), ["0", "3人", "-1"])["settled"].any()  # minimum 1, units, sign
    assert not both(ledger.column("inspection_date"), [None, "2024-02-30", "3月5日"])["settled"].any()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([",", "\n", "\r\n", "a", "中", '"', " ", ",,", "\x1f", "#"]), min_size=1, max_size=40))
def test_the_widest_line_is_counted_as_polars_splits_lines(parts):
    data = "".join(parts).encode()
    try:
        lines = pl.read_csv(data, has_header=False, separator="\x1f", quote_char=None,
                            schema={"line": pl.Utf8}, missing_utf8_is_empty_string=True)
        expected = int(lines["line"].str.count_matches(",", literal=True).max() or 0) + 1
    except pl.exceptions.PolarsError:
        return  # the slow count fails on such a file too, and csv_grid then rejects it
    assert grid_extent(data)[0] == expected


def test_csv_grid_reads_utf8_with_bom_and_gbk_alike():
    text = "标题\n日期,人数\n2024-03-05,3\n"
    grids = [csv_grid(data).frame for data in
             (text.encode(), b"\xef\xbb\xbf" + text.encode(), text.encode("gb18030"))]
    assert all(g.equals(grids[0]) for g in grids)
    assert grids[0].columns == ["_row", "c0", "c1"]
    assert grids[0]["_row"].to_list() == [1, 2, 3]
    assert decode_text(text.encode("gb18030")) == text


ROW_CELLS = st.one_of(st.none(), st.sampled_from(
    ["", " ", "\u3000", "合", "计", "合计", " 合计", "总计：", "小计", "填表人：王", "备注：", "说明", "审核人",
     "制表", "1", "2024-03-05", "网吧", "无", "\t填报日期", "填 表 人：", "注：1.本表", "2.本表", "单位负责人",
     "日常检查", "未发现问题", "3", "\u2003合\xa0计", "填\u3000报\tn人:", "\x1f合计", "（2）续"]
))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(ROW_CELLS, min_size=3, max_size=3), min_size=1, max_size=8))
def test_rows_classified_by_their_first_cell_are_classified_as_the_whole_row_says(rows):
    grid = pl.DataFrame(rows, schema={"c0": pl.Utf8, "c1": pl.Utf8, "c2": pl.Utf8}, orient="row")
    grid = grid.with_row_index("_row", offset=2).with_columns(pl.col("_row").cast(pl.Int32))
    match = HeaderMatch(first_data_index=0, header_row=1, columns={"inspection_date": "c1", "result": "c2"},
                        headers={"inspection_date": "检查日期", "result": "检查结果"})
    sheet = SheetToParse(grid, match, LEDGERS["inspections"], 2024, [])
    expected = with_continuations(classify_rows(grid, sheet)).drop("_at")
    [labelled] = read_as_data([sheet], [labelled_rows(grid, surely_data([grid])[0])])
    kinds, data, _, skipped = data_rows(sheet, grid, labelled)
    wanted = expected.filter(pl.col("_kind") == "data").drop("_kind", "_label")
    if data.height:  # a zero report clears its rows
        assert data.equals(wanted)
    has_total = (expected["_kind"] == "total").any()
    assert (kinds is not None) == has_total
    if has_total:
        assert kinds.equals(expected)
    footers = expected.filter(pl.col("_kind").is_in(["total", "note"]))
    assert skipped.filter(pl.col("kind") != "nothing")["_row"].to_list() == footers["_row"].to_list()


def test_whitespace_chars_are_what_polars_calls_white_space():
    probe = pl.Series([chr(c) for c in range(0x3001)])
    assert set(probe.filter(probe.str.contains(r"^\s$")).to_list()) == set(WHITESPACE_CHARS)
