"""Issue 16's bench: the big-file and mixed inboxes made from a small-file one, their targets,
and the peak memory of a whole process tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench import big, report
from bench import inbox as bench_inbox
from bench.tree import TreePeak


def small_inbox(base: Path) -> Path:
    """Write a two-county small-file inbox: cases and hotline (CSV), inspections (an .xlsx month)."""
    inbox = base / "inbox"
    for k in range(2):
        county = inbox / f"county{k:03d}"
        (county / "cases").mkdir(parents=True)
        pl.DataFrame({"案件编号": ["西文旅罚〔2024〕1号"], "立案日期": [f"2024-03-0{k + 1}"]}).write_csv(
            county / "cases" / "2024-03.csv")
        (county / "publications").mkdir()
        pl.DataFrame({"关联案件编号": ["西文旅罚〔2024〕1号"]}).write_csv(county / "publications" / "2024-03.csv")
        (county / "hotline").mkdir()
        pl.DataFrame({"工单编号": ["20240301000001"]}).write_csv(county / "hotline" / "2024-03.csv")
        (county / "inspections").mkdir()
        bench_inbox.write_xlsx(county / "inspections" / "2024-06.xlsx",
                               pl.DataFrame({"检查日期": ["2024-06-01", "2024-06-02"], "出动人次": [str(k), "3"]}))
    (base / bench_inbox.MANIFEST).write_text('{"size": 4}')
    return inbox


def test_the_big_shape_merges_counties_into_one_csv_per_month_with_unique_register_keys(tmp_path):
    small_inbox(tmp_path / "small")
    made, reused = big.build_shape("big", tmp_path / "small", tmp_path / "big")
    inbox = tmp_path / "big" / "inbox"
    assert (reused, made) == (False, {"rows": 10, "csv_files": 4, "xlsx_files": 0, "xlsx_rows": 0, "counties": 1})
    assert sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("*.csv")) == [
        "cases/2024-03.csv", "hotline/2024-03.csv", "inspections/2024-06.csv", "publications/2024-03.csv"]
    read = pl.read_csv
    assert read(inbox / "cases" / "2024-03.csv")["案件编号"].to_list() == ["西文旅罚〔2024〕0-1号", "西文旅罚〔2024〕1-1号"]
    # a publication still cites its own county's case
    assert read(inbox / "publications" / "2024-03.csv")["关联案件编号"].to_list() == [
        "西文旅罚〔2024〕0-1号", "西文旅罚〔2024〕1-1号"]
    assert read(inbox / "hotline" / "2024-03.csv", infer_schema=False)["工单编号"].to_list() == [
        "00020240301000001", "00120240301000001"]
    inspections = read(inbox / "inspections" / "2024-06.csv", infer_schema=False)
    assert inspections.to_dict(as_series=False) == {"检查日期": ["2024-06-01", "2024-06-02"] * 2,
                                                    "出动人次": ["0", "3", "1", "3"]}
    assert big.build_shape("big", tmp_path / "small", tmp_path / "big") == (made, True)


def test_the_mixed_shape_merges_half_the_counties_and_links_the_rest(tmp_path):
    small_inbox(tmp_path / "small")
    made, _ = big.build_shape("mixed", tmp_path / "small", tmp_path / "mixed")
    inbox = tmp_path / "mixed" / "inbox"
    assert made == {"rows": 10, "csv_files": 7, "xlsx_files": 1, "xlsx_rows": 2, "counties": 2}
    assert (inbox / "city" / "inspections" / "2024-06.csv").exists()
    assert (inbox / "county001" / "inspections" / "2024-06.xlsx").samefile(
        tmp_path / "small" / "inbox" / "county001" / "inspections" / "2024-06.xlsx")
    assert big.changed_file("mixed", inbox) == inbox / "city" / "inspections" / "2024-06.csv"


def test_one_cell_changed_changes_one_figure_and_puts_the_file_back(tmp_path):
    path = tmp_path / "2024-06.csv"
    original = "a,b,c,d,e,f,g\n1,2,3,4,5,6,7\n8,9,1,2,3,4,5\n"
    path.write_text(original)
    with bench_inbox.one_cell_changed(path):
        assert path.read_text().splitlines()[1:] == ["1,2,3,4,5,6,9", "8,9,1,2,3,4,5"]
    assert path.read_text() == original


def run(wall: float, elapsed: float, rows: int = 0, tree: float = 500.0) -> dict:
    return {"wall": wall, "elapsed": elapsed, "rows_loaded": rows, "peak_mib": 400.0, "tree_peak_mib": tree,
            "stages": {}}


def shape(rows: int, full: float, floor_csv: float, **extra: dict) -> dict:
    steps = {"floor_csv": {"wall": floor_csv, "elapsed": floor_csv, "rows": rows, "peak_mib": 300.0},
             "full": run(full, full + 1, rows, tree=900.0), "nothing_new": run(0.4, 0.9)} | extra
    return {"size": rows, "shape": "big", "inbox": {"rows": rows, "counties": 1, "csv_files": 109,
                                                     "xlsx_files": 0, "xlsx_rows": 0},
            "reused": True, "build_s": 0.0, "steps": steps, "skipped": []}


def test_the_big_shapes_targets_count_process_start_and_the_whole_tree():
    results = [shape(1_000_000, 10.0, 2.0), shape(4_000_000, 34.0, 8.0, one_changed=run(3.0, 5.0, 333_000))]
    got = {t: (v, ok) for t, v, ok in report.shape_targets(results)}
    assert got["big: marginal cost (full 4M − full 1M) ÷ (floor 4M − floor 1M) ≤ 4 (aim 2)"] == (
        "4.0 = (34.0 − 10.0 s) ÷ (8.0 − 2.0 s)", True)
    assert got["big 4M: nothing new ≤ 1 s, process start included"] == (
        "0.90 s (the pipeline alone 0.40 s)", True)
    # (5.0 − 0.9) ÷ (35.0 − 0.9) = 12.0%
    value, ok = got["big 4M: one changed file ≤ 17% of a full run's work above nothing-new"]
    assert (value.split(" =")[0], ok) == ("12.0%", True)
    assert got["big: peak memory of the whole process tree on the 4M runs ≤ 1 GiB"] == (
        "900 MiB (the run's own process 400 MiB)", True)
    text = report.shape_table(results)
    assert "## big: one big file per ledger and month (all CSV)" in text
    assert "| 4M | full | 34.0 | 35.0 | 117,647 | 400 | 900 |  | 8.0 | 4.2 |" in text


def test_the_tree_peak_counts_a_childs_memory(tmp_path):
    # A parent that starts a child holding 200 MiB: the tree's peak is at least that, the parent's own far less.
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "\"import time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)\"])")
    proc = subprocess.Popen([sys.executable, "-c", code])
    with TreePeak(proc.pid) as tree:
        proc.wait()
    assert tree.peak_mib >= 200
