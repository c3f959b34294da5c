"""The bureau's contract as data: ledgers, report sections and indicators in one folder.

A contract folder holds `ledgers.toml` (the templates, column by column), `sections.toml` (the
report's chapters), `indicators.toml` (the figures, read by `flows.contract.catalog`), optionally
`draft_phrases.toml`, `published-2024.csv`, `org_units.toml` (the province, cities and counties by
their GB/T 2260 codes; the project's when absent) and `models/` (the SQL models: `staging/`, `marts/`,
`indicators/`, `checks/`; without it the project's `sql/` is used). The default contract is
`flows/contract/data/`. A bureau's own overrides sit in one more file (`contract.toml` beside
`tally.toml`) layered over the folder: a list (header or value aliases, allowed values, rules)
is appended to, a table (value aliases) merged, a scalar replaced.

Everything is checked against a schema (pydantic) when it is loaded; a mistake raises
`ContractError` naming the file and the line of the offending key, which `tally contract check`
prints. The active contract is process-wide (`active()`, `use_contract()`); its location travels
to the reader processes in the environment and with each pickled ledger.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows import resources
from flows.errors import TallyError
from flows.textnorm import normalise_header

DEFAULT_DIR = Path(__file__).resolve().parent / "data"
SQL_DIR = resources.SQL_DIR
CONTRACT_ENV = "TALLY_CONTRACT"
OVERRIDES_ENV = "TALLY_CONTRACT_OVERRIDES"
LEDGERS_FILE, SECTIONS_FILE, INDICATORS_FILE = "ledgers.toml", "sections.toml", "indicators.toml"
ORG_UNITS_FILE = "org_units.toml"  # optional in a contract folder: the project's is used without it
# Bumped when the way a contract's ledgers are read changes, so that every verdict is made anew.
READING_VERSION = "1"

ColumnType = Literal["date", "int", "money", "number", "bool", "enum", "text", "names"]
LedgerKind = Literal["period", "register", "snapshot"]
Personal = Literal["person_name", "id_number", "phone", "free_text"]


class ContractError(TallyError):
    """A contract file is missing or breaks the schema: the message names the file and line."""


# The loaded view: what the rest of the code reads.


@dataclass(frozen=True)
class Column:
    """One column of a ledger template."""

    header: str  # the template's Chinese header, without its unit in brackets
    name: str  # the warehouse column name
    type: ColumnType
    required: bool = False
    default: object | None = None  # applied when the cell is blank
    header_aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # the allowed values of an enumeration
    value_aliases: dict[str, str] = field(default_factory=dict)
    minimum: int | None = None  # for counts and amounts
    personal: Personal | None = None
    clear_when: tuple[str, str] | None = None  # (column, value): kept in clear on such rows
    doc: str | None = None  # English words for the warehouse's column comment (else its name)

    def __hash__(self) -> int:
        return hash((self.header, self.name))


@dataclass(frozen=True)
class Ledger:
    """One ledger template: what a unit submits each month (or as a snapshot)."""

    code: str
    name_zh: str
    unit: str  # the unit that keeps it: enforcement, publicity, office
    unit_zh: str
    kind: LedgerKind
    columns: tuple[Column, ...]
    key: str | None = None  # the register's key column
    event_date: str | None = None  # the date that places a period ledger's row in its month
    rules: tuple[str, ...] = ()  # named rule sets (flows/validate/rule_sets.py)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# The schema of the files.

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ClearWhen(_Strict):
    column: Identifier
    equals: Text


class ColumnSpec(_Strict):
    header: Text
    name: Identifier
    type: ColumnType
    required: bool = False
    default: str | bool | int | float | None = None
    header_aliases: list[Text] = []
    values: list[Text] = []
    value_aliases: dict[str, Text] = {}
    minimum: int | None = None
    personal: Personal | None = None
    clear_when: ClearWhen | None = None
    doc: Text | None = None  # optional: older contracts without it still load

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum column needs `values` · 枚举列须列出 values")
        if self.type != "enum" and (self.values or self.value_aliases):
            raise ValueError(
                "only an enum column has `values` / `value_aliases` · 只有枚举列可写取值"
            )
        if bad := [v for v in self.value_aliases.values() if v not in self.values]:
            raise ValueError(
                f"value_aliases point at values not in `values`: {bad} · 别名指向的取值不在 values 中"
            )
        if self.type == "enum" and self.default is not None and self.default not in self.values:
            raise ValueError(
                f"default {self.default!r} is not one of `values` · 默认值不在 values 中"
            )
        if self.minimum is not None and self.type not in ("int", "money", "number"):
            raise ValueError(
                "`minimum` is for int, money and number columns · minimum 只用于数量和金额"
            )
        if self.clear_when is not None and self.personal is None:
            raise ValueError("`clear_when` is for a personal column · clear_when 只用于个人信息列")
        if self.type == "names" and (self.personal not in (None, "person_name") or self.clear_when):
            # A list of names is masked and hashed name by name: only as people's names.
            raise ValueError(
                "a `names` column can only be `personal = \"person_name\"`, without clear_when"
                " · 姓名列表列只能标为 person_name，且不能写 clear_when"
            )
        return self


class LedgerSpec(_Strict):
    code: Identifier
    name_zh: Text
    unit: Identifier
    unit_zh: Text
    kind: LedgerKind
    key: Identifier | None = None
    event_date: Identifier | None = None
    rules: list[Identifier] = []
    column: list[ColumnSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> LedgerSpec:
        names = [c.name for c in self.column]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"column name twice: {dupes} · 列名重复")
        # Compared as a file's header is read (spaces, full-width forms, a unit in brackets
        # dropped: textnorm.normalise_header), so that two that a reader cannot tell apart clash here.
        owners: dict[str, list[tuple[str, str]]] = {}
        for c in self.column:
            for h in (c.header, *c.header_aliases):
                owners.setdefault(normalise_header(h), []).append((c.name, h))
        if clashes := {k: v for k, v in owners.items() if len(v) > 1}:
            said = "；".join("、".join(f"「{h}」（{name}）" for name, h in v) for v in clashes.values())
            raise ValueError(f"表头或别名重复（按读取文件时的写法比较）：{said} · header or alias twice")
        by_name = {c.name: c for c in self.column}
        if self.kind == "register" and self.key is None:
            raise ValueError("a register needs a `key` column · 登记簿须指定 key")
        if self.key is not None and self.key not in by_name:
            raise ValueError(f"key {self.key!r} is not a column · key 不是本台账的列")
        if (
            self.event_date is not None
            and getattr(by_name.get(self.event_date), "type", None) != "date"
        ):
            raise ValueError(
                f"event_date {self.event_date!r} is not a date column · event_date 须为日期列"
            )
        for c in self.column:
            if c.clear_when is None:
                continue
            other = by_name.get(c.clear_when.column)
            if other is None or other.type != "enum" or c.clear_when.equals not in other.values:
                raise ValueError(
                    f"{c.name}.clear_when must name an enum column and one of its values"
                    " · clear_when 须指向本台账的枚举列及其取值"
                )
        return self


class LedgersFile(_Strict):
    ledger: list[LedgerSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> LedgersFile:
        names = [x for spec in self.ledger for x in (spec.code, spec.name_zh)]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"ledger code or name twice: {dupes} · 台账代码或名称重复")
        return self


class SectionSpec(_Strict):
    code: Text
    title: Text


class SectionsFile(_Strict):
    section: list[SectionSpec] = []


OrgLevel = Literal["province", "city", "county"]
# GB/T 2260: two digits name the province, two more its city (prefecture), two more the county.
LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6}
PARENT_LEVEL = {"city": "province", "county": "city"}


class OrgUnitSpec(_Strict):
    code: Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$")]
    name_zh: Text
    level: OrgLevel
    parent: Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$")] | None = None
    aliases: list[Text] = []

    @model_validator(mode="after")
    def _code_fits_level(self) -> OrgUnitSpec:
        kept = LEVEL_DIGITS[self.level]
        if self.code[kept:].strip("0") != "" or self.code[kept - 2 : kept] == "00":
            raise ValueError(f"code {self.code} is not a {self.level} code (GB/T 2260) · 代码与级别不符")
        if (self.parent is None) != (self.level == "province"):
            raise ValueError("a province has no parent; a city or county has one · 仅省级无上级")
        return self


class OrgUnitsFile(_Strict):
    unit: list[OrgUnitSpec] = Field(min_length=1)


def check_hierarchy(units: list[OrgUnitSpec]) -> list[tuple[int, str]]:
    """Return (index, message) for each unit that breaks the hierarchy: codes, names, parents."""
    problems: list[tuple[int, str]] = []
    by_code: dict[str, OrgUnitSpec] = {}
    names: dict[str, str] = {}
    for i, unit in enumerate(units):
        if unit.code in by_code:
            problems.append((i, f"code {unit.code} twice · 代码重复"))
        by_code.setdefault(unit.code, unit)
        for name in (unit.code, unit.name_zh, *unit.aliases):
            if names.setdefault(name, unit.code) != unit.code:
                problems.append((i, f"name {name} is also {names[name]}'s · 名称与 {names[name]} 重复"))
    for i, unit in enumerate(units):
        if unit.parent is None:
            continue
        parent = by_code.get(unit.parent)
        if parent is None:
            problems.append((i, f"parent {unit.parent} is not listed · 上级代码未列出"))
        elif parent.level != PARENT_LEVEL[unit.level]:
            problems.append((i, f"parent {unit.parent} is a {parent.level}, not a {PARENT_LEVEL[unit.level]} · 上级级别不符"))
        elif unit.code[: LEVEL_DIGITS[parent.level]] != parent.code[: LEVEL_DIGITS[parent.level]]:
            problems.append((i, f"code {unit.code} does not begin as its parent {unit.parent} · 代码与上级不符"))
    return problems


class ColumnOverride(_Strict):
    """What a bureau may change of a column: lists are appended to, tables merged, scalars replaced."""

    header: Text | None = None
    required: bool | None = None
    default: str | bool | int | float | None = None
    header_aliases: list[Text] = []
    values: list[Text] = []
    value_aliases: dict[str, Text] = {}
    minimum: int | None = None


class LedgerOverride(_Strict):
    name_zh: Text | None = None
    unit_zh: Text | None = None
    rules: list[Identifier] = []
    columns: dict[str, ColumnOverride] = {}


class OverridesFile(_Strict):
    """A bureau's `contract.toml`: its name, its deadline day, and changes to the ledgers and sections."""

    bureau: Text | None = None
    deadline_day: int | None = Field(default=None, ge=1, le=28)
    ledgers: dict[str, LedgerOverride] = {}
    sections: dict[str, Text] = {}


