"""One measured step, run in a child process so that its peak memory is its own.

`python -m bench.step run <inbox> <warehouse> [profile.txt]` runs the whole pipeline stage by
stage (the same calls as `flows.pipeline.run_pipeline`) and prints JSON: the seconds of each
stage, the rows loaded and ru_maxrss. `floor-csv` and `floor-xlsx` time the bare readers.
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
    from flows import ingest, pipeline, publish

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
        lap("validate+publish")
    stages["parse"] -= loaded_while_parsing
    stages["checks"] = checks_seconds[0]
    stages["load"] = stages.pop("checks+load") + loaded_while_parsing - checks_seconds[0]
    s = result.summary
    return {"wall": time.perf_counter() - start, "stages": stages, "rows_loaded": s.rows_loaded,
            "files_loaded": s.files_loaded, "files_unchanged": s.files_unchanged,
            "files_rejected": s.files_rejected, "rows_quarantined": s.rows_quarantined}


def floor_csv(inbox: Path) -> dict:
    """Read every CSV of the inbox with DuckDB into a table and sum one column."""
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {2}")
    pattern = str(inbox / "**" / "*.csv")
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, union_by_name = true, all_varchar = false)",
                [pattern])
    rows, total = con.execute('SELECT count(*), sum("出动人次") FROM t').fetchone()
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


def main(argv: list[str]) -> None:
    """Run the step named by argv and print its result as JSON."""
    step, inbox = argv[0], Path(argv[1])
    if step == "run":
        profile_to = Path(argv[3]) if len(argv) > 3 else None
        if profile_to:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.005)
            profiler.start()
        out = run_stages(inbox, Path(argv[2]))
        if profile_to:
            profiler.stop()
            profile_to.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
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
