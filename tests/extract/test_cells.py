from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.contract.ledgers import LEDGERS, Column
from flows.extract.cells import enum_mapping, is_blank, parse_cell
from flows.textnorm import to_halfwidth

INSPECTIONS = LEDGERS["inspections"]
CASES = LEDGERS["cases"]

DATE = INSPECTIONS.column("inspection_date")  # required
OPTIONAL_DATE = INSPECTIONS.column("disclosed_on")
INSPECTORS = INSPECTIONS.column("inspectors")  # required, minimum 1
DEATHS = LEDGERS["safety_incidents"].column("deaths")  # default 0, minimum 0
READS = LEDGERS["wechat_posts"].column("reads")  # optional, no default
FINE = CASES.column("fine_yuan")  # money, default 0
HOURS = LEDGERS["study_sessions"].column("hours")  # number
LEGAL_REVIEW = CASES.column("legal_review")  # bool, optional
LITIGATION = CASES.column("litigation")  # bool, default 否
VENUE_TYPE = INSPECTIONS.column("venue_type")
THEME = LEDGERS["publicity_events"].column("theme")
OFFICERS = INSPECTIONS.column("officers")
VENUE_NAME = INSPECTIONS.column("venue_name")
SATISFACTION = LEDGERS["hotline"].column("satisfaction")  # enum with default


def parse(column: Column, cells: list, *, year: int = 2024, scale: float = 1.0) -> pl.DataFrame:
    frame = pl.DataFrame({"raw": cells}, schema={"raw": pl.Utf8})
    parsed = parse_cell(pl.col("raw"), column, year=year, scale=scale)
    return (
        frame.lazy()
        .select(
            pl.col("raw"),
            parsed.value.alias("value"),
            parsed.rule.alias("rule"),
            parsed.reason.alias("reason"),
        )
        .collect()
    )


def values(column: Column, cells: list, **kw) -> list:
    return parse(column, cells, **kw)["value"].to_list()


# Dates

D = date(2024, 3, 5)


@pytest.mark.parametrize(
    "cell",
    [
        "2024-03-05 00:00:00",
        "2024-03-05T00:00:00",
        "2024-03-05 13:45:10.250",
        "45356",
        "45356.0",
        "45356.75",
        "2024-03-05",
        "2024-3-5",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "2024年3月5日",
        "2024年03月05日",
        "2024 年 3 月 5 日",
        "20240305",
        "3月5日",
        "3月5",
        "3.5",
        "03.05",
        " ２０２４－０３－０５ ",
        "２０２４年３月５日",
    ],
)
def test_date_forms(cell):
    out = parse(DATE, [cell])
    assert out["value"].to_list() == [D]
    assert out["rule"].to_list() == [None]
    assert out["reason"].to_list() == [None]


def test_yearless_dates_take_the_given_year():
    assert values(DATE, ["3月5日", "12.31"], year=2023) == [date(2023, 3, 5), date(2023, 12, 31)]


@pytest.mark.parametrize(
    ("cell", "reason_start"),
    [
        ("2024-02-30", "日期不存在"),
        ("2024-13-01", "日期不存在"),
        ("2023-02-29", "日期不存在"),
        ("20241301", "日期不存在"),
        ("2月30日", "日期不存在"),
        ("99999", "数字超出"),
        ("12345", "数字超出"),
        ("2024-03/05", "不是可识别的日期"),
        ("2024035", "不是可识别的日期"),
        ("下周一", "不是可识别的日期"),
        ("2024-3", "不是可识别的日期"),
        ("24-03-05", "不是可识别的日期"),
    ],
)
def test_bad_dates_fail_with_rule_date(cell, reason_start):
    out = parse(DATE, [cell])
    assert out["value"].to_list() == [None]
    assert out["rule"].to_list() == ["date"]
    assert out["reason"][0].startswith(reason_start)


def test_leap_day_is_a_date():
    assert values(DATE, ["2024-02-29", "2.29"]) == [date(2024, 2, 29)] * 2


def test_blank_dates():
    out = parse(DATE, [None, "", "  ", "\u3000"])
    assert out["value"].to_list() == [None] * 4
    assert out["rule"].to_list() == ["required"] * 4
    assert out["reason"].to_list() == ["必填项为空"] * 4
    out = parse(OPTIONAL_DATE, [None, " "])
    assert out["rule"].to_list() == [None, None]
    assert out["value"].to_list() == [None, None]


