"""A change to the bureau's contract is new input: files it now reads differently are read again.

The legal office adds `检查方式` as another header of `检查类型` (and `巡检` as a way clerks write
日常检查) in the bureau's `contract.toml` beside `tally.toml`; the next run, with no file dropped
again, loads the September file it had rejected and the August row it had quarantined.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from ledgerfiles import write_csv
from typer.testing import CliRunner

from flows.cli import app
from flows.contract import spec

runner = CliRunner()
TEMPLATE = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
CLERKS = ["检查日期", "检查方式", "检查对象", "场所类型", "出动人次", "检查结果"]


@pytest.fixture(autouse=True)
def default_contract():
    """Each test starts and ends with the project's own contract in use."""
    spec.use_contract()
    yield
    spec.use_contract()


@pytest.fixture
def bureau(tmp_path: Path) -> Path:
    (tmp_path / "tally.toml").write_text(
        'inbox = "inbox"\nwarehouse = "warehouse/tally.duckdb"\n', encoding="utf-8"
    )
    inbox = tmp_path / "inbox" / "inspections"
    write_csv(inbox / "2024-08.csv", [
        TEMPLATE,
        ["2024-08-05", "日常检查", "星海网吧", "网吧", 3, "未发现问题"],
        ["2024-08-06", "巡检", "新华书店", "书店", 2, "未发现问题"],  # not a 检查类型 the template knows
    ])  # fmt: skip
    write_csv(inbox / "2024-09.csv", [
        CLERKS,
        ["2024-09-03", "日常检查", "星海网吧", "网吧", 4, "未发现问题"],
        ["2024-09-10", "日常检查", "KTV一号", "KTV", 5, "责令整改"],
    ])  # fmt: skip
    return tmp_path


def tally(folder: Path, *args: str):
    result = runner.invoke(app, [*args, "--config", str(folder / "tally.toml")])
    assert result.exit_code == 0, result.output
    return result


def person_times(folder: Path) -> float:
    out = tally(folder, "indicators", "--year", "2024", "--format", "json").stdout
    return {row["code"]: row["value"] for row in json.loads(out)}["inspector_person_times"]


def versions(folder: Path) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse" / "tally.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT path, status, rows_loaded, rows_quarantined, reason FROM file_versions ORDER BY version_id"
        ).fetchall()


def test_an_alias_added_later_loads_the_rejected_file_without_dropping_it_again(bureau):
    tally(bureau, "run")
    assert person_times(bureau) == 3  # August's 巡检 row is quarantined, September rejected
    first = sorted(versions(bureau))
    assert [(p, s, n, q) for p, s, n, q, _ in first] == [
        ("inspections/2024-08.csv", "loaded", 1, 1),
        ("inspections/2024-09.csv", "rejected", None, None),
    ]
    assert "表头中的「检查方式」是否就是「检查类型」？" in first[1][4]

    (bureau / "contract.toml").write_text(
        '[ledgers.inspections.columns.inspection_type]\nheader_aliases = ["检查方式"]\n'
        'value_aliases = { "巡检" = "日常检查" }\n',
        encoding="utf-8",
    )
    second = tally(bureau, "run")
    assert "superseded 1" in second.output.replace("\n", "") or "取代" in second.output
    assert person_times(bureau) == 3 + 2 + 4 + 5
    now = versions(bureau)[2:]
    assert sorted((p, s, n, q) for p, s, n, q, _ in now) == [
        ("inspections/2024-08.csv", "loaded", 2, 0),
        ("inspections/2024-09.csv", "loaded", 2, 0),
    ]

    tally(bureau, "run")  # nothing changed since: nothing is read again
    assert len(versions(bureau)) == 4
    assert person_times(bureau) == 14


def test_a_change_to_another_ledger_reads_nothing_again(bureau):
    tally(bureau, "run")
    (bureau / "contract.toml").write_text(
        '[ledgers.cases.columns.violation]\nheader_aliases = ["违法事实"]\n', encoding="utf-8"
    )
    tally(bureau, "run")
    assert len(versions(bureau)) == 2
    assert person_times(bureau) == 3


def test_a_wrong_override_names_its_file_and_line(bureau):
    (bureau / "contract.toml").write_text(
        'bureau = "某县文化旅游广电局"\n\n[ledgers.inspections.columns.inspection_typ]\nheader_aliases = ["检查方式"]\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["contract", "check", "--config", str(bureau / "tally.toml")])
    assert result.exit_code == 1
    text = result.output.replace("\n", "")
    assert f"{bureau / 'contract.toml'}:3: ledgers.inspections.columns.inspection_typ" in text
    assert "没有这一列" in text
    run = runner.invoke(app, ["run", "--config", str(bureau / "tally.toml")])
    assert run.exit_code == 2


def test_a_warehouse_from_before_the_fingerprint_gains_it_and_keeps_its_verdicts(tmp_path):
    from flows.load.warehouse import connect, seen_files

    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        con.execute("ALTER TABLE file_versions DROP COLUMN contract")  # as a warehouse made before it
        con.execute(
            "INSERT INTO file_versions (version_id, run_id, path, scope, ledger, sha256, status, seen_at) "
            "VALUES (1, 'r', 'inspections/2024-08.csv', '', 'inspections', 'abc', 'loaded', now())"
        )
    with connect(path) as con:
        assert con.execute("SELECT contract FROM file_versions").fetchall() == [(None,)]
        assert seen_files(con) == {("inspections/2024-08.csv", "abc")}
        con.execute("UPDATE file_versions SET contract = 'another'")
        assert seen_files(con) == set()  # a verdict under another contract is no verdict
        con.execute("UPDATE file_versions SET contract = ?", [spec.active().fingerprint("inspections")])
        assert seen_files(con) == {("inspections/2024-08.csv", "abc")}
