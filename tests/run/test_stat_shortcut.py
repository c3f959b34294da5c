"""The stat shortcut (issue 16): a file unchanged since it was hashed is not read again to list it,
and an edit that keeps the size and puts the mtime back is still seen (its ctime moved)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import duckdb
import pytest
from ledgerfiles import write_csv

from flows.extract import inbox
from flows.extract.inbox import FileStat, KnownHash
from flows.load import inbox_hashes
from flows.run.pipeline import run_pipeline

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
PEOPLE_SQL = "SELECT value FROM indicators WHERE year = 2024 AND code = 'inspector_person_times'"


def write_month(folder: Path, month: int, people: list[int]) -> Path:
    rows = [[i, f"2024-{month:02d}-{i:02d}", "日常检查", f"场所{i}", "网吧", n, "张三", "未发现问题"]
            for i, n in enumerate(people, 1)]
    return write_csv(folder / "inspections" / f"2024-{month:02d}.csv", [HEADER, *rows])


def people(warehouse: Path) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return float(con.execute(PEOPLE_SQL).fetchone()[0])


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """Count the files read to be hashed; trust a stat however recently the file was written.

    RACY_NS guards a write within the same timestamp tick as the hash; the tests here write
    and run within milliseconds, so without this every file would be re-read as racy, and
    the ctime alone would not be what tells an edit apart.
    """
    monkeypatch.setattr(inbox, "RACY_NS", 0)
    read: list[str] = []
    real = inbox.hash_regular

    def counting(path):
        read.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(inbox, "hash_regular", counting)
    return read


def test_an_untouched_file_is_not_read_again_to_list_it(tmp_path, hashed):
    folder, warehouse = tmp_path / "inbox", tmp_path / "w" / "tally.duckdb"
    march, april = write_month(folder, 3, [2, 3]), write_month(folder, 4, [4])
    first = run_pipeline(folder, warehouse, checks=())
    assert first.summary.files_loaded == 2 and people(warehouse) == 9
    assert sorted(hashed) == ["2024-03.csv", "2024-04.csv"]  # a new warehouse knows no stat

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT path, sha256, size FROM inbox_hashes ORDER BY path").fetchall()
    assert rows == [(f"inspections/{p.name}", hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size)
                    for p in (march, april)]

    hashed.clear()
    again = run_pipeline(folder, warehouse, checks=())
    assert again.summary.files_unchanged == 2 and again.summary.files_loaded == 0
    assert hashed == []  # both taken from their stat, unread
    assert people(warehouse) == 9


def test_an_edit_that_keeps_the_size_and_puts_the_mtime_back_is_still_read(tmp_path, hashed):
    folder, warehouse = tmp_path / "inbox", tmp_path / "w" / "tally.duckdb"
    march = write_month(folder, 3, [2, 3])
    write_month(folder, 4, [4])
    run_pipeline(folder, warehouse, checks=())
    assert people(warehouse) == 9
    before = march.stat()

    # The ctime moves with the clock's coarse tick: let one pass so that the edit is a later one.
    while time.time_ns() - before.st_ctime_ns < 50_000_000:
        time.sleep(0.01)
    write_month(folder, 3, [2, 5])  # same bytes but one digit: the same size
    os.utime(march, ns=(before.st_atime_ns, before.st_mtime_ns))  # as a restore from a backup does
    after = march.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    assert after.st_ctime_ns != before.st_ctime_ns

    hashed.clear()
    result = run_pipeline(folder, warehouse, checks=())
    assert hashed == ["2024-03.csv"]  # the edited file only; April taken from its stat
    assert result.summary.files_loaded == 1 and result.summary.files_unchanged == 1
    assert people(warehouse) == 11  # 2 + 5 + 4


def test_a_stat_vouches_only_when_every_field_is_equal_and_the_file_was_not_touched_as_it_was_hashed():
    stat = FileStat(size=100, mtime_ns=10**18, ctime_ns=10**18 + 5, inode=7, device=3)
    settled = KnownHash(stat, "ab" * 32, hashed_at_ns=stat.ctime_ns + 3 * 10**9)
    assert settled.vouches_for(stat)
    for changed in ({"size": 101}, {"mtime_ns": 10**18 + 1}, {"ctime_ns": 10**18 + 6}, {"inode": 8},
                    {"device": 4}):
        assert not settled.vouches_for(FileStat(**{**stat.__dict__, **changed})), changed
    # hashed within the same tick as its last write: a second write in that tick would keep the stat
    racy = KnownHash(stat, "ab" * 32, hashed_at_ns=stat.ctime_ns + 1_000_000)
    assert not racy.vouches_for(stat)


def test_a_warehouse_made_before_the_table_knows_no_stat_and_a_listing_hashes_every_file(tmp_path):
    write_month(tmp_path / "inbox", 3, [1])
    with duckdb.connect(":memory:") as con:
        assert inbox_hashes.known(con) == {}
    listed = inbox.discover(tmp_path / "inbox", {})
    assert [f.sha256 for f in listed] == [hashlib.sha256((tmp_path / "inbox/inspections/2024-03.csv")
                                                         .read_bytes()).hexdigest()]
    assert listed[0].known is not None and listed[0].known.stat.size == listed[0].size
