"""Say when tally first saw a file, as a run at that moment would have recorded it.

`submissions` judges a month by `file_versions.seen_at` (the run that first saw the file), not by
the file's modification time: a test that wants a month late or on time loads the files, then
sets the time of their first sighting here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb


def received(warehouse: Path, when_by_path: dict[str, datetime], zone: str = "Asia/Shanghai") -> None:
    """Set seen_at of every version of each inbox path (relative, '/') to a wall-clock time in `zone`."""
    with duckdb.connect(str(warehouse)) as con:
        for path, when in when_by_path.items():
            con.execute("UPDATE file_versions SET seen_at = timezone(?, CAST(? AS TIMESTAMP)) WHERE path = ?",
                        [zone, when.replace(tzinfo=None), path])
