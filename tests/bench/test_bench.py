"""The bench's pure parts: targets and report, budget predictions, inbox reuse and the .xlsx writer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import fastexcel
import polars as pl
import pytest

# bench/ is the repository's scripts, not part of the installed package: import it from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import inbox as bench_inbox
from bench import report, run


def step(wall: float, rows: int = 0, peak: float = 300.0, **stages: float) -> dict:
    return {"wall": wall, "elapsed": wall + 2, "rows_loaded": rows, "rows": rows, "peak_mib": peak,
            "stages": {k.replace("_", " "): v for k, v in stages.items()}}


def size(rows: int, full: float, floor_csv: float, floor_xlsx: float, **extra: dict) -> dict:
    steps = {"floor_csv": step(floor_csv, rows), "floor_xlsx": step(floor_xlsx, rows // 6),
             "full": step(full, rows, peak=rows / 2000), "nothing_new": step(0.5)}
    steps.update(extra)
    return {"size": rows, "inbox": {"rows": rows, "counties": 2, "csv_files": 182, "xlsx_files": 36,
                                    "xlsx_rows": rows // 6},
            "reused": False, "build_s": 1.0, "steps": steps, "skipped": []}


def by_target(results: list[dict]) -> dict[str, tuple[str, bool | None]]:
    return {t: (v, ok) for t, v, ok in report.targets(results)}


def test_marginal_cost_is_judged_on_the_two_largest_sizes_and_shown_for_the_others():
    results = [size(100_000, 10, 1.5, 0.5), size(1_000_000, 40, 8, 2), size(4_000_000, 160, 32, 8)]
    got = by_target(results)
    assert got["marginal cost (full 4M − full 1M) ÷ (floor 4M − floor 1M) ≤ 4 (aim 2)"] == (
        "4.0 = (160.0 − 40.0 s) ÷ (40.0 − 10.0 s)", True)
    value, ok = got["marginal cost (full 1M − full 100k) ÷ (floor 1M − floor 100k) ≤ 4 (aim 2), for reference"]
    assert (value.split(" =")[0], ok) == ("3.8", None)
    assert got["peak memory of the whole process tree on the 4M runs ≤ 1 GiB"] == (
        "2000 MiB (the run's own process 2000 MiB)", False)
    noisy = by_target([size(20_000, 13, 2, 0.4), size(50_000, 10, 2.3, 0.4)])
    assert noisy["marginal cost (full 50k − full 20k) ÷ (floor 50k − floor 20k) ≤ 4 (aim 2)"] == (
        "n/a: the larger run was the faster (noise), (10.0 − 13.0 s) ÷ (2.7 − 2.4 s)", None)


def test_incremental_xlsx_and_fixed_cost_targets():
    one = step(7.0, 1000)
    xlsx = step(6.0, 150_000, discover=0.2, parse=1.3)
    flow = step(12.0) | {"import": 3.0, "warm": 1.5, "fresh_home": False}
    results = [size(1_000_000, 50.5, 8, 1.0, one_changed=one, xlsx_run=xlsx, flow_noop=flow)]
    got = by_target(results)
    assert got["1M: one changed file ≤ 25% of a full run's work above the fixed cost"] == (
        "13.0% (its rows' share 0.10%)", True)
    assert got["1M: .xlsx discover+parse ≤ 1.5 × fastexcel bare read"] == (
        "1.5 s vs 1.0 s = 1.5× (whole xlsx run 6.0×)", True)
    assert got["1M: nothing new through the Prefect flow, its temporary server started ≤ 10 s"][1] is False
    assert got["1M: nothing new through the Prefect flow, server already up ≤ 10 s"] == ("1.5 s", True)
    assert got["marginal cost ≤ 4 (aim 2)"] == ("not measured: it needs two sizes", None)


def test_the_table_says_what_was_not_measured_and_how_each_inbox_was_had():
    results = [size(100_000, 10, 1.5, 0.5), size(1_000_000, 40, 8, 2)]
    results[1]["reused"], results[1]["build_s"] = True, 0.2
    results[1]["skipped"].append("xlsx_run: not run above 100k rows (BENCH_XLSX_MAX)")
    text = report.table(results, {"cores": 2, "python": "3.11", "total_s": 500.0, "budget_s": 840.0,
                                  "notes": ["4M skipped: no time"]})
    assert "took **500 s** in all (budget 840 s" in text
    assert "| 1M | 1,000,000 | 2 | 182/36 | 166,666 | reused (manifest matched) in 0.2 s |" in text
    assert "- 4M skipped: no time" in text
    assert "- 1M: xlsx_run: not run above 100k rows (BENCH_XLSX_MAX)" in text
    assert "| 1M: .xlsx discover+parse ≤ 1.5 × fastexcel bare read | not run (see Not measured) | — |" in text
    assert "| 1M | full | 40.0 | 42.0 | 25,000 | 500 | 500 |  | 10.0 | 4.0 |" in text


@pytest.mark.parametrize(("rows", "text"), [(100_000, "100k"), (4_000_000, "4M"), (1_500_000, "1.5M"),
                                            (20_000, "20k"), (12_345, "12,345")])
def test_label(rows, text):
    assert report.label(rows) == text


def test_predictions_extrapolate_linearly_and_never_flat():
    assert run.fitted([(1_000, 10.0)], 4_000) == 40.0
    assert run.fitted([(1_000, 10.0), (2_000, 14.0)], 4_000) == 22.0
    # A falling line (noise) still grows with a quarter of the proportional slope.
    assert run.fitted([(1_000, 10.0), (2_000, 9.0)], 4_000) == pytest.approx(9.0 + 9.0 / 2_000 / 4 * 2_000)
    assert run.fitted([], 10) is None


def test_a_size_that_cannot_fit_the_budget_is_skipped_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "WORK", tmp_path)
    results = [size(100_000, 10, 1.5, 0.5), size(1_000_000, 100, 8, 2)]
    clock = run.Clock(budget=300.0)
    why = run.size_fits(clock, 4_000_000, results)
    assert why is not None and why.startswith("4M skipped: its inbox and required steps were predicted at")
    assert run.size_fits(run.Clock(budget=5_000.0), 4_000_000, results) is None


def fake_build(inbox, rows, seed=7, donor=None, workers=None):
    """Write a two-county inbox of three files each, instead of drawing one."""
    per_county = []
    for k in range(2):
        folder = inbox / f"county{k:03d}" / "inspections"
        folder.mkdir(parents=True)
        for month in (5, 6, 7):
            (folder / f"2024-{month:02d}.csv").write_text("a,b,c,d,e,f,g\n1,2,3,4,5,6,7\n8,9,1,2,3,4,5\n")
        per_county.append({"rows": 6, "csv_files": 3, "xlsx_files": 0, "xlsx_rows": 0})
    return per_county


def test_an_inbox_is_reused_only_while_intact_and_of_the_same_generator(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_inbox, "build_inbox", fake_build)
    base = tmp_path / "1000"
    assert bench_inbox.ensure_inbox(base, 1000)[1] is False
    assert bench_inbox.ensure_inbox(base, 1000) == (
        {"rows": 12, "counties": 2, "csv_files": 6, "xlsx_files": 0, "xlsx_rows": 0}, True)
    assert bench_inbox.reusable(base, 2000, seed=7) is None  # another size
    with bench_inbox.one_file_changed(base / "inbox") as path:
        assert path.read_text().splitlines()[1] == "1,2,3,4,5,6,9"
        assert bench_inbox.reusable(base, 1000, seed=7) is None
    assert bench_inbox.reusable(base, 1000, seed=7) is not None  # put back as it was
    manifest = json.loads((base / bench_inbox.MANIFEST).read_text())
    (base / bench_inbox.MANIFEST).write_text(json.dumps(manifest | {"generator": "older"}))
    assert bench_inbox.ensure_inbox(base, 1000)[1] is False


def test_the_polars_built_xlsx_reads_back_as_written(tmp_path):
    sheet = pl.DataFrame({"名称": ["A&B <c>", " 前后空格 ", None, "x"], "数": ["1", "", "2", "3"]})
    path = tmp_path / "s.xlsx"
    bench_inbox.write_xlsx(path, sheet)
    back = fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string").to_polars()
    assert back.columns == ["名称", "数"]
    assert back.to_dict(as_series=False) == {"名称": ["A&B <c>", " 前后空格 ", None, "x"],
                                             "数": ["1", None, "2", "3"]}
    assert [bench_inbox.col_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_every_shape_is_measured_once_before_any_step_is_repeated(tmp_path, monkeypatch):
    """A budget that holds each step once gets every shape, then the one-changed runs, then the
    extras; the repeats take what is left, and the report says which steps were not repeated."""
    import contextlib

    calls: list[tuple[str, str]] = []
    costs = {"floor-csv": 1.0, "floor-xlsx": 0.5, "run": 3.0}

    def fake_step(clock, *args):
        unit = Path(args[1]).relative_to(tmp_path).parts[0]
        calls.append((unit, "xlsx-run" if "xlsx" in args[1] else args[0]))
        clock.start -= costs[args[0]]  # the step's cost, on the bench's clock
        return {"wall": costs[args[0]], "elapsed": costs[args[0]], "tree_peak_mib": 1.0}

    def fake_prepare(rows, results, shape="small"):
        return {"size": rows, "shape": shape, "inbox": {}, "reused": True, "build_s": 0.0, "steps": {},
                "skipped": []}

    monkeypatch.setattr(run, "WORK", tmp_path)
    monkeypatch.setattr(run, "step", fake_step)
    monkeypatch.setattr(run, "prepare", fake_prepare)
    monkeypatch.setattr(run, "SHAPE_SIZES", {"small": [1000], "big": [1000]})
    monkeypatch.setattr(run, "FLOW_SIZE", 0)
    monkeypatch.setattr(run, "REPEATS", 2)
    monkeypatch.setattr(run, "one_file_changed", lambda inbox: contextlib.nullcontext())
    monkeypatch.setattr(run, "one_cell_changed", lambda path: contextlib.nullcontext())
    monkeypatch.setattr(run, "xlsx_only", lambda inbox, to: to)
    # Once each: small 1 + 0.5 + 3 + 3 (nothing new), big 1 + 3 + 3, the changed runs 3 + 3 and
    # the .xlsx run 3: 23.5 s. The 1.7 s over that hold the small floors again (each predicted at
    # MARGIN × its time), not a full run.
    clock = run.Clock(budget=run.RESERVE_S + 23.5 + 1.7)
    results, notes = run.run_sizes(clock)
    assert notes == []
    assert calls == [("1000", "floor-csv"), ("1000", "floor-xlsx"), ("1000", "run"), ("1000", "run"),
                     ("big-1000", "floor-csv"), ("big-1000", "run"), ("big-1000", "run"),
                     ("1000", "run"), ("big-1000", "run"), ("1000", "xlsx-run"),
                     ("1000", "floor-csv"), ("1000", "floor-xlsx")]
    small, big = results
    assert set(small["steps"]) == {"floor_csv", "floor_xlsx", "full", "nothing_new", "one_changed", "xlsx_run"}
    assert small["steps"]["floor_csv"]["walls"] == [1.0, 1.0]
    assert set(big["steps"]) == {"floor_csv", "full", "nothing_new", "one_changed"}
    assert small["skipped"] == ["full: measured 1 of 2 times, the budget left no more"]
    assert big["skipped"] == ["floor_csv: measured 1 of 2 times, the budget left no more",
                              "full: measured 1 of 2 times, the budget left no more"]