def _render_date(d: date) -> list[str]:
    serial = (d - date(1899, 12, 30)).days
    return [
        f"{d:%Y-%m-%d} 00:00:00",
        f"{d:%Y-%m-%d}T00:00:00",
        str(serial),
        f"{serial}.0",
        f"{d:%Y-%m-%d}",
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}.{d.month}.{d.day}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d:%Y%m%d}",
    ]


def _to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dates(date(1960, 1, 1), date(2099, 12, 31)), min_size=1, max_size=30))
def test_dates_round_trip_in_every_form(days):
    cells, expected = [], []
    for d in days:
        forms = _render_date(d)
        forms.append(_to_fullwidth(forms[4]))
        cells += forms
        expected += [d] * len(forms)
        # Year-less forms take the file's year (2024 is a leap year: 2月29日 exists).
        cells += [f"{d.month}月{d.day}日", f"{d.month}.{d.day}"]
        expected += [date(2024, d.month, d.day)] * 2
    out = parse(DATE, cells, year=2024)
    assert out["value"].to_list() == expected
    assert out["rule"].null_count() == len(cells)


# Integers


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("3", 3),
        ("3.0", 3),
        ("3.", 3),
        ("３", 3),
        ("3人", 3),
        ("3 人", 3),
        ("3次", 3),
        ("3本", 3),
        ("3册", 3),
        ("3张", 3),
        ("3份", 3),
        ("3条", 3),
        ("3场", 3),
        ("3家", 3),
        ("3个", 3),
        ("3件", 3),
        ("3人次", 3),
        ("3家次", 3),
        ("1,200", 1200),
        ("1，200", 1200),
        ("1,234,567人次", 1234567),
        ("+5", 5),
        (" 12 ", 12),
    ],
)
def test_int_forms(cell, value):
    out = parse(INSPECTORS, [cell])
    assert out["value"].to_list() == [value]
    assert out["rule"].to_list() == [None]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2.5", "不是整数（不能为小数）"),
        ("2.50人", "不是整数（不能为小数）"),
        ("-3", "不能为负数"),
        ("－3", "不能为负数"),
        ("三", "不是数字"),
        ("abc", "不是数字"),
        ("3斤", "不是数字"),
        ("1,20", "不是数字"),
        ("99999999999999999999", "数字过大"),
        ("0", "不能小于1"),
    ],
)
def test_bad_ints(cell, reason):
    out = parse(INSPECTORS, [cell])
    assert out["value"].to_list() == [None]
    assert out["rule"].to_list() == ["integer"]
    assert out["reason"].to_list() == [reason]


def test_int_blanks_take_default_or_fail_when_required():
    blanks = [None, "", " ", "-", "—", "/", "无", "－"]
    assert values(DEATHS, blanks) == [0] * len(blanks)
    assert parse(DEATHS, blanks)["rule"].null_count() == len(blanks)
    out = parse(INSPECTORS, blanks)
    assert out["rule"].to_list() == ["required"] * len(blanks)
    out = parse(READS, blanks)
    assert out["value"].to_list() == [None] * len(blanks)
    assert out["rule"].null_count() == len(blanks)


def test_minus_zero_is_zero():
    assert values(DEATHS, ["-0", "0.0"]) == [0, 0]


def _render_int(n: int, style: int, unit: str) -> str:
    text = f"{n:,}" if style % 2 else str(n)
    if style >= 2:
        text = _to_fullwidth(text)
    return text + unit


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**12),
            st.integers(0, 3),
            st.sampled_from(["", "人", "次", "人次", "家次", "本", ".0"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_ints_round_trip(items):
    cells = [_render_int(n, style, unit) for n, style, unit in items]
    out = parse(DEATHS, cells)
    assert out["value"].to_list() == [n for n, _, _ in items]
    assert out["rule"].null_count() == len(items)


# Money and numbers


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1200", 1200.0),
        ("1,200.50", 1200.5),
        ("1200元", 1200.0),
        ("0.12万元", 1200.0),
        ("0.12万", 1200.0),
        ("１２００元", 1200.0),
        ("¥300", 300.0),
        ("0", 0.0),
        ("1200.006", 1200.01),
        ("1199.994", 1199.99),
        (".5", 0.5),
    ],
)
def test_money_forms(cell, value):
    out = parse(FINE, [cell])
    assert out["value"].to_list() == [value]
    assert out["rule"].to_list() == [None]


