"""Settings from `tally.toml`; command-line flags override them.

The file is checked against a schema (pydantic, which Prefect brings) before any command does
any work: a wrong type, a bad value or an unknown key stops the command with one line that
names the file, the key, what it should be and what was written, and exit code 2.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import tomllib
import zoneinfo
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from flows.errors import TallyError

CONFIG_FILE = "tally.toml"
OVERRIDES_FILE = "contract.toml"  # a bureau's own changes to the contract, beside tally.toml
CONFIG_ENV = "TALLY_CONFIG"
LAKE_PREFIX = "ducklake:"  # a `warehouse` that names a DuckLake, not a file (flows.load.lake)
LAKE_BUILD = "warehouse/tally.duckdb"  # with a lake: the file its figures are built into
MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)


class ConfigError(TallyError):
    """tally.toml (or the file named by --config or $TALLY_CONFIG) is missing or wrong."""


@dataclass(frozen=True)
class Settings:
    """What a run needs to know about its bureau and its files."""

    inbox: Path = Path("inbox")
    warehouse: Path = Path("warehouse/tally.duckdb")
    bureau: str = "西吉县文化旅游广电局"
    timezone: str = "Asia/Shanghai"
    schedule: str = "0 2 * * *"
    lock_wait: float = 0.0  # seconds a run waits for one in progress before giving up
    # DuckDB's, for a run; beyond it the run spills to disk. 256MB: at 4M rows in big files the
    # run's peak is ~110–150 MiB lower than at 512MB, at no measured cost in time; DuckDB's own
    # count of its memory never passed 100 MiB at a stage's end (issue 16,
    # bench/recorded-2026-12-01d-memory.md).
    memory_limit: str = "256MB"
    notify_command: tuple[str, ...] | str | None = None  # argv, or a line split by shlex (never a shell)
    notify_webhook: str | None = None
    max_file_mb: int = 200  # a larger inbox file is rejected unread
    file_timeout_s: float = 300.0  # a file that takes longer to read is rejected
    reader_memory_mb: int = 3072  # the memory a file's reader may use
    contract: Path | None = None  # a contract folder of the bureau's own (None: the project's)
    contract_overrides: Path | None = None  # the bureau's overrides (default: contract.toml beside tally.toml)
    org_unit: str = "640422"  # the bureau's own org unit (GB/T 2260 code): the county its rows belong to
    # A city's or province's lake (`warehouse = "ducklake:postgres:…"`): where county loads go;
    # `warehouse` is then the DuckDB file the figures are built into from a lake snapshot.
    lake: str | None = None
    lake_data_path: Path | None = None  # the lake's Parquet files
    # How many county loads may commit to the lake at once (the Prefect limit `lake-commit`), and
    # when the lake's upkeep runs (cron, in `timezone`): see flows/run/lake_flows.py.
    lake_commit_slots: int = 4
    maintenance_schedule: str = "0 3 * * 0"
    extra: dict = field(default_factory=dict)

    @property
    def reader_limits(self) -> dict:
        """The readers' bounds, as keyword arguments of `pipeline.run_pipeline`."""
        return {"max_file_mb": self.max_file_mb, "file_timeout_s": self.file_timeout_s,
                "reader_memory_mb": self.reader_memory_mb}

    def override(self, **values) -> Settings:
        """Return these settings with every value that is not None replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


# The schema. Strict: TOML has real types, and "abc" for a number or 5 for a path is a mistake
# to name, not a value to coerce. Every key's expected form, as the message says it:
EXPECTED = {
    "inbox": "非空的文件夹路径文本，如 \"inbox\" · a folder path as text",
    "warehouse": "非空的文件路径文本，如 \"warehouse/tally.duckdb\" · a file path as text",
    "bureau": "文本，如 \"西吉县文化旅游广电局\" · text",
    "timezone": "IANA 时区名，如 \"Asia/Shanghai\" · an IANA time zone",
    "schedule": "cron 表达式文本，如 \"0 2 * * *\" · a cron expression",
    "lock_wait": "不小于 0 的秒数，如 600 · a number of seconds ≥ 0",
    "memory_limit": "内存大小文本，如 \"1GB\"、\"800MB\" · a memory size such as \"1GB\"",
    "max_file_mb": "大于 0 的整数（MB），如 200 · an integer > 0",
    "file_timeout_s": "大于 0 的秒数，如 300 · a number of seconds > 0",
    "reader_memory_mb": "不小于 512 的整数（MB），如 3072 · an integer ≥ 512",
    "notify": "一节 [notify]，含 command、webhook · a [notify] table",
    "notify.command": "参数列表，如 [\"/usr/local/bin/notify-legal-office\", \"--to\", \"法制股\"]，或命令文本 · an argv list, or a command line as text",
    "notify.webhook": "以 http:// 或 https:// 开头的地址文本 · an http(s) URL as text",
    "completeness": "一节 [completeness]，含 deadline_day、grace_hours · a [completeness] table",
    "completeness.deadline_day": "1 到 28 的整数 · an integer from 1 to 28",
    "completeness.grace_hours": "0 到 672 的整数（小时）· hours, an integer from 0 to 672",
    "contract": "非空的契约文件夹路径文本，如 \"contract\" · a contract folder path as text",
    "contract_overrides": "非空的文件路径文本，如 \"contract.toml\" · a file path as text",
    "lake_data_path": "非空的文件夹路径文本，如 \"lake/data\"（warehouse 为 ducklake: 时必填）· a folder path as text",
    "lake_commit_slots": "1 到 64 的整数，如 4 · an integer from 1 to 64",
    "maintenance_schedule": "cron 表达式文本，如 \"0 3 * * 0\"（每周日 3 点）· a cron expression",
    "org_unit": "org_units.toml 中的行政区划代码或名称，如 \"640422\"、\"西吉县\" · a GB/T 2260 code or name",
}

NonEmpty = Annotated[str, Field(min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NotifyFile(_Section):
    # an argv list (["/usr/local/bin/notify", "--to", "法制股"]), or a command line that tally
    # splits as a POSIX shell would (shlex) but never gives to a shell
    # (checked by hand: a union's errors would name its members, not the key)
    command: Any = None
    webhook: NonEmpty | None = None

    @field_validator("command")
    @classmethod
    def _command_splits(cls, value: Any) -> list[str] | str | None:
        if isinstance(value, str) and value.strip():
            shlex.split(value)  # unbalanced quotes: a ValueError, named as this key's
            return value
        if isinstance(value, list) and value and all(isinstance(a, str) and a for a in value):
            return value
        if value is None:
            return value
        raise ValueError("not an argv list or a command line")

    @field_validator("webhook")
    @classmethod
    def _webhook_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("not http(s)")
        return value


class CompletenessFile(_Section):
    deadline_day: int = Field(default=5, ge=1, le=28)
    # tally sees a file at its next run: a day's grace lets the nightly run after the deadline
    # day find what was dropped on it (flows.transform.submissions)
    grace_hours: int = Field(default=24, ge=0, le=24 * 28)


class ConfigFile(_Section):
    """The keys tally.toml may hold, with their types and limits."""

    inbox: NonEmpty = "inbox"
    warehouse: NonEmpty = "warehouse/tally.duckdb"
    bureau: str = Settings.bureau
    timezone: NonEmpty = Settings.timezone
    schedule: NonEmpty = Settings.schedule
    lock_wait: float = Field(default=Settings.lock_wait, ge=0)
    memory_limit: str = Settings.memory_limit
    max_file_mb: int = Field(default=Settings.max_file_mb, gt=0)
    file_timeout_s: float = Field(default=Settings.file_timeout_s, gt=0)
    reader_memory_mb: int = Field(default=Settings.reader_memory_mb, ge=512)
    notify: NotifyFile = Field(default_factory=NotifyFile)
    completeness: CompletenessFile | None = None
    contract: NonEmpty | None = None
    contract_overrides: NonEmpty | None = None
    org_unit: NonEmpty | None = None
    lake_data_path: NonEmpty | None = None
    lake_commit_slots: int = Field(default=Settings.lake_commit_slots, ge=1, le=64)
    maintenance_schedule: NonEmpty = Settings.maintenance_schedule

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("schedule", "maintenance_schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from datetime import datetime

        from cronsim import CronSim, CronSimError  # what Prefect's CronSchedule parses with

        try:
            CronSim(value, datetime(2000, 1, 1))
        except CronSimError as exc:
            raise ValueError("not a cron expression") from exc
        return value

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        if not MEMORY.match(value):
            raise ValueError("not a memory size")
        return value.strip()


def find_config(start: Path | None = None) -> Path | None:
    """Find tally.toml: $TALLY_CONFIG, else the current folder or one of its parents."""
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None) -> Settings:
    """Read and check tally.toml (paths in it are relative to its folder); raise ConfigError."""
    named = path is not None
    path = path or find_config()
    if path is None:
        settings = Settings()
        contract = use_settings_contract(settings)
        if contract.deadline_day:
            settings = replace(settings, extra={"completeness": {"deadline_day": contract.deadline_day}})
        use_submission_rules(settings)
        use_settings_org_unit(settings)
        return settings
    checked = check_config(read_config(path, named=named), path)
    base = path.parent
    lake = checked.warehouse if checked.warehouse.startswith(LAKE_PREFIX) else None
    if lake is not None and (not lake.startswith(LAKE_PREFIX + "postgres:") or checked.lake_data_path is None):
        # Only a PostgreSQL catalog takes concurrent writers while analysts read (issue 17's spike:
        # SQLite locks out a second writer, a DuckDB file locks out readers).
        raise ConfigError(f"{path}：warehouse 为湖仓时应写成 \"ducklake:postgres:dbname=… host=…\"，并设置 lake_data_path"
                          f"，实际写的是 {shown(lake)}"
                          f"{'' if checked.lake_data_path else '（缺 lake_data_path）'} · a lake needs a PostgreSQL catalog "
                          "and lake_data_path")
    overrides = base / (checked.contract_overrides or OVERRIDES_FILE)
    settings = Settings(
        inbox=base / checked.inbox,
        warehouse=base / (LAKE_BUILD if lake else checked.warehouse),
        lake=lake,
        lake_data_path=base / checked.lake_data_path if checked.lake_data_path else None,
        lake_commit_slots=checked.lake_commit_slots,
        maintenance_schedule=checked.maintenance_schedule,
        bureau=checked.bureau,
        timezone=checked.timezone,
        schedule=checked.schedule,
        lock_wait=float(checked.lock_wait),
        memory_limit=checked.memory_limit,
        notify_command=tuple(checked.notify.command) if isinstance(checked.notify.command, list)
        else checked.notify.command,
        notify_webhook=checked.notify.webhook,
        max_file_mb=checked.max_file_mb,
        file_timeout_s=float(checked.file_timeout_s),
        reader_memory_mb=checked.reader_memory_mb,
        contract=base / checked.contract if checked.contract else None,
        contract_overrides=overrides if checked.contract_overrides or overrides.is_file() else None,
        extra={"completeness": checked.completeness.model_dump(exclude_unset=True)} if checked.completeness else {},
    )
    contract = use_settings_contract(settings)
    if checked.org_unit is not None:  # checked against the contract's org units, which it may extend
        from flows.contract import org_units

        unit = org_units.find(checked.org_unit)
        if unit is None:
            raise ConfigError(f"{path}：org_unit 应为 {EXPECTED['org_unit']}，实际写的是 {shown(checked.org_unit)}")
        settings = replace(settings, org_unit=unit.code)
    use_settings_org_unit(settings)
    # The bureau's contract.toml may give its name and deadline day, as tally.toml may: the two
    # may say the same, never different things (one would silently lose).
    said = checked.completeness.model_fields_set if checked.completeness else set()
    conflicts = [
        (key, mine, theirs) for key, mine, theirs, given in (
            ("bureau", checked.bureau, contract.bureau, "bureau" in checked.model_fields_set),
            ("completeness.deadline_day", checked.completeness and checked.completeness.deadline_day,
             contract.deadline_day, "deadline_day" in said),
        ) if given and theirs is not None and mine != theirs
    ]  # fmt: skip
    if conflicts:
        raise ConfigError(f"{path}：" + "；".join(
            f"{key} 为 {shown(mine)}，而 {overrides} 的 {key.split('.')[-1]} 为 {shown(theirs)}，"
            "两处不一致，请只写在一处 · differs from contract.toml" for key, mine, theirs in conflicts))
    if contract.bureau and "bureau" not in checked.model_fields_set:
        settings = replace(settings, bureau=contract.bureau)
    if contract.deadline_day and "deadline_day" not in said:
        settings = replace(settings, extra={**settings.extra, "completeness": {
            **settings.extra.get("completeness", {}), "deadline_day": contract.deadline_day}})
    use_submission_rules(settings)
    return settings


def use_submission_rules(settings: Settings) -> None:
    """Put the settings' deadline rule in use: the `submissions` seeds a build writes store it."""
    from flows.transform.submissions import SubmissionRules, use_rules

    completeness = settings.extra.get("completeness", {})
    use_rules(SubmissionRules(
        deadline_day=int(completeness.get("deadline_day", SubmissionRules.deadline_day)),
        grace_hours=int(completeness.get("grace_hours", SubmissionRules.grace_hours)),
        timezone=settings.timezone,
    ))  # fmt: skip


