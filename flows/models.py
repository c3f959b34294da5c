"""Run the SQL models of `sql/` on a DuckDB connection, in dependency order.

Layers are folders: `sql/staging/` (views over the raw tables), `sql/marts/` and
`sql/indicators/` (tables). A model's name is its file stem and the relation it creates. The
order comes from the relations each file reads (`from x`, `join x`), not from a list kept by
hand. Before the models run, two seeds are written from data that lives outside DuckDB: the
official working-day calendar (chinese_calendar) and the indicator catalog; and the function
`render_indicator(code, value)` is registered, so that printed figures come from
`flows.printing` alone.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
from duckdb import sqltypes

from .catalog import Indicator, catalog_frame, load_catalog
from .errors import TallyError
from .schema import quote

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
LAYERS = ("staging", "marts", "indicators")
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

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_CTE = re.compile(
    r'(?:\bwith|,)\s+"?([A-Za-z_]\w*)"?\s+as\s*(?:not\s+)?(?:materialized\s*)?\(', re.I
)
# A relation read by a model: the name after FROM or JOIN, unless schema-qualified (raw.x).
_RELATION = re.compile(r'\b(?:from|join)\s+"?([A-Za-z_]\w*)\b"?(?!\s*\.)(?!\s*\()', re.I)


@dataclass(frozen=True)
class Model:
    """One SQL model: a file under sql/<layer>/ that becomes the relation named by its stem."""

    name: str
    layer: str
    path: Path
    sql: str

    @property
    def materialization(self) -> str:
        """Return 'view' for staging models, 'table' for the others."""
        return "view" if self.layer in VIEW_LAYERS else "table"


def discover(sql_dir: Path = SQL_DIR) -> dict[str, Model]:
    """Find the models under sql_dir, keyed by name, layer by layer."""
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            if path.stem in models:
                raise TallyError(f"模型名重复：{path.stem}（{models[path.stem].path} 与 {path}）")
            sql = path.read_text(encoding="utf-8").strip().rstrip(";")
            models[path.stem] = Model(path.stem, layer, path, sql)
    return models


def references(sql: str) -> set[str]:
    """Return the relation names a SQL text reads, without its own CTE names."""
    code = _STRING.sub("''", _COMMENT.sub(" ", sql))
    ctes = {m.group(1).lower() for m in _CTE.finditer(code)}
    return {m.group(1).lower() for m in _RELATION.finditer(code)} - ctes


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


def _write_seed(con, name: str, frame: pl.DataFrame) -> None:
    view = f"_{name}_frame"
    con.register(view, frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {quote(name)} AS SELECT * FROM {quote(view)}")
    finally:
        con.unregister(view)


def load_seeds(con, catalog: dict[str, Indicator] | None = None) -> None:
    """Write the calendar and catalog seeds that the models read."""
    _write_seed(con, SEED_CALENDAR, official_calendar_frame())
    _write_seed(con, SEED_CATALOG, catalog_frame(catalog or load_catalog()))


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


def run_model(con, model: Model) -> None:
    """Create or replace one model's relation (a view or a table) on con."""
    kind = "VIEW" if model.materialization == "view" else "TABLE"
    try:
        con.execute(f"CREATE OR REPLACE {kind} {quote(model.name)} AS\n{model.sql}")
    except Exception as exc:
        raise TallyError(f"SQL 模型 {model.name}（{model.path.name}）运行失败：{exc}") from exc


def build(con, sql_dir: Path = SQL_DIR, catalog: dict[str, Indicator] | None = None) -> list[str]:
    """Build every model on con in dependency order; return the model names in build order."""
    models = build_order(discover(sql_dir))
    load_seeds(con, catalog)
    register_functions(con, catalog)
    for model in models:
        run_model(con, model)
    return [m.name for m in models]
