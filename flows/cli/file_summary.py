"""`tally files --summary`: the file versions counted by ledger and status, instead of one row each.

An inbox of a year holds hundreds of files; after a run (and at the end of `make demo`) an
operator wants to know how many of each ledger loaded or were sent back, and where to look
for the whole list.
"""

from __future__ import annotations

import polars as pl
from rich import box
from rich.table import Table
from rich.text import Text

from flows.contract.ledgers import LEDGERS

STATUSES = ("loaded", "unchanged", "superseded", "rejected")  # the statuses of `file_versions`
# Column names: Chinese over English, so that the table fits a terminal of 80 to 100 columns.
STATUS_WORDS = {"loaded": "载入\nloaded", "unchanged": "未变\nunchanged", "superseded": "被替代\nsuperseded",
                "rejected": "退回\nrejected"}
LEDGER_WORDS = "台账\nledger"
UNKNOWN_LEDGER = "未识别台账\nunknown"
TOTAL = "合计\ntotal"


def ledger_words(code: str | None) -> str:
    """Return a ledger as an operator reads it: `执法检查台账` over `inspections` (the code alone if unknown)."""
    if code is None:
        return UNKNOWN_LEDGER
    ledger = LEDGERS.get(code)
    return f"{ledger.name_zh}\n{code}" if ledger is not None else code


def summarise_files(files: pl.DataFrame) -> pl.DataFrame:
    """Count file versions by ledger and status, with the rows they read, loaded and quarantined.

    `files` has `ledger`, `status`, `rows_read`, `rows_loaded`, `rows_quarantined` (the frame of
    `tally files`). Returns one row per ledger in the contract's order (then any other, then
    files whose ledger was not recognised), a column per status (counts of file versions, 0 when
    none), the rows read and quarantined, and a last row of totals. Names and labels hold a
    line break (Chinese, then English).
    """
    order = {code: i for i, code in enumerate(LEDGERS)}
    counts = files.group_by("ledger").agg(
        *[(pl.col("status") == s).sum().cast(pl.Int64).alias(STATUS_WORDS[s]) for s in STATUSES],
        *[pl.col(c).fill_null(0).sum().cast(pl.Int64).alias(words) for c, words in
          (("rows_read", "读取行\nread"), ("rows_quarantined", "隔离行\nquarantined"))],
    )  # fmt: skip
    counts = counts.with_columns(
        pl.col("ledger").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_order"),
        pl.col("ledger").is_null().alias("_unknown"),
    ).sort("_unknown", "_order", "ledger").drop("_order", "_unknown")
    numbers = [c for c in counts.columns if c != "ledger"]
    table = counts.select(
        pl.col("ledger").map_elements(ledger_words, return_dtype=pl.String, skip_nulls=False)
        .alias(LEDGER_WORDS), *numbers)
    total = table.select(pl.lit(TOTAL).alias(LEDGER_WORDS), *[pl.col(c).sum() for c in numbers])
    return pl.concat([table, total])


def whole_list_hint(files: pl.DataFrame) -> str:
    """Return the line that says how many file versions there are and how to list them all."""
    return (f"共 {files.height} 个文件版本；逐个列出：tally files（导出：tally files --format excel-csv）· "
            f"{files.height} file versions; the whole list: tally files")


def summary_table(summary: pl.DataFrame) -> Table:
    """Return the summary as a compact rich table: light rules, numbers to the right.

    A status no file version has (`unchanged` and `superseded`, often) is left out of it.
    """
    optional = [STATUS_WORDS[s] for s in ("unchanged", "superseded")]
    summary = summary.drop([c for c in optional if c in summary.columns and not summary[c].sum()])
    table = Table(title="文件版本汇总 · file versions by ledger", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, col in enumerate(summary.columns):
        if i == 0:  # a ledger's name on one line; the numbers' columns give way first
            table.add_column(col, no_wrap=True)
        else:
            table.add_column(col, justify="right", overflow="fold")
    for row in summary.iter_rows():
        table.add_row(*[Text(str(v)) for v in row], end_section=row[0] == TOTAL)
    return table
