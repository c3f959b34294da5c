"""Validate every parsed sheet against its ledger's Great Expectations suite, and say what broke.

`validate_ledgers` is a loader check (`flows.ingest.Check`): it sees all units of a run, hands
each ledger's rows to GX once (all its files concatenated, with a `_unit` column saying which
file a row came from), and turns the failed expectations back into problem records: file row,
column, header as the file writes it, raw text, rule, severity and a Chinese message.

Rules are reported once. The cell parser (`flows.cells`) already reports a blank required
cell and a value outside an enumeration, and leaves such cells null; the suite states those
rules too, but a finding on a cell that the parser already reported is dropped. Ranges
(`minimum`) are left to the suite alone: the loader parses with `ranges_in_suite(ledger)`,
which keeps the out-of-range value so that the suite can name the rule.

GX is imported only when a run validates something (it takes seconds to import), and its
pandas datasource is used on frames handed over through Arrow (its SQL datasource returns
empty metrics on DuckDB, GX issue #11579). The results of the latest validation in this
process stay in memory until `build_data_docs` renders them as HTML.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import threading
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .errors import TallyError
from .ledgers import Ledger
from .masking import id_kind_expr, id_valid_expr
from .problems import PROBLEM_SCHEMA, problem_frame
from .suites import PERIOD, PERIOD_END, PERIOD_START, ROW, UNIT, load_suite

if TYPE_CHECKING:
    from .ingest import Prepared

DOCS_SITE = "tally"
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [UNIT, ROW]}
UNIQUE = "expect_compound_columns_to_be_unique"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# The reader writes an Excel date cell as `2024-03-05 00:00:00`; the clerk sees a date.
EXCEL_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
_FINDING_SCHEMA = {UNIT: pl.Int32, ROW: pl.Int32, "_order": pl.Int32}


class ValidationFailed(TallyError):
    """An expectation could not be evaluated: the run must not load as if it had passed."""


@dataclasses.dataclass
class Timings:
    """Seconds spent by the latest validation, by stage (for the benchmark and the log)."""

    frames: float = 0.0  # building the validation frames in polars
    handover: float = 0.0  # polars → pandas through Arrow
    gx: float = 0.0  # GX itself (context, suites, validation)
    mapping: float = 0.0  # failures back to problem records
    rows: int = 0


@dataclasses.dataclass
class LastValidation:
    """The GX context of the latest validation in this process, kept for its Data Docs."""

    context: Any = None
    timings: Timings = dataclasses.field(default_factory=Timings)


_last = LastValidation()
_lock = threading.Lock()


@cache
def ranges_in_suite(ledger: Ledger) -> Ledger:
    """Return the ledger with its minimums left to the suite, for the cell parser."""
    columns = tuple(dataclasses.replace(c, minimum=None) for c in ledger.columns)
    return dataclasses.replace(ledger, columns=columns)


def last_timings() -> Timings:
    """Return the stage timings of the latest validation in this process."""
    return _last.timings


# Frames


def validation_frame(units: Sequence[tuple[int, Prepared]], ledger: Ledger) -> pl.DataFrame:
    """Concatenate the typed rows of a ledger's units, with what the suite needs beside them.

    Personal data stays out: a required personal column becomes a mark of presence, an ID
    number becomes its kind and whether its check character holds, lists and free text go.
    """
    parts = []
    for i, p in units:
        rows = p.parsed.rows
        if rows.height == 0:
            continue
        start = p.unit.period_start
        parts.append(rows.with_columns(
            pl.lit(i, pl.Int32).alias(UNIT),
            pl.lit(start, pl.Date).alias(PERIOD_START),
            pl.lit(start, pl.Date).dt.month_end().alias(PERIOD_END),
            pl.lit(p.unit.period, pl.Utf8).alias(PERIOD),
        ))  # fmt: skip
    if not parts:
        return pl.DataFrame()
    frame = pl.concat(parts, how="vertical_relaxed")
    exprs: list[pl.Expr] = [pl.col(UNIT), pl.col(ROW).cast(pl.Int32)]
    for column in ledger.columns:
        name = column.name
        if column.personal == "id_number":
            exprs += [id_kind_expr(pl.col(name)).alias(f"{name}_kind"),
                      id_valid_expr(pl.col(name)).alias(f"{name}_valid")]
        elif column.personal is not None:
            if column.required:
                exprs.append(pl.when(pl.col(name).is_not_null()).then(pl.lit("*")).alias(name))
        elif column.type != "names":
            exprs.append(pl.col(name))
    exprs += [pl.col(PERIOD_START), pl.col(PERIOD_END), pl.col(PERIOD)]
    return frame.select(exprs)


def to_pandas(frame: pl.DataFrame):
    """Hand a frame to pandas through Arrow, with numpy-backed columns (GX is slow on Arrow ones)."""
    return frame.to_pandas()


# GX


def new_context():
    """Return an ephemeral GX context with progress bars off and a pandas datasource."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    # No temporary docs site: GX would leave a folder in /tmp behind for every run.
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults())
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    context.data_sources.add_pandas("ledgers")
    return context


