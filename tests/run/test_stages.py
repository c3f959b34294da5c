"""The run's stages written once: their order, their results, and collaborators passed in."""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from ledgerfiles import write_csv, write_xlsx

from flows.contract.problems import PROBLEM_SCHEMA
from flows.extract.isolation import Limits
from flows.publish import swap
from flows.run import stages
from flows.run.context import Context, RunOptions, Steps
from flows.run.pipeline import RunFailed, run_pipeline
from flows.run.results import Look
from flows.run.settings import Settings
from flows.validate.sheet_suites import ExpectationTally, merge_suites, validate_ledgers

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
PEOPLE_SQL = ("SELECT value FROM indicators WHERE year = 2024 AND code = 'inspector_person_times'")


def write_month(inbox: Path, month: int, people: list[object]) -> Path:
    rows = [[i, f"2024-{month:02d}-{i:02d}", "日常检查", f"场所{i}", "网吧", n, "张三", "未发现问题"]
            for i, n in enumerate(people, 1)]
    return write_xlsx(inbox / "inspections" / f"2024-{month:02d}.xlsx", {"S": [HEADER, *rows]})


def people(warehouse: Path) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return float(con.execute(PEOPLE_SQL).fetchone()[0])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Recorder:
    """A `call` that runs each stage and writes down its name and its result."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def __call__(self, stage: stages.Stage, *args):
        result = stage.run(*args)
        self.calls.append((stage.name, result))
        return result

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def results(self, name: str) -> list:
        return [result for n, result in self.calls if n == name]


def context(tmp_path: Path, **options) -> Context:
    steps = options.pop("steps", Steps(checks=()))
    return Context(tmp_path / "inbox", tmp_path / "w" / "tally.duckdb", steps=steps,
                   options=dataclasses.replace(RunOptions(), **options))


def test_the_stages_are_named_as_the_layout_reads():
    assert [s.name for s in stages.STAGES] == [
        "open", "discover", "extract", "validate", "load", "transform", "check", "finish", "publish"]
    assert len({s.run for s in stages.STAGES}) == len(stages.STAGES)


def test_a_run_goes_through_every_stage_in_order_and_each_returns_its_own_result(tmp_path):
    write_month(tmp_path / "inbox", 3, [2, 3])
    write_month(tmp_path / "inbox", 4, [4])
    write_csv(tmp_path / "inbox" / "inspections" / "2024-05.csv", [["名称"], ["x"]])  # rejected
    ctx, call = context(tmp_path, batch_size=2), Recorder()
    result = stages.run(ctx, call=call)
    assert call.names == ["survey", "open", "discover", "extract", "extract", "validate", "load",
                          "transform", "check", "finish", "publish"]
    assert (result.outcome, result.summary.files_loaded, result.summary.rows_loaded) == ("completed", 2, 3)
    assert result.summary.files_rejected == 1 and people(ctx.warehouse) == 9
    # Counts are each stage's own, summed by the run: none writes into another's.
    first, second = call.results("extract")
    assert (len(first.prepared), first.summary.files_rejected) == (2, 0)
    assert (len(second.prepared), second.summary.files_rejected) == (0, 1)
    [loaded] = call.results("load")
    assert (loaded.summary.files_loaded, loaded.summary.files_rejected) == (2, 0)
    for _, got in call.calls:
        if dataclasses.is_dataclass(got):
            field = dataclasses.fields(got)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(got, field, None)


def test_held_rows_are_validated_loaded_and_committed_every_flush_rows(tmp_path):
    for month in (3, 4, 5):
        write_month(tmp_path / "inbox", month, [month, 1])
    ctx, call = context(tmp_path, batch_size=1, flush_rows=4), Recorder()
    result = stages.run(ctx, call=call)
    # Two files hold four rows: validated and loaded after the second, the third at the end.
    assert call.names[2:10] == ["discover", "extract", "extract", "validate", "load", "extract",
                                "validate", "load"]
    assert [len(v.prepared) for v in call.results("validate")] == [2, 1]
    assert result.summary.rows_loaded == 6 and people(ctx.warehouse) == 15


def test_the_survey_is_a_question_and_recording_the_quiet_run_is_a_step_of_its_own(tmp_path):
    write_month(tmp_path / "inbox", 3, [2])
    ctx = context(tmp_path)
    assert stages.survey(ctx) == Look()  # no warehouse yet: it has seen nothing
    stages.run(ctx)
    published, log = sha256(ctx.warehouse), swap.log_path(ctx.warehouse).read_text()

    again = context(tmp_path)
    look = stages.survey(again)
    assert look.nothing_new and [f.rel for f in look.files] == ["inspections/2024-03.xlsx"]
    assert look.year == 2024 and look.figures.filter(code="inspector_person_times")["value"].item() == 2
    assert stages.survey(again).nothing_new  # asking twice changes nothing
    assert swap.log_path(ctx.warehouse).read_text() == log and sha256(ctx.warehouse) == published

    quiet = stages.record_unchanged(again, look)
    assert (quiet.outcome, quiet.summary.files_unchanged) == ("completed", 1)
    assert quiet.run_id in swap.log_path(ctx.warehouse).read_text()
    assert sha256(ctx.warehouse) == published

    write_month(tmp_path / "inbox", 4, [5])
    changed = stages.survey(context(tmp_path))
    assert not changed.nothing_new and [f.rel for f in changed.unseen] == ["inspections/2024-04.xlsx"]


def test_an_injected_check_quarantines_and_an_injected_builder_fails_the_run(tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w" / "tally.duckdb"
    write_month(inbox, 3, [2, 3])

    def second_row_is_bad(prepared):
        frames = []
        for p in prepared:
            row = p.parsed.rows["_row"][1]
            frames.append(pl.DataFrame(
                {"_row": [row], "column": ["inspectors"], "header": ["出动人次"], "raw_value": ["3"],
                 "rule": ["test_rule"], "severity": ["error"], "message": ["测试规则"]},
            ).cast({k: v for k, v in PROBLEM_SCHEMA.items()}).select(list(PROBLEM_SCHEMA)))
        return frames

    first = run_pipeline(inbox, warehouse, steps=Steps(checks=(second_row_is_bad,)))
    assert (first.summary.rows_loaded, first.summary.rows_quarantined) == (1, 1)
    assert people(warehouse) == 2

    published = sha256(warehouse)
    write_month(inbox, 4, [7])

    def no_models(con):
        raise RuntimeError("模型无法建立")

    with pytest.raises(RunFailed) as caught:
        run_pipeline(inbox, warehouse, steps=Steps(checks=(), build_models=no_models))
    failed = caught.value.result
    assert "模型无法建立" in failed.message
    # The record says what the run had done in its copy before it failed; none of it is published.
    assert (failed.outcome, failed.summary.files_loaded, failed.summary.files_unchanged) == ("failed", 1, 1)
    assert sha256(warehouse) == published

    def refuses(aside, published_path):
        raise OSError("disk full")

    with pytest.raises(RunFailed):
        run_pipeline(inbox, warehouse, steps=Steps(checks=(), publish=refuses))
    assert sha256(warehouse) == published
    assert not list(warehouse.parent.glob(f".{warehouse.stem}{swap.ASIDE_MARK}*"))  # the copy is gone


def test_the_suites_tallies_are_returned_with_the_run_not_kept_in_the_process(tmp_path):
    rendered: list[dict] = []

    def render(folder, suites):
        rendered.append(suites)
        return None

    steps = Steps(render_docs=render)
    a, b = tmp_path / "a", tmp_path / "b"
    write_month(a / "inbox", 3, [2, 0])  # 出动人次 0 breaks its minimum
    write_month(b / "inbox", 3, [1])
    ra = run_pipeline(a / "inbox", a / "w.duckdb", steps=steps)
    rb = run_pipeline(b / "inbox", b / "w.duckdb", steps=steps)

    def counted(suites):
        tallies = suites["inspections"]
        return (max(t.element_count for t in tallies), sum(t.unexpected_count for t in tallies))

    assert counted(ra.suites) == (2, 1) and counted(rb.suites) == (1, 0)  # the second did not add to the first
    assert [counted(s) for s in rendered] == [(2, 1), (1, 0)]


def test_merging_tallies_makes_new_ones():
    expectation = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}}
    one = {"inspections": [ExpectationTally(expectation, 2, 0, 1, ["a"])]}
    two = {"inspections": [ExpectationTally(expectation, 3, 1, 0, [])]}
    merged = merge_suites(one, two)
    assert (merged["inspections"][0].element_count, merged["inspections"][0].missing_count,
            merged["inspections"][0].unexpected_count, merged["inspections"][0].partial) == (5, 1, 1, ["a"])
    assert one["inspections"][0].element_count == 2 and two["inspections"][0].element_count == 3
    assert validate_ledgers([]).problems == []


def test_run_options_default_to_the_settings_schema():
    options, schema = RunOptions(), Settings()
    assert options.memory_limit == schema.memory_limit
    assert options.limits == Limits(schema.max_file_mb, schema.file_timeout_s, schema.reader_memory_mb)
    assert (options.batch_size, options.flush_rows) == (stages.BATCH_SIZE, stages.FLUSH_ROWS)
    bureau = dataclasses.replace(schema, memory_limit="300MB", max_file_mb=20, file_timeout_s=9.0)
    mine = RunOptions.from_settings(bureau, reader_memory_mb=1024, year=2023)
    assert (mine.memory_limit, mine.year) == ("300MB", 2023)
    assert mine.limits == Limits(20, 9.0, 1024)


def test_the_bench_times_each_stage_under_the_names_its_report_reads(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench import report, step

    write_month(tmp_path / "inbox", 3, [2, 3])
    full = step.run_stages(tmp_path / "inbox", tmp_path / "w" / "tally.duckdb")
    assert set(full["stages"]) == set(report.STAGES)
    assert all(s >= 0 for s in full["stages"].values()) and full["rows_loaded"] == 2
    quiet = step.run_stages(tmp_path / "inbox", tmp_path / "w" / "tally.duckdb")
    assert set(quiet["stages"]) == {"discover"} and quiet["files_unchanged"] == 1
