"""`make bench`'s consolidation step: a province's counties loaded at once into a lake on PostgreSQL.

`python -m bench.consolidation [--counties 22] [--workers 2] [--runner process|thread]
[--deadline-s S] [--json FILE]` (bench/run.py runs it with BENCH_COUNTIES, BENCH_CONSOLIDATION_WORKERS):

1. **The inbox**: `tally sample --org 640000` (22 counties, each a year of 10 ledgers, 97 files,
   its own figures), reused from BENCH_DIR while the generator is unchanged. More counties than
   the contract has (100) reuse the 22 counties' folders (hard links) under synthetic codes:
   a copy of the contract whose `org_units.toml` adds counties numbered 51… under each city
   (`640451` 合成县640451 …), each a copy of a real county of that city, put in use through
   TALLY_CONTRACT in every process. Their figures repeat their donors'; their loads are real.
2. **The fan-out** (`flows.run.fanout.fan_out`, no Prefect) into a lake on a throwaway PostgreSQL
   cluster (`tests/lake/pgcluster.py`): wall time, loads per second, failed commits, transaction
   attempts, each load's COMMIT time, and each worker's peak resident memory (its whole process
   tree, its reader processes included, sampled from /proc), then one build of the province's
   figures from the pinned snapshot.
3. **What it costs the catalog**: `pg_database_size` and the rows of every `ducklake_*` table
   before and after, per load; the Parquet bytes per county-year.
4. **Commit latency against concurrency**: 1, 2, 4 and 8 writers, each committing a county's
   load (its rows copied from the lake of step 2) three times at once into a fresh lake.
5. **The same inbox through today's single-file path** (`bench.step run`: one DuckDB file, one
   run), wall time and peak memory of its process tree.

Every figure has the machine's 1-minute load average beside it: the machine is shared. A part
that would pass the deadline is skipped and the result says so. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("BENCH_DIR", "/tmp/tally-bench")) / "consolidation"
YEAR = 2024
PROVINCE = "640000"
SYNTHETIC_FROM = 51  # synthetic county codes: <city's first four digits>51, 52, …
LATENCY_WRITERS = (1, 2, 4, 8)
LATENCY_COMMITS = 3
MARKER = "made.json"


def cpu_s(own: bool = True) -> float:
    """CPU seconds (user + system) of the descendants this process and they have reaped, and its own.

    On a shared machine wall time is mostly other people's load; CPU seconds are the work done.
    `own=False` leaves this process out (its memory sampler scans /proc, which is not the load's).
    """
    import resource

    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (mine.ru_utime + mine.ru_stime if own else 0.0) + children.ru_utime + children.ru_stime


def load() -> float:
    """The machine's 1-minute load average (the machine is shared: beside every figure)."""
    return round(os.getloadavg()[0], 2)


def generator_digest() -> str:
    """What decides the inbox's content: the sample generator's sources and the org units."""
    h = hashlib.sha256()
    for path in sorted([*(ROOT / "flows" / "sample").glob("*.py"), ROOT / "flows/contract/data/org_units.toml"]):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- the inbox


def real_inbox() -> tuple[Path, list[str], float]:
    """The province's sample inbox (every county of 640000), reused while its generator is unchanged."""
    from flows.sample.org import write_org_inbox

    inbox = WORK / "inbox-province"
    marker = WORK / f"{inbox.name}.{MARKER}"
    digest = generator_digest()
    if marker.is_file() and json.loads(marker.read_text()).get("digest") == digest and inbox.is_dir():
        return inbox, json.loads(marker.read_text())["counties"], 0.0
    shutil.rmtree(inbox, ignore_errors=True)
    start = time.perf_counter()
    counties = [c.code for c in write_org_inbox(YEAR, inbox, PROVINCE)]
    seconds = time.perf_counter() - start
    marker.write_text(json.dumps({"digest": digest, "counties": counties}))
    return inbox, counties, seconds


def synthetic_contract(count: int) -> tuple[Path, dict[str, str]]:
    """A copy of the contract with `count` synthetic counties added; returns it and {synthetic: donor}.

    Donors are the real counties in turn; a synthetic county sits under its donor's city.
    """
    from flows.contract import org_units

    folder = WORK / f"contract-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "flows" / "contract" / "data", folder)
    real = org_units.counties_under(PROVINCE)
    taken: dict[str, int] = {}
    donors: dict[str, str] = {}
    lines = ["", "# Synthetic counties for the bench (bench/consolidation.py): copies of real ones."]
    for i in range(count):
        donor = real[i % len(real)]
        n = SYNTHETIC_FROM + taken.get(donor.parent, 0)
        taken[donor.parent] = taken.get(donor.parent, 0) + 1
        if n > 99:
            raise ValueError(f"more than {99 - SYNTHETIC_FROM + 1} synthetic counties under {donor.parent}")
        code = f"{donor.parent[:4]}{n:02d}"
        donors[code] = donor.code
        lines += ["", "[[unit]]", f'code = "{code}"', f'name_zh = "合成县{code}"', 'level = "county"',
                  f'parent = "{donor.parent}"']
    with (folder / "org_units.toml").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return folder, donors


def province_inbox(counties: int) -> tuple[Path, list[str], Path | None, float]:
    """Return (inbox, county codes, contract folder or None, seconds spent writing) for `counties` counties."""
    inbox, real, seconds = real_inbox()
    if counties <= len(real):
        return inbox, real[:counties], None, seconds
    contract, donors = synthetic_contract(counties - len(real))
    big = WORK / f"inbox-{counties}"
    shutil.rmtree(big, ignore_errors=True)
    start = time.perf_counter()
    for code in real:
        shutil.copytree(inbox / code, big / code, copy_function=os.link)
    for code, donor in donors.items():
        shutil.copytree(inbox / donor, big / code, copy_function=os.link)
    return big, [*real, *donors], contract, seconds + time.perf_counter() - start


# ---------------------------------------------------------------- memory of the workers


class WorkerPeaks:
    """Sample the resident memory of each worker's process tree (its reader processes included)."""

    def __init__(self, pids, interval: float = 0.1) -> None:
        self.pids, self.interval = pids, interval
        self.peaks: dict[int, int] = {}
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from bench.tree import tree_rss

        while not self._stop.is_set():
            self.total = max(self.total, tree_rss(os.getpid()))
            for pid in list(self.pids()):
                self.peaks[pid] = max(self.peaks.get(pid, 0), tree_rss(pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> WorkerPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- PostgreSQL


def catalog_state(cluster, db: str) -> dict:
    """The catalog database's size in bytes and the rows of each of its ducklake_* tables."""
    size = int(cluster.psql(f"SELECT pg_database_size('{db}')", db=db).strip())
    tables = cluster.psql("SELECT tablename FROM pg_tables WHERE tablename LIKE 'ducklake%' ORDER BY 1", db=db).split()
    rows: dict[str, int] = {}
    if tables:
        union = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
        for line in cluster.psql(union, db=db).splitlines():
            name, n = line.split("|")
            rows[name] = int(n)
    return {"bytes": size, "rows": rows, "load": load()}


def folder_bytes(folder: Path) -> tuple[int, int]:
    """Bytes and files under a folder."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


# ---------------------------------------------------------------- the fan-out


def fan_out_step(inbox: Path, counties: list[str], lake, workers: int, runner: str, contract: Path | None,
                 stop=None) -> dict:
    """Load every county at once (`workers` at a time); return wall, rates, failures and memory.

    `stop` (asked as each county finishes) ends the fan-out early at a deadline: the counties
    not started are reported as such, and the rates are of the loads that ran.
    """
    from flows.run import fanout

    done: list = []

    def progress(o) -> None:
        done.append(o)
        state = "ok" if o.ok else f"FAILED {o.error}"
        print(f"[consolidation] {len(done)}/{len(counties)} {o.county} {o.seconds:.1f}s {state}", flush=True)

    # The pool's worker pids, to sample each worker's tree: ProcessPoolExecutor keeps them in _processes.
    original, pools = fanout.executor, []

    def watched(kind: str, n: int):
        pools.append(original(kind, n))
        return pools[-1]

    def worker_pids() -> list[int]:
        return [pid for pool in pools for pid in list(getattr(pool, "_processes", None) or {})]

    fanout.executor = watched
    start, cpu = time.perf_counter(), cpu_s()
    try:
        with WorkerPeaks(worker_pids) as peaks:
            outcomes = fanout.fan_out(inbox, lake, counties, workers=workers, runner=runner,
                                      contract=str(contract) if contract else None, on_done=progress, stop=stop)
    finally:
        fanout.executor = original
    wall = time.perf_counter() - start
    # Threads: this process's own CPU. Process workers are the forkserver's children, not this
    # process's, so their CPU is in no rusage of ours: not measured (None).
    cpu = cpu_s(own=True) - cpu if runner == "thread" else None
    ok = [o for o in outcomes if o.ok]
    commits = sorted(o.commit_seconds for o in ok)
    return {
        "counties": len(counties), "workers": workers, "runner": runner, "wall": wall, "cpu_s": cpu,
        "loads_per_s": len(ok) / wall, "loaded": len(ok),
        "failed": [o.error for o in outcomes if not o.ok and "not started" not in o.error],
        "not_started": sum(not o.ok and "not started" in o.error for o in outcomes),
        "retried_transactions": sum(o.attempts > 1 for o in ok),
        "rows_loaded": sum(o.rows_loaded for o in ok), "files_loaded": sum(o.files_loaded for o in ok),
        "load_s_median": statistics.median(o.seconds for o in ok) if ok else None,
        "commit_s_median": statistics.median(commits) if commits else None,
        "commit_s_max": commits[-1] if commits else None,
        # processes: each worker's tree; threads: the one process, shared by every load
        "worker_peak_mib": {str(pid): round(b / 2**20) for pid, b in peaks.peaks.items()}
        if runner == "process" else {"process": round(max(o.worker_peak_mib for o in outcomes))},
        "worker_own_peak_mib": round(max((o.worker_peak_mib for o in outcomes), default=0)),
        "tree_peak_mib": round(peaks.total / 2**20), "load": load(),
    }


def build_step(lake, out: Path) -> dict:
    """One build of the whole province's figures from the lake's pinned snapshot."""
    from flows.run.lake_run import build_from_lake

    start, cpu = time.perf_counter(), cpu_s()
    snapshot = build_from_lake(lake, out)
    return {"wall": time.perf_counter() - start, "cpu_s": cpu_s() - cpu, "snapshot": snapshot, "load": load()}


# ---------------------------------------------------------------- commit latency


def latency_writer(lake_url: str, data_path: str, source_url: str, source_path: str, county: str, code: int,
                   barrier, results, contract: str | None) -> None:
    """One writer: copy a county's rows from the source lake, then commit them LATENCY_COMMITS times."""
    import duckdb

    from flows.contract import spec
    from flows.contract.ledgers import LEDGERS
    from flows.load import lake as store

    if contract:
        spec.use_contract(contract)
    con = duckdb.connect()
    store.attach(con, store.Lake(source_url, Path(source_path)), alias="src", read_only=True)
    base = store.version_base(county)
    span = [base, base + store.VERSION_SPAN - 1]
    con.execute("CREATE TABLE memory.main.log AS SELECT * FROM src.file_version_log WHERE version_id BETWEEN ? AND ?",
                span)
    for ledger in LEDGERS:
        con.execute(f'CREATE TABLE memory.main."r_{ledger}" AS SELECT * FROM src.raw."{ledger}" '
                    "WHERE _version_id BETWEEN ? AND ?", span)
    con.execute("DETACH src")
    store.attach(con, store.Lake(lake_url, Path(data_path)))
    out = []
    barrier.wait()
    for i in range(LATENCY_COMMITS):
        shift = (code * 10 + i) * store.VERSION_SPAN - base  # ids of a county of its own, as a load has
        t0 = time.perf_counter()
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO lake.file_version_log BY NAME SELECT * REPLACE (version_id + ? AS version_id) "
                        "FROM memory.main.log", [shift])
            for ledger in LEDGERS:
                con.execute(f'INSERT INTO lake.raw."{ledger}" BY NAME SELECT * REPLACE (_version_id + ? AS _version_id) '
                            f'FROM memory.main."r_{ledger}"', [shift])
            t1 = time.perf_counter()
            con.execute("COMMIT")
            t2 = time.perf_counter()
            out.append({"txn": t2 - t0, "commit": t2 - t1, "failed": False})
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            out.append({"txn": time.perf_counter() - t0, "commit": None, "failed": True, "error": str(exc)[:200]})
    con.close()
    results.put(out)


def latency_step(cluster, source, counties: list[str], contract: Path | None) -> list[dict]:
    """Commit latency with 1, 2, 4 and 8 writers committing a county's load each, at once, into a fresh lake."""
    import duckdb

    from flows.load import lake as store

    ctx = multiprocessing.get_context("forkserver")
    rows = []
    for writers in LATENCY_WRITERS:
        dsn = cluster.create_database(f"latency{writers}")
        lake = store.Lake(f"ducklake:postgres:{dsn}", WORK / "lakes" / f"latency{writers}" / "data")
        shutil.rmtree(lake.data_path.parent, ignore_errors=True)
        con = duckdb.connect()
        store.attach(con, lake)
        store.ensure_tables(con)
        con.close()
        barrier, results = ctx.Barrier(writers), ctx.Queue()
        procs = [ctx.Process(target=latency_writer, args=(
            lake.url, str(lake.data_path), source.url, str(source.data_path), counties[i % len(counties)],
            900000 + i, barrier, results, str(contract) if contract else None)) for i in range(writers)]
        start = time.perf_counter()
        for p in procs:
            p.start()
        got = [results.get() for _ in procs]
        for p in procs:
            p.join()
        wall = time.perf_counter() - start
        commits = sorted(c["commit"] for w in got for c in w if not c["failed"])
        txns = sorted(c["txn"] for w in got for c in w if not c["failed"])
        rows.append({"writers": writers, "commits": len(commits), "failed": sum(c["failed"] for w in got for c in w),
                     "commit_s_median": statistics.median(commits) if commits else None,
                     "commit_s_max": commits[-1] if commits else None,
                     "txn_s_median": statistics.median(txns) if txns else None,
                     "commits_per_s": len(commits) / wall, "wall": wall, "load": load()})
        print(f"[consolidation] latency {writers} writers: {rows[-1]}", flush=True)
    return rows


# ---------------------------------------------------------------- the single file


def single_file_step(inbox: Path, warehouse: Path, contract: Path | None, timeout: float) -> dict:
    """The same inbox through today's path, `bench.step run` (one DuckDB file) in a child process."""
    from bench.tree import TreePeak

    shutil.rmtree(warehouse.parent, ignore_errors=True)
    env = dict(os.environ)
    if contract:
        env["TALLY_CONTRACT"] = str(contract)
    cpu = cpu_s(own=False)
    proc = subprocess.Popen([sys.executable, "-m", "bench.step", "run", str(inbox), str(warehouse)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    with TreePeak(proc.pid) as tree:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate()
            return {"skipped": f"stopped after {timeout:.0f} s (deadline)"}
    if proc.returncode:
        return {"skipped": f"failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}"}
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall": result["wall"], "cpu_s": cpu_s(own=False) - cpu, "own_peak_mib": round(result["peak_mib"]), "tree_peak_mib": round(tree.peak_mib),
            "rows_loaded": result["rows_loaded"], "files_loaded": result["files_loaded"], "load": load()}


# ---------------------------------------------------------------- which runner


def warm_up() -> None:
    """A flow with nothing to do: its first call starts Prefect's temporary server."""


def runners_step(org: str = "640400", workers: int = 2) -> list[dict]:
    """The counties of `org` loaded four ways, each into a fresh lake: plain processes, plain threads,
    and the Prefect flow through its ProcessPoolTaskRunner and ThreadPoolTaskRunner.

    Prefect's temporary server is started (by a flow with no task) before the first timed flow,
    so its start is reported apart. Not part of `make bench` (`--runners`).
    """
    sys.path.insert(0, str(ROOT / "tests" / "lake"))
    # Prefect's temporary server in a home of the bench's own: a shared ~/.prefect/prefect.db is
    # locked by other users' servers ("database is locked").
    os.environ.setdefault("PREFECT_HOME", str(WORK / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    import pgcluster
    from prefect import flow

    from flows.load import lake as store
    from flows.run import fanout

    inbox, _, _, _ = province_inbox(22)
    codes = fanout.counties_of(org)
    cluster = pgcluster.start()
    rows = []
    try:
        for how in ("plain-process", "plain-thread", "prefect-start", "prefect-process", "prefect-thread"):
            dsn = cluster.create_database(how.replace("-", "_"))
            lake = store.Lake(f"ducklake:postgres:{dsn}", WORK / "lakes" / how / "data")
            shutil.rmtree(lake.data_path.parent, ignore_errors=True)
            fanout._prepare(lake)
            start = time.perf_counter()
            if how == "prefect-start":
                flow(name="warm-up")(warm_up)()
                ok = 0
            elif how.startswith("plain"):
                out = fanout.fan_out(inbox, lake, codes, workers=workers, runner=how.split("-")[1])
                ok = sum(o.ok for o in out)
            else:
                out = fanout.county_fanout(str(inbox), lake.url, str(lake.data_path), org, workers=workers,
                                           runner=how.split("-")[1])
                ok = sum(o["ok"] for o in out)
            rows.append({"how": how, "counties": len(codes), "ok": ok, "wall": time.perf_counter() - start,
                         "load": load()})
            print(f"[consolidation] runners: {rows[-1]}", flush=True)
    finally:
        cluster.stop()
    return rows


# ---------------------------------------------------------------- the whole step


def run(counties: int, workers: int, runner: str, deadline_s: float) -> dict:
    """Measure the consolidation of `counties` counties; parts past the deadline are skipped and named."""
    sys.path.insert(0, str(ROOT / "tests" / "lake"))
    import pgcluster

    from flows.contract import spec
    from flows.load import lake as store
    from flows.run import fanout

    begun = time.perf_counter()

    def left() -> float:
        return deadline_s - (time.perf_counter() - begun)

    WORK.mkdir(parents=True, exist_ok=True)
    inbox, codes, contract, written_s = province_inbox(counties)
    if contract is not None:
        spec.use_contract(contract)
    result: dict = {"counties": counties, "inbox_s": written_s, "skipped": [], "cpus": os.cpu_count()}
    cluster = pgcluster.start()
    try:
        dsn = cluster.create_database("lake")
        lake = store.Lake(f"ducklake:postgres:{dsn}", WORK / "lakes" / f"province-{counties}" / "data")
        shutil.rmtree(lake.data_path.parent, ignore_errors=True)
        fanout._prepare(lake)  # the tables exist before: what follows is what the loads add
        empty = catalog_state(cluster, "lake")
        # Keep a quarter of the time for what follows the fan-out (catalog, build, latency, single file).
        result["fan_out"] = fan_out_step(inbox, codes, lake, workers, runner, contract,
                                         stop=lambda: left() < deadline_s / 4)
        if result["fan_out"]["not_started"]:
            result["skipped"].append(f"{result['fan_out']['not_started']} counties not loaded: the deadline")
        after = catalog_state(cluster, "lake")
        data_bytes, data_files = folder_bytes(lake.data_path)
        loads = result["fan_out"]["loaded"]
        result["catalog"] = {
            "before": empty, "after": after, "loads": loads,
            "bytes_per_load": (after["bytes"] - empty["bytes"]) / max(loads, 1),
            "rows_per_load": {t: (n - empty["rows"].get(t, 0)) / max(loads, 1) for t, n in after["rows"].items()},
            "parquet_bytes": data_bytes, "parquet_files": data_files,
            "parquet_bytes_per_county_year": data_bytes / max(loads, 1), "load": load()}
        if left() > 60:
            result["build"] = build_step(lake, WORK / "lakes" / f"province-{counties}" / "built.duckdb")
        else:
            result["skipped"].append("build: past the deadline")
        if left() > 120:
            result["latency"] = latency_step(cluster, lake, codes, contract)
        else:
            result["skipped"].append("commit latency: past the deadline")
    finally:
        cluster.stop()
    if left() > 60:
        result["single_file"] = single_file_step(inbox, WORK / f"single-{counties}" / "tally.duckdb", contract,
                                                 timeout=left())
        if "skipped" in result["single_file"]:
            result["skipped"].append(f"single file: {result['single_file']['skipped']}")
    else:
        result["skipped"].append("single file: past the deadline")
    result["total_s"] = time.perf_counter() - begun
    return result


def cpu_text(seconds: float | None) -> str:
    """CPU seconds as the table shows them; None: not measured (the workers are not our children)."""
    return "not measured (process workers are the forkserver's children)" if seconds is None else f"{seconds:.0f} s"


def markdown(r: dict) -> str:
    """The consolidation step's results as a Markdown section (bench/results.md)."""
    f = r.get("fan_out", {})
    lines = [f"\n## Consolidation: {r['counties']} counties into a lake (DuckLake on PostgreSQL)\n",
             "| measure | value | load avg |", "| --- | --- | --- |"]
    if f:
        lines += [
            f"| fan-out wall ({f['workers']} {f['runner']} workers) | {f['wall']:.1f} s | {f['load']} |",
            f"| fan-out CPU | {cpu_text(f.get('cpu_s'))} | {f['load']} |",
            f"| loads per second | {f['loads_per_s']:.3f} | {f['load']} |",
            f"| loads committed / failed (after retries) / not started | {f.get('loaded')} / {len(f['failed'])} / "
            f"{f.get('not_started', 0)} of {f['counties']} | {f['load']} |",
            f"| transactions run more than once | {f['retried_transactions']} | {f['load']} |",
            f"| a county's load, median | {f['load_s_median']:.1f} s | {f['load']} |",
            f"| COMMIT, median / max | {f['commit_s_median']:.2f} / {f['commit_s_max']:.2f} s | {f['load']} |",
            f"| peak RSS per worker (process tree) | {', '.join(str(v) for v in f['worker_peak_mib'].values())} MiB"
            f" | {f['load']} |",
            f"| peak RSS, fan-out's whole tree | {f['tree_peak_mib']} MiB | {f['load']} |",
        ]
    if "build" in r:
        lines.append(f"| one build of the province's figures | {r['build']['wall']:.1f} s | {r['build']['load']} |")
    c = r.get("catalog")
    if c:
        lines += [f"| catalog bytes per load (pg_database_size) | {c['bytes_per_load']:,.0f} | {c['load']} |",
                  f"| catalog rows per load (all ducklake_*) | {sum(c['rows_per_load'].values()):.1f} | {c['load']} |",
                  f"| Parquet bytes per county-year | {c['parquet_bytes_per_county_year']:,.0f} "
                  f"({c['parquet_files']} files in all) | {c['load']} |"]
    s = r.get("single_file", {})
    if "wall" in s:
        lines += [f"| single file (`tally run` path): wall | {s['wall']:.1f} s | {s['load']} |",
                  f"| single file: CPU | {s.get('cpu_s', 0):.0f} s | {s['load']} |",
                  f"| single file: peak RSS, own / tree | {s['own_peak_mib']} / {s['tree_peak_mib']} MiB | {s['load']} |"]
    for row in r.get("latency", []):
        lines.append(f"| {row['writers']} writers: COMMIT median / max, commits/s, failed | "
                     f"{row['commit_s_median']:.2f} / {row['commit_s_max']:.2f} s, {row['commits_per_s']:.2f}, "
                     f"{row['failed']} | {row['load']} |")
    lines += [f"\nNot measured: {s}" for s in r.get("skipped", [])]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the step from the command line; print the Markdown and, last, one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=22)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runner", choices=("process", "thread"), default="process")
    parser.add_argument("--deadline-s", type=float, default=3600.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runners", metavar="ORG", help="instead: time the four runners on ORG's counties")
    args = parser.parse_args()
    # Stopped by bench/run.py at its budget: unwind, so that `finally` stops the PostgreSQL cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.runners:
        rows = runners_step(args.runners, args.workers)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        print(json.dumps(rows))
        return
    result = run(args.counties, args.workers, args.runner, args.deadline_s)
    result["markdown"] = markdown(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(result["markdown"])
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
