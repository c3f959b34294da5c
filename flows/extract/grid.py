"""A sheet's cells as text (`Grid`), and what a cell holds that its text does not say (marks).

Shared by every reader (`flows.extract.readers` for .xlsx and .csv, `flows.extract.xls_reader`
for .xls), so that none of them imports another for its types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from flows import textnorm

# What a cell holds that its text alone does not say (`Grid.marks`, column `kind`):
MARK_KINDS = (
    "error",  # an Excel error value (#N/A, #REF!, …): `shown` is the error text
    "no_result",  # a formula saved without its computed result: `shown` is "" (Excel shows the result)
    "lost_digits",  # a number of 16+ digits stored as a number: digits past the 15th are lost
    "rounded",  # a number its format shows as another number (1234.5 as `1,235`): `detail` is the stored value
    # a value in a column that a header merged across columns covers (`detail`: the range), for
    # a field that cannot join them: `shown` is the values side by side
    "merged_header",
)
MARKS_SCHEMA = {"_row": pl.Int32, "col": pl.Int32, "kind": pl.Utf8, "shown": pl.Utf8, "detail": pl.Utf8}


@dataclass(frozen=True)
class MergedRange:
    """A merged range of cells; only its top-left cell holds a value in the file."""

    first_row: int  # spreadsheet row numbers, 1-based
    last_row: int
    first_col: int  # spreadsheet column index, 0-based (A = 0): grid column c{first_col}
    last_col: int
    ref: str  # as Excel names it, e.g. "B3:B5"


@dataclass(frozen=True)
class Grid:
    """The cells of one sheet as text, with the spreadsheet row number of each row.

    Grid column `cK` is spreadsheet column K (A = c0), leading empty columns included, so
    that marks, merges and hidden columns name grid columns directly.
    """

    sheet: str | None
    frame: pl.DataFrame  # c0 … cN (Utf8), _row (Int32)
    # The header once found, as (ledger, what the search returned): found once, used twice.
    header: tuple[object, object] | None = field(default=None, compare=False, repr=False)
    hidden_rows: frozenset[int] = frozenset()  # spreadsheet row numbers hidden by hand or filter
    filtered_rows: frozenset[int] = frozenset()  # those of hidden_rows inside an AutoFilter range
    hidden_columns: frozenset[int] = frozenset()  # grid column indexes (A = 0)
    merges: tuple[MergedRange, ...] = ()
    # Cells whose text in `frame` is not what the clerk sees: MARKS_SCHEMA, one row per cell.
    marks: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    # The workbook counts days from 1904-01-01 (Excel for Mac's date system): a date serial
    # typed as a plain number means another day than in a 1900 workbook.
    date1904: bool = False

    @property
    def width(self) -> int:
        return self.frame.width - 1


def without_invisible(frame: pl.DataFrame) -> pl.DataFrame:
    """Drop control and zero-width characters from text cells (a cell of nothing else is blank)."""
    cols = [c for c in frame.columns if c != "_row"]
    if not cols or not frame.select(
        pl.any_horizontal(pl.col(cols).str.contains(textnorm.INVISIBLE)).any()
    ).item():
        return frame
    cleaned = pl.col(cols).str.replace_all(textnorm.INVISIBLE, "")
    return frame.with_columns(pl.when(cleaned == "").then(None).otherwise(cleaned).name.keep())


EMPTY_MARKS = pl.DataFrame(schema=MARKS_SCHEMA)


def empty_marks() -> pl.DataFrame:
    """A marks frame with no rows (one frame, shared: building one per file cost 0.1 ms)."""
    return EMPTY_MARKS
