"""Measure what Prefect costs on top of the plain pipeline, on an inbox of many small files.

`python -m bench.orchestration [--files 1000] [--batch-sizes 50,1] [--repeat 1]` writes an inbox
of small CSV ledgers (84 townships × 12 months), runs the plain pipeline and the Prefect flow
(once per batch size), each into a fresh warehouse, under Prefect's temporary local server, and
prints the best of `--repeat` runs of each and the overhead per file. Writing the inbox is not
measured. On a busy machine the noise is of the order of seconds: repeat.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

HEADER = "序号,检查日期,检查类型,检查对象,场所类型,出动人次,执法人员,检查结果\n"


def write_inbox(inbox: Path, files: int) -> None:
    """Write `files` one-month inspection ledgers, three rows each, spread over townships."""
    for n in range(files):
        township, month = divmod(n, 12)
        path = inbox / f"乡镇{township:03d}" / "inspections" / f"2024-{month + 1:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = "".join(f"{i},2024-{month + 1:02d}-0{i},日常检查,场所{i},网吧,{i + 1},张三,未发现问题\n"
                       for i in range(1, 4))
        path.write_text(HEADER + rows, encoding="utf-8")


def timed(label: str, call, repeat: int) -> tuple[str, float]:
    """Return the label and the best wall time of `repeat` calls (each into a fresh warehouse)."""
    best = float("inf")
    for attempt in range(repeat):
        start = time.perf_counter()
        call(attempt)
        best = min(best, time.perf_counter() - start)
    return label, best


def main() -> None:
    """Write the inbox, run plain and Prefect, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--batch-sizes", default="50,1")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tally-orchestration-"))
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # the API still receives the logs
    os.environ.setdefault("TALLY_HASH_KEY", "tally-bench-8e4f2a6c1d9b3e7f5a0c2d4e6f8a1b3c")
    inbox = work / "inbox"
    write_inbox(inbox, args.files)

    from prefect.testing.utilities import prefect_test_harness

    from flows.run.pipeline import run_pipeline
    from flows.run.prefect_flow import tally_run

    results = []
    with prefect_test_harness(server_startup_timeout=120):
        tally_run(inbox=str(inbox), warehouse=str(work / "warm" / "tally.duckdb"), batch_size=50)
        results.append(timed("plain pipeline", lambda n: run_pipeline(inbox, work / f"plain-{n}" / "tally.duckdb"),
                             args.repeat))
        for size in [int(s) for s in args.batch_sizes.split(",")]:
            results.append(timed(
                f"flow, batch_size={size}",
                lambda n, s=size: tally_run(inbox=str(inbox), warehouse=str(work / f"flow-{s}-{n}" / "tally.duckdb"),
                                            batch_size=s),
                args.repeat,
            ))
    base = results[0][1]
    print(f"{args.files} files, {3 * args.files} rows; warm-up run not counted")
    print(f"{'':<24}{'seconds':>10}{'overhead':>10}{'ms/file':>10}")
    for label, seconds in results:
        extra = seconds - base
        print(f"{label:<24}{seconds:>10.1f}{extra:>10.1f}{1000 * extra / args.files:>10.2f}")


if __name__ == "__main__":
    main()
