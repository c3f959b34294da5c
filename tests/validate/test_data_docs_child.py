"""The Data Docs child renders what an in-process render does, for the run's own suites.

The child (`python -m flows.validate.data_docs`) imports GX without SQLAlchemy, with the
garbage collector off, and exits without tearing down its modules: none of that may change a
page. Both renders are compared page by page, the run's time and GX's generated ids aside.
"""

from __future__ import annotations

import re
from pathlib import Path

from flows.validate.data_docs import LOG_NAME, render, render_later
from flows.validate.sheet_suites import ExpectationTally
from flows.validate.suites import load_suite

# What differs between two renders of the same results: the run's time and generated ids.
VARYING = (
    (re.compile(r"\d{8}T\d{6}\.\d+Z"), "RUN"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:\+00:00|Z)?"), "TIME"),
    (re.compile(r"'_run_time_sort': [0-9.]+"), "SORT"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "UUID"),
    (re.compile(r"[0-9a-f]{32}"), "HEX"),
)


def pages(folder: Path) -> dict[str, str]:
    out = {}
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for pattern, stand_in in VARYING:
            text = pattern.sub(stand_in, text)
        out[VARYING[0][0].sub("RUN", page.relative_to(folder).as_posix())] = text
    return out


def tallies() -> dict[str, list[ExpectationTally]]:
    out = {}
    for code in ("inspections", "wechat_posts"):
        suite = load_suite(code)["expectations"]
        out[code] = [ExpectationTally(e, element_count=40, missing_count=i % 2, unexpected_count=i % 3,
                                      partial=["<b>链接</b>", 7] if i % 3 else [])
                     for i, e in enumerate(suite)]  # fmt: skip
    return out


def test_the_child_renders_the_pages_an_in_process_render_does(tmp_path):
    found = tallies()
    here = render(found, tmp_path / "here" / "docs")
    child = render_later(tmp_path / "child" / "docs", found)
    assert child is not None and child.wait(timeout=600) == 0, (  # the timeout: a guard only
        (tmp_path / "child" / LOG_NAME).read_text(errors="replace"))
    expected, got = pages(here.parent), pages(tmp_path / "child" / "docs")
    assert len(expected) == 5  # the index, two suites, their two validations
    assert got.keys() == expected.keys()
    for name, text in expected.items():
        assert got[name] == text, name
    assert "&lt;b&gt;链接&lt;/b&gt;" in "".join(got.values())  # the tallies' values are on the pages
    assert not list((tmp_path / "child").glob(".docs-job-*.json"))  # the job file is cleaned up


def test_a_child_that_fails_says_why_in_the_log_and_exits_1(tmp_path):
    folder = tmp_path / "docs"
    folder.write_text("a file where the docs folder should be")
    child = render_later(folder, tallies())
    assert child is not None and child.wait(timeout=600) == 1  # the timeout: a guard only
    log = (tmp_path / LOG_NAME).read_text(errors="replace")
    assert "Traceback" in log and "FileExistsError" in log
    assert not list(tmp_path.glob(".docs-job-*.json"))
