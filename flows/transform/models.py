"""Run the SQL models of `sql/` on a DuckDB connection, in dependency order.

Layers are folders: `sql/staging/` (views over the raw tables), `sql/marts/` and
`sql/indicators/` (tables). A model may say otherwise in a line of its own,
`-- materialized: view` (or `table`): the row-level fact models are views, because writing
millions of lineage rows costs far more than the few queries that read them, and so are the
row-level marts of the period ledgers (`inspections`, `wechat_posts`, …: a view of their staging
rows; written as tables they cost 2.7 of a big 1M run's 9 s, measured 2026-12-01). A model's name is its file stem and the relation it creates. The
order comes from the relations each file reads (`from x`, `join x`), not from a list kept by
hand. Before the models run, two seeds are written from data that lives outside DuckDB: the
official working-day calendar (chinese_calendar) and the indicator catalog; and the function
`render_indicator(code, value)` is registered, so that printed figures come from
`flows.contract.printed_form` alone.

A table model whose inputs did not change since it was last built is not rebuilt: each build
records, in `model_builds`, a fingerprint of the model's SQL, of the fingerprints of the
relations it reads and, for a staging model, of the current versions of its ledger and of the
rule that picks them (`sql/staging/current_versions.sql`; raw rows and versions are
append-only, so the set of current version ids says everything a staging view can see). A
nightly run that changed one ledger rebuilds that ledger's marts and what reads them.

Two more lines of a model cut that work down to what changed:

- `-- incremental: version_id` (a table whose rows each come from one loaded file version and
  depend on nothing else but what its fingerprint covers): the rows of versions no longer
  current are deleted and those of the new versions of the ledgers that changed inserted,
  instead of rewriting every row. `indicator_totals` is such a table (its rows add up rows of
  one version): an incremental table passes its
  definition on to what reads it, not its ledgers' states, so a table that reads only
  incremental tables and unchanged ones is updated the same way. What reads ledger rows
  through a view must read them row by row (a staging view that picks one row of several
  versions, as `stg_cases` does, goes through its own table, `cases`, which is rebuilt whole).
- `-- fingerprint: content` (a small table, such as the calendar, that reads every ledger but
  rarely changes): what reads it sees the fingerprint of its rows, so a rebuild that gives the
  same rows rebuilds nothing downstream.

A seed is written again only when its rows changed, and a view only when its fingerprint
changed, or when it has a CTE marked `not materialized`: DuckDB forgets that mark when it stores
a view, and the fact views need it while the tables that read them are built, so those are
created again on every build, on the build's connection. Every relation replaced gets its
comments again (`flows/transform/model_docs.py`). The views' fingerprints are recorded too: the
cross-checks keep a check's warnings when what it reads shows the same fingerprints
(`flows/validate/cross_checks.py`). The build is one transaction: it commits once (one flush of
the write-ahead log instead of one per statement), or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
from duckdb import sqltypes

from flows import resources
from flows.contract import spec
from flows.contract.catalog import Indicator, catalog_frame, load_catalog
from flows.errors import TallyError
from flows.load import current
from flows.load.ddl import quote
from flows.load.warehouse import one_transaction
from flows.transform import org_seeds
from flows.transform import submissions as submission_seeds
from flows.transform.model_docs import comment_warehouse
from flows.validate.cross_checks import ensure_check_table
from flows.validate.sql_reads import COMMENT, references

SQL_DIR = resources.SQL_DIR
LAYERS = ("staging", "marts", "indicators")
# Models every contract builds from tally's `sql/`, unless its own folder has them: which version
# is current, the problem log, and the generic steps from `indicator_facts` to totals and series,
# and to the figures per county and org unit.
SHARED_MODELS = (
    ("staging", "current_versions"), ("marts", "problem_log"),
    ("indicators", "indicator_totals"), ("indicators", "indicator_series_monthly"),
    ("marts", "submissions"), ("indicators", "county_totals"), ("indicators", "org_indicators"),
)
VIEW_LAYERS = ("staging",)
SEED_CALENDAR = "seed_official_calendar"
SEED_CATALOG = "seed_indicator_catalog"
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
RENDER_FUNCTION = "render_indicator"
_CATALOG = {"TABLE": ("duckdb_tables()", "table_name"), "VIEW": ("duckdb_views()", "view_name")}
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(view|table)\b", re.M | re.I)
_INCREMENTAL = re.compile(r"^--\s*incremental:\s*([A-Za-z_]\w*)\b", re.M | re.I)
_CONTENT = re.compile(r"^--\s*fingerprint:\s*content\b", re.M | re.I)

_COMMENT = COMMENT
# A raw table read by a model (raw.x); the other relations it reads are `references`.
_RAW = re.compile(r'\braw\s*\.\s*"?([A-Za-z_]\w*)', re.I)
BUILDS_TABLE = "model_builds"


@dataclass(frozen=True)
class Model:
    """One SQL model: a file under sql/<layer>/ that becomes the relation named by its stem."""

    name: str
    layer: str
    path: Path
    sql: str

    @property
    def materialization(self) -> str:
        """Return the model's `-- materialized:` line, else 'view' for staging and 'table' for the rest."""
        if found := _MATERIALIZED.search(self.sql):
            return found.group(1).lower()
        return "view" if self.layer in VIEW_LAYERS else "table"

    @property
    def incremental_key(self) -> str | None:
        """Return the version column named by an `-- incremental:` line of a table, else None."""
        found = _INCREMENTAL.search(self.sql)
        return found.group(1) if found and self.materialization == "table" else None

    @property
    def content_fingerprint(self) -> bool:
        """Say whether readers see the fingerprint of this table's rows (`-- fingerprint: content`)."""
        return self.materialization == "table" and _CONTENT.search(self.sql) is not None