def test_money_scale_applies_unless_the_cell_has_its_own_unit():
    assert values(FINE, ["1.2", "0.12万", "0.12万元", "300元", None], scale=10000) == [
        12000.0,
        1200.0,
        1200.0,
        300.0,
        0.0,
    ]


@pytest.mark.parametrize(
    ("cell", "reason"), [("-5", "不能为负数"), ("五百", "不是有效金额"), ("元", "不是有效金额")]
)
def test_bad_money(cell, reason):
    out = parse(FINE, [cell])
    assert out["value"].to_list() == [None]
    assert out["rule"].to_list() == ["money"]
    assert out["reason"].to_list() == [reason]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 99), st.integers(0, 5)),
        min_size=1,
        max_size=30,
    )
)
def test_money_round_trips(items):
    cells, expected = [], []
    for yuan, fen, style in items:
        amount = yuan + fen / 100
        match style:
            case 0:
                cells.append(f"{yuan}.{fen:02d}")
            case 1:
                cells.append(f"{yuan:,}.{fen:02d}")
            case 2:
                cells.append(f"{yuan}.{fen:02d}元")
            case 3:
                cells.append(_to_fullwidth(f"{yuan:,}.{fen:02d}") + "元")
            case 4:
                # 万 with enough decimals to carry every fen.
                cells.append(f"{yuan // 10000}.{yuan % 10000:04d}{fen:02d}万")
            case 5:
                cells.append(f"{yuan // 10000}.{yuan % 10000:04d}{fen:02d}万元")
        expected.append(round(amount, 2))
    out = parse(FINE, cells)
    assert out["value"].to_list() == pytest.approx(expected, abs=1e-6)
    assert out["rule"].null_count() == len(items)


def test_numbers():
    out = parse(HOURS, ["1.5", "2", "0", "-1", "两小时", "-", None])
    assert out["value"].to_list() == [1.5, 2.0, 0.0, None, None, None, None]
    assert out["rule"].to_list() == [None, None, None, "number", "number", None, None]
    assert out["reason"].to_list()[3:5] == ["不能为负数", "不是数字"]


# Yes/no


def test_bools():
    yes = ["是", "Y", "y", "√", "有", "TRUE", "true", "1", "Ｙ", "ｔｒｕｅ"]
    no = ["否", "N", "n", "×", "无", "FALSE", "False", "0", "Ｎ"]
    assert values(LEGAL_REVIEW, yes + no) == [True] * len(yes) + [False] * len(no)


def test_bad_and_blank_bools():
    out = parse(LEGAL_REVIEW, ["也许", "2", None, " "])
    assert out["value"].to_list() == [None] * 4
    assert out["rule"].to_list() == ["yes_no", "yes_no", None, None]
    assert out["reason"][0].startswith("不是“是/否”")
    assert values(LITIGATION, [None, "", "是"]) == [False, False, True]


# Enumerations


def test_enum_values_and_aliases():
    cells = [
        "网吧",
        " 网 吧 ",
        "KTV",
        "ktv",
        "ＫＴＶ",
        "书店",
        "景区",
        "a级旅游景区",
        "Ａ级旅游景区",
    ]
    assert values(VENUE_TYPE, cells) == [
        "网吧",
        "网吧",
        "歌舞娱乐场所",
        "歌舞娱乐场所",
        "歌舞娱乐场所",
        "出版物经营单位",
        "A级旅游景区",
        "A级旅游景区",
        "A级旅游景区",
    ]


def test_enum_middle_dots_and_dotted_aliases():
    cells = ["4·23", "4・23", "4•23", "4.23", "４．２３", "12·4", "宪法日"]
    assert values(THEME, cells) == ["世界读书日"] * 5 + ["国家宪法日"] * 2


def test_bad_enum_lists_the_allowed_values():
    out = parse(VENUE_TYPE, ["夜店"])
    assert out["rule"].to_list() == ["enum"]
    assert out["reason"][0] == "不在允许的取值内（可填：" + "、".join(VENUE_TYPE.values) + "）"
    assert out["value"].to_list() == [None]


def test_enum_default_and_required():
    assert values(SATISFACTION, [None, "满意"]) == ["未评价", "满意"]
    out = parse(VENUE_TYPE, [None])
    assert out["rule"].to_list() == ["required"]


