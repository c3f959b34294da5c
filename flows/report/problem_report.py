"""What each unit must fix: the problem log of a year, grouped by file, as a clerk wants it back.

The rows come from the view `problem_log`, a model (`sql/marts/problem_log.sql`) that the run
builds with the others; in a warehouse whose models were never built (only loaded), the same
model is read as a query, with no cross-check warning yet. Each unit (执法大队, 宣传股, 办公室)
gets one workbook: a summary sheet with a line per file, and the list of problems, file by
file and row by row.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.contract.ledgers import LEDGERS
from flows.load.current import VIEW as CURRENT_VERSIONS
from flows.load.current import rule_sql
from flows.transform.models import SQL_DIR
from flows.validate.cross_checks import CHECK_TABLE

RULE_NAMES = {
    "required": "必填项为空", "enum": "取值不在允许范围", "minimum": "数值小于下限",
    "duplicate_key": "编号重复", "date_order": "日期先后不符", "required_if": "缺少应填项",
    "outside_period": "日期不在本月", "url": "网址格式不对", "id_check_digit": "证件号码校验位不符",
    "date": "日期无法识别", "integer": "不是整数", "money": "金额无法识别", "number": "不是数字",
    "yes_no": "不是“是/否”", "total_mismatch": "合计不符", "file_rejected": "文件被退回",
    "officer_not_certified": "执法人员未持有效证件", "case_not_found": "案件编号在案件台账中不存在",
    "decision_late": "处罚决定超过90天", "disclosure_late": "处罚信息公示超过7个工作日",
}  # fmt: skip
SEVERITY_NAMES = {"error": "错误（该行未载入，请改正后重报）", "warning": "警告（已载入，请核对）"}
UNKNOWN_UNIT = "未识别台账"
PROBLEM_LOG = "problem_log"
PROBLEM_LOG_FILE = SQL_DIR / "marts" / f"{PROBLEM_LOG}.sql"
COLUMNS_ZH = {
    "ledger_zh": "台账", "path": "文件", "sheet": "工作表", "row": "行号", "header": "列名", "raw_value": "原值",
    "rule_zh": "问题类型", "severity_zh": "严重程度", "message": "说明",
}  # fmt: skip


def has_relation(con, name: str) -> bool:
    """Tell whether the warehouse has a table or view of that name."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()[0])  # fmt: skip


def problem_log_source(con) -> str:
    """Return the relation to read the problem log from: the view, else its model as a query.

    A warehouse that was only loaded has neither the view nor what it reads besides the load
    history: the current versions are then read by their rule, and no check has warned yet.
    """
    if has_relation(con, PROBLEM_LOG):
        return PROBLEM_LOG
    model = PROBLEM_LOG_FILE.read_text(encoding="utf-8").strip().rstrip(";")
    no_checks = 'SELECT *, CAST(NULL AS VARCHAR) AS "check" FROM problems WHERE false'
    return (f"(WITH {CURRENT_VERSIONS} AS (\n{rule_sql()}\n), {CHECK_TABLE} AS ({no_checks})\n"
            f"SELECT * FROM (\n{model}\n) AS log)")


def problem_rows(con, year: int | None, *, ledger: str | None = None,
                 severity: str | None = None) -> pl.DataFrame:
    """Return a year's problems (all years: None; optionally one ledger or severity), with unit and names.

    A file rejected without a period (dropped at the inbox's root, in a folder that names no
    ledger) has no year but the day it was seen: it is listed under every year its path does
    not contradict (a path naming no year, or naming this one), so that it is sent back.
    """
    source = problem_log_source(con)
    frame = con.execute(
        f"""
        SELECT * FROM {source} AS log
        WHERE (CAST(? AS INTEGER) IS NULL OR year(dated) = ?
               OR (source = 'rejected' AND period IS NULL
                   AND (NOT regexp_matches(path, '(^|[^0-9])(19|20)[0-9]{{2}}([^0-9]|$)')
                        OR regexp_matches(path, '(^|[^0-9])' || CAST(? AS VARCHAR) || '([^0-9]|$)'))))
          AND (CAST(? AS VARCHAR) IS NULL OR ledger = ?)
          AND (CAST(? AS VARCHAR) IS NULL OR severity = ?)
        ORDER BY path, sheet NULLS FIRST, "row" NULLS FIRST, severity, rule
        """,
        [year, year, year, ledger, ledger, severity, severity],
    ).pl()
    units = pl.DataFrame({
        "ledger": list(LEDGERS), "ledger_zh": [x.name_zh for x in LEDGERS.values()],
        "unit_zh": [x.unit_zh for x in LEDGERS.values()],
    })  # fmt: skip
    return frame.join(units, on="ledger", how="left", maintain_order="left").with_columns(
        pl.col("unit_zh").fill_null(UNKNOWN_UNIT),
        pl.col("rule").replace_strict(RULE_NAMES, default=pl.col("rule")).alias("rule_zh"),
        pl.col("severity").replace_strict(SEVERITY_NAMES, default=pl.col("severity")).alias("severity_zh"),
    )


