"""Issue 17's crash test: a county load SIGKILLed in each phase of its lake commit, ten times.

The load runs in a subprocess that stops at a chosen point of `flows.load.lake.publish`: after
the n-th of its appends (the load history, the supersession events, the raw rows of each
ledger, the problems, the run), at the `before_commit` hook, or around and after the COMMIT.
The test kills it there with SIGKILL. Each time the lake must hold the whole load or none of
it (a load killed before its COMMIT: none), another county's rows untouched, and the next load
must complete with the load exactly once.

Each round submits a corrected version of the same month, so every round's load also appends
a supersession. `make test` runs 3 rounds (one per kind of phase); `make crash` runs all 10
(`TALLY_CRASH_ROUNDS=10`): each round starts a Python process and loads twice, about 10 s on a
loaded two-core machine, more than the suite's budget for one test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from ledgerfiles import write_xlsx
from test_lake_load import INSPECTIONS, city_inbox, lake_query

from flows.load.lake import Lake
from flows.run.lake_run import load_county

HANG_GUARD_S = 180  # a guard against a hang only

# Where each round kills the load. ("append", n): right after publish's n-th INSERT (1 the load
# history, 2 the supersessions, 3–12 the raw tables of the ten ledgers, 13–16 problems,
# quarantined rows, skipped rows, the run); ("commit", s): s seconds after the load reached
# `before_commit`, which then waits 0.15 s before its COMMIT (0: before it; 0.15: during it;
# 0.6: after it, while the process ends).
PHASES = [("append", 1), ("append", 2), ("append", 3), ("append", 8), ("append", 12),
          ("append", 13), ("append", 16), ("commit", 0.0), ("commit", 0.15), ("commit", 0.6)]
SUITE = [("append", 3), ("commit", 0.0), ("commit", 0.15)]  # one of each kind
ROUNDS = PHASES if os.environ.get("TALLY_CRASH_ROUNDS") == "10" else SUITE

LOADER = """
import sys, time
from pathlib import Path
import flows.load.lake as store
from flows.load.lake import Lake
from flows.run.lake_run import load_county

def main():
    inbox, url, data, county, marker, kind, at = sys.argv[1:8]
    appends = 0
    real_insert = store.insert

    def insert(con, target, select):
        nonlocal appends
        rows = real_insert(con, target, select)
        appends += 1
        if kind == "append" and appends == int(at):
            Path(marker).write_text(target)
            time.sleep(3600)  # killed here
        return rows

    def hold():
        Path(marker).write_text("commit")
        time.sleep(0.15)

    store.insert = insert
    load_county(Path(inbox), Lake(url, Path(data)), county, checks=(), before_commit=hold)

if __name__ == "__main__":
    main()
"""


def state(lake: Lake) -> tuple[int, int, int, int]:
    """(file versions, raw rows, supersessions, runs) the lake holds for 西吉县 (the runs: all counties')."""
    return (lake_query(lake, "SELECT count(*) FROM lake.file_version_log WHERE scope = '西吉县'")[0][0],
            lake_query(lake, "SELECT count(*) FROM lake.raw.inspections WHERE _county = '640422'")[0][0],
            lake_query(lake, "SELECT count(*) FROM lake.supersessions")[0][0],
            lake_query(lake, "SELECT count(*) FROM lake.runs")[0][0])


def correction(inbox: Path, round_: int) -> Path:
    """A corrected March for 西吉县: version round_ + 2, two rows (round_ + 1 and 1 inspectors)."""
    path = inbox / "西吉县" / "inspections" / f"2024-03_v{round_ + 2}.xlsx"
    rows = [[i, date(2024, 3, i), "日常检查", f"场所{i}", "网吧", n, "张三", "未发现问题"]
            for i, n in enumerate([round_ + 1, 1], 1)]
    write_xlsx(path, {"S": [INSPECTIONS, *rows]})
    return path


def test_a_load_killed_in_each_phase_of_its_commit_leaves_all_or_nothing(tmp_path, catalog):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    load_county(inbox, lake, "640423", checks=())  # another county: it must stay whole
    load_county(inbox, lake, "640422", checks=())
    others = lake_query(lake, "SELECT count(*), sum(inspectors) FROM lake.raw.inspections WHERE _county = '640423'")
    script = tmp_path / "load.py"
    script.write_text(LOADER, encoding="utf-8")
    outcomes = []
    for round_, (kind, at) in enumerate(ROUNDS):
        path = correction(inbox, round_)
        before = state(lake)
        whole = (before[0] + 1, before[1] + 2, before[2] + 1, before[3] + 1)  # one file, two rows, one event, a run
        marker = tmp_path / f"at-{round_}"
        proc = subprocess.Popen([sys.executable, str(script), str(inbox), lake.url, str(lake.data_path), "640422",
                                 str(marker), kind, str(at)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        guard = time.monotonic() + HANG_GUARD_S
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < guard, f"round {round_}: the load never reached {kind} {at}"
            time.sleep(0.01)
        if kind == "commit":
            time.sleep(at)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

        after = state(lake)
        outcomes.append((kind, at, "whole" if after == whole else "none" if after == before else after))
        assert after in (before, whole), f"round {round_} ({kind} {at}): {before} → {after}"
        if kind == "append" or (kind, at) == ("commit", 0.0):
            assert after == before, f"killed before its COMMIT, yet the lake has it (round {round_})"
        assert lake_query(lake, "SELECT count(*), sum(inspectors) FROM lake.raw.inspections "
                                "WHERE _county = '640423'") == others

        again = load_county(inbox, lake, "640422", checks=())  # the next load completes
        ran = 1 if after == whole else 0  # it had nothing left to load: only its run is recorded
        assert state(lake) == (*whole[:3], whole[3] + ran), f"round {round_}: {state(lake)}"
        assert again.ingested.summary.files_loaded == (1 if after == before else 0)
        rel = path.relative_to(inbox).as_posix()
        assert lake_query(lake, "SELECT path FROM lake.file_versions WHERE scope = '西吉县' AND period = '2024-03' "
                                "AND status = 'loaded'") == [(rel,)]
    print("kills:", outcomes)
    # The corrected March counts once, as last corrected; April stays as loaded.
    last = len(ROUNDS) - 1
    assert lake_query(lake, "SELECT sum(r.inspectors) FROM lake.raw.inspections AS r JOIN lake.file_versions AS v "
                            "ON v.version_id = r._version_id WHERE v.status = 'loaded' AND r._county = '640422'") == [
        (last + 1 + 1 + 4,)]

