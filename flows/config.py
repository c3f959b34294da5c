"""Settings from `tally.toml`; command-line flags override them."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import TallyError

CONFIG_FILE = "tally.toml"
MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)


@dataclass(frozen=True)
class Settings:
    """What a run needs to know about its bureau and its files."""

    inbox: Path = Path("inbox")
    warehouse: Path = Path("warehouse/tally.duckdb")
    bureau: str = "西吉县文化旅游广电局"
    timezone: str = "Asia/Shanghai"
    schedule: str = "0 2 * * *"
    lock_wait: float = 0.0  # seconds a run waits for one in progress before giving up
    memory_limit: str = "1GB"  # DuckDB's, for a run; beyond it the run spills to disk
    notify_command: str | None = None
    notify_webhook: str | None = None
    extra: dict = field(default_factory=dict)

    def override(self, **values) -> Settings:
        """Return these settings with every value that is not None replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def find_config(start: Path | None = None) -> Path | None:
    """Find tally.toml: $TALLY_CONFIG, else the current folder or one of its parents."""
    if env := os.environ.get("TALLY_CONFIG"):
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None) -> Settings:
    """Read settings from tally.toml; paths in it are relative to the file's folder."""
    path = path or find_config()
    if path is None:
        return Settings()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    base = path.parent
    known = {"inbox", "warehouse", "bureau", "timezone", "schedule", "lock_wait", "memory_limit"}
    notify = data.get("notify", {})
    settings = Settings(
        inbox=base / data.get("inbox", "inbox"),
        warehouse=base / data.get("warehouse", "warehouse/tally.duckdb"),
        bureau=data.get("bureau", Settings.bureau),
        timezone=data.get("timezone", Settings.timezone),
        schedule=data.get("schedule", Settings.schedule),
        lock_wait=float(data.get("lock_wait", Settings.lock_wait)),
        memory_limit=memory_limit(data.get("memory_limit", Settings.memory_limit), path),
        notify_command=notify.get("command"),
        notify_webhook=notify.get("webhook"),
        extra={k: v for k, v in data.items() if k not in known | {"notify"}},
    )
    return settings


def memory_limit(value: object, path: Path) -> str:
    """Return a DuckDB memory size from tally.toml, or say plainly what is wrong with it."""
    if isinstance(value, str) and MEMORY.match(value):
        return value.strip()
    raise TallyError(f"{path} 中的 memory_limit 无法识别：{value!r}（应写作如 \"1GB\"、\"800MB\"）")