# Finding the line of a key: tomllib keeps no positions, so the text is scanned.

_HEADER = re.compile(r"^\s*\[")


def _array_item_line(
    lines: list[str], table: str, index: int, start: int = 0, stop: int | None = None
) -> int | None:
    """Return the line of the index-th `[[table]]` between start and stop."""
    pattern = re.compile(r"^\s*\[\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]\]")
    seen = -1
    for i in range(start, len(lines) if stop is None else stop):
        if pattern.match(lines[i]):
            seen += 1
            if seen == index:
                return i
    return None


def _key_line(lines: list[str], start: int, key: str) -> int:
    """Return the line of `key = …` in the table that starts at `start` (else `start`)."""
    pattern = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
    for i in range(start + 1, len(lines)):
        if _HEADER.match(lines[i]):
            break
        if pattern.match(lines[i]):
            return i
    return start


def _table_line(lines: list[str], dotted: list[str]) -> int | None:
    """Return the line of `[a.b.c]` (parts bare or quoted), or of the deepest part found."""
    parts = [r'\s*(?:"' + re.escape(p) + r'"|' + re.escape(p) + r")\s*" for p in dotted]
    pattern = re.compile(r"^\s*\[" + r"\.".join(parts) + r"\]")
    for i, line in enumerate(lines):
        if pattern.match(line):
            return i
    return None


