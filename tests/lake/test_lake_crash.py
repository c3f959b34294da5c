"""A county load killed (SIGKILL) around its commit leaves the lake with all of it or none of it.

The load runs in a subprocess that stops just before its lake COMMIT (the `before_commit`
hook writes a marker and waits a moment); the test kills it there, during the commit or just
after, at a different delay each time. Then the lake holds the county's whole load or none of
it, and the next load completes with the whole load exactly once. Concurrent loads of different
counties all commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from test_lake_load import city_inbox, inspections, lake_query

from flows.load.lake import Lake
from flows.run.lake_run import load_county

LOADER = """
import sys, time
from pathlib import Path
from flows.load.lake import Lake
from flows.run.lake_run import load_county

def main():
    inbox, url, data, county, marker, wait = sys.argv[1:7]
    def hold():
        Path(marker).write_text("commit")
        time.sleep(float(wait))
    load_county(Path(inbox), Lake(url, Path(data)), county, checks=(), before_commit=hold)

if __name__ == "__main__":
    main()
"""


def start(script: Path, inbox: Path, lake: Lake, county: str, marker: Path, wait: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), str(inbox), lake.url, str(lake.data_path), county,
                             str(marker), str(wait)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def state(lake: Lake) -> tuple[int, int, int]:
    """(file versions, raw rows, runs) the lake holds for 西吉县."""
    return (lake_query(lake, "SELECT count(*) FROM lake.file_version_log WHERE scope = '西吉县'")[0][0],
            lake_query(lake, "SELECT count(*) FROM lake.raw.inspections WHERE _county = '640422'")[0][0],
            lake_query(lake, "SELECT count(*) FROM lake.runs")[0][0])


# Delays after the process reached its commit point: before the COMMIT, during it, after it.
@pytest.mark.parametrize("kill_after", [0.0, 0.15, 0.3, 0.6])
def test_sigkill_around_the_commit_leaves_all_or_nothing(tmp_path, catalog, kill_after):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    load_county(inbox, lake, "640423", checks=())  # another county already there: it must stay whole
    before = lake_query(lake, "SELECT count(*) FROM lake.raw.inspections")[0][0]
    script, marker = tmp_path / "load.py", tmp_path / "at-commit"
    script.write_text(LOADER, encoding="utf-8")
    proc = start(script, inbox, lake, "640422", marker, wait=0.15)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the load never reached its commit"
        time.sleep(0.01)
    time.sleep(kill_after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert state(lake) in ((0, 0, 1), (2, 3, 2))  # none of 西吉县's load, or all of it (and its run)
    assert lake_query(lake, "SELECT count(*) FROM lake.raw.inspections WHERE _county = '640423'")[0][0] == before

    load_county(inbox, lake, "640422", checks=())  # the next run completes: the whole load, once
    assert state(lake)[:2] == (2, 3)
    assert lake_query(lake, "SELECT count(*) FROM lake.file_versions WHERE scope = '西吉县' "
                            "AND status = 'loaded'")[0][0] == 2


def test_concurrent_county_loads_all_commit(tmp_path, catalog):
    inbox = tmp_path / "inbox"
    counties = ["640402", "640422", "640423", "640424", "640425"]
    for n, code in enumerate(counties, 1):
        for month in (3, 4):
            inspections(inbox / code / "inspections" / f"2024-{month:02d}.xlsx", month, n, month)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    load_county(inbox, lake, counties[0], checks=())  # the lake's tables exist before the rush
    script = tmp_path / "load.py"
    script.write_text(LOADER, encoding="utf-8")
    procs = [start(script, inbox, lake, code, tmp_path / f"m-{code}", wait=0.0) for code in counties[1:]]
    for proc in procs:
        _out, err = proc.communicate()
        assert proc.returncode == 0, err
    rows = lake_query(lake, "SELECT _county, count(*), sum(inspectors) FROM lake.raw.inspections GROUP BY 1 ORDER BY 1")
    assert rows == [(code, 4, 2 * n + 3 + 4) for n, code in enumerate(counties, 1)]
    ids = lake_query(lake, "SELECT count(DISTINCT version_id), count(*) FROM lake.file_version_log")
    assert ids == [(10, 10)]


def test_the_built_file_needs_no_extension(tmp_path, catalog):
    from flows.run.lake_run import build_from_lake

    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    load_county(inbox, lake, "640422", checks=())
    out = tmp_path / "city.duckdb"
    build_from_lake(lake, out)
    done = subprocess.run([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True, "
                           "config={'autoload_known_extensions': False}); "
                           "print(con.execute('SELECT count(*) FROM indicators').fetchone()[0])", str(out)],
                          capture_output=True, text=True, check=True)
    assert int(done.stdout) > 0
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_extensions() WHERE loaded AND extension_name "
                           "IN ('ducklake', 'postgres_scanner')").fetchone()[0] == 0
