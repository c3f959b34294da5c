"""Everything from a spreadsheet is data: no output runs markup, HTML or terminal codes from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app, output
from flows.cli.output import visible
from flows.report.markdown import md_text

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
COUNTY = "<img src=x onerror=alert(1)>县[b]"
VENUE = "网吧\x1b]0;pwned\x07\x1b[31m红[/b]"  # retitles and recolours a terminal, closes a rich tag
ESC = "\x1b"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A bureau folder whose one run loaded hostile folder, file, header and cell text."""
    root = tmp_path_factory.mktemp("hostile")
    rows = [[1, "2024-03-01", "日常检查", VENUE, "网吧", 2, "张三、李四", "未发现问题"],
            [2, "2024-03-02", "日常检查", "[/]场所2", "网吧", "x[/b]", "张三、李四", "未发现问题"]]
    write_xlsx(root / "inbox" / COUNTY / "inspections" / "2024-03[x].xlsx",
               {"表": [[*HEADER, "[/b]备注"], *rows]})
    write_xlsx(root / "inbox" / COUNTY / "inspections" / "[bold]无日期[/].xlsx", {"表": [HEADER]})
    notified = root / "notified.txt"
    (root / "tally.toml").write_text(
        'inbox = "inbox"\nwarehouse = "warehouse/tally.duckdb"\n'
        f"[notify]\ncommand = \"sh -c 'cat > {notified}'\"\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(root / "tally.toml")])
    assert result.exit_code == 0, result.output
    assert "[bold]无日期[/].xlsx" in result.output.replace("\n", "")  # the rejected file, as named
    assert notified.exists()  # printing the summary did not stop the notification
    return root


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """A wide terminal, so that a table cell is never folded across lines."""
    monkeypatch.setattr(output.out, "width", 1000)
    monkeypatch.setattr(output.console, "width", 1000)


def tally(site: Path, *args: str):
    result = CliRunner().invoke(app, [*args, "--config", str(site / "tally.toml")])
    assert ESC not in result.output and "\x07" not in result.output
    return result


def test_visible_shows_control_characters_and_keeps_layout():
    assert visible("a\x1b[31mb\x07c\x9bd\u202ee\tf\ng") == "a\\x1b[31mb\\x07c\\x9bd\\u202ee\tf\ng"
    assert visible(None) == "" and visible(12) == "12" and visible("县[b]") == "县[b]"


def test_files_shows_paths_and_headers_as_written(site):
    result = tally(site, "files")
    assert result.exit_code == 0, result.output
    assert f"{COUNTY}/inspections/2024-03[x].xlsx" in result.output
    csv = tally(site, "files", "--format", "json")
    assert any("[/b]备注" in (row["ignored_columns"] or []) for row in json.loads(csv.stdout))


def test_problems_shows_markup_in_values_and_paths_as_text(site):
    result = tally(site, "problems", "--year", "2024")
    assert result.exit_code == 0, result.output
    assert "x[/b]" in result.output and f"{COUNTY}/inspections/2024-03[x].xlsx（表）" in result.output


def test_explain_writes_terminal_escapes_as_text(site):
    result = tally(site, "explain", "venue_inspections", "--year", "2024")
    assert result.exit_code == 0, result.output
    assert "网吧]0;pwned[31m红[/b]" in result.output  # the reader drops control characters; markup stays text


def test_the_markdown_report_escapes_a_county_folder_name(site):
    result = tally(site, "report", "--year", "2024", "--format", "md", "--output", "-")
    assert result.exit_code == 0, result.output
    assert re.search(r"(?<!\\)[<>]", result.stdout) is None  # every < and > is backslashed
    assert "\\<img src=x onerror=alert(1)\\>县\\[b\\]" in result.stdout


def test_markdown_text_is_literal():
    assert md_text("<script>x</script> a|b `c` [l](u) **d** &lt; _e_ f_g\nh") == (
        "\\<script\\>x\\</script\\> a\\|b \\`c\\` \\[l\\](u) \\*\\*d\\*\\* \\&lt; \\_e\\_ f_g h")


def test_check_draft_shows_markup_in_a_draft_as_text(site):
    draft = site / "草稿[b].txt"
    draft.write_text("一、执法检查[/]\n全年检查[/b]1家次，出动执法人员[/]99人次。\n另有[/i]资金[/]35万元[/b]。\n",
                     encoding="utf-8")
    result = tally(site, "check-draft", str(draft), "--year", "2024")
    assert result.exit_code == 1, result.output  # 99 人次 disagrees
    assert "第3行 35万元：另有[/i]资金[/]35万元[/b]。" in result.output


def test_the_html_report_escapes_a_county_folder_name(site, tmp_path):
    out = tmp_path / "r.html"
    result = tally(site, "report", "--year", "2024", "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "<img src=x" not in out.read_text(encoding="utf-8")


def test_data_docs_escape_the_unexpected_values_gx_shows(tmp_path):
    from flows.validate.data_docs import render
    from flows.validate.sheet_suites import ExpectationTally
    from flows.validate.suites import load_suite

    suite = load_suite("wechat_posts")
    hostile = ['<script>alert("链接")</script>', "<b>x</b>&"]
    tallies = [ExpectationTally(e, element_count=3, unexpected_count=2, partial=hostile)
               for e in suite["expectations"]]
    index = render({"wechat_posts": tallies}, tmp_path / "docs")
    pages = "".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    assert "<script>alert" not in pages and "<b>x</b>" not in pages
    assert "&lt;script&gt;alert(&quot;链接&quot;)&lt;/script&gt;" in pages


def test_the_run_summary_artifact_escapes_paths_and_reasons():
    from datetime import UTC, datetime

    from flows.load.loader import RunSummary
    from flows.run.pipeline import RunResult, summary_markdown

    summary = RunSummary(run_id="r", files_rejected=1,
                         rejected=[("<img src=x onerror=alert(1)>县/a`b`.xlsx", "表", "首行「<script>x</script>」不是表头")])
    now = datetime.now(UTC)
    text = summary_markdown(RunResult(summary, Path("inbox"), "completed", now, now, "**done**"))
    assert re.search(r"(?<!\\)[<>`*]", text.split("## 退回的文件", 1)[1]) is None
    assert "\\<img src=x onerror=alert(1)\\>县/a\\`b\\`.xlsx" in text and "\\*\\*done\\*\\*" in text


def test_json_output_writes_control_characters_as_escapes(capsys):
    import polars as pl

    output.emit(pl.DataFrame({"label": ["a\x1b[31mb\x9bc\u202ed"]}), "json")
    text = capsys.readouterr().out
    assert re.search("[\x00-\x1f\x7f-\x9f\u202e]", text.replace("\n", "")) is None
    assert json.loads(text) == [{"label": "a\x1b[31mb\x9bc\u202ed"}]