def locate_base(text: str, loc: tuple) -> int:
    """Return the 1-based line of a schema error in ledgers.toml / sections.toml, by its location.

    `("ledger", 3, "column", 2, "type")` is the `type` key of the third `[[ledger.column]]`
    after the fourth `[[ledger]]`.
    """
    lines = text.splitlines()
    loc = list(loc)
    line, start, stop, table = 0, 0, None, ""
    while loc:
        part = loc.pop(0)
        if isinstance(part, str) and loc and isinstance(loc[0], int):
            index = loc.pop(0)
            table = f"{table}.{part}" if table else part
            found = _array_item_line(lines, table, index, start, stop)
            if found is None:
                break
            following = _array_item_line(lines, table, 0, found + 1) if "." not in table else None
            line, start, stop = found, found, following
        elif isinstance(part, str):
            line = _key_line(lines, line, part)
            break
    return line + 1


def locate_override(text: str, loc: tuple) -> int:
    """Return the 1-based line of an error in an overrides file, by its location."""
    lines = text.splitlines()
    path = [str(p) for p in loc]
    for depth in range(len(path), 0, -1):
        found = _table_line(lines, path[:depth])
        if found is not None:
            if depth < len(path):
                return _key_line(lines, found, path[depth]) + 1
            return found + 1
    pattern = re.compile(r'^\s*"?' + re.escape(path[0]) + r'"?\s*=') if path else None
    for i, line in enumerate(lines):
        if pattern and pattern.match(line):
            return i + 1
    return 1