def discover(sql_dir: Path | None = None) -> dict[str, Model]:
    """Find the models under sql_dir (default: the contract's models, else `sql/`), keyed by name."""
    shared = sql_dir is None  # a folder given by a caller is taken as it is
    sql_dir = sql_dir or spec.active().models_dir
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            if path.stem in models:
                raise TallyError(f"模型名重复：{path.stem}（{models[path.stem].path} 与 {path}）")
            sql = path.read_text(encoding="utf-8").strip().rstrip(";")
            models[path.stem] = Model(path.stem, layer, path, sql)
    # tally's own models, whatever the contract: which version is current, and the problem log.
    for layer, name in SHARED_MODELS if shared else ():
        path = resources.SQL_DIR / layer / f"{name}.sql"
        if name not in models:
            models[name] = Model(name, layer, path, path.read_text(encoding="utf-8").strip().rstrip(";"))
    return models


def dependencies(models: dict[str, Model]) -> dict[str, set[str]]:
    """Return, for each model, the other models it reads."""
    return {
        name: (references(model.sql) & models.keys()) - {name} for name, model in models.items()
    }


def build_order(models: dict[str, Model]) -> list[Model]:
    """Order the models so that each comes after every model it reads (layer, then name, on ties)."""
    deps = dependencies(models)
    rank = {name: (LAYERS.index(m.layer), name) for name, m in models.items()}
    done: list[str] = []
    waiting = dict(deps)
    while waiting:
        ready = sorted((n for n, d in waiting.items() if d <= set(done)), key=rank.__getitem__)
        if not ready:
            cycle = ", ".join(sorted(waiting))
            raise TallyError(f"SQL 模型之间存在循环引用：{cycle}")
        done.append(ready[0])
        del waiting[ready[0]]
    return [models[name] for name in done]


# Seeds


