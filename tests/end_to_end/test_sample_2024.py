"""The whole 2024 sample inbox: loaded once, nothing lost, and the published figures reproduced."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.run.stages import run_ingest
from flows.sample import write_sample_inbox
from flows.transform.indicators import build, compare_published, indicator_table


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample2024")
    manifest = write_sample_inbox(2024, root / "inbox")
    warehouse = root / "warehouse" / "tally.duckdb"
    first = run_ingest(root / "inbox", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        build(con)
    return manifest, warehouse, first


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_file_loads_and_rows_read_equal_loaded_plus_quarantined_plus_skipped(loaded):
    manifest, warehouse, first = loaded
    assert first.files_rejected == 0, first.rejected
    versions = query(warehouse, "SELECT path, sheet, rows_read, rows_loaded, rows_quarantined, rows_skipped "
                                "FROM file_versions WHERE status <> 'rejected'")
    assert len(versions) >= len(manifest.files)
    for path, sheet, read, rows_loaded, quarantined, skipped in versions:
        assert read == rows_loaded + quarantined + skipped, (path, sheet)
    assert first.rows_read == first.rows_loaded + first.rows_quarantined + first.rows_skipped
    # The sample hides nothing: what is skipped is its totals, signatures and zero reports' 无.
    kinds = {k for (k,) in query(warehouse, "SELECT DISTINCT kind FROM skipped_rows")}
    assert kinds <= {"total", "note", "nothing"}
    raw_rows = sum(query(warehouse, f"SELECT count(*) FROM raw.{t}")[0][0] for t in
                   ("inspections", "relic_patrols", "publications", "cases", "hotline", "safety_incidents",
                    "publicity_events", "wechat_posts", "study_sessions", "staff"))
    assert raw_rows == first.rows_loaded


def test_loading_the_sample_again_loads_nothing(loaded):
    manifest, warehouse, _ = loaded
    before = query(warehouse, "SELECT count(*) FROM file_versions")[0][0]
    again = run_ingest(manifest.out, warehouse)
    assert (again.files_loaded, again.rows_loaded, again.files_rejected) == (0, 0, 0)
    assert again.files_unchanged == len({f.path for f in manifest.files})
    assert query(warehouse, "SELECT count(*) FROM file_versions")[0][0] == before


def test_the_corrected_june_replaces_june_and_nothing_else(loaded):
    _, warehouse, _ = loaded
    june = query(warehouse, "SELECT path, status FROM file_versions WHERE ledger = 'inspections' "
                            "AND period = '2024-06' ORDER BY version_id")
    assert [s for _, s in june] == ["superseded", "loaded"]
    assert any(m in june[1][0] for m in ("修订", "更正", "v2", "V2"))
    per_month = query(warehouse, "SELECT period, count(*) FROM file_versions WHERE ledger = 'inspections' "
                                 "AND status = 'loaded' GROUP BY 1 ORDER BY 1")
    assert per_month == [(f"2024-{m:02d}", 1) for m in range(1, 13)]
    assert query(warehouse, "SELECT count(*) FROM file_versions WHERE status = 'superseded'") == [(1,)]


def test_a_register_resubmitted_every_month_holds_each_case_once_with_its_latest_fields(loaded):
    _, warehouse, _ = loaded
    months = query(warehouse, "SELECT count(*) FROM file_versions WHERE ledger = 'cases' AND status = 'loaded'")
    assert months[0][0] == 12
    dupes = query(warehouse, "SELECT case_no, count(*) FROM stg_cases GROUP BY 1 HAVING count(*) > 1")
    assert dupes == []
    # The staged case is the one of the latest month it appears in, with its fields filled in.
    latest = query(warehouse, """
        WITH ranked AS (
            SELECT r.case_no, r.closed_on, v.period_start,
                   row_number() OVER (PARTITION BY r.case_no ORDER BY v.period_start DESC, v.version_id DESC) AS n
            FROM raw.cases r JOIN file_versions v ON v.version_id = r._version_id WHERE v.status = 'loaded')
        SELECT count(*) FROM ranked r JOIN stg_cases s USING (case_no)
        WHERE r.n = 1 AND r.closed_on IS NOT DISTINCT FROM s.closed_on""")
    assert latest[0][0] == query(warehouse, "SELECT count(*) FROM stg_cases")[0][0]
    assert query(warehouse, "SELECT count(*) FROM stg_cases WHERE year(filed_on) = 2024 AND closed_on IS NULL") == [(0,)]


def test_every_published_figure_agrees(loaded):
    _, warehouse, _ = loaded
    with duckdb.connect(str(warehouse), read_only=True) as con:
        compared = compare_published(con, 2024)
    printed = compared.filter(compared["agrees"].is_not_null())
    assert printed.height == 29  # every figure of published-2024.csv
    assert printed["agrees"].all(), printed.filter(printed["agrees"].not_())


def test_figures_match_the_generators_independent_computation(loaded):
    manifest, warehouse, _ = loaded
    with duckdb.connect(str(warehouse), read_only=True) as con:
        table = indicator_table(con, 2024)
    got = dict(zip(table["code"], table["value"], strict=True))
    for code, want in manifest.expected.items():
        assert got[code] == pytest.approx(want) if want is not None else got[code] is None, code


def test_printed_reads_as_the_report_prints_it(loaded):
    _, warehouse, _ = loaded
    printed = dict(query(warehouse, "SELECT code, printed FROM indicators WHERE year = 2024"))
    assert printed["fines_yuan"] == "1.365万元"
    assert printed["posters"] == "7.2万余张"
    assert printed["case_closure_rate"] == "100%"
    assert printed["confiscated_yuan"] == "约0.7万元"


def test_the_sample_year_is_handed_in_before_tracking_but_two_forgotten_zero_reports(loaded):
    """Loaded in one first run, long after its deadlines: when each month came in is not known."""
    _, warehouse, _ = loaded
    statuses = dict(query(warehouse, "SELECT status, count(*) FROM submissions WHERE year = 2024 GROUP BY 1"))
    assert statuses == {"before_tracking": 9 * 12 - 2, "missing": 2, "snapshot": 1}
    assert query(warehouse, "SELECT ledger, month FROM submissions WHERE year = 2024 AND missing ORDER BY month") == [
        ("safety_incidents", 7), ("safety_incidents", 10)]