def _explain(error: dict) -> str:
    where = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    msg = error["msg"].removeprefix("Value error, ")
    return f"{where}：{msg}" if where else msg


def read_toml(path: Path) -> tuple[str, dict]:
    """Read a contract file's text and data, or raise ContractError naming it (and the line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ContractError(f"{path}：契约文件不存在 · contract file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}：无法读取（须为 UTF-8 文本）· cannot read: {exc}") from exc
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(f"{path}：不是有效的 TOML · not valid TOML: {exc}") from exc


def _validate(model: type[BaseModel], data: dict, path: Path, text: str, locate) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}:{locate(text, _real_loc(e['loc']))}: {_explain(e)}" for e in exc.errors()]
        raise ContractError("\n".join(lines)) from None


def _real_loc(loc: tuple) -> tuple:
    return tuple(p for p in loc if not str(p).startswith("function-"))


# Layering a bureau's overrides.


def apply_overrides(
    ledgers: dict, sections: dict, overrides: OverridesFile, path: Path, text: str
) -> None:
    """Layer the overrides over the parsed ledgers and sections (in place); unknown names raise."""
    by_code = {entry.get("code"): entry for entry in ledgers.get("ledger", [])}
    for code, change in overrides.ledgers.items():
        entry = by_code.get(code)
        if entry is None:
            line = locate_override(text, ("ledgers", code))
            raise ContractError(
                f"{path}:{line}: ledgers.{code}：没有这个台账（可用：{'、'.join(by_code)}）"
                " · no such ledger"
            )
        for key in ("name_zh", "unit_zh"):
            if getattr(change, key) is not None:
                entry[key] = getattr(change, key)
        entry["rules"] = [
            *entry.get("rules", []),
            *(r for r in change.rules if r not in entry.get("rules", [])),
        ]
        columns = {c.get("name"): c for c in entry.get("column", [])}
        for name, col in change.columns.items():
            target = columns.get(name)
            if target is None:
                line = locate_override(text, ("ledgers", code, "columns", name))
                raise ContractError(
                    f"{path}:{line}: ledgers.{code}.columns.{name}：台账 {code} 没有这一列"
                    f"（可用：{'、'.join(columns)}）· no such column"
                )
            for key in ("header_aliases", "values"):
                extra = [v for v in getattr(col, key) if v not in target.get(key, [])]
                if extra:
                    target[key] = [*target.get(key, []), *extra]
            if col.value_aliases:
                target["value_aliases"] = {**target.get("value_aliases", {}), **col.value_aliases}
            for key in col.model_fields_set & {"header", "required", "default", "minimum"}:
                target[key] = getattr(col, key)
    known = {s.get("code") for s in sections.get("section", [])}
    for code, title in overrides.sections.items():
        if code not in known:
            line = locate_override(text, ("sections", code))
            raise ContractError(
                f"{path}:{line}: sections.{code}：没有这一章节（可用：{'、'.join(sorted(known))}）"
                " · no such section"
            )
        for s in sections["section"]:
            if s.get("code") == code:
                s["title"] = title


def _touched(overrides: OverridesFile | None) -> set[tuple[str, ...]]:
    """The (ledger, column) pairs and ledgers an override changed, to blame the right file."""
    if overrides is None:
        return set()
    out: set[tuple[str, ...]] = set()
    for code, change in overrides.ledgers.items():
        out.add((code,))
        out.update((code, name) for name in change.columns)
    return out


# The contract as loaded.


@dataclass(frozen=True)
class Contract:
    """One effective contract: a folder with a bureau's overrides layered over it."""

    folder: Path
    overrides: Path | None
    ledgers: dict[str, Ledger]
    sections: dict[str, str]  # section code -> title, in report order
    bureau: str | None = None
    deadline_day: int | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)  # per ledger, and "" for the set
    org_units: dict[str, OrgUnit] = field(default_factory=dict)  # GB/T 2260 code -> unit, file order

    @property
    def is_default(self) -> bool:
        """Whether this is the project's own contract (whose suites are kept in expectations/)."""
        return self.folder == DEFAULT_DIR and self.overrides is None

    @property
    def indicators_file(self) -> Path:
        return self.folder / INDICATORS_FILE

    @property
    def models_dir(self) -> Path:
        """The SQL models: the folder's own `models/`, else the project's `sql/`."""
        own = self.folder / "models"
        return own if own.is_dir() else SQL_DIR

    def fingerprint(self, ledger: str | None) -> str:
        """What a verdict on a file of this ledger (None: no ledger) was made under."""
        return self.fingerprints.get(ledger or "", self.fingerprints[""])