def use_settings_org_unit(settings: Settings) -> None:
    """Make the settings' org unit the bureau's own for this process (the loader's `_county`), and
    its time zone the one timestamps are shown in."""
    from flows.contract import org_units
    from flows.load.warehouse import use_timezone

    org_units.use_own(settings.org_unit)
    use_timezone(settings.timezone)


def use_settings_contract(settings: Settings):
    """Put the contract the settings name in use (its folder and the bureau's overrides) and return it.

    Raises ContractError (a TallyError) naming the file and line of a mistake.
    """
    from flows.contract.spec import use_contract

    return use_contract(settings.contract, settings.contract_overrides)


def read_config(path: Path, *, named: bool = True) -> dict[str, Any]:
    """Parse a TOML settings file, or raise ConfigError saying why it cannot be read."""
    how = "--config" if named else f"${CONFIG_ENV}"
    if not path.exists():
        raise ConfigError(f"配置文件不存在：{path}（由 {how} 指定）· config file not found")
    if not path.is_file():
        raise ConfigError(f"配置文件不是普通文件：{path}（由 {how} 指定）· config is not a file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"配置文件无法读取：{path}：{exc.strerror or exc} · cannot read config") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"配置文件不是 UTF-8 文本：{path} · config is not UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件不是有效的 TOML：{path}：{exc} · not valid TOML") from exc


def check_config(data: dict[str, Any], path: Path) -> ConfigFile:
    """Check parsed settings against the schema; raise ConfigError naming every wrong key."""
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        problems = [problem_text(error, data) for error in exc.errors()]
        raise ConfigError(f"{path}：" + "；".join(problems)) from None


def problem_text(error: dict, data: dict[str, Any]) -> str:
    """Say what is wrong with one key, in one clause: key, what it should be, what was written."""
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        section = data if len(loc) == 1 else data.get(loc[0], {})
        fields = ConfigFile.model_fields if len(loc) == 1 else _section_fields(loc[0])
        known = [name for name in fields if name not in section]
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint = f"，是否想写 {'.'.join([*loc[:-1], close[0]])}？" if close else ""
        if len(loc) == 2 and loc[-1] in ConfigFile.model_fields:  # TOML: a key after [notify] is in it
            hint = f"，{loc[-1]} 应写在文件开头、[{loc[0]}] 之前"
        return f"未知的设置 {key}{hint}（可用：{'、'.join(fields)}）· unknown key"
    expected = EXPECTED.get(key) or EXPECTED.get(loc[0], "")
    return f"{key} 应为 {expected}，实际写的是 {shown(error.get('input'))}"


def _section_fields(name: str) -> list[str]:
    annotation = {"notify": NotifyFile, "completeness": CompletenessFile}.get(name)
    return list(annotation.model_fields) if annotation else []


def shown(value: object) -> str:
    """Write a value as TOML would, short, for a message."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        text = repr(value)
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
    return text if len(text) <= 80 else text[:77] + "…"