def official_calendar_frame() -> pl.DataFrame:
    """Return every day of the years chinese_calendar covers, with its official working status."""
    from chinese_calendar import constants

    holidays = constants.holidays  # date -> holiday name, weekends inside a holiday included
    makeup = constants.workdays  # weekend days made working days (调休上班)
    first = min(holidays).year
    last = max(*holidays, *makeup).year
    days = pl.DataFrame(
        {"day": pl.date_range(date(first, 1, 1), date(last, 12, 31), "1d", eager=True)}
    )
    holiday_days = pl.DataFrame(
        {"day": list(holidays), "holiday_name": [str(h) for h in holidays.values()]},
        schema={"day": pl.Date, "holiday_name": pl.String},
    )
    makeup_days = pl.DataFrame({"day": list(makeup)}, schema={"day": pl.Date})
    return (
        days.join(holiday_days, on="day", how="left")
        .with_columns(
            is_makeup_working_day=pl.col("day").is_in(makeup_days["day"].implode()),
            is_holiday=pl.col("holiday_name").is_not_null(),
        )
        .with_columns(
            is_working_day=pl.col("is_makeup_working_day")
            | ((pl.col("day").dt.weekday() <= 5) & ~pl.col("is_holiday"))
        )
        .with_columns(pl.col("holiday_name").replace(HOLIDAY_NAMES_ZH))
        .select("day", "is_working_day", "is_makeup_working_day", "holiday_name")
    )


