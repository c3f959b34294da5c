"""Dress clean ledger rows up as the spreadsheets clerks really send (every form the templates allow).

A `Style` says how one file is laid out and how its values are written; `render_sheet` turns
the clean rows of one file into a `Sheet`: a grid of cells with its merges, where every data
row and every documented mistake lands (row numbers as the spreadsheet shows them).
Values are converted column by column with polars; only the final grid is Python lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import polars as pl

from flows.contract.ledgers import Column, Ledger

FULL_DIGITS = [chr(0xFF10 + i) for i in range(10)]
SUFFIX = {"inspectors": "人", "attendees": "人", "quantity": "本", "banners": "条", "reach": "人次",
          "posters": "张", "leaflets": "份", "deaths": "人", "injuries": "人", "reads": "次"}  # fmt: skip
GROUPED = ("posters", "leaflets", "banners")  # under the merged 宣传品发放 of two-row headers
GROUP_HEADERS = {"posters": "海报（张）", "leaflets": "折页（份）", "banners": "横幅（条）"}
TOWNS = ["吉强镇", "兴隆镇", "将台堡镇", "新营乡", "红耀乡", "偏城乡", "沙沟乡", "白崖乡"]
DATE_FORMATS = {
    "iso": "%Y-%m-%d", "slash": "%Y/%-m/%-d", "dot": "%Y.%-m.%-d", "cn": "%Y年%-m月%-d日",
    "compact": "%Y%m%d", "md_cn": "%-m月%-d日", "md_dot": "%-m.%-d",
}  # fmt: skip
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass(frozen=True)
class Style:
    """How one file (or one sheet of a yearly workbook) is laid out and written."""

    fmt: str = "xlsx"  # xlsx | xls | csv
    encoding: str = "utf-8"  # csv only: utf-8, utf-8-sig, gb18030, gbk
    title: bool = True  # title, blank and 填报单位 rows above the header
    two_row: bool = False  # merged group header (publicity events)
    seq: bool = False  # a 序号 column
    extra: str | None = None  # an unknown extra column
    total: bool = False  # a 合计 row below the data
    total_offset: int = 0  # a clerk's arithmetic slip in the 合计 row
    signature: bool = False  # 填表人 / 审核人 / 填报日期 rows
    blank_every: int = 0  # a blank row after every n data rows
    before: str | None = None  # a sheet before the data sheet: "hidden" or "notes"
    sheet: str = "Sheet1"
    headers: dict[str, str] = field(default_factory=dict)  # column name → header as written
    order: tuple[str, ...] = ()  # columns written first, in this order
    date_form: str = "excel"  # excel, serial_number, serial_text, or a DATE_FORMATS key
    date_display: str = "yyyy-mm-dd"
    int_form: tuple[str, ...] = ("plain",)  # plain | float, or string forms cycled per row
    zero_form: str | None = None  # how an empty defaulted count is written: "", "-", "—", "/"
    money_form: str = "plain"  # plain, yuan, thousands, wan, wan_header
    bool_form: tuple[object, object] = ("是", "否")
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)  # column → {value: as written}
    name_sep: str = "、"
    zero_row: str | None = None  # the only row of an empty month: 本月无, 无
    brackets: str = ""  # how case numbers write 〔〕: "[]", "【】", "()"

    def but(self, **changes) -> Style:
        """Return this style with some settings changed."""
        return replace(self, **changes)


@dataclass
class Sheet:
    """One sheet as written: a grid of cells (0-based), merges and where the rows landed."""

    name: str
    rows: list[list[object]]
    merges: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    text_columns: set[int] = field(default_factory=set)
    date_display: str = "yyyy-mm-dd"
    hidden: bool = False
    headers: list[str] = field(default_factory=list)
    data_rows: list[int] = field(default_factory=list)  # 1-based spreadsheet rows of data rows
    total_row: int | None = None


@dataclass(frozen=True)
class Extra:
    """A row that is not in the truth set: a copy of row `base` with one cell written badly."""

    base: int  # index of the data row copied (and the row it is inserted after)
    column: str
    raw: object | None  # None: an exact duplicate
    rule: str
    severity: str = "error"


@dataclass(frozen=True)
class Mark:
    """A documented mistake on a truth row's cell; `raw` overwrites what the cell says."""

    column: str
    rule: str
    severity: str = "warning"
    raw: object | None = None


