"""`tally runs` on a terminal: one line per run that fits the terminal, and one run in full.

Thirteen columns of `runs` at 160 columns wrapped a long message over some twenty lines. The
table keeps what an operator scans (id, start, outcome, files, rows, problems) and gives the
message what width is left, cut with "…"; `tally runs --run ID` (or `--format json`) shows
a message whole.
"""

from __future__ import annotations

import polars as pl
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.cli.output import visible

OUTCOME_ZH = {"completed": "完成", "failed": "失败", "interrupted": "中断", "running": "运行中"}
HEADINGS = {
    "run_id": "运行编号\nrun", "started": "开始\nstarted", "outcome": "结果\noutcome",
    "files": "载入/退回\nfiles", "rows": "载入行\nrows", "problems": "问题\nproblems",
    "message": "说明\nmessage",
}  # fmt: skip
GAP = 2  # cells between two columns: the padding on either side (no rules)
MIN_MESSAGE = 12  # narrower than this, the message is left for `--run`
TRUNCATED_HINT = "说明已截断，全文见 · messages cut, see: tally runs --run ID（或 --format json）"


def one_line(value: object) -> str:
    """Return a value's text on one line, control characters shown as escapes."""
    return " ".join(visible(value).split())


def count(value: object) -> str:
    return "" if value is None else str(value)


def summary_rows(frame: pl.DataFrame) -> list[dict[str, str]]:
    """Return each run as the short cells the table shows (times are the frame's, in local time)."""
    rows = []
    for run in frame.iter_rows(named=True):
        started = run["started_at"] or ""
        rows.append({
            "run_id": one_line(run["run_id"]),
            "started": started[5:16],  # MM-DD HH:MM: the id carries the date and second
            "outcome": OUTCOME_ZH.get(run["outcome"], one_line(run["outcome"])),
            "files": f"{count(run['files_loaded'])}/{count(run['files_rejected'])}",
            "rows": count(run["rows_loaded"]),
            "problems": count(run["problems"]),
            "message": one_line(run["message"]),
        })  # fmt: skip
    return rows


def heading_width(text: str) -> int:
    return max(cell_len(line) for line in text.splitlines())


def print_runs(frame: pl.DataFrame, console: Console) -> None:
    """Print one line per run within the console's width, then a hint if a message was cut."""
    rows = summary_rows(frame)
    fixed = [c for c in HEADINGS if c != "message"]
    widths = {c: max([heading_width(HEADINGS[c])] + [cell_len(r[c]) for r in rows]) for c in fixed}
    used = sum(widths.values()) + GAP * len(fixed)
    room = console.width - used
    show_message = room >= MIN_MESSAGE
    cut = False
    table = Table(title="运行记录 · runs", box=None, padding=(0, 1), pad_edge=False, title_justify="left",
                  header_style="bold")
    for column in fixed:
        table.add_column(HEADINGS[column], no_wrap=True,
                         justify="left" if column in ("run_id", "started", "outcome") else "right")
    if show_message:
        table.add_column(HEADINGS["message"], no_wrap=True, max_width=room)
    for row in rows:
        cells = [Text(row[c]) for c in fixed]
        if show_message:
            message = Text(row["message"])
            if cell_len(row["message"]) > room:
                message.truncate(room, overflow="ellipsis")
                cut = True
            cells.append(message)
        else:
            cut = cut or bool(row["message"])
        table.add_row(*cells)
    console.print(table)
    if cut:
        console.print(Text(TRUNCATED_HINT, style="dim"))


def print_run(frame: pl.DataFrame, console: Console) -> None:
    """Print one run's every field on its own line, the message whole."""
    from flows.cli.headings import human_heading

    run = frame.row(0, named=True)
    for field, value in run.items():
        console.print(Text.assemble((human_heading(field), "bold"), ": ", visible("" if value is None else value)),
                      soft_wrap=False)


def pick_run(frame: pl.DataFrame, wanted: str) -> pl.DataFrame:
    """Return the run whose id is `wanted`, else every run whose id starts with it (none, one or more)."""
    exact = frame.filter(pl.col("run_id") == wanted)
    return exact if exact.height else frame.filter(pl.col("run_id").str.starts_with(wanted))
