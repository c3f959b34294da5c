"""`make bench`: time tally on inboxes of 100k, 1M and 4M rows against a floor measured in the same run.

Two shapes of inbox (issue 16): many small files (a folder per county, a file per ledger and
month in each) and the shape a city sends, one big file per ledger and month (`bench/big.py`),
at 1M and 4M rows, plus a mixed inbox (half the counties merged, half as they are) at 4M. The
big shapes are made from the small-file inbox of the same size, so the rows are the same.

Every measured step runs in a child process (`bench.step`) so that its peak memory is its own;
none runs under a profiler (BENCH_PROFILE=1 adds an unmeasured profiled run at the end).
The whole bench keeps to BENCH_BUDGET_S (840 s): a size or an optional step that its
predicted cost would push past the budget is skipped, a step that overruns is stopped, and
the report says so. Prints one table and writes it to bench/results.md and bench/results.json
(BENCH_OUT elsewhere); the targets are reported, not asserted.

Knobs: BENCH_SIZES (100000,1000000,4000000), BENCH_DIR (/tmp/tally-bench: inboxes, reused
when their manifest matches), BENCH_XLSX_MAX (largest size with an .xlsx-only run, 4000000), BENCH_REPEATS (times the floors
and the full run are measured, the fastest kept: the machine is shared, 2),
BENCH_FLOW_SIZE (the size whose nothing-new run also goes through the Prefect flow, 1000000;
0: none), BENCH_BUDGET_S, BENCH_PROFILE=1 and BENCH_PROFILE_SIZE (1000000), BENCH_OUT (bench/),
BENCH_BIG_SIZES (1000000,4000000) and BENCH_MIXED_SIZES (4000000): the sizes of the big and
mixed shapes ("" for none). Each run step's peak memory is reported twice: its own peak (VmHWM)
and the whole process tree's (reader workers and the Data Docs' child included, `bench/tree.py`).

The consolidation step (issue 17, `bench/consolidation.py`) runs last: BENCH_COUNTIES (22: the
province; 0: none; 100: synthetic counties beside the 22) loaded at once into a lake on a
throwaway PostgreSQL by BENCH_CONSOLIDATION_WORKERS (2) worker processes. It keeps back
BENCH_CONSOLIDATION_S of the budget (7 s a county: 154 s for 22; it took 91 s on a quiet machine on 2026-12-01), which the sizes cannot use;
with 100 counties raise BENCH_BUDGET_S (or narrow BENCH_SIZES). Its table is appended to
results.md and its figures are under "consolidation" in results.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.big import build_shape, changed_file
from bench.inbox import (
    MANIFEST,
    county_count,
    donor_counties,
    ensure_inbox,
    one_cell_changed,
    one_file_changed,
    reusable,
)
from bench.report import FLOOR_STEPS, label, shape_table, shape_targets, table, targets
from bench.tree import TreePeak

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("BENCH_DIR", "/tmp/tally-bench"))
OUT = Path(os.environ.get("BENCH_OUT", str(HERE)))
SIZES = sorted(int(s) for s in os.environ.get("BENCH_SIZES", "100000,1000000,4000000").split(","))


def sizes_of(name: str, default: str) -> list[int]:
    """Return the sizes an environment knob lists (comma-separated; empty for none)."""
    return sorted(int(s) for s in os.environ.get(name, default).split(",") if s.strip())


SHAPE_SIZES = {"small": SIZES, "big": sizes_of("BENCH_BIG_SIZES", "1000000,4000000"),
               "mixed": sizes_of("BENCH_MIXED_SIZES", "4000000")}
BUDGET_S = float(os.environ.get("BENCH_BUDGET_S", "840"))
XLSX_MAX = int(os.environ.get("BENCH_XLSX_MAX", "4000000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "2"))  # floors and full runs: the fastest counts
FLOW_SIZE = int(os.environ.get("BENCH_FLOW_SIZE", "1000000" if 1_000_000 in SIZES else str(SIZES[-1])))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
PROFILE_SIZE = int(os.environ.get("BENCH_PROFILE_SIZE", "1000000"))
RESERVE_S = 10.0  # kept back for writing the report
MARGIN = 1.15  # predictions are linear; big runs tend to cost a little more than linear
BUILD_S_PER_ROW = 12e-6  # a fresh inbox on a busy 2-core machine, before one was timed
REQUIRED = (*FLOOR_STEPS, "full", "nothing_new")  # what the marginal-cost and memory targets need
COUNTIES = int(os.environ.get("BENCH_COUNTIES", "22"))
CONSOLIDATION_WORKERS = int(os.environ.get("BENCH_CONSOLIDATION_WORKERS", "2"))
CONSOLIDATION_S = float(os.environ.get("BENCH_CONSOLIDATION_S", str(7 * COUNTIES)))


class OutOfTime(Exception):
    """The budget ran out during a step, which was stopped."""


class StepFailed(Exception):
    """A step exited with an error."""


@dataclass
class Clock:
    """The bench's wall clock against its budget."""

    budget: float
    start: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Return the seconds since the bench started."""
        return time.perf_counter() - self.start

    def left(self) -> float:
        """Return the seconds left for measuring, the report's reserve kept back."""
        return self.budget - RESERVE_S - self.elapsed()