@dataclass(frozen=True)
class OrgUnit:
    """A province, city or county, keyed by its GB/T 2260 code (`org_units.toml`)."""

    code: str
    name_zh: str
    level: str  # province | city | county
    parent: str | None
    aliases: tuple[str, ...] = ()


def load_org_units(folder: Path) -> dict[str, OrgUnit]:
    """Read and check the folder's `org_units.toml` (else the project's); raise ContractError.

    Errors name the file and the line of the offending unit: a code that is not six digits or
    not of its level, a code or name twice, a parent not listed or not one level up.
    """
    path = folder / ORG_UNITS_FILE
    if not path.is_file():
        path = DEFAULT_DIR / ORG_UNITS_FILE
    text, data = read_toml(path)
    checked = _validate(OrgUnitsFile, data, path, text, locate_base)
    lines = text.splitlines()
    if problems := check_hierarchy(checked.unit):
        raise ContractError("\n".join(f"{path}:{(_array_item_line(lines, 'unit', i) or 0) + 1}: unit.{i}：{msg}"
                                      for i, msg in problems))
    return {u.code: OrgUnit(u.code, u.name_zh, u.level, u.parent, tuple(u.aliases)) for u in checked.unit}


def _ledger(spec: LedgerSpec) -> Ledger:
    columns = tuple(
        Column(
            header=c.header, name=c.name, type=c.type, required=c.required, default=c.default,
            header_aliases=tuple(c.header_aliases), values=tuple(c.values),
            value_aliases=dict(c.value_aliases), minimum=c.minimum, personal=c.personal,
            clear_when=(c.clear_when.column, c.clear_when.equals) if c.clear_when else None,
            doc=c.doc,
        )
        for c in spec.column
    )  # fmt: skip
    return Ledger(
        spec.code,
        spec.name_zh,
        spec.unit,
        spec.unit_zh,
        spec.kind,
        columns,
        key=spec.key,
        event_date=spec.event_date,
        rules=tuple(spec.rules),
    )


