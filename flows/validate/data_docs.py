"""Render what the suites found in a run as Great Expectations Data Docs (HTML).

The suites are evaluated by `flows.validate.suite_runner`; their tallies over the whole run (every
batch of every ledger) become GX validation results here, in GX's own classes, and GX renders
them. GX is imported only for this, and its import takes seconds (importing it on a thread
during the run slowed parsing threefold: it holds the GIL). So a run hands its tallies (returned by
the suites, `SuiteFindings`) to `render_later`, which renders them in a child process of their own after the swap: the docs
are a view of the published results, never part of them. `python -m flows.validate.data_docs JOB
FOLDER` is that child; a lock beside the folder keeps two of them from writing it at once, and
a failure is written to `docs-build.log` beside it. The rendered pages are then made
self-contained (`flows.validate.offline_docs`): their CDN assets are served from the folder.

The child is the largest single cost of a writing run (~4 CPU-s on the bench's inboxes, of
which the render itself is ~0.4), so it spends no more than the render needs (`main`):

- the job file carries each ledger's suite as the run has it, so the child imports none of the
  run's modules (polars, DuckDB, the contract: ~0.3 CPU-s) and renders the suites of the run's
  own contract;
- it imports GX without SQLAlchemy, which GX treats as an optional extra (its
  `compatibility.sqlalchemy` falls back when the import fails) and which no page of ours needs:
  ~0.25 CPU-s of GX's import;
- SciPy's statistics and Altair, which GX imports for one expectation we never use (KL
  divergence) and for charts none of our pages has, are imported only if something reads one of
  their attributes (`Deferred`): ~0.6 CPU-s. Were a page to need them, they would be imported
  then, and the page would be what it is now;
- the cyclic garbage collector is off: GX's import allocates ~1M objects and set off
  collection after collection (~0.5 CPU-s), and the process lives for one render;
- it ends with `os._exit` once the pages are written and closed: tearing down GX's modules at
  interpreter exit cost ~0.8 CPU-s and wrote nothing.

What the pages say is unchanged: the same GX classes render the same results
(`tests/validate/test_data_docs_child.py` compares the child's pages with an in-process render).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import gc
import html
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import traceback
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING

from flows.validate.offline_docs import make_self_contained

if TYPE_CHECKING:  # the child renders without importing the run's modules (see the docstring)
    from flows.validate.sheet_suites import ExpectationTally

DOCS_SITE = "tally"
BATCH_ID = "ledgers-run"
LOG_NAME = "docs-build.log"
# GX's optional dependencies that no page needs, kept out of the child (see the docstring).
NOT_IMPORTED = ("sqlalchemy",)
# Modules GX imports at its own import and no page of ours uses: imported on first use only.
DEFERRED = ("scipy.stats", "altair")


def render_later(folder: Path, suites: dict[str, list[ExpectationTally]]) -> subprocess.Popen | None:
    """Render a run's tallies into `folder` in a detached child process; None: nothing to render."""
    if not suites:
        return None
    folder = folder.resolve()
    folder.parent.mkdir(parents=True, exist_ok=True)
    from flows.validate.suites import load_suite  # loaded already in a run

    job = folder.parent / f".docs-job-{uuid.uuid4().hex}.json"
    data = {"suites": {code: load_suite(code) for code in suites},
            "tallies": {code: [dataclasses.asdict(t) for t in tallies] for code, tallies in suites.items()}}
    job.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    with open(folder.parent / LOG_NAME, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "flows.validate.data_docs", str(job), str(folder)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def render_job(job: Path, folder: Path) -> Path | None:
    """Render a job file written by `render_later`, then remove it."""
    try:
        data = json.loads(job.read_text(encoding="utf-8"))
        # The tallies as `result_dict` reads them (ExpectationTally's fields), and the run's suites.
        tallies = {code: [SimpleNamespace(**t) for t in ts] for code, ts in data["tallies"].items()}
        with open(folder.parent / ".docs.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return render(tallies, folder, data["suites"])
    finally:
        job.unlink(missing_ok=True)


class Deferred(ModuleType):
    """Stands in `sys.modules` for a module not imported yet; the first attribute read imports it.

    The stand-in carries the module's spec and path, so that the import system (and an import
    of one of its submodules) finds what it looks for without importing it; any other attribute
    imports the real module, which takes the stand-in's place, and is read from it: code that
    kept the stand-in sees the real module's attributes.
    """

    def __getattr__(self, attr: str):
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attr)


def defer(name: str) -> None:
    """Put a `Deferred` stand-in for module `name` (not imported yet) into `sys.modules`."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)  # imports its parent packages, not the module
    if spec is None:
        return
    stand_in = Deferred(name)
    stand_in.__spec__, stand_in.__loader__, stand_in.__file__ = spec, spec.loader, spec.origin
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = stand_in


def main(job: Path, folder: Path) -> None:
    """The child of `render_later`: render one job as cheaply as it can, then exit (see the docstring)."""
    gc.disable()
    for name in NOT_IMPORTED:
        sys.modules.setdefault(name, None)  # `import sqlalchemy` raises ImportError: GX's fallback
    for name in DEFERRED:
        defer(name)
    code = 0
    try:
        render_job(job, folder)
    except BaseException:
        traceback.print_exc()  # into docs-build.log, as an uncaught exception would be
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # every page is written and closed; nothing is left to tear down


def docs_folder(con) -> Path | None:
    """Return `<warehouse dir>/docs` for the warehouse file a connection has open."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]).parent / "docs" if row and row[0] else None


def result_dict(tally: ExpectationTally) -> dict:
    """Return the `result` of one expectation in GX's summary form."""
    evaluated = tally.element_count - tally.missing_count
    out = {
        "element_count": tally.element_count,
        "unexpected_count": tally.unexpected_count,
        "unexpected_percent": 100 * tally.unexpected_count / evaluated if evaluated else None,
        "partial_unexpected_list": [shown_value(v) for v in tally.partial],
    }
    if tally.expectation["type"] != "expect_column_values_to_not_be_null":
        out |= {
            "missing_count": tally.missing_count,
            "missing_percent": 100 * tally.missing_count / tally.element_count if tally.element_count else None,
            "unexpected_percent_total": (100 * tally.unexpected_count / tally.element_count
                                         if tally.element_count else None),
            "unexpected_percent_nonmissing": out["unexpected_percent"],
        }
    return out


def shown_value(value: object) -> object:
    """Return a ledger value as the Data Docs may show it: text HTML-escaped, numbers as they are.

    GX's renderer puts unexpected values into its HTML as they are (a `<script>` from a 链接
    cell would run in the analyst's browser), so text is escaped here, once, before GX sees it.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return html.escape(str(value))
    return value


def suite_result(code: str, tallies: list[ExpectationTally], run_id):
    """Return one ledger's tallies as a GX ExpectationSuiteValidationResult."""
    import great_expectations as gx
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    results = [
        ExpectationValidationResult(
            success=t.unexpected_count == 0,
            expectation_config=ExpectationConfiguration(
                type=t.expectation["type"], kwargs=t.expectation["kwargs"], meta=t.expectation["meta"]),
            result=result_dict(t),
            exception_info={"raised_exception": False, "exception_message": None,
                            "exception_traceback": None},
        )
        for t in tallies
    ]  # fmt: skip
    passed = sum(r.success for r in results)
    return ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=code,
        statistics={"evaluated_expectations": len(results), "successful_expectations": passed,
                    "unsuccessful_expectations": len(results) - passed,
                    "success_percent": 100 * passed / len(results) if results else None},
        meta={"great_expectations_version": gx.__version__, "run_id": run_id,
              "validation_time": run_id.run_time,
              "active_batch_definition": {"datasource_name": "ledgers", "data_asset_name": code,
                                          "batch_definition_name": "run"}},
        batch_id=BATCH_ID,
    )  # fmt: skip


