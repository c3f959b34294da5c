"""One meaning per option: `-o/--output` is a file, `--out-dir` a folder; the old spellings still work, with a note."""

from __future__ import annotations

import json

import duckdb
import pytest
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.transform import indicators

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
DEPRECATED = "提示 · deprecated:"


@pytest.fixture
def site(ws):
    """A loaded warehouse with one quarantined row, so that every command has something to write."""
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [
        HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"],
        ["2024-03-06", "日常检查", "某书店", "书店", "x", "未发现问题"]]})
    ws.run()
    with duckdb.connect(str(ws.warehouse)) as con:
        indicators.build(con)
    return ws


def tally(*args, code: int = 0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_output_writes_a_file_in_every_format_of_indicators(site, tmp_path):
    w = ("-w", site.warehouse)
    for fmt, suffix in (("csv", "csv"), ("excel-csv", "csv"), ("json", "json"), ("md", "md"), ("xlsx", "xlsx")):
        target = tmp_path / f"{fmt}.{suffix}"
        result = tally("indicators", "-y", 2024, "-f", fmt, "-o", target, *w)
        assert target.stat().st_size > 0 and result.stdout == ""  # the file, not the screen
    rows = json.loads((tmp_path / "json.json").read_text(encoding="utf-8"))
    assert {r["code"]: r["value"] for r in rows}["inspector_person_times"] == 2
    assert (tmp_path / "excel-csv.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_file_option_refuses_a_folder_and_points_at_out_dir(site, tmp_path):
    result = tally("indicators", "-y", 2024, "-f", "csv", "--output", tmp_path, "-w", site.warehouse, code=2)
    assert "--out-dir" in result.stderr and str(tmp_path) in result.stderr


def test_problems_out_dir_and_output(site, tmp_path):
    w = ("-w", site.warehouse)
    folder = tmp_path / "退回"
    result = tally("problems", "-y", 2024, "-f", "xlsx", "--out-dir", folder, *w)
    assert [p.name for p in folder.iterdir()] == ["2024年台账问题清单-执法大队.xlsx"]
    assert DEPRECATED not in result.stderr
    one = tmp_path / "all.xlsx"
    tally("problems", "-y", 2024, "-f", "xlsx", "-o", one, *w)
    assert one.is_file()
    listing = tmp_path / "all.csv"
    tally("problems", "-y", 2024, "-f", "csv", "-o", listing, *w)
    assert "出动人次" in listing.read_text(encoding="utf-8")


@pytest.mark.parametrize("old", ["--out", "-o"])
def test_problems_old_folder_spellings_still_write_the_folder_with_a_note(site, tmp_path, old):
    folder = tmp_path / "退回"  # no suffix: what `-o` meant here before, a folder
    result = tally("problems", "-y", 2024, "-f", "xlsx", old, folder, "-w", site.warehouse)
    assert [p.name for p in folder.iterdir()] == ["2024年台账问题清单-执法大队.xlsx"]
    assert DEPRECATED in result.stderr and "--out-dir" in result.stderr
    assert DEPRECATED not in result.stdout  # the note is for the person, never in the data


def test_report_output_and_old_out(site, tmp_path):
    w = ("-w", site.warehouse)
    new = tally("report", "-y", 2024, "-f", "md", "--output", tmp_path / "new.md", *w)
    old = tally("report", "-y", 2024, "-f", "md", "--out", tmp_path / "old.md", *w)
    assert DEPRECATED not in new.stderr
    assert DEPRECATED in old.stderr and "--output" in old.stderr
    assert (tmp_path / "new.md").read_text(encoding="utf-8") == (tmp_path / "old.md").read_text(encoding="utf-8")


def test_old_and_new_spellings_that_disagree_are_refused(site, tmp_path):
    result = tally("report", "-y", 2024, "-f", "md", "--out", tmp_path / "a.md", "-o", tmp_path / "b.md",
                   "-w", site.warehouse, code=2)
    assert "--output" in result.output
    assert not (tmp_path / "a.md").exists() and not (tmp_path / "b.md").exists()


def test_fill_needs_an_output_and_takes_the_old_out(site, tmp_path):
    from docx import Document

    draft = tmp_path / "draft.docx"
    document = Document()
    document.add_paragraph("全年出动检查人员{{出动检查人次}}。")
    document.save(str(draft))
    missing = tally("fill", draft, "-y", 2024, "-w", site.warehouse, code=2)
    assert "--output" in missing.output
    tally("fill", draft, "-y", 2024, "-o", tmp_path / "new.docx", "-w", site.warehouse)
    old = tally("fill", draft, "-y", 2024, "--out", tmp_path / "old.docx", "-w", site.warehouse)
    assert (tmp_path / "new.docx").is_file() and (tmp_path / "old.docx").is_file()
    assert DEPRECATED in old.stderr


def test_sample_takes_out_dir_and_the_old_spellings(tmp_path, monkeypatch):
    from flows.cli import sample_commands

    written = []
    monkeypatch.setattr(sample_commands, "missing_extra", lambda: None)
    monkeypatch.setattr(sample_commands, "write_sample_inbox",
                        lambda year, out, seed: written.append(out) or type("M", (), {"files": [], "mistakes": []})())
    assert DEPRECATED not in tally("sample", "-y", 2024, "--out-dir", tmp_path / "a").stderr
    assert DEPRECATED in tally("sample", "-y", 2024, "--out", tmp_path / "b").stderr
    assert DEPRECATED in tally("sample", "-y", 2024, "-o", tmp_path / "c").stderr
    assert written == [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    assert "--out-dir" in tally("sample", "-y", 2024, code=2).output


@pytest.mark.parametrize("command", [["indicators"], ["explain", "cases_filed"], ["problems"]], ids=lambda c: c[0])
def test_a_file_asked_for_a_screen_table_is_refused_not_ignored(site, tmp_path, command):
    target = tmp_path / "x.csv"
    result = tally(*command, "-y", 2024, "-o", target, "-w", site.warehouse, code=2)
    assert "--format" in result.stderr and not target.exists()
