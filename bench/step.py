"""One measured step, run in a child process so that its peak memory is its own.

`python -m bench.step run <inbox> <warehouse> [profile.txt]` runs the whole pipeline
(`flows.run.stages.run`, timing each stage through its `call`) and prints JSON: the seconds of each
stage, the rows loaded and ru_maxrss; with a profile path it runs under pyinstrument (never a
measured run). `floor-csv` and `floor-xlsx` time the bare readers; `flow-noop` times the Prefect
flow on an inbox that holds nothing new, cold (temporary server started) and warm.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
from pathlib import Path


def peak_mib() -> float:
    """Return this process's peak resident memory in MiB: Linux's VmHWM, else ru_maxrss.

    Not ru_maxrss where VmHWM is there: Linux keeps ru_maxrss across exec, so a step started by a
    bench holding 433 MiB (after building an inbox) reported 433 MiB for a run that peaked at 122.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# The bench's names for the stages' seconds (bench/report.py reads these).
STAGE_NAMES = {"survey": "open+aside", "open": "open+aside", "discover": "discover", "extract": "parse",
               "validate": "checks", "load": "load", "transform": "build models",
               "check": "validate+publish", "finish": "validate+publish", "publish": "validate+publish"}


def run_stages(inbox: Path, warehouse: Path) -> dict:
    """Run the pipeline on inbox → warehouse; return the seconds of each stage and the counts.

    The run is `flows.run.stages.run`, as `tally run` runs it, with a `call` that times each stage.
    """
    from flows.run import stages as run_stages_

    seconds: dict[str, float] = {}

    def timed(stage, *args):
        t = time.perf_counter()
        try:
            return stage.run(*args)
        finally:
            seconds[stage.name] = seconds.get(stage.name, 0.0) + time.perf_counter() - t

    ctx = run_stages_.Context(inbox, warehouse)
    start = time.perf_counter()
    result = run_stages_.run(ctx, call=timed)
    wall = time.perf_counter() - start
    stages: dict[str, float] = {}
    if "open" not in seconds:  # nothing new: the survey was the whole run
        stages["discover"] = seconds.get("survey", 0.0)
        s = result.summary
        return {"wall": wall, "stages": stages, "rows_loaded": 0, "files_loaded": 0,
                "files_unchanged": s.files_unchanged, "files_rejected": 0, "rows_quarantined": 0}
    for name, s in seconds.items():
        stages[STAGE_NAMES[name]] = stages.get(STAGE_NAMES[name], 0.0) + s
    # The Data Docs render in a child process after the swap, outside the run: wait for it so
    # that it does not run into the next measured step, and report it apart.
    docs_s = 0.0
    if result.docs is not None:
        result.docs.wait()
        docs_s = time.perf_counter() - start - wall
    s = result.summary
    return {"wall": wall, "docs_after_s": docs_s, "stages": stages, "rows_loaded": s.rows_loaded,
            "files_loaded": s.files_loaded, "files_unchanged": s.files_unchanged,
            "files_rejected": s.files_rejected, "rows_quarantined": s.rows_quarantined}


def floor_csv(inbox: Path) -> dict:
    """Read each ledger's CSVs with DuckDB (one list of files per ledger) into a table of its own,
    as text, and sum one column.

    As text because DuckDB's type sniffer, not its reader, dominates a typed read of many
    files (a tenth of the 1M inbox's wechat_posts rows took 21 s typed, 1.9 s as text).
    Into a database file, as issue 16 defines the floor (and as tally writes its warehouse):
    until 2026-12-01 the tables were in memory, which spares DuckDB compressing and writing
    the rows (about two thirds of tally's own insert) and made every ratio larger.
    """
    import tempfile

    import duckdb

    start = time.perf_counter()
    scratch = tempfile.TemporaryDirectory(prefix="floor-", dir=os.environ.get("BENCH_DIR"))
    con = duckdb.connect(str(Path(scratch.name) / "floor.duckdb"))
    con.execute("SET threads = 2")
    rows = 0
    # <county>/<ledger>/<month>.csv or, in a big-file inbox, <ledger>/<month>.csv: by the folder's name
    files: dict[str, list[str]] = {}
    for path in sorted(inbox.rglob("*.csv")):
        files.setdefault(path.parent.name, []).append(str(path))
    for code, paths in sorted(files.items()):
        table = f"t_{code}"
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_csv(?, all_varchar = true)', [paths])
        rows += con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    total = con.execute('SELECT sum(TRY_CAST("出动人次" AS BIGINT)) FROM t_inspections').fetchone()[0]
    con.close()  # the checkpoint that puts the rows in the file is part of the floor
    wall = time.perf_counter() - start
    scratch.cleanup()
    return {"wall": wall, "rows": rows, "sum": total}


def floor_xlsx(inbox: Path) -> dict:
    """Read every .xlsx of the inbox with fastexcel, bare: first sheet to Arrow, nothing else."""
    import fastexcel

    start = time.perf_counter()
    rows = 0
    for path in sorted(inbox.rglob("*.xlsx")):
        reader = fastexcel.read_excel(str(path))
        rows += reader.load_sheet(0).to_arrow().num_rows
    return {"wall": time.perf_counter() - start, "rows": rows}


def flow_noop(inbox: Path, warehouse: Path) -> dict:
    """Run the Prefect flow twice on an inbox with nothing new: cold (server start) and warm."""
    import os

    home = os.environ.get("PREFECT_HOME")
    fresh_home = home is not None and not (Path(home) / "prefect.db").exists()
    start = time.perf_counter()
    from flows.run.prefect_flow import tally_run

    imported = time.perf_counter()
    first = tally_run(inbox=str(inbox), warehouse=str(warehouse))
    cold = time.perf_counter()
    tally_run(inbox=str(inbox), warehouse=str(warehouse))
    warm = time.perf_counter()
    return {"wall": cold - start, "import": imported - start, "warm": warm - cold, "fresh_home": fresh_home,
            "files_unchanged": first.get("files_unchanged"), "rows_loaded": first.get("rows_loaded", 0)}


def profiled(inbox: Path, warehouse: Path, profile_to: Path) -> dict:
    """Run the pipeline under pyinstrument and write its profile; the timings are not a measurement."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    out = run_stages(inbox, warehouse)
    profiler.stop()
    profile_to.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return out


def main(argv: list[str]) -> None:
    """Run the step named by argv and print its result as JSON."""
    step, inbox = argv[0], Path(argv[1])
    if step == "run" and len(argv) > 3:
        out = profiled(inbox, Path(argv[2]), Path(argv[3]))
    elif step == "run":
        out = run_stages(inbox, Path(argv[2]))
    elif step == "flow-noop":
        out = flow_noop(inbox, Path(argv[2]))
    elif step == "floor-csv":
        out = floor_csv(inbox)
    elif step == "floor-xlsx":
        out = floor_xlsx(inbox)
    else:
        raise SystemExit(f"unknown step {step}")
    out["peak_mib"] = peak_mib()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