def child_env() -> dict[str, str]:
    """Return the environment of a step: Prefect kept in the bench's folder, quiet."""
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(WORK / "prefect"))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The temporary server's default 20 s is too short on a busy machine, or when it creates its database.
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return env


def step(clock: Clock, *args: str) -> dict:
    """Run one bench.step in a child process, stopping it if the budget runs out; return its JSON."""
    started = time.perf_counter()
    # A session of its own, so that a stopped step takes its children (a Prefect server) with it.
    proc = subprocess.Popen([sys.executable, "-m", "bench.step", *args], cwd=HERE.parent, env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        with TreePeak(proc.pid) as tree:
            out, err = proc.communicate(timeout=max(clock.left(), 1.0))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise OutOfTime(f"{args[0]} stopped after {time.perf_counter() - started:.0f} s: "
                        f"the bench's budget of {clock.budget:.0f} s ran out") from None
    if proc.returncode:
        tail = " / ".join(err.strip().splitlines()[-3:])
        raise StepFailed(f"{args[0]} failed (exit {proc.returncode}): {tail}")
    result = json.loads(out.strip().splitlines()[-1])
    result["elapsed"] = time.perf_counter() - started  # process start and imports included
    result["tree_peak_mib"] = tree.peak_mib
    # process start, imports and the run, without the Data Docs rendered after the swap
    result["elapsed"] -= result.get("docs_after_s", 0.0)
    result["load"] = os.getloadavg()[0]  # the machine is shared: its 1-minute load beside each step
    return result


def fitted(points: list[tuple[int, float]], rows: int) -> float | None:
    """Return the cost at `rows` extrapolated from (rows, seconds) points: linear, or proportional from one."""
    if not points:
        return None
    (n2, c2) = points[-1]
    if len(points) == 1:
        return c2 * rows / n2
    (n1, c1) = points[-2]
    slope = max((c2 - c1) / (n2 - n1), c2 / n2 / 4)  # never trust a flat or falling line far out
    return c2 + slope * (rows - n2)


def predicted(results: list[dict], name: str, rows: int, fallback: float) -> float:
    """Return the predicted seconds of one step at `rows`, from the sizes measured so far."""
    points = [(r["size"], r["steps"][name]["elapsed"]) for r in results if name in r["steps"]]
    guess = fitted(points, rows)
    return MARGIN * (guess if guess is not None else fallback)


def build_estimate(results: list[dict], base: Path, rows: int) -> float:
    """Return the predicted seconds to have this size's inbox: next to nothing if it can be reused."""
    if reusable(base, rows, seed=7) is not None:
        return 1.0
    built = [(r["size"], r["build_s"]) for r in results if not r["reused"]]
    rate = built[-1][1] / built[-1][0] if built else BUILD_S_PER_ROW
    donor = WORK / str(results[-1]["size"]) if results else None
    shared = len(donor_counties(donor, rows, seed=7)) / county_count(rows) if donor else 0.0
    return MARGIN * rate * rows * (1 - shared)


def fits(clock: Clock, seconds: float) -> bool:
    """Say whether `seconds` more still fit in the budget."""
    return seconds <= clock.left()


def base_of(shape: str, rows: int) -> Path:
    """Return the folder of one shape and size: its inbox, manifest and warehouses."""
    return WORK / (str(rows) if shape == "small" else f"{shape}-{rows}")


def prepare(rows: int, results: list[dict], shape: str = "small") -> dict:
    """Have the inbox of one shape and size (reused or built) and fresh warehouses; return its record.

    A big or mixed inbox is made from the small-file inbox of the same size, built first if need be.
    """
    base = base_of(shape, rows)
    small = [r for r in results if r.get("shape", "small") == "small"]
    donor = WORK / str(small[-1]["size"]) if small and small[-1]["size"] != rows else None
    for stale in ("wh", "wh-xlsx", "xlsx-inbox", "wh-profile"):
        remove(base / stale)
    t = time.perf_counter()
    made, reused = ensure_inbox(WORK / str(rows), rows, donor=donor)
    if shape != "small":
        made, reused = build_shape(shape, WORK / str(rows), base)
    build_s = time.perf_counter() - t
    how = "reused (manifest matched)" if reused else "built"
    print(f"[{shape} {label(rows)}] inbox {how} in {build_s:.1f}s: {made}", flush=True)
    return {"size": rows, "shape": shape, "inbox": made, "reused": reused, "build_s": build_s,
            "steps": {}, "skipped": []}


def remove(path: Path) -> None:
    """Delete a file or folder tree if it is there."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def xlsx_only(inbox: Path, to: Path) -> Path:
    """Hard-link the inbox's .xlsx files into an inbox of their own."""
    remove(to)
    for path in inbox.rglob("*.xlsx"):
        target = to / path.relative_to(inbox)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
    return to


def optional(clock: Clock, res: dict, results: list[dict], name: str, fallback: float) -> bool:
    """Say whether an optional step fits the budget; note it as skipped if not."""
    need = predicted(results, name, res["size"], fallback)
    if fits(clock, need):
        return True
    res["skipped"].append(f"{name}: predicted {need:.0f} s, {max(clock.left(), 0):.0f} s of the budget left")
    return False


def where(res: dict) -> tuple[Path, Path, Path, str]:
    """Return a unit's folder, inbox, warehouse and the tag its lines are printed with."""
    rows, shape = res["size"], res.get("shape", "small")
    base = base_of(shape, rows)
    return base, base / "inbox", base / "wh" / "tally.duckdb", label(rows) if shape == "small" else f"{shape} {label(rows)}"


def timed(clock: Clock, res: dict, name: str, *args: str, required: bool = False) -> None:
    """Measure one step of a unit into its steps (the fastest record of the step kept); an optional
    step that failed is noted. A failed required step raises StepFailed; a step the budget stopped
    raises OutOfTime."""
    try:
        got = step(clock, *args)
    except StepFailed as failed:
        if required:
            raise
        res["skipped"].append(str(failed))
        return
    print(f"[{where(res)[3]}] {name} {got['wall']:.1f}s (with process start {got['elapsed']:.1f}s, "
          f"tree peak {got['tree_peak_mib']:.0f} MiB)", flush=True)
    keep_fastest(res, name, got)


def repeatable(res: dict) -> list[tuple[str, tuple[str, ...], Path | None]]:
    """Return a unit's steps that are measured again while the budget lasts: (name, args, fresh)."""
    _, inbox, warehouse, _ = where(res)
    floors = [("floor_csv", ("floor-csv", str(inbox)), None)]
    if res.get("shape", "small") != "big":  # the big shape is all CSV
        floors.append(("floor_xlsx", ("floor-xlsx", str(inbox)), None))
    return [*floors, ("full", ("run", str(inbox), str(warehouse)), warehouse.parent)]


def keep_fastest(res: dict, name: str, got: dict) -> None:
    """Keep the faster of a step's records; every wall measured stays in `walls`."""
    walls = [*res["steps"].get(name, {}).get("walls", []), got["wall"]]
    best = min((m for m in (res["steps"].get(name), got) if m is not None), key=lambda m: m["wall"])
    res["steps"][name] = best | {"walls": walls}


def guarded(res: dict, measure: Callable[[], None]) -> None:
    """Run one phase of a unit unless an earlier one ended it; a stop ends the unit, noted."""
    if res.get("ended"):
        return
    try:
        measure()
    except (OutOfTime, StepFailed) as stop:
        res["skipped"].append(str(stop))
        res["ended"] = True
        print(f"[{where(res)[3]}] {stop}", flush=True)


def measure_required(clock: Clock, res: dict) -> None:
    """Measure what the marginal-cost and memory targets need, once: the floors, a full run from a
    fresh warehouse, and a run that finds nothing new. A failure or the budget ends the unit."""
    _, inbox, warehouse, _ = where(res)

    def measure() -> None:
        for name, args, fresh in repeatable(res):
            if fresh is not None:
                remove(fresh)
            timed(clock, res, name, *args, required=True)
        timed(clock, res, "nothing_new", "run", str(inbox), str(warehouse), required=True)

    guarded(res, measure)


def measure_changed(clock: Clock, res: dict, results: list[dict]) -> None:
    """Measure a run after one file (small shape) or one cell (big shapes) changed, if it fits."""
    shape, steps = res.get("shape", "small"), res["steps"]
    _, inbox, warehouse, _ = where(res)

    def measure() -> None:
        if optional(clock, res, results, "one_changed", steps["full"]["elapsed"]):
            with one_file_changed(inbox) if shape == "small" else one_cell_changed(changed_file(shape, inbox)):
                timed(clock, res, "one_changed", "run", str(inbox), str(warehouse))

    guarded(res, measure)


def measure_extras(clock: Clock, res: dict, results: list[dict]) -> None:
    """Measure, if they fit, the nothing-new run through the Prefect flow (small shape, FLOW_SIZE:
    the flow's cold start is not the inbox's shape) and an .xlsx-only run (small shape)."""
    rows, shape, steps = res["size"], res.get("shape", "small"), res["steps"]
    base, inbox, warehouse, _ = where(res)
    if shape != "small":
        return

    def measure() -> None:
        if rows == FLOW_SIZE and optional(clock, res, results, "flow_noop", 60):
            timed(clock, res, "flow_noop", "flow-noop", str(inbox), str(warehouse))
        if rows > XLSX_MAX:
            res["skipped"].append(f"xlsx_run: not run above {label(XLSX_MAX)} rows (BENCH_XLSX_MAX)")
        elif optional(clock, res, results, "xlsx_run", steps["full"]["elapsed"]):
            xinbox = xlsx_only(inbox, base / "xlsx-inbox")
            timed(clock, res, "xlsx_run", "run", str(xinbox), str(base / "wh-xlsx" / "tally.duckdb"))

    guarded(res, measure)


def measure_again(clock: Clock, res: dict) -> None:
    """Measure a unit's floors and full run once more each, as far as the budget allows (each
    predicted at its last time); the fastest counts. Notes the steps that were not repeated."""

    def measure() -> None:
        for name, args, fresh in repeatable(res):
            if not fits(clock, MARGIN * res["steps"][name]["elapsed"]):
                res["skipped"].append(f"{name}: measured {len(res['steps'][name]['walls'])} of "
                                      f"{REPEATS} times, the budget left no more")
                continue
            if fresh is not None:
                remove(fresh)
            timed(clock, res, name, *args, required=True)

    guarded(res, measure)


def size_fits(clock: Clock, rows: int, results: list[dict], shape: str = "small") -> str | None:
    """Return why this size cannot fit the budget, or None if its build and required steps fit."""
    base = WORK / str(rows)
    small = [r for r in results if r.get("shape", "small") == "small"]
    own = [r for r in results if r.get("shape", "small") == shape]
    build = build_estimate(small, base, rows)
    # A shape not measured yet is predicted from the small-file shape, at twice its cost.
    basis, factor = (own, 1.0) if own or shape == "small" else (small, 2.0)
    names = [n for n in REQUIRED if not (shape == "big" and n == "floor_xlsx")]
    need = build + sum(
        factor * predicted(basis, name, rows, fallback=BUILD_S_PER_ROW * rows * 20) for name in names)
    if fits(clock, need):
        return None
    named = label(rows) if shape == "small" else f"{shape} {label(rows)}"
    return (f"{named} skipped: its inbox and required steps were predicted at {need:.0f} s "
            f"(from the smaller sizes) and only {max(clock.left(), 0):.0f} s of the "
            f"{clock.budget:.0f} s budget were left")


def profile(clock: Clock, results: list[dict]) -> str:
    """Run the profiled, unmeasured full run BENCH_PROFILE asks for; return what became of it."""
    measured = [r for r in results if "full" in r["steps"]]
    if not measured:
        return "profile: nothing was measured to profile"
    res = next((r for r in measured if r["size"] == PROFILE_SIZE), measured[-1])
    need = 1.5 * res["steps"]["full"]["elapsed"]  # pyinstrument's overhead
    if not fits(clock, need):
        return f"profile: skipped, predicted {need:.0f} s and {max(clock.left(), 0):.0f} s left"
    base = WORK / str(res["size"])
    to = OUT / f"profile-{label(res['size'])}.txt"
    try:
        step(clock, "run", str(base / "inbox"), str(base / "wh-profile" / "tally.duckdb"), str(to))
    except (OutOfTime, StepFailed) as stop:
        return f"profile: {stop}"
    return f"profile: {to.name} (an extra, unmeasured run on {label(res['size'])} rows)"


def run_sizes(clock: Clock) -> tuple[list[dict], list[str]]:
    """Measure every shape and size that fits the budget; return the results and the notes on what did not.

    Coverage first, precision after (a slow or busy machine still gets every shape): each unit
    (a shape at a size, smallest size first, the shapes of a size one after the other) has its
    required steps measured once; then each unit's one-changed run; then the optional extras;
    then the floors and full runs again, up to BENCH_REPEATS times, while the budget lasts.
    """
    results: list[dict] = []
    notes: list[str] = []
    for rows in sorted(set().union(*SHAPE_SIZES.values())):
        for shape, sizes in SHAPE_SIZES.items():
            if rows not in sizes:
                continue
            if (why := size_fits(clock, rows, results, shape)) is not None:
                notes.append(why)
                print(why, flush=True)
                continue
            res = prepare(rows, results, shape)
            results.append(res)
            measure_required(clock, res)

    def own(res: dict) -> list[dict]:
        return [r for r in results if r.get("shape", "small") == res.get("shape", "small") and r is not res]

    for res in results:
        measure_changed(clock, res, own(res))
    for res in results:
        measure_extras(clock, res, own(res))
    for _ in range(max(REPEATS, 1) - 1):
        for res in results:
            measure_again(clock, res)
    return results, notes


def consolidation(clock: Clock) -> dict:
    """Run the consolidation step (`bench.consolidation`) in a child process with the budget left."""
    if COUNTIES <= 0:
        return {}
    left = clock.left()
    out = WORK / "consolidation.json"
    out.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "bench.consolidation", "--counties", str(COUNTIES),
                             "--workers", str(CONSOLIDATION_WORKERS), "--deadline-s", str(left), "--json", str(out)],
                            cwd=HERE.parent, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=max(left, 1.0))
    except subprocess.TimeoutExpired:
        # SIGTERM first: the step then stops its PostgreSQL cluster, which runs in a session of its own.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        why = f"stopped after {left:.0f} s: the bench's budget ran out (BENCH_CONSOLIDATION_S, BENCH_BUDGET_S)"
        return {"stopped": why, "markdown": f"\n## Consolidation: {COUNTIES} counties\n\nNot measured: {why}\n"}
    if proc.returncode or not out.is_file():
        tail = " / ".join(err.strip().splitlines()[-3:])
        return {"failed": tail, "markdown": f"\n## Consolidation: {COUNTIES} counties\n\nFailed: {tail}\n"}
    return json.loads(out.read_text())