@dataclass(frozen=True)
class Located:
    """Where a documented mistake landed in a sheet."""

    sheet: str
    row: int
    header: str
    raw_value: str
    rule: str
    severity: str


# ---------------------------------------------------------------- value forms


def to_full_width(expr: pl.Expr) -> pl.Expr:
    """Write the digits of a text expression in full-width form (３ for 3)."""
    return expr.str.replace_many([str(i) for i in range(10)], FULL_DIGITS)


def with_thousands(expr: pl.Expr) -> pl.Expr:
    """Write a non-negative integer expression with thousands separators (1,200)."""
    head = (expr // 1000).cast(pl.Utf8)
    tail = (expr % 1000).cast(pl.Utf8).str.zfill(3)
    return pl.when(expr >= 1000).then(head + "," + tail).otherwise(expr.cast(pl.Utf8))


def _cycle(forms: list[pl.Expr]) -> pl.Expr:
    if len(forms) == 1:
        return forms[0]
    pos = pl.int_range(pl.len()) % len(forms)
    out = forms[-1]
    for i in range(len(forms) - 2, -1, -1):
        out = pl.when(pos == i).then(forms[i]).otherwise(out)
    return out


def date_expr(col: pl.Expr, style: Style, year: int) -> pl.Expr:
    """Write a date column in the style's form; a short form only for dates of the file's year."""
    form = style.date_form
    if form == "excel":
        return col
    serial = (col - pl.lit(EXCEL_EPOCH)).dt.total_days()
    if form == "serial_number":
        return serial
    if form == "serial_text":
        return serial.cast(pl.Utf8)
    text = col.dt.strftime(DATE_FORMATS[form])
    if form.startswith("md_"):
        text = pl.when(col.dt.year() == year).then(text).otherwise(col.dt.strftime("%Y-%m-%d"))
    return text


def int_expr(col: pl.Expr, column: Column, style: Style) -> pl.Expr:
    """Write a count column in the style's number forms."""
    if style.int_form == ("plain",):
        out = col
    elif style.int_form == ("float",):
        out = col.cast(pl.Float64)
    else:
        forms = []
        for form in style.int_form:
            text = col.cast(pl.Utf8)
            forms.append(
                {
                    "text": text,
                    "fullwidth": to_full_width(text),
                    "suffix": text + SUFFIX.get(column.name, ""),
                    "thousands": with_thousands(col),
                    "dotzero": text + ".0",
                }[form]
            )
        out = _cycle(forms)
    default = column.default
    if (
        style.zero_form is not None
        and default is not None
        and (default == 0 or style.zero_form == "")
    ):
        if style.zero_form == "":
            out = pl.when(col == default).then(None).otherwise(out)
        else:
            out = pl.when(col == default).then(pl.lit(style.zero_form)).otherwise(out.cast(pl.Utf8))
    return out


def money_expr(col: pl.Expr, style: Style) -> pl.Expr:
    """Write an amount in yuan in the style's money form."""
    whole = col.cast(pl.Int64)
    form = style.money_form
    if form == "plain":
        return col
    if form == "wan_header":
        return col / 10000
    if form == "yuan":
        return whole.cast(pl.Utf8) + "元"
    if form == "thousands":
        return with_thousands(whole)
    if form == "wan":
        # Built from integer parts: a float's text form can carry binary noise (0.030000000000000002).
        fraction = (whole % 10000).cast(pl.Utf8).str.zfill(4).str.strip_chars_end("0")
        wan = (whole // 10000).cast(pl.Utf8) + pl.when(fraction == "").then(pl.lit("")).otherwise(
            "." + fraction
        )
        return pl.when(whole == 0).then(pl.lit("0")).otherwise(wan + "万元")
    raise ValueError(form)


def bool_expr(col: pl.Expr, style: Style) -> pl.Expr:
    """Write a yes/no column with the style's pair of tokens."""
    yes, no = style.bool_form
    return pl.when(col).then(pl.lit(yes)).otherwise(pl.lit(no))


def column_expr(column: Column, style: Style, year: int) -> pl.Expr:
    """Write one ledger column the way this file writes it."""
    col = pl.col(column.name)
    if column.type == "date":
        out = date_expr(col, style, year)
    elif column.type == "int":
        out = int_expr(col, column, style)
    elif column.type == "money":
        out = money_expr(col, style)
    elif column.type == "bool":
        out = bool_expr(col, style)
    elif column.type == "names":
        out = col.list.join(style.name_sep)
    else:
        out = col
    if column.name in style.aliases:
        out = out.replace(style.aliases[column.name])
    if column.name == "case_no" and style.brackets:
        out = out.str.replace("〔", style.brackets[0], literal=True).str.replace(
            "〕", style.brackets[1], literal=True
        )
    return pl.when(col.is_null()).then(None).otherwise(out).alias(column.name)


# ---------------------------------------------------------------- layout


def written_header(column: Column, style: Style) -> str:
    """Return the header this file writes for a column."""
    return style.headers.get(column.name, column.header)


def column_order(ledger: Ledger, style: Style) -> list[Column]:
    """Return the ledger's columns in the order this file writes them."""
    first = [ledger.column(name) for name in style.order]
    return first + [c for c in ledger.columns if c.name not in style.order]


def render_sheet(
    ledger: Ledger,
    frame: pl.DataFrame,
    style: Style,
    year: int,
    month: int,
    bureau: str,
    extras: tuple[Extra, ...] = (),
    marks: dict[int, Mark] | None = None,
) -> tuple[Sheet, list[Located]]:
    """Lay out one file's rows as a sheet and locate its documented mistakes.

    `marks` maps a data row index to the mistake its cell carries. `extras` are rows beyond the truth set, inserted after the row they copy.
    """
    columns = column_order(ledger, style)
    rendered = frame.select([column_expr(c, style, year) for c in columns]) if len(frame) else None
    body: list[list[object]] = [list(r) for r in rendered.rows()] if rendered is not None else []
    names = [c.name for c in columns]
    headers = [written_header(c, style) for c in columns]
    kinds: list[Mark | None] = [(marks or {}).get(i) for i in range(len(body))]
    for i, mark in enumerate(kinds):
        if mark is not None and mark.raw is not None:
            body[i][names.index(mark.column)] = mark.raw
    # Extra rows go in after their base row, last first so that indices stay put.
    for extra in sorted(extras, key=lambda e: -e.base):
        row = list(body[extra.base])
        if extra.raw is not None:
            row[names.index(extra.column)] = extra.raw
        body.insert(extra.base + 1, row)
        kinds.insert(extra.base + 1, Mark(extra.column, extra.rule, extra.severity))
    if style.seq:
        names, headers = ["_seq", *names], ["序号", *headers]
        body = [[i + 1, *r] for i, r in enumerate(body)]
    if style.extra:
        names.append("_extra")
        headers.append(style.extra)
        body = [[*r, TOWNS[i % len(TOWNS)]] for i, r in enumerate(body)]

    grid: list[list[object]] = []
    merges: list[tuple[int, int, int, int, str]] = []
    if style.title:
        grid.append([f"{bureau}{ledger.name_zh}（{year}年{month}月）"])
        grid.append([])
        grid.append(
            [
                f"填报单位：{bureau}{ledger.unit_zh}",
                *[None] * (len(headers) - 2),
                f"报送月份：{year}年{month}月",
            ]
        )
    if style.two_row and any(n in GROUPED for n in names):
        top = len(grid)
        group = [i for i, n in enumerate(names) if n in GROUPED]
        upper = [None if n in GROUPED else h for n, h in zip(names, headers, strict=True)]
        upper[group[0]] = "宣传品发放"
        lower = [GROUP_HEADERS.get(n) for n in names]
        headers = [GROUP_HEADERS.get(n, h) for n, h in zip(names, headers, strict=True)]
        grid += [upper, lower]
        merges.append((top, group[0], top, group[-1], "宣传品发放"))
        merges += [
            (top, i, top + 1, i, h)
            for i, (n, h) in enumerate(zip(names, upper, strict=True))
            if n not in GROUPED
        ]
    else:
        grid.append(list(headers))

    data_rows: list[int] = []
    located: list[Located] = []
    if not body and style.zero_row:
        grid.append([style.zero_row])
    for i, row in enumerate(body):
        grid.append(row)
        data_rows.append(len(grid))
        mark = kinds[i]
        if mark:
            j = names.index(mark.column)
            located.append(
                Located(
                    style.sheet, len(grid), headers[j], _as_text(row[j]), mark.rule, mark.severity
                )
            )
        if style.blank_every and (i + 1) % style.blank_every == 0 and i + 1 < len(body):
            grid.append([])
    total_row = None
    if style.total and body:
        total = [None] * len(names)
        total[0] = "合计"
        summed = [c.name for c in columns if c.type == "int"]
        for name in summed:
            j = names.index(name)
            total[j] = int(frame[name].sum()) + (style.total_offset if name == summed[0] else 0)
        grid.append(total)
        total_row = len(grid)
        if style.total_offset:
            j = names.index(summed[0])
            located.append(
                Located(
                    style.sheet, total_row, headers[j], str(total[j]), "total_mismatch", "warning"
                )
            )
    if style.signature:
        grid.append([])
        sign = [None] * max(len(names), 5)
        sign[0], sign[2], sign[4] = (
            "填表人：马丽",
            "审核人：杨建国",
            f"填报日期：{_next_month_day(year, month)}",
        )
        grid.append(sign)
    text_columns = set()
    if style.date_form == "serial_number":
        text_columns = {i for i, n in enumerate(names) if n in ledger_names(ledger, "date")}
    sheet = Sheet(
        style.sheet,
        grid,
        merges,
        text_columns,
        style.date_display,
        False,
        headers,
        data_rows,
        total_row,
    )
    return sheet, located


def ledger_names(ledger: Ledger, kind: str) -> set[str]:
    """Return the names of a ledger's columns of one type."""
    return {c.name for c in ledger.columns if c.type == kind}


def _next_month_day(year: int, month: int) -> str:
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{y}年{m}月3日"


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def notes_sheet(ledger: Ledger) -> Sheet:
    """Return the 说明 sheet some units put before the data: filling instructions, no header."""
    lines = [
        [f"{ledger.name_zh}填报说明"],
        ["1. 每月5日前报送上月台账，无数据的月份也须报送（零报告）。"],
        ["2. 日期按“年-月-日”填写，数量只填数字。"],
        ["3. 本表由各股室负责人审核后报局法制股。"],
    ]
    return Sheet("说明", lines)


def hidden_sheet(ledger: Ledger) -> Sheet:
    """Return a hidden sheet of drop-down lists, as templates made in WPS often carry."""
    enums = [c for c in ledger.columns if c.type == "enum"]
    width = max((len(c.values) for c in enums), default=0)
    rows = [[c.header for c in enums]] + [
        [c.values[i] if i < len(c.values) else None for c in enums] for i in range(width)
    ]
    return Sheet("下拉选项", rows, hidden=True)