def _write_seed(con, name: str, frame: pl.DataFrame, recorded: dict[str, Recorded] | None = None) -> str:
    """Write one seed table, unless `recorded` says it holds these rows; return a fingerprint of
    its content (recorded in `model_builds` under its name)."""
    digest = hashlib.sha256(f"{frame.schema}|{pl.__version__}".encode())
    digest.update(frame.hash_rows(seed=3, seed_1=5, seed_2=7, seed_3=11).to_numpy().tobytes())
    found = digest.hexdigest()
    was = (recorded or {}).get(name)
    if was is not None and was.fingerprint == found:
        return found  # the same rows: rewriting it would only cost a table, its comments and a checkpoint
    view = f"_{name}_frame"
    con.register(view, frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {quote(name)} AS SELECT * FROM {quote(view)}")
    finally:
        con.unregister(view)
    if recorded is not None:
        record_build(con, name, found, None, found)
    return found


def load_seeds(con, catalog: dict[str, Indicator] | None = None,
               recorded: dict[str, Recorded] | None = None) -> dict[str, str]:
    """Write the calendar, catalog and submission seeds that the models read; return their fingerprints.

    A seed whose rows `recorded` (`model_builds`) says it already holds is not written again.
    The submission seeds (the deadline rule in use and each ledger's unit) are
    `flows.transform.submissions`'s; the org hierarchy's (`seed_org_units`, `seed_org_members`)
    `flows.transform.org_seeds`'s.
    """
    written = {
        SEED_CALENDAR: _write_seed(con, SEED_CALENDAR, official_calendar_frame(), recorded),
        SEED_CATALOG: _write_seed(con, SEED_CATALOG, catalog_frame(catalog or load_catalog()), recorded),
    }
    for name, frame in submission_seeds.seed_frames().items():
        written[name] = _write_seed(con, name, frame, recorded)
    for name, frame in org_seeds.seed_frames().items():
        written[name] = _write_seed(con, name, frame, recorded)
    return written


def register_functions(con, catalog: dict[str, Indicator] | None = None) -> None:
    """Register `render_indicator(code, value)`, the report's printing of a value, on con."""
    indicators = catalog or load_catalog()

    def render_indicator(code: str, value: str) -> str | None:
        return indicators[code].render(Decimal(value))

    with contextlib.suppress(duckdb.Error):  # not registered yet on this connection
        con.remove_function(RENDER_FUNCTION)
    con.create_function(
        RENDER_FUNCTION,
        render_indicator,
        [sqltypes.VARCHAR, sqltypes.VARCHAR],
        sqltypes.VARCHAR,
        side_effects=False,
    )


# Build


def run_model(con, model: Model, kinds: dict[str, str] | None = None) -> None:
    """Create or replace one model's relation (a view or a table) on con.

    `kinds` (relation name → 'TABLE' or 'VIEW', from `relation_kinds`) saves asking the catalog
    whether the name is the other kind; it is kept up to date.
    """
    kind = "VIEW" if model.materialization == "view" else "TABLE"
    try:
        drop_other_kind(con, model.name, kind, kinds)
        con.execute(f"CREATE OR REPLACE {kind} {quote(model.name)} AS\n{model.sql}")
    except Exception as exc:
        raise TallyError(f"SQL 模型 {model.name}（{model.path.name}）运行失败：{exc}") from exc
    if kinds is not None:
        kinds[model.name] = kind


def relation_kinds(con) -> dict[str, str]:
    """Return the relations of schema main of the connection's database: name → 'TABLE' or 'VIEW'."""
    return dict(con.execute(
        "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal").fetchall())  # fmt: skip


def drop_other_kind(con, name: str, kind: str, kinds: dict[str, str] | None = None) -> None:
    """Drop `name` if it exists as the other kind of relation (a model that became a view)."""
    other = "TABLE" if kind == "VIEW" else "VIEW"
    if kinds is not None:
        found = kinds.get(name) == other
    else:
        catalog, column = _CATALOG[other]
        found = con.execute(
            f"SELECT count(*) FROM {catalog} WHERE database_name = current_database() "
            f"AND schema_name = 'main' AND {column} = ?",
            [name],
        ).fetchone()[0]
    if found:
        con.execute(f"DROP {other} {quote(name)}")


def ledger_states(con) -> dict[str, str]:
    """Return, per ledger, a fingerprint of its current version ids: what its staging view sees.

    Taken before the build creates the view `current_versions` again (on a first build it does
    not exist yet): it reads the view's rule from its file instead (flows.load.current).
    """
    rows = con.execute(
        f"""
        SELECT ledger, md5(string_agg(CAST(version_id AS VARCHAR), ',' ORDER BY version_id))
        FROM {current.current_relation()} WHERE ledger IS NOT NULL GROUP BY ledger
        """
    ).fetchall()
    return dict(rows)


def fingerprint(model: Model, inputs: dict[str, str | None], ledgers: dict[str, str]) -> str | None:
    """Return a model's fingerprint: its SQL and kind, and the fingerprints of what it reads.

    A model that reads anything else (a relation that is neither a model, a seed, nor
    `file_versions` or the view `current_versions` beside a raw table) has None: it is always
    rebuilt, and so is what reads it. Beside a raw table, what the load history shows is the
    current versions of that table's ledger: the ledger states, and the rule that picks them.
    """
    digest = hashlib.sha256(f"{duckdb.__version__}|{model.materialization}|{model.sql}".encode())
    raws = raw_tables(model)
    known = True
    for name in sorted(references(model.sql)):
        if name in ("file_versions", current.VIEW) and raws:
            continue  # covered by the ledger states below
        known = known and inputs.get(name) is not None
        digest.update(f"|{name}={inputs.get(name)}".encode())
    if raws:
        digest.update(f"|{current.VIEW}={current.rule_digest()}".encode())
    for table in sorted(raws):
        digest.update(f"|raw.{table}={ledgers.get(table, '')}".encode())
    return digest.hexdigest() if known else None


def raw_tables(model: Model) -> set[str]:
    """Return the raw tables (ledger codes) a model's SQL reads directly."""
    return {t.lower() for t in _RAW.findall(_COMMENT.sub(" ", model.sql))}


def ledgers_read(models: list[Model]) -> dict[str, set[str]]:
    """Return, per model (in build order), the ledgers it reads directly or through other models."""
    found: dict[str, set[str]] = {}
    for model in models:
        found[model.name] = raw_tables(model).union(
            *(found.get(name, set()) for name in references(model.sql))
        )
    return found


def content_of(con, name: str) -> str:
    """Return a fingerprint of a table's columns and rows, whatever their order."""
    columns = con.execute(f"DESCRIBE {quote(name)}").fetchall()
    total, count = con.execute(
        f"SELECT sum(hash(t)::HUGEINT), count(*) FROM {quote(name)} AS t"
    ).fetchone()
    return hashlib.sha256(f"{columns}|{total}|{count}".encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    """What `model_builds` says of a model: the fingerprint it was built with, the one of its
    definition alone (its SQL and what it reads, without the ledger states), and the one its
    readers see (`shown`: its rows' for a `fingerprint: content` table, else its fingerprint),
    which the cross-checks compare to keep a verdict whose inputs did not change."""

    fingerprint: str
    definition: str | None
    shown: str | None = None


def recorded_builds(con) -> dict[str, Recorded]:
    """Return what each existing model (a table or a view) and seed was last built with (none if never)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} (model VARCHAR, fingerprint VARCHAR)")
    con.execute(f"ALTER TABLE {BUILDS_TABLE} ADD COLUMN IF NOT EXISTS definition VARCHAR")
    con.execute(f"ALTER TABLE {BUILDS_TABLE} ADD COLUMN IF NOT EXISTS shown VARCHAR")
    built = relation_kinds(con)
    rows = con.execute(f"SELECT model, fingerprint, definition, shown FROM {BUILDS_TABLE}").fetchall()
    return {model: Recorded(fp, definition, shown) for model, fp, definition, shown in rows if model in built}


def is_current(model: Model, fingerprint: str | None, recorded: dict[str, Recorded]) -> bool:
    """Say whether a model's table already holds what building it now would give."""
    return (
        model.materialization == "table"
        and RENDER_FUNCTION not in model.sql  # its printing lives in Python: always re-render
        and fingerprint is not None
        and model.name in recorded
        and recorded[model.name].fingerprint == fingerprint
    )


_NOT_MATERIALIZED = re.compile(r"\bnot\s+materialized\b", re.I)


def view_is_current(model: Model, fingerprint: str | None, recorded: dict[str, Recorded],
                    kinds: dict[str, str]) -> bool:
    """Say whether a view model stands as this build would create it: the same fingerprint, and
    nothing its stored form loses (a CTE's `not materialized`, which the fact views need while
    the tables that read them are built: those are created again on every build's connection)."""
    return (
        kinds.get(model.name) == "VIEW"
        and fingerprint is not None
        and model.name in recorded
        and recorded[model.name].fingerprint == fingerprint
        and not _NOT_MATERIALIZED.search(_COMMENT.sub(" ", model.sql))
    )


def can_update(model: Model, definition: str | None, recorded: dict[str, Recorded]) -> bool:
    """Say whether an incremental table can be brought up to date version by version."""
    return (
        model.incremental_key is not None
        and definition is not None
        and model.name in recorded
        and recorded[model.name].definition == definition
    )


class NeedsRebuild(Exception):
    """An incremental table holds rows no version accounts for: it is built again instead."""


def update_model(con, model: Model, ledgers: set[str]) -> None:
    """Delete an incremental table's rows of versions no longer current; insert those of new ones.

    New are the current versions of `ledgers` (those it reads whose state changed since the
    last build) that have no row yet. It reads the view `current_versions`, built before any
    model that reads a ledger. Raises NeedsRebuild when a row has no version (put there by hand).
    """
    table, key, versions = quote(model.name), quote(model.incremental_key), quote(current.VIEW)
    try:
        present = {r[0] for r in con.execute(f"SELECT DISTINCT {key} FROM {table}").fetchall()}
        if None in present:
            raise NeedsRebuild(model.name)
        current_ids = dict(con.execute(f"SELECT version_id, ledger FROM {versions}").fetchall())
        gone = sorted(present - current_ids.keys())
        new = sorted(v for v, ledger in current_ids.items() if ledger in ledgers and v not in present)
        # Both filters name a range first: DuckDB skips the row groups outside it unread.
        if gone:
            con.execute(f"DELETE FROM {table} WHERE {key} BETWEEN ? AND ? AND list_contains(?, {key})",
                        [gone[0], gone[-1], gone])
        if new:
            con.execute(
                f"INSERT INTO {table} SELECT * FROM (\n{model.sql}\n) AS built "
                f"WHERE {key} BETWEEN ? AND ? AND list_contains(?, {key})",
                [new[0], new[-1], new],
            )
    except NeedsRebuild:
        raise
    except Exception as exc:
        raise TallyError(f"SQL 模型 {model.name}（{model.path.name}）增量更新失败：{exc}") from exc


LEDGER_PREFIX = "ledgers/"  # model_builds' row of a ledger: the state the last build saw


def changed_ledgers(con, states: dict[str, str]) -> set[str]:
    """Return the ledgers whose current versions differ from what the last build saw (all of
    them when no build recorded it), and record the states seen now."""
    before = {model[len(LEDGER_PREFIX):]: fp for model, fp in con.execute(
        f"SELECT model, fingerprint FROM {BUILDS_TABLE} WHERE starts_with(model, ?)", [LEDGER_PREFIX]
    ).fetchall()}  # fmt: skip
    changed = {code for code in states.keys() | before.keys() if states.get(code) != before.get(code)}
    return changed if before else set(states)


def record_ledgers(con, states: dict[str, str], changed: set[str]) -> None:
    """Record the ledger states this build saw (after every model: a failed build records none)."""
    for code in sorted(changed):
        con.execute(f"DELETE FROM {BUILDS_TABLE} WHERE model = ?", [LEDGER_PREFIX + code])
        if code in states:
            con.execute(f"INSERT INTO {BUILDS_TABLE} (model, fingerprint) VALUES (?, ?)",
                        [LEDGER_PREFIX + code, states[code]])


def build(con, sql_dir: Path | None = None, catalog: dict[str, Indicator] | None = None) -> list[str]:
    """Build every model on con in dependency order (skipping unchanged tables); return all names.

    The whole build is one transaction (`one_transaction`): it commits once, or not at all.
    """
    with one_transaction(con):
        return build_models(con, sql_dir, catalog)


def build_models(con, sql_dir: Path | None, catalog: dict[str, Indicator] | None) -> list[str]:
    """`build`, on whatever transaction con is in."""
    models = build_order(discover(sql_dir))
    recorded = recorded_builds(con)
    kinds = relation_kinds(con)
    seeds = load_seeds(con, catalog, recorded)
    register_functions(con, catalog)
    ensure_check_table(con)  # problem_log reads it; the checks fill it only after the models
    states = ledger_states(con)
    reads = ledgers_read(models)
    changed = changed_ledgers(con, states)
    seen: dict[str, str | None] = dict(seeds)  # the fingerprint each relation shows its readers
    defined: dict[str, str | None] = dict(seeds)  # the same without the ledger states
    for model in models:
        found = fingerprint(model, seen, states)
        definition = fingerprint(model, defined, {})
        was = recorded.get(model.name)
        if model.materialization == "view":
            kept = view_is_current(model, found, recorded, kinds)
        else:
            kept = is_current(model, found, recorded) or (
                found is not None and can_update(model, definition, recorded)
                and updated(con, model, reads[model.name] & changed))
        if not kept:
            if was is not None and model.materialization == "table":
                # a rebuild that fails must not leave the old fingerprint behind
                con.execute(f"DELETE FROM {BUILDS_TABLE} WHERE model = ?", [model.name])
                was = None
            run_model(con, model, kinds)
        shown = content_of(con, model.name) if model.content_fingerprint and found is not None else found
        if found is None and was is not None:  # built from what no fingerprint covers
            con.execute(f"DELETE FROM {BUILDS_TABLE} WHERE model = ?", [model.name])
        elif found is not None and (was is None or (was.fingerprint, was.definition, was.shown)
                                    != (found, definition, shown)):
            record_build(con, model.name, found, definition, shown)
        seen[model.name] = shown
        # A view passes its definition on, and so does an incremental table: its rows of a version
        # are a function of that version's rows alone. Another table shows its whole fingerprint.
        defined[model.name] = definition if model.materialization == "view" or model.incremental_key else shown
    record_ledgers(con, states, changed)
    # A replaced relation lost its comments: write them again (flows/transform/model_docs.py).
    comment_warehouse(con, models)
    return [m.name for m in models]


def updated(con, model: Model, ledgers: set[str]) -> bool:
    """Update an incremental table version by version; False when it must be built again."""
    try:
        update_model(con, model, ledgers)
    except NeedsRebuild:
        return False
    return True


def record_build(con, name: str, found: str, definition: str | None, shown: str | None = None) -> None:
    """Record the fingerprints a model was just built or updated with (a view's too: the
    cross-checks read what their inputs show)."""
    con.execute(f"DELETE FROM {BUILDS_TABLE} WHERE model = ?", [name])
    con.execute(
        f"INSERT INTO {BUILDS_TABLE} (model, fingerprint, definition, shown) VALUES (?, ?, ?, ?)",
        [name, found, definition, shown or found],
    )