def main() -> None:
    """Measure every size, print the table and write results.md and results.json."""
    whole = Clock(BUDGET_S)
    clock = Clock(BUDGET_S - (CONSOLIDATION_S if COUNTIES > 0 else 0.0), whole.start)
    results, notes = run_sizes(clock)
    small = [r for r in results if r.get("shape", "small") == "small"]
    if PROFILE:
        notes.append(profile(clock, small))
    run = {"budget_s": BUDGET_S, "total_s": clock.elapsed(), "sizes": SIZES, "xlsx_max": XLSX_MAX,
           "flow_size": FLOW_SIZE, "cores": os.cpu_count(), "python": sys.version.split()[0],
           "notes": notes, "repeats": max(REPEATS, 1)}
    consolidated = consolidation(whole)
    run["total_s"] = whole.elapsed()
    text = table(small, run) + shape_table([r for r in results if r.get("shape", "small") != "small"])
    text += consolidated.get("markdown", "")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps(
        {"run": run, "results": results, "consolidation": consolidated,
         "targets": [dict(zip(("target", "value", "met"), t, strict=True))
                     for t in targets(small) + shape_targets(results)]},
        indent=1, ensure_ascii=False))
    print(text)
    print(f"bench: {clock.elapsed():.0f} s in all (budget {BUDGET_S:.0f} s); wrote {OUT / 'results.md'} "
          f"and results.json; inboxes in {WORK} (reused while their {MANIFEST} matches)")


if __name__ == "__main__":
    main()
