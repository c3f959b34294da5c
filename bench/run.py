"""`make bench`: time tally on inboxes of 100k and 1M rows (4M with BENCH_SIZES) against the floor.

Every measured step runs in a child process (`bench.step`) so that its peak memory is its own.
Prints one table and writes it to bench/results.md; the targets are reported, not asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.inbox import build_inbox, change_one_file

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("BENCH_DIR", "/tmp/tally-bench"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]
PROFILE_SIZE = int(os.environ.get("BENCH_PROFILE_SIZE", "1000000"))
GIB = 1024


def step(*args: str) -> dict:
    """Run one bench.step in a child process and return what it printed."""
    out = subprocess.run([sys.executable, "-m", "bench.step", *args], check=True,
                         capture_output=True, text=True, cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def xlsx_only(inbox: Path, to: Path) -> Path:
    """Hard-link the inbox's .xlsx files into an inbox of their own."""
    shutil.rmtree(to, ignore_errors=True)
    for path in inbox.rglob("*.xlsx"):
        target = to / path.relative_to(inbox)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
    return to


def measure(rows: int) -> dict:
    """Build one inbox and measure the floor, a full run, a run with nothing new and one change."""
    base = WORK / f"{rows}"
    inbox, warehouse = base / "inbox", base / "wh" / "tally.duckdb"
    shutil.rmtree(base, ignore_errors=True)
    t = time.perf_counter()
    made = build_inbox(inbox, rows)
    print(f"[{rows}] inbox built in {time.perf_counter() - t:.1f}s: {made}", flush=True)
    res = {"size": rows, "inbox": made}
    res["floor_csv"] = step("floor-csv", str(inbox))
    res["floor_xlsx"] = step("floor-xlsx", str(inbox))
    profile = base / "profile.txt"
    args = ["run", str(inbox), str(warehouse)] + ([str(profile)] if rows == PROFILE_SIZE else [])
    res["full"] = step(*args)
    print(f"[{rows}] full run {res['full']['wall']:.1f}s", flush=True)
    res["nothing_new"] = step("run", str(inbox), str(warehouse))
    change_one_file(inbox)
    res["one_changed"] = step("run", str(inbox), str(warehouse))
    xinbox = xlsx_only(inbox, base / "xlsx-inbox")
    res["xlsx_run"] = step("run", str(xinbox), str(base / "wh-xlsx" / "tally.duckdb"))
    if profile.exists():
        shutil.copy(profile, HERE / "profile-1M.txt")
    return res


def floor(r: dict) -> float:
    return r["floor_csv"]["wall"] + r["floor_xlsx"]["wall"]


STAGES = ("open+aside", "discover", "parse", "checks", "load", "build models", "validate+publish")


def table(results: list[dict]) -> str:
    """Return the results and the targets as Markdown."""
    lines = ["# tally benchmark", "",
             f"{os.cpu_count()} cores; python {sys.version.split()[0]}. Floor = DuckDB read_csv over the "
             "CSV glob (union_by_name) into a table + sum, plus fastexcel's bare read of the .xlsx. "
             "Each step ran in its own process; peak = its ru_maxrss.", "",
             "| rows | files csv/xlsx | step | wall s | rows/s | peak MiB | floor s | ×floor | "
             + " | ".join(STAGES) + " |",
             "|" + "---|" * (8 + len(STAGES))]
    for r in results:
        fl = floor(r)
        files = f"{r['inbox']['csv_files']}/{r['inbox']['xlsx_files']}"
        for name in ("full", "nothing_new", "one_changed", "xlsx_run"):
            m = r[name]
            shares = [f"{100 * m['stages'].get(s, 0) / m['wall']:.0f}%" for s in STAGES]
            rate = m["rows_loaded"] / m["wall"] if m["rows_loaded"] else 0
            ratio = f"{m['wall'] / fl:.1f}" if name == "full" else ""
            lines.append(f"| {r['inbox']['rows']:,} | {files} | {name} | {m['wall']:.1f} | {rate:,.0f} | "
                         f"{m['peak_mib']:.0f} | {fl:.1f} | {ratio} | " + " | ".join(shares) + " |")
        for name in ("floor_csv", "floor_xlsx"):
            m = r[name]
            lines.append(f"| {r['inbox']['rows']:,} | {files} | {name} | {m['wall']:.1f} | "
                         f"{m['rows'] / m['wall']:,.0f} | {m['peak_mib']:.0f} | | |" + " |" * len(STAGES))
    lines += ["", "## Targets (reported, not asserted)", "", "| target | value | met |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in targets(results)]
    return "\n".join(lines) + "\n"


def targets(results: list[dict]) -> list[tuple[str, str, bool]]:
    """Evaluate the issue's targets on the results."""
    out = []
    if len(results) >= 2:
        small, big = results[-2], results[-1]
        marginal = (big["full"]["wall"] - small["full"]["wall"]) / (floor(big) - floor(small))
        out.append((f"marginal cost (run {big['size']:,} − run {small['size']:,}) ÷ (floor − floor) ≤ 4",
                    f"{marginal:.1f}", marginal <= 4))
    for r in results:
        n = r["size"]
        noop, full, one = r["nothing_new"]["wall"], r["full"]["wall"], r["one_changed"]["wall"]
        out.append((f"{n:,}: run that finds nothing new ≤ 10 s", f"{noop:.1f} s", noop <= 10))
        share = (one - noop) / (full - noop)
        out.append((f"{n:,}: one changed file ≤ 25% of a full run's work above the fixed cost",
                    f"{100 * share:.1f}%", share <= 0.25))
        x = r["xlsx_run"]
        read = x["stages"]["discover"] + x["stages"]["parse"]
        bare = r["floor_xlsx"]["wall"]
        out.append((f"{n:,}: .xlsx discover+parse ≤ 1.5 × fastexcel bare read",
                    f"{read:.1f} s vs {bare:.1f} s = {read / bare:.1f}× (whole xlsx run {x['wall'] / bare:.1f}×)",
                    read <= 1.5 * bare))
        peak = max(r[k]["peak_mib"] for k in ("full", "nothing_new", "one_changed", "xlsx_run"))
        out.append((f"{n:,}: peak memory ≤ 2 GiB", f"{peak:.0f} MiB", peak <= 2 * GIB))
    return out


def main() -> None:
    """Measure every size, print the table and write bench/results.md and bench/results.json."""
    results = []
    for rows in SIZES:
        results.append(measure(rows))
        (HERE / "results.json").write_text(json.dumps(results, indent=1))
    text = table(results)
    (HERE / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
