"""One measured step, run in a child process so that its peak memory is its own.

`python -m bench.step run <inbox> <warehouse> [profile.txt]` runs the whole pipeline stage by
stage (the same calls as `flows.run.pipeline.run_pipeline`) and prints JSON: the seconds of each
stage, the rows loaded and ru_maxrss; with a profile path it runs under pyinstrument (never a
measured run). `floor-csv` and `floor-xlsx` time the bare readers; `flow-noop` times the Prefect
flow on an inbox that holds nothing new, cold (temporary server started) and warm.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_mib() -> float:
    """Return this process's peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_stages(inbox: Path, warehouse: Path) -> dict:
    """Run the pipeline on inbox → warehouse; return the seconds of each stage and the counts."""
    from flows.publish import swap as publish
    from flows.run import ingest, pipeline

    stages: dict[str, float] = {}
    checks_seconds = [0.0]
    real_checks = ingest.run_checks

    def timed_checks(prepared, checks):
        t = time.perf_counter()
        try:
            return real_checks(prepared, checks)
        finally:
            checks_seconds[0] += time.perf_counter() - t

    # check_and_load looks run_checks up in its module: time it there, to split checks from load.
    ingest.run_checks = timed_checks
    # The pipeline also checks and loads during parsing, every FLUSH_ROWS rows: time that too.
    load_seconds = [0.0]
    real_check_and_load = pipeline.check_and_load

    def timed_check_and_load(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real_check_and_load(*args, **kwargs)
        finally:
            load_seconds[0] += time.perf_counter() - t

    pipeline.check_and_load = timed_check_and_load
    # So are the commits of those batches: they are the load's work, not the parse's.
    real_commit = pipeline.commit_batch

    def timed_commit(run_):
        t = time.perf_counter()
        try:
            return real_commit(run_)
        finally:
            load_seconds[0] += time.perf_counter() - t

    pipeline.commit_batch = timed_commit
    run = pipeline.Run(inbox, warehouse, pipeline.new_run_id())
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - mark
        mark = now

    start = mark
    with publish.run_lock(warehouse, run_id=run.run_id):
        # As run_pipeline does: a run that finds nothing new publishes nothing.
        if (unchanged := pipeline.nothing_new(run)) is not None:
            lap("discover")
            s = unchanged.summary
            return {"wall": time.perf_counter() - start, "stages": stages, "rows_loaded": 0,
                    "files_loaded": 0, "files_unchanged": s.files_unchanged,
                    "files_rejected": 0, "rows_quarantined": 0}
        pipeline.start_readers(run)  # as run_pipeline does
        pipeline.open_run(run)
        lap("open+aside")
        sources = pipeline.discover_new(run)
        lap("discover")
        for batch in pipeline.batches(sources):
            pipeline.parse_batch(run, batch)
        lap("parse")
        loaded_while_parsing = load_seconds[0]
        pipeline.load(run)
        lap("checks+load")
        pipeline.transform(run)
        lap("build models")
        pipeline.validate(run)
        result = pipeline.publish_run(run, pipeline.finish(run))
        docs = run.docs
        lap("validate+publish")
    stages["parse"] -= loaded_while_parsing
    stages["checks"] = checks_seconds[0]
    stages["load"] = stages.pop("checks+load") + loaded_while_parsing - checks_seconds[0]
    wall = time.perf_counter() - start
    # The Data Docs render in a child process after the swap, outside the run: wait for it so
    # that it does not run into the next measured step, and report it apart.
    docs_s = 0.0
    if docs is not None:
        docs.wait()
        docs_s = time.perf_counter() - start - wall
    s = result.summary
    return {"wall": wall, "docs_after_s": docs_s, "stages": stages, "rows_loaded": s.rows_loaded,
            "files_loaded": s.files_loaded, "files_unchanged": s.files_unchanged,
            "files_rejected": s.files_rejected, "rows_quarantined": s.rows_quarantined}


def floor_csv(inbox: Path) -> dict:
    """Read each ledger's CSVs with DuckDB into a table of its own, as text, and sum one column.

    As text because DuckDB's type sniffer, not its reader, dominates a typed read of many
    files (a tenth of the 1M inbox's wechat_posts rows took 21 s typed, 1.9 s as text).
    """
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 2")
    rows = 0
    for code in sorted({path.parent.name for path in inbox.glob("*/*/*.csv")}):
        table = f"t_{code}"
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_csv(?, all_varchar = true)',
                    [str(inbox / "*" / code / "*.csv")])
        rows += con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    total = con.execute('SELECT sum(TRY_CAST("出动人次" AS BIGINT)) FROM t_inspections').fetchone()[0]
    return {"wall": time.perf_counter() - start, "rows": rows, "sum": total}


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