def test_enum_mapping_keys_are_normalised():
    mapping = enum_mapping(VENUE_TYPE)
    assert mapping["ktv"] == "歌舞娱乐场所"
    assert mapping["a级旅游景区"] == "A级旅游景区"
    assert set(mapping.values()) == set(VENUE_TYPE.values)


# Text and names


def test_text_is_trimmed():
    out = parse(VENUE_NAME, ["\u3000西吉县 某网吧 ", "", None])
    assert out["value"].to_list() == ["西吉县 某网吧", None, None]
    assert out["rule"].to_list() == [None, "required", "required"]


def test_names_split():
    cells = ["张三、李四", "张三，李四, 王五  赵六", "张三\u3000李四、", "张三", "", None]
    assert values(OFFICERS, cells) == [
        ["张三", "李四"],
        ["张三", "李四", "王五", "赵六"],
        ["张三", "李四"],
        ["张三"],
        None,
        None,
    ]


def test_is_blank():
    frame = pl.DataFrame({"raw": [None, "", " ", "\u3000", "\n", "x", "-"]})
    assert frame.select(is_blank(pl.col("raw")))["raw"].to_list() == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]


# Arbitrary text

ALL_COLUMNS = [
    DATE,
    INSPECTORS,
    DEATHS,
    FINE,
    HOURS,
    LEGAL_REVIEW,
    VENUE_TYPE,
    OFFICERS,
    VENUE_NAME,
]
CELL_TEXT = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.text(alphabet="0123456789-./年月日万元人次,， :T３无", max_size=20),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(CELL_TEXT, min_size=1, max_size=20), st.sampled_from(ALL_COLUMNS))
def test_arbitrary_text_parses_or_fails_with_a_reason(cells, column):
    out = parse(column, cells, scale=10000)
    for raw, value, rule, reason in out.iter_rows():
        assert (rule is None) == (reason is None)
        if rule is not None:
            assert value is None
            assert reason
        text = None if raw is None else to_halfwidth(raw).strip()
        # Number columns read these marks as "nothing" too (a blank with no default is null).
        nothing = ("-", "—", "/", "无", "--", "——", "–")
        blank = not text or (column.type in ("int", "money", "number") and text in nothing)
        if not blank and rule is None and column.type not in ("text", "names"):
            assert value is not None


def test_dtypes():
    assert parse(DATE, ["2024-03-05"])["value"].dtype == pl.Date
    assert parse(INSPECTORS, ["3"])["value"].dtype == pl.Int64
    assert parse(FINE, ["3"])["value"].dtype == pl.Float64
    assert parse(HOURS, ["3"])["value"].dtype == pl.Float64
    assert parse(LEGAL_REVIEW, ["是"])["value"].dtype == pl.Boolean
    assert parse(VENUE_TYPE, ["网吧"])["value"].dtype == pl.Utf8
    assert parse(OFFICERS, ["张三"])["value"].dtype == pl.List(pl.Utf8)


def test_works_in_eager_select_and_with_excel_epoch_boundaries():
    frame = pl.DataFrame({"raw": ["20000", "80000", "19999", "80001"]})
    parsed = parse_cell(pl.col("raw"), DATE, year=2024)
    out = frame.select(parsed.value.alias("raw"), parsed.rule.alias("rule"))
    epoch = date(1899, 12, 30)
    assert out["raw"].to_list() == [epoch + timedelta(20000), epoch + timedelta(80000), None, None]
    assert out["rule"].to_list() == [None, None, "date", "date"]


@pytest.mark.parametrize("column", [c for ledger in LEDGERS.values() for c in ledger.columns])
def test_an_all_empty_column_of_dtype_null_parses(column):
    frame = pl.DataFrame({"raw": [None, None]})
    assert frame.schema["raw"] == pl.Null
    parsed = parse_cell(pl.col("raw"), column, year=2024)
    out = frame.select(parsed.value.alias("value"), parsed.rule.alias("rule"))
    missing = column.required and column.default is None
    assert out["rule"].to_list() == ["required" if missing else None] * 2
    expected = column.default
    if column.type in ("money", "number") and expected is not None:
        expected = float(expected)
    assert out["value"].to_list() == [expected] * 2


def test_numbers_from_a_typed_frame_parse_as_their_text():
    frame = pl.DataFrame({"raw": [3, 12]})
    parsed = parse_cell(pl.col("raw"), INSPECTORS, year=2024)
    assert frame.select(parsed.value.alias("value"))["value"].to_list() == [3, 12]