def _digest(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(f"{READING_VERSION}|{text}".encode()).hexdigest()[:16]


def load_contract(folder: Path | None = None, overrides: Path | None = None) -> Contract:
    """Load and check a contract folder (default: the project's) with a bureau's overrides file."""
    folder = Path(folder).resolve() if folder else DEFAULT_DIR
    if not folder.is_dir():
        raise ContractError(f"{folder}：契约文件夹不存在 · contract folder not found")
    ledgers_path, sections_path = folder / LEDGERS_FILE, folder / SECTIONS_FILE
    ledgers_text, ledgers_data = read_toml(ledgers_path)
    sections_text, sections_data = read_toml(sections_path)
    checked_overrides = None
    if overrides is not None:
        overrides = Path(overrides)
        over_text, over_data = read_toml(overrides)
        checked_overrides = _validate(
            OverridesFile, over_data, overrides, over_text, locate_override
        )
        apply_overrides(ledgers_data, sections_data, checked_overrides, overrides, over_text)
    touched = _touched(checked_overrides)

    try:
        ledgers_file = LedgersFile.model_validate(ledgers_data)
    except ValidationError as exc:
        raise ContractError(
            "\n".join(
                _blame(
                    e,
                    ledgers_data,
                    ledgers_path,
                    ledgers_text,
                    overrides,
                    touched,
                    over_text if overrides else "",
                )
                for e in exc.errors()
            )
        ) from None
    sections_file = _validate(
        SectionsFile, sections_data, sections_path, sections_text, locate_base
    )
    ledgers = {spec.code: _ledger(spec) for spec in ledgers_file.ledger}
    # A column's `doc` only words a comment: it changes nothing a file's reading depends on, so
    # it is not part of the fingerprint (which would make every file be read again).
    prints = {spec.code: _digest(spec.model_dump(exclude={"column": {"__all__": {"doc"}}}))
              for spec in ledgers_file.ledger}
    prints[""] = _digest(sorted((x.code, x.name_zh) for x in ledgers.values()))
    return Contract(
        folder=folder, overrides=overrides, ledgers=ledgers,
        sections={s.code: s.title for s in sections_file.section},
        bureau=checked_overrides.bureau if checked_overrides else None,
        deadline_day=checked_overrides.deadline_day if checked_overrides else None,
        fingerprints=prints, org_units=load_org_units(folder),
    )  # fmt: skip


def _blame(
    error: dict,
    data: dict,
    path: Path,
    text: str,
    overrides: Path | None,
    touched: set[tuple[str, ...]],
    over_text: str,
) -> str:
    """Say where an error of the layered ledgers is: in the overrides file if it changed that spot."""
    loc = _real_loc(error["loc"])
    msg = error["msg"].removeprefix("Value error, ")
    if overrides is not None and len(loc) >= 2 and loc[0] == "ledger" and isinstance(loc[1], int):
        entries = data.get("ledger", [])
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        code = entry.get("code")
        if len(loc) >= 4 and loc[2] == "column" and isinstance(loc[3], int):
            cols = entry.get("column", [])
            name = cols[loc[3]].get("name") if loc[3] < len(cols) else None
            if (code, name) in touched:
                rest = [str(p) for p in loc[4:5]]
                line = locate_override(over_text, ("ledgers", code, "columns", name, *rest))
                return f"{overrides}:{line}: {'.'.join(['ledgers', code, 'columns', name, *rest])}：{msg}"
        elif (code,) in touched and len(loc) == 2:
            line = locate_override(over_text, ("ledgers", code))
            return f"{overrides}:{line}: ledgers.{code}：{msg}"
    first = msg.split(" ", 1)[0]
    if len(loc) in (2, 4) and first in {*LedgerSpec.model_fields, *ColumnSpec.model_fields}:
        loc = (*loc, first)  # a rule about one key (`key 'x' is not a column`): point at that key
    return f"{path}:{locate_base(text, loc)}: {_named(loc, data)}：{msg}"


def _named(loc: tuple, data: dict) -> str:
    """Say where in the ledgers an error is by code and column name (`cases.party_type.type`)."""
    parts: list[str] = []
    node: Any = data
    for part in loc:
        node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
        if isinstance(part, int):
            label = node.get("code") or node.get("name") if isinstance(node, dict) else None
            parts.append(str(label) if label else f"[{part}]")
        elif part not in ("ledger", "column"):
            parts.append(str(part))
    return ".".join(parts)


def _has(node: dict | list, part: object) -> bool:
    return (isinstance(node, list) and isinstance(part, int) and part < len(node)) or (
        isinstance(node, dict) and part in node
    )


# The active contract, process-wide.

_active: Contract | None = None
_listeners: list[Callable[[], None]] = []


def _from_env() -> tuple[Path | None, Path | None]:
    folder, over = os.environ.get(CONTRACT_ENV), os.environ.get(OVERRIDES_ENV)
    return (Path(folder) if folder else None, Path(over) if over else None)


def active() -> Contract:
    """Return the contract in use (the one named by the environment, else the default)."""
    global _active
    if _active is None:
        _active = load_contract(*_from_env())
    return _active


def source() -> tuple[str | None, str | None]:
    """Where the active contract comes from: (folder or None for the default, overrides file or None)."""
    c = active()
    return (
        None if c.folder == DEFAULT_DIR else str(c.folder),
        str(c.overrides) if c.overrides else None,
    )


def on_change(listener: Callable[[], None]) -> None:
    """Call `listener` whenever another contract is put in use (caches of the loaded view)."""
    _listeners.append(listener)


def use_contract(folder: Path | str | None = None, overrides: Path | str | None = None) -> Contract:
    """Put a contract in use for this process and the reader processes it starts; return it."""
    global _active
    folder = Path(folder).resolve() if folder else None
    overrides = Path(overrides).resolve() if overrides else None
    loaded = load_contract(folder, overrides)
    if (
        _active is not None
        and (_active.folder, _active.overrides, _active.fingerprints)
        == (loaded.folder, loaded.overrides, loaded.fingerprints)
        and _active.sections == loaded.sections
    ):
        return _active
    _active = loaded
    for name, value in ((CONTRACT_ENV, folder), (OVERRIDES_ENV, overrides)):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = str(value)
    for listener in _listeners:
        listener()
    return loaded
