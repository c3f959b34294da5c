"""A sheet of many rows is parsed, checked and loaded in parts (issue 16), and loads exactly as whole.

The parts are made small here (`PART_ROWS`), and the rows held before a flush fewer still, so
that every part is checked and committed on its own: the problem records, quarantined and
loaded rows, skipped rows and the load history must be those of the sheet read whole.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from ledgerfiles import write_csv

from flows.extract import parse
from flows.run import pipeline, stages

HOTLINE = ["工单编号", "受理日期", "诉求类型", "办理时限"]
INSPECTIONS = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
LIMITS = dict(reader_memory_mb=1024, file_timeout_s=120)


def hotline_rows(n: int) -> list[list[object]]:
    rows = [HOTLINE] + [[f"T{i}", f"2024-03-{1 + i % 28:02d}", "投诉", f"2024-04-{1 + i % 28:02d}"]
                        for i in range(1, n + 1)]
    rows[14][0] = "T3"  # line 15 repeats line 4's key, three parts below it
    rows[15][0] = "T3"  # and line 16 too: one key, three rows, two parts
    rows[-1][1] = "2024-03-32"  # a problem in the last row
    return rows


def inspection_rows(n: int, total: int) -> list[list[object]]:
    rows = [INSPECTIONS] + [[i, f"2024-03-{1 + i % 28:02d}", "日常检查", f"场所{i}", "网吧", i, "张三", "未发现问题"]
                            for i in range(1, n + 1)]
    return [*rows, ["合计", None, None, None, None, total], ["填表人：王某"]]


def loaded(root: Path, part_rows: int, monkeypatch, flush_rows: int = 3) -> dict[str, list[tuple]]:
    """Run the pipeline on the inbox under root with parts of part_rows rows; return what it wrote."""
    monkeypatch.setattr(parse, "PART_ROWS", part_rows)
    warehouse = root / f"wh-{part_rows}" / "tally.duckdb"
    pipeline.run_pipeline(root / "inbox", warehouse, batch_size=1, flush_rows=flush_rows, **LIMITS)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def q(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        return {
            "problems": q('SELECT path, sheet, row, "column", header, raw_value, rule, severity, message '
                          'FROM problems ORDER BY path, row, rule'),
            "quarantined": q("SELECT v.path, q.row, q.cells FROM quarantined_rows q "
                             "JOIN file_versions v USING (version_id) ORDER BY v.path, q.row"),
            "skipped": q("SELECT v.path, s.row, s.kind, s.label FROM skipped_rows s "
                         "JOIN file_versions v USING (version_id) ORDER BY v.path, s.row"),
            "versions": q("SELECT path, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, "
                          "zero_report, content_sha256 FROM file_versions ORDER BY path"),
            "hotline": q("SELECT v.path, h._row, h.ticket_no, h.received_on, h._county FROM raw.hotline h "
                         "JOIN file_versions v ON v.version_id = h._version_id ORDER BY v.path, h._row"),
            "inspections": q("SELECT i._row, i.inspection_date, i.inspectors FROM raw.inspections i ORDER BY i._row"),
            "version_ids": q("SELECT count(DISTINCT _version_id) FROM raw.hotline"),
        }


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    write_csv(tmp_path / "inbox" / "hotline" / "2024-03.csv", hotline_rows(21))
    # 合计 is the sum of 1 … 20 = 210 less 1: checked against every part above it
    write_csv(tmp_path / "inbox" / "inspections" / "2024-03.csv", inspection_rows(20, 209))
    return tmp_path


def test_a_sheet_in_parts_loads_exactly_as_whole(inbox: Path, monkeypatch) -> None:
    cuts = []
    real = parse.part_bounds

    def spy(sheet, rows=None):
        found = real(sheet, rows)
        cuts.append(len(found))
        return found

    monkeypatch.setattr("flows.extract.parse.part_bounds", spy)  # ingest imports it when it reads
    whole = loaded(inbox, 10_000, monkeypatch)
    assert cuts == [1, 1]
    cuts.clear()
    parts = loaded(inbox, 4, monkeypatch)
    assert cuts == [5, 5]  # 21 and 20 rows in parts of about four: each part checked and flushed alone
    assert parts == whole


def test_the_records_of_a_sheet_in_parts(inbox: Path, monkeypatch) -> None:
    got = loaded(inbox, 4, monkeypatch)
    problems = [(row, column, rule, message) for path, _, row, column, _, _, rule, _, message in got["problems"]]
    assert problems == [
        (15, "ticket_no", "duplicate_key", "第15行「工单编号」：与第4行重复（同一文件中工单编号不能重复）（原值：「T3」）"),
        (16, "ticket_no", "duplicate_key", "第16行「工单编号」：与第4行重复（同一文件中工单编号不能重复）（原值：「T3」）"),
        (22, "received_on", "date", got["problems"][2][8]),
        (22, "inspectors", "total_mismatch", "第22行「出动人次」：合计行为 209，上方数据行之和为 210（原值：「209」）"),
    ]
    assert got["problems"][2][5] == "2024-03-32" and got["problems"][2][0] == "hotline/2024-03.csv"
    assert [(path, row) for path, row, _ in got["quarantined"]] == [
        ("hotline/2024-03.csv", 15), ("hotline/2024-03.csv", 16), ("hotline/2024-03.csv", 22)]
    assert got["skipped"] == [("inspections/2024-03.csv", 22, "total", "合计"),
                              ("inspections/2024-03.csv", 23, "note", "填表人")]
    assert got["versions"][0][:7] == ("hotline/2024-03.csv", "loaded", 21, 18, 3, 0, False)
    assert got["versions"][1][:7] == ("inspections/2024-03.csv", "loaded", 22, 20, 0, 2, False)
    assert [row for _, row, *_ in got["hotline"]] == [r for r in range(2, 22) if r not in (15, 16)]
    assert got["version_ids"] == [(1,)]  # every part under the one version of the file
    assert sum(people for _, _, people in got["inspections"]) == 210


def test_the_suites_tally_counts_a_key_repeated_across_parts_once_per_row(inbox: Path, monkeypatch) -> None:
    def unique_count(part_rows: int) -> int:
        monkeypatch.setattr(parse, "PART_ROWS", part_rows)
        ingested = stages.ingest(inbox / "inbox", inbox / f"i-{part_rows}" / "tally.duckdb", **LIMITS)
        [tally] = [t for t in ingested.suites["hotline"] if t.expectation["meta"]["rule"] == "duplicate_key"]
        return tally.unexpected_count

    assert unique_count(4) == unique_count(10_000) == 3


def test_a_part_that_cannot_be_checked_rejects_the_whole_sheet(inbox: Path, monkeypatch) -> None:
    from flows.validate import sheet_suites

    real = sheet_suites.validate_ledgers
    seen = []

    def failing(prepared):
        seen.append(len(prepared))
        if any(p.part is not None and p.part.number == 2 for p in prepared):
            raise sheet_suites.ValidationFailed("test: this part cannot be checked")
        return real(prepared)

    monkeypatch.setattr(parse, "PART_ROWS", 4)
    warehouse = inbox / "wh-fail" / "tally.duckdb"
    pipeline.run_pipeline(inbox / "inbox", warehouse, batch_size=1, flush_rows=3, checks=(failing,), **LIMITS)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        versions = con.execute("SELECT path, status FROM file_versions ORDER BY path").fetchall()
        assert versions == [("hotline/2024-03.csv", "rejected"), ("inspections/2024-03.csv", "rejected")]
        # the parts loaded before the failing one were written, and are gone again
        for table in ("raw.hotline", "raw.inspections", "problems", "quarantined_rows", "skipped_rows"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