def for_clerks(rows: pl.DataFrame) -> pl.DataFrame:
    """Return the columns a clerk reads, under Chinese names, file by file."""
    return rows.select([pl.col(c).alias(zh) for c, zh in COLUMNS_ZH.items()])


def file_summary(rows: pl.DataFrame) -> pl.DataFrame:
    """Return one line per file: how many errors and warnings it has."""
    return (
        rows.group_by("path", "ledger_zh", maintain_order=True)
        .agg(
            (pl.col("severity") == "error").sum().alias("错误（行未载入）"),
            (pl.col("severity") == "warning").sum().alias("警告（请核对）"),
        )
        .rename({"path": "文件", "ledger_zh": "台账"})
    )


def by_unit(rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Split the problems by the unit that keeps each ledger, in the ledgers' order."""
    order = list(dict.fromkeys([x.unit_zh for x in LEDGERS.values()] + [UNKNOWN_UNIT]))
    parts = {key[0]: part for key, part in rows.partition_by("unit_zh", as_dict=True).items()}
    return {unit: parts[unit] for unit in order if unit in parts}


def year_words(year: int | None) -> str:
    """Say which year a list covers, for titles and file names."""
    return f"{year}年" if year is not None else "历年"


def write_sheets(book, rows: pl.DataFrame, title: str, summary: str, listing: str) -> None:
    """Write a summary sheet (a line per file, under a title) and a listing sheet (a line per problem)."""
    from flows.report.formula_safe import safe_frame

    safe_frame(file_summary(rows)).write_excel(
        workbook=book, worksheet=summary, position="A3", autofit=True, table_style=None
    )
    book.get_worksheet_by_name(summary).write("A1", title, book.add_format({"bold": True, "font_size": 14}))
    safe_frame(for_clerks(rows)).write_excel(
        workbook=book, worksheet=listing, autofit=True, table_style=None, freeze_panes=(1, 0)
    )


def write_unit_workbook(path: Path, unit: str, year: int | None, rows: pl.DataFrame) -> Path:
    """Write one unit's problems as a workbook: 汇总 (per file) and 问题清单 (per row)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as book:
        write_sheets(book, rows, f"{year_words(year)}台账问题清单（{unit}）", "汇总", "问题清单")
    return path


def write_workbooks(rows: pl.DataFrame, year: int | None, folder: Path) -> list[Path]:
    """Write one workbook per unit into folder; return their paths."""
    return [
        write_unit_workbook(folder / f"{year_words(year)}台账问题清单-{unit}.xlsx", unit, year, part)
        for unit, part in by_unit(rows).items()
    ]


def write_one_workbook(rows: pl.DataFrame, year: int | None, path: Path) -> Path:
    """Write every unit's problems into one workbook: a summary and a listing sheet per unit."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as book:
        parts = by_unit(rows) or {"无问题": rows}
        for unit, part in parts.items():
            write_sheets(book, part, f"{year_words(year)}台账问题清单（{unit}）", f"{unit}汇总", unit)
    return path


def write_csvs(rows: pl.DataFrame, year: int | None, folder: Path, *, bom: bool = True) -> list[Path]:
    """Write one CSV per unit into folder (with `bom`, UTF-8 with BOM, so that Excel reads it)."""
    from flows.report.formula_safe import safe_frame

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for unit, part in by_unit(rows).items():
        path = folder / f"{year_words(year)}台账问题清单-{unit}.csv"
        path.write_text(("\ufeff" if bom else "") + safe_frame(for_clerks(part)).write_csv(), encoding="utf-8")
        paths.append(path)
    return paths