def run_suite(context, code: str, frame) -> Any:
    """Validate one ledger's pandas frame against its suite; return GX's validation result."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite

    suite = context.suites.add(ExpectationSuite(**load_suite(code)))
    asset = context.data_sources.get("ledgers").add_dataframe_asset(code)
    batch = asset.add_batch_definition_whole_dataframe("run")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=code, data=batch, suite=suite)
    )
    return definition.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)


def raised(result) -> str | None:
    """Return the error message if evaluating an expectation raised, else None."""
    info = result.exception_info or {}
    infos = [info] if "raised_exception" in info else list(info.values())
    for item in infos:
        if isinstance(item, dict) and item.get("raised_exception"):
            return str(item.get("exception_message"))
    return None


def findings(validation) -> pl.DataFrame:
    """Return one row per unexpected row of each failed expectation: unit, row and rule meta."""
    parts = []
    for order, result in enumerate(validation.results):
        config = result.expectation_config
        if (message := raised(result)) is not None:
            raise ValidationFailed(f"校验规则 {config.type}（{config.meta.get('rule')}）无法执行：{message}")
        if result.success:
            continue
        index = result.result.get("unexpected_index_list") or []
        meta = config.meta
        part = pl.DataFrame(
            {UNIT: [int(d[UNIT]) for d in index], ROW: [int(d[ROW]) for d in index],
             "_order": [order] * len(index)},
            schema=_FINDING_SCHEMA,
        ).with_columns(
            pl.lit(meta["column"]).alias("column"), pl.lit(meta["rule"]).alias("rule"),
            pl.lit(meta["severity"]).alias("severity"), pl.lit(meta["message"]).alias("template"),
            pl.lit(bool(meta.get("once_per_row"))).alias("once_per_row"),
            pl.lit(config.type).alias("type"),
            pl.lit(",".join(config.kwargs.get("column_list") or [])).alias("key_columns"),
        )  # fmt: skip
        parts.append(part)
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="vertical")


# Back to problem records


def first_rows(found: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """For uniqueness findings, name the first row of each group and keep only the later ones."""
    unique = found.filter(pl.col("type") == UNIQUE)
    if unique.height == 0:
        return found.with_columns(pl.lit(None, pl.Int32).alias("_first_row"))
    rest = found.filter(pl.col("type") != UNIQUE).with_columns(pl.lit(None, pl.Int32).alias("_first_row"))
    out = [rest]
    for key_columns, group in unique.group_by("key_columns", maintain_order=True):
        keys = [k for k in key_columns[0].split(",") if k != UNIT]
        with_keys = group.join(frame.select(UNIT, ROW, *keys), on=[UNIT, ROW], how="left")
        first = pl.col(ROW).min().over([UNIT, *keys]).alias("_first_row")
        later = with_keys.with_columns(first).filter(pl.col(ROW) != pl.col("_first_row"))
        out.append(later.select(rest.columns))
    return pl.concat(out, how="vertical")


def drop_repeats(found: pl.DataFrame, told: pl.DataFrame) -> pl.DataFrame:
    """Drop findings on cells the parser already reported, and repeats of a once-per-row rule."""
    found = found.join(told, on=[UNIT, ROW, "column"], how="anti")
    once = found.filter(pl.col("once_per_row")).sort("_order").unique([UNIT, ROW, "rule"], keep="first")
    return pl.concat([found.filter(~pl.col("once_per_row")), once], how="vertical").sort(UNIT, ROW, "_order")


def message_expr(template: str) -> pl.Expr:
    """Fill a message template's {column} placeholders from each finding's row."""
    names = _PLACEHOLDER.findall(template)
    if not names:
        return pl.lit(template)
    text = _PLACEHOLDER.sub("{}", template)
    return pl.format(text, *[pl.col(n).cast(pl.Utf8).fill_null("空") for n in names])


def problem_records(found: pl.DataFrame, frame: pl.DataFrame, raw: pl.DataFrame,
                    headers: pl.DataFrame) -> pl.DataFrame:
    """Shape findings into PROBLEM_SCHEMA rows (with `_unit`), messages filled in."""
    rows = found.select(UNIT, ROW).unique()
    values = frame.join(rows, on=[UNIT, ROW], how="semi")
    texts = raw.join(rows, on=[UNIT, ROW], how="semi").unpivot(
        index=[UNIT, ROW], variable_name="column", value_name="raw_value"
    ).with_columns(pl.col("raw_value").str.replace(EXCEL_MIDNIGHT, "$1"))
    found = (
        found.join(values, on=[UNIT, ROW], how="left", suffix="_value")
        .join(texts, on=[UNIT, ROW, "column"], how="left")
        .join(headers, on=[UNIT, "column"], how="left")
        .with_columns(pl.col("header").alias("_header"))
    )
    parts = []
    for (template,), group in found.group_by("template", maintain_order=True):
        parts.append(group.with_columns(message_expr(template).alias("reason")))
    found = pl.concat(parts, how="vertical").sort(UNIT, ROW, "_order")
    out = []
    for (severity,), group in found.group_by("severity", maintain_order=True):
        out.append(problem_frame(group, severity=severity).with_columns(group[UNIT]))
    return pl.concat(out, how="vertical")


def ledger_problems(units: Sequence[tuple[int, Prepared]], ledger: Ledger, validation,
                    frame: pl.DataFrame) -> pl.DataFrame:
    """Turn one ledger's validation result into problem records, with `_unit`."""
    found = findings(validation)
    if found.height == 0:
        return pl.DataFrame()
    raw = pl.concat([p.parsed.raw.with_columns(pl.lit(i, pl.Int32).alias(UNIT)) for i, p in units],
                    how="vertical_relaxed").with_columns(pl.col(ROW).cast(pl.Int32))
    raw = raw.select(UNIT, ROW, *[pl.col(c.name).cast(pl.Utf8) for c in ledger.columns])
    told = pl.concat(
        [p.parsed.problems.select(pl.lit(i, pl.Int32).alias(UNIT), pl.col(ROW), "column")
         for i, p in units], how="vertical",
    )  # fmt: skip
    headers = pl.DataFrame(
        [(i, c.name, p.parsed.headers.get(c.name, c.header)) for i, p in units for c in ledger.columns],
        schema={UNIT: pl.Int32, "column": pl.Utf8, "header": pl.Utf8}, orient="row",
    )
    found = drop_repeats(first_rows(found, frame), told)
    if found.height == 0:
        return pl.DataFrame()
    return problem_records(found, frame, raw, headers)


