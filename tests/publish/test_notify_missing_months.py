"""A month that passes its deadline with nothing handed in is told even when no file is new.

A run that finds no new file publishes nothing (`survey`), unless the published warehouse has a
month past its deadline that no notification has named yet: then it runs, to say so once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app

INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
SEPARATOR = "\n=====\n"
runner = CliRunner()


def run(config: Path) -> str:
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_newly_missing_month_starts_a_run_that_tells_it_once(tmp_path):
    got = tmp_path / "notified.txt"
    script = (f"import sys; open({str(got)!r}, 'a', encoding='utf-8')"
              f".write(sys.stdin.buffer.read().decode('utf-8') + {SEPARATOR!r})")
    config = tmp_path / "tally.toml"
    config.write_text(f'inbox = "inbox"\nwarehouse = "w/tally.duckdb"\n[notify]\ncommand = '
                      f'{json.dumps([sys.executable, "-c", script], ensure_ascii=False)}\n', encoding="utf-8")
    write_xlsx(tmp_path / "inbox/inspections/2024-01.xlsx", {"S": [INSPECTION, [
        "2024-01-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"]]})
    run(config)
    assert len(got.read_text(encoding="utf-8").split(SEPARATOR)) == 2  # one message
    warehouse = tmp_path / "w" / "tally.duckdb"
    # Nothing new, nothing newly missing: the published file is left alone and nothing is sent.
    before = warehouse.stat().st_mtime_ns
    assert "没有新文件或改动" in run(config)
    assert warehouse.stat().st_mtime_ns == before
    # As if February's deadline had just passed: its missing month is not yet told.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM notices_sent WHERE notice_key LIKE 'missing:%:inspections:2024-02'")
    run(config)
    last = got.read_text(encoding="utf-8").split(SEPARATOR)[-2]
    assert "执法检查台账\n    · 过期未报送：2024-02" in last
    assert "学法培训台账" not in last  # told before: not again
