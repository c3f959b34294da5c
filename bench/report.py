"""The bench's report: its tables and the issue's targets, computed from the measured results.

Pure functions of the results `bench.run` gathers: one dict per size, with the inbox's counts,
how it was had (built or reused, seconds) and each step's JSON from `bench.step`.
"""

from __future__ import annotations

import itertools

GIB_MIB = 1024
FLOOR_STEPS = ("floor_csv", "floor_xlsx")
RUN_STEPS = ("full", "nothing_new", "one_changed", "xlsx_run")
STAGES = ("open+aside", "discover", "parse", "checks", "load", "build models", "validate+publish")
FLOOR_TEXT = ("Floor = DuckDB reading each ledger's CSVs (one list of files per ledger, as text) into a table of "
              "its own in a database file (closed, so checkpointed) and summing one column, plus fastexcel's bare read of the .xlsx (first sheet to "
              "Arrow).")


def label(rows: int) -> str:
    """Return a size as people say it: 100k, 1M, 4M (exact figures otherwise)."""
    for unit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if rows >= unit and rows % (unit // 10) == 0:
            return f"{rows / unit:g}{suffix}"
    return f"{rows:,}"


def floor(r: dict) -> float | None:
    """Return the floor of a size (CSV plus .xlsx), if both were measured."""
    steps = r["steps"]
    if not all(name in steps for name in FLOOR_STEPS):
        return None
    return sum(steps[name]["wall"] for name in FLOOR_STEPS)


def marginal(small: dict, big: dict) -> tuple[float | None, str]:
    """Return (full big − full small) ÷ (floor big − floor small) and the figures behind it."""
    fa, fb = floor(small), floor(big)
    ra, rb = small["steps"]["full"]["wall"], big["steps"]["full"]["wall"]
    detail = f"({rb:.1f} − {ra:.1f} s) ÷ ({fb:.1f} − {fa:.1f} s)"
    if fb - fa <= 0:
        return None, f"n/a: the floor did not grow, {detail}"
    value = (rb - ra) / (fb - fa)
    if value < 0:
        return None, f"n/a: the larger run was the faster (noise), {detail}"
    return value, f"{value:.1f} = {detail}"


def share_cells(m: dict) -> list[str]:
    """Return each stage's share of a run's wall time."""
    stages = m.get("stages", {})
    return [f"{100 * stages.get(s, 0) / m['wall']:.0f}%" if m["wall"] else "" for s in STAGES]


def load_cell(m: dict) -> str:
    """Return the machine's 1-minute load average when a step ended, if it was recorded."""
    return f"{m['load']:.1f}" if "load" in m else ""


def run_line(r: dict, name: str, m: dict) -> str:
    """Return the table line of one pipeline run."""
    fl = floor_of(r)
    rate = m["rows_loaded"] / m["wall"] if m["rows_loaded"] else 0
    ratio = f"{m['wall'] / fl:.1f}" if name == "full" and fl else ""
    fl_text = f"{fl:.1f}" if fl is not None else ""
    return (f"| {label(r['size'])} | {name} | {m['wall']:.1f} | {m.get('elapsed', m['wall']):.1f} | {rate:,.0f} | "
            f"{m['peak_mib']:.0f} | {m.get('tree_peak_mib', m['peak_mib']):.0f} | {load_cell(m)} | "
            f"{fl_text} | {ratio} | " + " | ".join(share_cells(m)) + " |")


def other_lines(r: dict) -> list[str]:
    """Return the table lines of the floors and of the Prefect flow's nothing-new runs."""
    blank = " |" * len(STAGES)
    lines = []
    for name in FLOOR_STEPS:
        if m := r["steps"].get(name):
            lines.append(f"| {label(r['size'])} | {name} | {m['wall']:.1f} | {m.get('elapsed', m['wall']):.1f} | "
                         f"{m['rows'] / m['wall']:,.0f} | {m['peak_mib']:.0f} | "
                         f"{m.get('tree_peak_mib', m['peak_mib']):.0f} | {load_cell(m)} | | |" + blank)
    if m := r["steps"].get("flow_noop"):
        for name, wall in (("flow_noop cold", m["wall"]), ("flow_noop warm", m["warm"])):
            lines.append(f"| {label(r['size'])} | {name} | {wall:.1f} | | 0 | {m['peak_mib']:.0f} | "
                         f"{m.get('tree_peak_mib', m['peak_mib']):.0f} | {load_cell(m)} | | |" + blank)
    return lines


def inbox_lines(results: list[dict]) -> list[str]:
    """Return the table of the inboxes: counts, and how long having each took."""
    lines = ["| size | rows | counties | files csv/xlsx | xlsx rows | inbox |", "|---|---|---|---|---|---|"]
    for r in results:
        i = r["inbox"]
        how = "reused (manifest matched)" if r["reused"] else "built"
        lines.append(f"| {label(r['size'])} | {i['rows']:,} | {i['counties']} | {i['csv_files']}/{i['xlsx_files']} "
                     f"| {i['xlsx_rows']:,} | {how} in {r['build_s']:.1f} s |")
    return lines


def step_lines(results: list[dict]) -> list[str]:
    """Return the table of every measured step."""
    lines = ["| size | step | wall s | with start s | rows/s | peak MiB | tree MiB | load | floor s | ×floor | "
             + " | ".join(STAGES) + " |", "|" + "---|" * (10 + len(STAGES))]
    for r in results:
        lines += [run_line(r, name, r["steps"][name]) for name in RUN_STEPS if name in r["steps"]]
        lines += other_lines(r)
    return lines


def target_lines(results: list[dict]) -> list[str]:
    """Return the table of the targets."""
    met = {True: "yes", False: "**no**", None: "—"}
    return ["| target | value | met |", "|---|---|---|",
            *[f"| {t} | {v} | {met[ok]} |" for t, v, ok in targets(results)]]


def table(results: list[dict], run: dict) -> str:
    """Return the whole report as Markdown."""
    notes = [*run["notes"], *[f"{label(r['size'])}: {s}" for r in results for s in r["skipped"]]]
    lines = ["# tally benchmark", "",
             f"{run['cores']} cores; python {run['python']}. The bench took **{run['total_s']:.0f} s** in all "
             f"(budget {run['budget_s']:.0f} s, BENCH_BUDGET_S), inboxes included. {FLOOR_TEXT} "
             "Each step ran in its own process, none under a profiler; peak = its own peak resident memory (VmHWM); a stage's "
             "share is of its run's wall time. Every shape's required steps were measured once before "
             "any was measured again; then the floors and the full runs again, up to "
             f"{run.get('repeats', 1)} times in all while the budget lasted (the full run from a fresh "
             "warehouse each time; results.json keeps every wall), and the fastest is shown: the "
             "machine is shared.", "",
             "## Inboxes (not measured)", "", *inbox_lines(results), "",
             "## Steps", "", *step_lines(results), "",
             "## Targets (reported, not asserted)", "", *target_lines(results), "",
             "## Not measured", "", *([f"- {n}" for n in notes] or ["- nothing: every size and step ran"])]
    return "\n".join(lines) + "\n"


def marginal_targets(results: list[dict]) -> list[tuple[str, str, bool | None]]:
    """Return the marginal cost of each pair of successive sizes; the largest pair is the target."""
    sized = [r for r in results if "full" in r["steps"] and floor(r) is not None]
    if len(sized) < 2:
        return [("marginal cost ≤ 4 (aim 2)", "not measured: it needs two sizes", None)]
    out = []
    for k, (small, big) in enumerate(itertools.pairwise(sized)):
        value, text = marginal(small, big)
        judged = k == len(sized) - 2
        ok = value <= 4 if judged and value is not None else None
        out.append((f"marginal cost (full {label(big['size'])} − full {label(small['size'])}) ÷ "
                    f"(floor {label(big['size'])} − floor {label(small['size'])}) ≤ 4 (aim 2)"
                    + ("" if judged else ", for reference"), text, ok))
    return out


def fixed_targets(r: dict) -> list[tuple[str, str, bool | None]]:
    """Return the runs of one size that found nothing new, the pipeline's and the Prefect flow's."""
    n, steps, out = label(r["size"]), r["steps"], []
    if m := steps.get("nothing_new"):
        out.append((f"{n}: run that finds nothing new ≤ 10 s (aim 4 s), pipeline alone",
                    f"{m['wall']:.1f} s", m["wall"] <= 10))
    if m := steps.get("flow_noop"):
        out.append((f"{n}: nothing new through the Prefect flow, its temporary server started ≤ 10 s",
                    f"{m['wall']:.1f} s (importing the flow {m['import']:.1f} s"
                    + ("; Prefect's database created first)" if m.get("fresh_home") else ")"), m["wall"] <= 10))
        out.append((f"{n}: nothing new through the Prefect flow, server already up ≤ 10 s",
                    f"{m['warm']:.1f} s", m["warm"] <= 10))
    return out


def incremental_target(r: dict) -> list[tuple[str, str, bool | None]]:
    """Return what one changed file costs of a full run's work above the fixed cost."""
    steps = r["steps"]
    if not all(k in steps for k in ("full", "nothing_new", "one_changed")):
        return []
    noop, full, one = (steps[k]["wall"] for k in ("nothing_new", "full", "one_changed"))
    share = (one - noop) / (full - noop)
    rows = steps["one_changed"]["rows_loaded"] / steps["full"]["rows_loaded"]
    return [(f"{label(r['size'])}: one changed file ≤ 25% of a full run's work above the fixed cost",
             f"{100 * share:.1f}% (its rows' share {100 * rows:.2f}%)", share <= 0.25)]


def xlsx_target(r: dict) -> list[tuple[str, str, bool | None]]:
    """Return the .xlsx-only run's discover+parse against fastexcel's bare read of the same files."""
    n, steps = label(r["size"]), r["steps"]
    if "xlsx_run" not in steps or "floor_xlsx" not in steps:
        return [(f"{n}: .xlsx discover+parse ≤ 1.5 × fastexcel bare read", "not run (see Not measured)", None)]
    x = steps["xlsx_run"]
    read = x["stages"].get("discover", 0) + x["stages"].get("parse", 0)
    bare = steps["floor_xlsx"]["wall"]
    return [(f"{n}: .xlsx discover+parse ≤ 1.5 × fastexcel bare read",
             f"{read:.1f} s vs {bare:.1f} s = {read / bare:.1f}× (whole xlsx run {x['wall'] / bare:.1f}×)",
             read <= 1.5 * bare)]


def memory_target(results: list[dict], what: str = "") -> list[tuple[str, str, bool | None]]:
    """Return the peak memory of the pipeline's runs on the largest size measured: the whole
    process tree's (issue 16: ≤ 1 GiB), the step process's own beside it."""
    sized = [r for r in results if "full" in r["steps"]]
    if not sized:
        return []
    r = sized[-1]
    runs = [r["steps"][k] for k in RUN_STEPS if k in r["steps"]]
    own = max(m["peak_mib"] for m in runs)
    tree = max(m.get("tree_peak_mib", m["peak_mib"]) for m in runs)
    return [(f"{what}peak memory of the whole process tree on the {label(r['size'])} runs ≤ 1 GiB",
             f"{tree:.0f} MiB (the run's own process {own:.0f} MiB)", tree <= GIB_MIB)]


def targets(results: list[dict]) -> list[tuple[str, str, bool | None]]:
    """Evaluate the issue's targets on the results: (target, value, met; None if not judged)."""
    out = marginal_targets(results)
    for r in results:
        out += fixed_targets(r)
    for r in results:
        out += incremental_target(r)
    for r in results:
        out += xlsx_target(r)
    return out + memory_target(results)


SHAPE_TITLES = {"big": "one big file per ledger and month (all CSV)",
                "mixed": "half the counties merged into big files, half as small files"}


def big_targets(rs: list[dict], shape: str) -> list[tuple[str, str, bool | None]]:
    """Return issue 16's targets for one shape: marginal cost, nothing new with process start,
    one changed file of twelve, memory."""
    out: list[tuple[str, str, bool | None]] = []
    sized = [r for r in rs if "full" in r["steps"] and floor_of(r) is not None]
    if len(sized) >= 2:
        small, big = sized[-2], sized[-1]
        fa, fb = floor_of(small), floor_of(big)
        ra, rb = small["steps"]["full"]["wall"], big["steps"]["full"]["wall"]
        detail = f"({rb:.1f} − {ra:.1f} s) ÷ ({fb:.1f} − {fa:.1f} s)"
        value = (rb - ra) / (fb - fa) if fb > fa and rb >= ra else None  # else noise: not judged
        out.append((f"{shape}: marginal cost (full {label(big['size'])} − full {label(small['size'])}) ÷ "
                    f"(floor {label(big['size'])} − floor {label(small['size'])}) ≤ 4 (aim 2)",
                    f"{value:.1f} = {detail}" if value is not None else f"n/a: {detail}",
                    None if value is None else value <= 4))
    for r in rs:
        n, steps = label(r["size"]), r["steps"]
        if m := steps.get("nothing_new"):
            out.append((f"{shape} {n}: nothing new ≤ 1 s, process start included",
                        f"{m['elapsed']:.2f} s (the pipeline alone {m['wall']:.2f} s)", m["elapsed"] <= 1))
        if all(k in steps for k in ("full", "nothing_new", "one_changed")):
            noop, full, one = (steps[k]["elapsed"] for k in ("nothing_new", "full", "one_changed"))
            share = (one - noop) / (full - noop)
            rows = steps["one_changed"]["rows_loaded"] / max(steps["full"]["rows_loaded"], 1)
            out.append((f"{shape} {n}: one changed file ≤ 17% of a full run's work above nothing-new",
                        f"{100 * share:.1f}% = ({one:.1f} − {noop:.1f} s) ÷ ({full:.1f} − {noop:.1f} s), "
                        f"process start included (its rows' share {100 * rows:.1f}%)", share <= 0.17))
    return out + memory_target(rs, f"{shape}: ")


def floor_of(r: dict) -> float | None:
    """Return the floor of a size of any shape: the CSV floor plus the .xlsx floor where there is one."""
    steps = r["steps"]
    if "floor_csv" not in steps:
        return None
    return steps["floor_csv"]["wall"] + (steps["floor_xlsx"]["wall"] if "floor_xlsx" in steps else 0.0)


def shape_targets(results: list[dict]) -> list[tuple[str, str, bool | None]]:
    """Return issue 16's targets for the big and mixed shapes among the results."""
    out = []
    for shape in SHAPE_TITLES:
        if rs := [r for r in results if r.get("shape") == shape]:
            out += big_targets(rs, shape)
    return out


def shape_table(results: list[dict]) -> str:
    """Return the report's part on the big and mixed shapes: inboxes, steps and targets, as Markdown."""
    if not results:
        return ""
    met = {True: "yes", False: "**no**", None: "—"}
    lines = ["", "# The shape a city sends (issue 16)", "",
             "Made from the small-file inbox of the same size (`bench/big.py`): the same rows. The floor "
             "is the same DuckDB read of the shape's own CSVs (plus fastexcel's of its .xlsx in the mixed "
             "inbox). `with start s` is the step's whole process, imports included (the Data Docs rendered after the swap not); `tree MiB` the peak of "
             "the step's process tree (reader workers and the Data Docs' child included)."]
    for shape, title in SHAPE_TITLES.items():
        rs = [r for r in results if r.get("shape") == shape]
        if not rs:
            continue
        lines += ["", f"## {shape}: {title}", "", *inbox_lines(rs), "", *step_lines(rs), "",
                  "| target | value | met |", "|---|---|---|",
                  *[f"| {t} | {v} | {met[ok]} |" for t, v, ok in big_targets(rs, shape)]]
        if skipped := [f"- {shape} {label(r['size'])}: {s}" for r in rs for s in r["skipped"]]:
            lines += ["", "Not measured:", "", *skipped]
    return "\n".join(lines) + "\n"
