"""Issue 16: a run's batches are bounded in bytes as well as files, and a run keeps no batch's
rows once they are loaded (only their counts, for the record of a failed run)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flows.load.loader import RunSummary
from flows.run import stages
from flows.run.results import Extracted, Loaded, Validated


def source(name: str, size: int) -> stages.SourceFile:
    return stages.SourceFile(Path(name), name, size, datetime(2024, 1, 1, tzinfo=UTC), "0" * 64)


def names(batches) -> list[list[str]]:
    return [[s.rel for s in batch] for batch in batches]


def test_a_batch_ends_at_its_file_count_or_its_bytes_whichever_comes_first():
    small = [source(f"s{i}", 10) for i in range(5)]
    assert names(stages.file_batches(small, size=2, max_bytes=1000)) == [["s0", "s1"], ["s2", "s3"], ["s4"]]
    mixed = [source("a", 40), source("b", 40), source("c", 30), source("d", 10), source("e", 10)]
    # a+b = 80 ≤ 100; c would make 110: a new batch; c+d+e = 50
    assert names(stages.file_batches(mixed, size=50, max_bytes=100)) == [["a", "b"], ["c", "d", "e"]]


def test_a_file_larger_than_the_bound_is_a_batch_of_its_own():
    files = [source("small", 5), source("big", 500), source("after", 5)]
    assert names(stages.file_batches(files, size=50, max_bytes=100)) == [["small"], ["big"], ["after"]]
    assert names(stages.file_batches([], size=50, max_bytes=100)) == []


def test_the_default_bound_holds_a_citys_monthly_file_alone():
    # 12 monthly files of 30 MB (333k rows each at 4M rows): one a batch, not fifty at once.
    months = [source(f"2024-{m:02d}.csv", 30 * 2**20) for m in range(1, 13)]
    assert [len(b) for b in stages.file_batches(months)] == [1] * 12
    many = [source(f"f{i}", 20_000) for i in range(120)]  # the small-file shape: by count, as before
    assert [len(b) for b in stages.file_batches(many)] == [50, 50, 20]


def test_what_the_run_keeps_of_a_batch_for_a_failed_runs_record_is_its_counts():
    summary = RunSummary(run_id="r", files_rejected=2)
    extracted = Extracted(prepared=(object(),) * 3, summary=summary)  # type: ignore[arg-type]
    kept = stages.for_the_record(extracted)
    assert kept.prepared == () and kept.summary is summary
    assert stages.for_the_record(Validated(prepared=(), problems=())) is None
    loaded = Loaded(summary)
    assert stages.for_the_record(loaded) is loaded