def build_data_docs(folder: Path, suites: dict[str, list[ExpectationTally]]) -> Path | None:
    """Render a run's tallies as GX Data Docs in `folder`, now; return index.html (None: nothing ran)."""
    return render(suites, folder) if suites else None


def render(suites: dict[str, list[ExpectationTally]], folder: Path, definitions: dict | None = None) -> Path:
    """Render tallies by ledger as GX Data Docs in `folder`; return its index.html.

    `definitions` holds each ledger's suite (as `load_suite` gives it); read with `load_suite` when None.
    """
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if definitions is None:
        from flows.validate.suites import load_suite

        definitions = {code: load_suite(code) for code in suites}
    context = new_context()
    run_id = RunIdentifier(run_name="tally", run_time=dt.datetime.now(dt.UTC))
    for code, tallies in suites.items():
        context.suites.add(ExpectationSuite(**definitions[code]))
        suite_id = ExpectationSuiteIdentifier(name=code)
        key = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=run_id,
                                         batch_identifier=BATCH_ID)
        context.validation_results_store.store_validation_results(
            suite_validation_result=suite_result(code, tallies, run_id),
            suite_validation_result_identifier=key, expectation_suite_identifier=suite_id,
        )  # fmt: skip
    folder = folder.resolve()  # GX wants an absolute base directory
    if folder.exists() and (folder / "index.html").exists():
        shutil.rmtree(folder)  # the docs are of the latest run only
    folder.mkdir(parents=True, exist_ok=True)
    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    context.add_data_docs_site(site_name=DOCS_SITE, site_config=site)
    context.build_data_docs(site_names=[DOCS_SITE])
    # GX's pages load their CSS and scripts from CDNs: an intranet has none. Serve them from here.
    for leftover in make_self_contained(folder):
        print(f"Data Docs 仍从外部加载 · still loaded from outside the docs folder: {leftover}", file=sys.stderr)
    return folder / "index.html"


def new_context():
    """Return an ephemeral GX context that keeps its stores in memory."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    # No temporary docs site: GX would leave a folder in /tmp behind for every run.
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults())
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    return context


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
