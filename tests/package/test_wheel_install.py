"""`pip install` of tally's wheel gives a `tally` that starts and runs (issue 13, point 7).

The wheel is built from a copy of the checkout and installed by pip into a fresh virtual
environment without system site-packages, then `tally --help`, a one-file run and
`tally indicators` run from it, away from the checkout.

Its dependencies are not downloaded and unpacked again (some 130 distributions, one to two
minutes even from a local wheel cache): the distributions that the wheel's metadata requires,
followed through their own requirements, are linked into the fresh environment from this test's
environment, and nothing else is. A module that tally imports without declaring it, or that
belongs to an extra (xlwt, `tally[sample]`), is missing there as it is after `pip install
tally`, and `pip check` holds every linked version to what the wheel and its dependencies ask.
"""

from __future__ import annotations

import csv
import email.parser
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import flows

CHECKOUT = Path(flows.__file__).resolve().parents[1]
# What a build needs from the checkout: the project files and the folders the wheel carries.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "flows", "sql", "expectations")
HEADER = "检查日期,检查类型,检查对象,场所类型,出动人次,检查结果"
ROWS = ("2024-03-05,日常检查,某网吧,网吧,2,未发现问题", "2024-03-06,日常检查,某书店,书店,3,未发现问题")
DROPPED_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TALLY_CONFIG", "PYTHONSTARTUP")

pytestmark = pytest.mark.wheel


def build_wheel(out: Path) -> Path:
    """Build tally's wheel from a clean copy of the checkout with this environment's setuptools."""
    src = out / "src"
    src.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in BUILD_INPUTS:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=ignore)
        else:
            shutil.copy2(source, src / name)
    pip(sys.executable, "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--wheel-dir", str(out / "dist"), str(src))
    (wheel,) = (out / "dist").glob("tally-*.whl")
    return wheel


def pip(python: str, *args: str) -> str:
    """Run this environment's pip for the interpreter `python`; return its output."""
    done = subprocess.run([sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check",
                           *args], capture_output=True, text=True, env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def clean_env() -> dict[str, str]:
    """The environment without anything that would point Python or tally at the checkout."""
    return {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}


def requirements(wheel: Path) -> list[Requirement]:
    """Return the wheel's own Requires-Dist entries that apply without extras."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(name).decode("utf-8"))
    reqs = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def closure(reqs: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Return the installed distributions that `reqs` need, followed through their requirements."""
    found: dict[str, metadata.Distribution] = {}
    walked: set[tuple[str, str]] = set()
    todo = list(reqs)
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        extras = {""} | set(req.extras)
        if {(key, e) for e in extras} <= walked:
            continue
        walked |= {(key, e) for e in extras}
        dist = found.setdefault(key, metadata.distribution(req.name))
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return found


def link_into(site: Path, dists: dict[str, metadata.Distribution]) -> None:
    """Link each distribution's top-level files and folders into the site-packages `site`."""
    for dist in dists.values():
        assert dist.files is not None, f"{dist.metadata['Name']} has no RECORD: cannot tell its files"
        root = Path(dist.locate_file(""))
        for top in {f.parts[0] for f in dist.files}:
            if top in ("..", "__pycache__") or (site / top).exists():
                continue  # scripts outside site-packages; a folder two distributions share
            (site / top).symlink_to(root / top)


def tally(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed `tally` with `args` in `cwd`."""
    return subprocess.run([str(venv / "bin" / "tally"), *args], capture_output=True, text=True,
                          cwd=cwd, env=clean_env() | {"COLUMNS": "200"})


def test_the_wheel_carries_the_package_and_its_data_and_runs_from_a_fresh_venv(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "build")
    with zipfile.ZipFile(wheel) as zf:
        shipped = set(zf.namelist())

    def checkout_files(folder: str, pattern: str, inside: str) -> set[str]:
        top = CHECKOUT / folder
        return {f"{inside}/{p.relative_to(top).as_posix()}" for p in top.rglob(pattern)
                if "__pycache__" not in p.parts}

    assert checkout_files("flows", "*.py", "flows") <= shipped, "modules missing from the wheel"
    assert checkout_files("sql", "*.sql", "flows/_sql") <= shipped, "SQL models missing from the wheel"
    assert checkout_files("expectations", "*.json", "flows/_expectations") <= shipped
    assert checkout_files("flows/contract/data", "*", "flows/contract/data") <= shipped

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    link_into(site, closure(requirements(wheel)))
    pip(python, "install", "--no-deps", "--no-index", "--no-compile", str(wheel))
    assert "No broken requirements" in pip(python, "check")

    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run(
        [python, "-c", "import flows.resources as r, flows; print(flows.__file__); print(r.SQL_DIR); "
                       "print(r.EXPECTATIONS_DIR)"],
        capture_output=True, text=True, cwd=work, env=clean_env())
    assert where.returncode == 0, where.stderr
    package, sql, expectations = (Path(line) for line in where.stdout.splitlines())
    assert package.parent == site / "flows"  # the installed copy, not the checkout
    assert (sql, expectations) == (site / "flows" / "_sql", site / "flows" / "_expectations")

    helped = tally(venv, "--help", cwd=work)
    assert helped.returncode == 0, helped.stderr
    for command in ("run", "indicators", "problems", "report", "sample"):
        assert f" {command} " in helped.stdout, command

    # The sample generator is an extra: without it, one line says how to get it.
    sample = tally(venv, "sample", "--year", "2024", "--out-dir", str(work / "sample"), cwd=work)
    assert sample.returncode == 2, sample.stdout + sample.stderr
    said = [line for line in sample.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and "pip install 'tally[sample]'" in said[0], sample.stderr
    assert not (work / "sample").exists()

    inbox = work / "inbox" / "inspections"
    inbox.mkdir(parents=True)
    (inbox / "2024-03.csv").write_bytes("\r\n".join((HEADER, *ROWS, "")).encode("gbk"))
    warehouse = work / "warehouse" / "tally.duckdb"
    run = tally(venv, "run", "--inbox", str(work / "inbox"), "--warehouse", str(warehouse), cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = " ".join((run.stdout + run.stderr).split())
    assert "载入 loaded 1" in summary and "读取 read 2 · 载入 loaded 2 · 隔离 quarantined 0" in summary, summary

    shown = tally(venv, "indicators", "--year", "2024", "--warehouse", str(warehouse), "--format", "csv",
                  cwd=work)
    assert shown.returncode == 0, shown.stderr
    figures = {r["code"]: r for r in csv.DictReader(io.StringIO(shown.stdout))}
    assert (figures["inspector_person_times"]["value"], figures["inspector_person_times"]["printed"]) == (
        "5", "5余人次")
    assert (figures["venue_inspections"]["value"], figures["venue_inspections"]["printed"]) == ("2", "2余家次")
    # No case register was submitted for 2024: the figure has no value, and prints as —.
    assert (figures["cases_filed"]["value"], figures["cases_filed"]["printed"]) == ("", "—")

    # The run leaves its Data Docs to a detached child; let it finish before the folder goes.
    for _ in range(600):
        if not list(warehouse.parent.glob(".docs-job-*.json")):
            break
        time.sleep(0.5)
