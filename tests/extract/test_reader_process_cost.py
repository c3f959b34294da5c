"""What a reader process pays for besides reading: the modules it imports, and how often a
workbook's zip is opened. Each worker imports what `flows.extract.plan.read_file` needs on its
first task; a module it never uses (the parser and DuckDB, xlrd for .xlsx, pyarrow) is
CPU time every run pays once per worker."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from ledgerfiles import write_xlsx

from flows.extract import plan, readers
from flows.extract.inbox import discover

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
ROWS = [HEADER, [1, "2024-03-01", "日常检查", "场所1", "网吧", 3, "张三", "未发现问题"],
        [2, "2024-03-02", "专项检查", "场所2", "书店", 4, "李四", "责令整改"]]

# Run as a worker runs: import the isolation module and the planner, read one .xlsx.
WORKER = """
import json, sys
from pathlib import Path
import flows.extract.isolation
from flows.extract import plan
from flows.extract.inbox import discover
[source] = discover(Path(sys.argv[1]))
[located] = plan.read_file(source)
print(json.dumps({"c5": located.unit.grid.frame["c5"].to_list(),
                  "loaded": sorted(m for m in ("duckdb", "xlrd", "pyarrow", "pandas", "flows.extract.parse")
                                   if m in sys.modules)}))
"""


def test_a_reader_of_xlsx_files_imports_no_parser_duckdb_xlrd_or_pyarrow(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "inspections" / "2024-03.xlsx", {"3月": ROWS})
    out = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer == {"c5": ["出动人次", "3", "4"], "loaded": []}


def test_a_workbook_is_opened_as_a_zip_once_for_its_parts_and_its_sheets(tmp_path: Path, monkeypatch) -> None:
    write_xlsx(tmp_path / "inspections" / "2024年执法检查台账.xlsx",
               {"3月": ROWS, "4月": [HEADER, [1, "2024-04-01", "日常检查", "场所3", "网吧", 5, "王五", "未发现问题"]]})
    opened: list[object] = []
    real = zipfile.ZipFile

    class Counted(real):
        def __init__(self, file, *args, **kwargs):
            if kwargs.get("mode", args[0] if args else "r") == "r":
                opened.append(file)
            super().__init__(file, *args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", Counted)
    [source] = discover(tmp_path)
    read = plan.read_file(source)
    assert [u.unit.period for u in read] == ["2024-03", "2024-04"]
    assert [u.unit.grid.frame["c5"].to_list() for u in read] == [["出动人次", "3", "4"], ["出动人次", "5"]]
    assert len(opened) == 1


def test_a_workbook_too_large_to_hold_in_memory_is_read_from_disk_alike(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "inspections" / "2024-03.xlsx"
    write_xlsx(path, {"3月": ROWS})
    [source] = discover(tmp_path)
    in_memory = plan.read_file(source)
    monkeypatch.setattr(readers, "ZIP_IN_MEMORY_BYTES", 0)
    on_disk = plan.read_file(source)
    assert on_disk[0].unit.grid.frame.equals(in_memory[0].unit.grid.frame)
    assert on_disk[0].match == in_memory[0].match
