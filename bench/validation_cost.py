"""What validating 1M inspection rows with the suite costs: the polars runner against GX itself.

`python -m bench.validation_cost [ROWS]` builds ROWS typed inspection rows (12 monthly files,
about 0.1% of rows breaking a rule), then times, each in this process:
  - the GX import (in a child process, as a cold CLI would pay it),
  - `validate_ledgers` end to end (the polars suite runner), split into its stages,
  - rendering the Data Docs of that validation (GX),
  - GX's own validation of the same frame on its pandas datasource, with the hand-over to
    pandas in both forms: numpy-backed `to_pandas()` and Arrow-backed.
Prints one JSON object; `bench/validation_cost.md` records a run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl

from flows.contract.ledgers import LEDGERS
from flows.contract.problems import PROBLEM_SCHEMA

INSPECTIONS = LEDGERS["inspections"]
INSPECTION_TYPES = INSPECTIONS.column("inspection_type").values
VENUE_TYPES = INSPECTIONS.column("venue_type").values


def inspection_units(rows: int, seed: int = 1) -> list[SimpleNamespace]:
    """Return 12 monthly units of typed inspection rows, shaped like `flows.extract.plan.Prepared`."""
    rng = np.random.default_rng(seed)
    month = np.sort(rng.integers(1, 13, rows))
    day = rng.integers(1, 29, rows)
    kinds = np.array(INSPECTION_TYPES)[rng.integers(0, len(INSPECTION_TYPES), rows)]
    bad = rng.random(rows)
    frame = pl.DataFrame({
        "_row": (np.arange(rows) % 100_000 + 5).astype(np.int32),
        "_month": month,
        "_day": day,
        "inspection_type": kinds,
        "_bad": bad,
        "venue_name": np.char.add("场所", (np.arange(rows) % 5000).astype(str)),
        "venue_type": np.array(VENUE_TYPES)[rng.integers(0, len(VENUE_TYPES), rows)],
        "inspectors": np.where(bad < 0.0003, 0, rng.integers(1, 5, rows)),
        "officers": pl.Series([["张三", "李四"]] * rows),
        "result": np.array(["未发现问题", "责令整改", "立案查处", "其他"])[rng.integers(0, 4, rows)],
        "disclosed_on": pl.Series([None] * rows, dtype=pl.Date),
        "note": pl.Series([None] * rows, dtype=pl.Utf8),
    }).with_columns(
        # ~0.05% of rows lack their campaign or task number: a required_if error each
        pl.when((pl.col("inspection_type") == "专项检查") & (pl.col("_bad") > 0.0005))
        .then(pl.lit("春节文化市场专项检查")).alias("campaign"),
        pl.when(pl.col("inspection_type").is_in(["双随机抽查", "联合抽查"]) & (pl.col("_bad") > 0.0005))
        .then(pl.lit("SJ-1")).alias("spot_check_task"),
        pl.date(2024, pl.col("_month"), pl.col("_day")).alias("inspection_date"),
    ).with_columns(
        # ~0.05% of rows dated in the next month: an outside_period warning each
        pl.when(pl.col("_bad") < 0.0005).then(pl.col("inspection_date").dt.offset_by("1mo"))
        .otherwise(pl.col("inspection_date")).alias("inspection_date"),
    )  # fmt: skip
    names = [c.name for c in INSPECTIONS.columns]
    units = []
    for (m,), part in frame.partition_by("_month", as_dict=True, maintain_order=True).items():
        rows_ = part.select("_row", *names)
        raw = rows_.select("_row", *[pl.col(n).cast(pl.Utf8) if n != "officers" else pl.col(n).list.join("、")
                                     for n in names])
        unit = SimpleNamespace(ledger=INSPECTIONS, period_start=date(2024, m, 1), period=f"2024-{m:02d}")
        parsed = SimpleNamespace(rows=rows_, raw=raw, problems=pl.DataFrame(schema=PROBLEM_SCHEMA),
                                 headers={c.name: c.header for c in INSPECTIONS.columns})
        units.append(SimpleNamespace(unit=unit, parsed=parsed))
    return units


def gx_import_seconds() -> float:
    """Time `import great_expectations` in a fresh process."""
    code = "import time; t = time.perf_counter(); import great_expectations; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def timed(fn, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def main(rows: int) -> dict:
    """Measure and return the figures."""
    from flows.validate import data_docs
    from flows.validate import sheet_suites as validation
    from flows.validate.gx_pandas import gx_results
    from flows.validate.suites import load_suite

    units = inspection_units(rows)
    report: dict = {"rows": rows, "files": len(units), "gx_import_s": round(gx_import_seconds(), 2)}
    import great_expectations  # noqa: F401  (paid once here, not inside the timings below)

    findings, total = timed(validation.validate_ledgers, units)
    t = findings.timings
    report["validate_ledgers_s"] = round(total, 2)
    report["stages_s"] = {k: round(getattr(t, k), 2) for k in ("frames", "evaluate", "mapping")}
    report["problems"] = sum(r.height for r in findings.problems)
    with tempfile.TemporaryDirectory() as folder:
        _, report["data_docs_s"] = timed(data_docs.build_data_docs, Path(folder) / "docs", findings.suites)
    report["data_docs_s"] = round(report["data_docs_s"], 2)

    frame = validation.validation_frame(list(enumerate(units)), INSPECTIONS)
    _, numpy_s = timed(frame.to_pandas)
    _, arrow_s = timed(frame.to_pandas, use_pyarrow_extension_array=True)
    report["handover_s"] = {"numpy_backed": round(numpy_s, 2), "arrow_backed": round(arrow_s, 2)}
    expectations = load_suite("inspections")["expectations"]
    gx_results(frame.head(100), "warm", expectations)  # GX's first validation loads its registries
    _, report["gx_validate_s"] = timed(gx_results, frame, "inspections", expectations)
    report["gx_validate_s"] = round(report["gx_validate_s"], 2)
    return report


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000), ensure_ascii=False))