# The check


def validate_ledgers(prepared: Sequence[Prepared]) -> list[pl.DataFrame]:
    """Validate every unit against its ledger's suite; one PROBLEM_SCHEMA frame per unit."""
    timings = Timings()
    by_ledger: dict[str, list[tuple[int, Prepared]]] = {}
    for i, p in enumerate(prepared):
        by_ledger.setdefault(p.unit.ledger.code, []).append((i, p))
    results = [pl.DataFrame(schema=PROBLEM_SCHEMA) for _ in prepared]
    context = None
    for units in by_ledger.values():
        ledger = units[0][1].unit.ledger
        started = time.perf_counter()
        frame = validation_frame(units, ledger)
        timings.frames += time.perf_counter() - started
        if frame.height == 0:
            continue
        timings.rows += frame.height
        started = time.perf_counter()
        handed = to_pandas(frame)
        timings.handover += time.perf_counter() - started
        started = time.perf_counter()
        context = context or new_context()
        validation = run_suite(context, ledger.code, handed)
        timings.gx += time.perf_counter() - started
        started = time.perf_counter()
        found = ledger_problems(units, ledger, validation, frame)
        for (unit,), part in (found.partition_by(UNIT, as_dict=True).items() if found.height else ()):
            results[unit] = part.drop(UNIT).select(list(PROBLEM_SCHEMA))
        timings.mapping += time.perf_counter() - started
    with _lock:
        _last.context, _last.timings = context, timings
    return results


# Data Docs


def docs_folder(con) -> Path | None:
    """Return `<warehouse dir>/docs` for the warehouse file a connection has open."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return Path(row[0]).parent / "docs" if row and row[0] else None


def build_data_docs(folder: Path) -> Path | None:
    """Render the latest validation of this process as GX Data Docs in `folder`; return index.html."""
    with _lock:
        context = _last.context
    if context is None:
        return None
    folder = folder.resolve()  # GX wants an absolute base directory
    if folder.exists() and (folder / "index.html").exists():
        shutil.rmtree(folder)  # the docs are of the latest run only
    folder.mkdir(parents=True, exist_ok=True)
    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    if DOCS_SITE in (context.get_config().data_docs_sites or {}):
        context.update_data_docs_site(DOCS_SITE, site)
    else:
        context.add_data_docs_site(site_name=DOCS_SITE, site_config=site)
    context.build_data_docs(site_names=[DOCS_SITE])
    return folder / "index.html"
