"""Mask personal data before it reaches the warehouse, keeping keyed hashes beside it."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from flows.connections import open_duckdb
from flows.contract.ledgers import Column, Ledger
from flows.errors import TallyError
from flows.privacy.masking import (
    id_kind_expr,
    id_valid_expr,
    keyed_hash,
    keyed_hashes,
    mask_free_text,
    mask_id_number,
    mask_names_text,
    mask_person_name,
    mask_person_names,
    mask_phone,
)
from flows.textnorm import normalise_value, normalise_value_expr

KEY_ENV = "TALLY_HASH_KEY"
KEY_FILE = ".tally-hash-key"
KEY_TABLE = "hash_key_fingerprint"  # the fingerprint of the key the warehouse's hashes were made with
# 128 bits as 32 hex characters: below that the keyed hash of an 11-digit phone is within
# reach of a search over keys as well as values.
MIN_KEY_CHARS = 32
REKEY_HINT = "tally rekey"
# The personal kinds whose clear value gets a keyed hash beside its mask (`<column>_key`, or
# `<column>_keys` name by name for a list of names), so that a repeat person can be counted.
HASHED = ("person_name", "id_number", "phone")
KEY_GEN_HINT = 'python -c "import secrets; print(secrets.token_hex(32))"'


class KeyRefused(TallyError):
    """The hash key is weak, lost or not the warehouse's: nothing may be loaded with it."""


def key_path(warehouse: Path) -> Path:
    """The key file beside the warehouse."""
    return warehouse.parent / KEY_FILE


def key_source(warehouse: Path) -> str:
    """Say where the key comes from, for messages."""
    return f"环境变量 {KEY_ENV}" if KEY_ENV in os.environ else f"密钥文件 {key_path(warehouse)}"


def weak_key_reason(key: str, where: str) -> str | None:
    """Say why a key is too weak to hash personal data with, or None when it is strong enough."""
    fix = f"请换用至少 {MIN_KEY_CHARS} 个字符的随机密钥，例如由 {KEY_GEN_HINT} 生成"
    if not key.strip():
        return (f"哈希密钥为空（{where}）：键控哈希会退化为普通 SHA-256，已脱敏的电话和身份证号可由哈希反推。{fix}。"
                f" · The hash key is empty; use a random key of at least {MIN_KEY_CHARS} characters.")
    if len(key) < MIN_KEY_CHARS:
        return (f"哈希密钥太短（{where}，{len(key)} 个字符，至少需要 {MIN_KEY_CHARS} 个，即 128 位）。{fix}。"
                f" · The hash key is too short ({len(key)} characters, at least {MIN_KEY_CHARS}).")
    if len(set(key)) == 1:
        return (f"哈希密钥由同一个字符重复组成（{where}），无法保护哈希。{fix}。"
                " · The hash key is one character repeated.")
    return None


def key_fingerprint(key: str) -> str:
    """A fingerprint that tells keys apart without helping anyone guess one."""
    return hmac.new(key.encode(), b"tally-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def read_key(warehouse: Path) -> str | None:
    """The key as configured ($TALLY_HASH_KEY, else the file beside the warehouse), None if absent."""
    if KEY_ENV in os.environ:
        return os.environ[KEY_ENV]  # as set: hashes made with it before must still match
    path = key_path(warehouse)
    if not path.exists():
        return None
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        raise KeyRefused(f"无法读取哈希密钥文件 {path}：{exc.strerror} · cannot read the hash key file") from exc


def write_key(path: Path, key: str) -> None:
    """Write a key file readable by its owner only, replacing any (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def recorded_fingerprint(con) -> str | None:
    """The fingerprint of the key the warehouse's hashes were made with, if recorded."""
    try:
        row = con.execute(f"SELECT fingerprint FROM {KEY_TABLE} LIMIT 1").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def holds_hashes(con) -> bool:
    """Whether the warehouse holds rows loaded with some key (so that a new key would not match)."""
    try:
        return con.execute(
            "SELECT count(*) > 0 FROM file_versions WHERE status IN ('loaded', 'superseded')"
        ).fetchone()[0]
    except duckdb.CatalogException:
        return False


def record_fingerprint(con, key: str) -> None:
    """Record the key's fingerprint as the warehouse's, replacing any."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (fingerprint VARCHAR NOT NULL, "
                "recorded_at TIMESTAMP WITH TIME ZONE NOT NULL)")
    con.execute(f"DELETE FROM {KEY_TABLE}")
    con.execute(f"INSERT INTO {KEY_TABLE} VALUES (?, ?)", [key_fingerprint(key), datetime.now(UTC)])


def checked_key(warehouse: Path, con=None) -> str | None:
    """The configured key after every check; None when there is none yet and may be made.

    Refuses (KeyRefused) a weak key, a lost key file when the warehouse (on `con`) holds
    hashes, and a key other than the one the warehouse's hashes were made with.
    """
    where = key_source(warehouse)
    key = read_key(warehouse)
    recorded = recorded_fingerprint(con) if con is not None else None
    if key is None:
        if recorded is not None or (con is not None and holds_hashes(con)):
            raise KeyRefused(
                f"找不到哈希密钥文件 {key_path(warehouse)}，而仓库中已有用原密钥计算的哈希：请从备份恢复该文件"
                f"（或设置 {KEY_ENV}），或有意换用新密钥时运行 {REKEY_HINT} 重算全部哈希。"
                " · The hash key file is missing but the warehouse holds hashes made with it: restore it,"
                f" or re-key on purpose with `{REKEY_HINT}`."
            )
        return None
    if reason := weak_key_reason(key, where):
        raise KeyRefused(reason)
    if recorded is not None and recorded != key_fingerprint(key):
        raise KeyRefused(
            f"仓库旁的哈希密钥（{where}，指纹 {key_fingerprint(key)}）不是仓库中哈希所用的密钥（指纹 {recorded}）："
            f"请恢复原密钥，或有意换用新密钥时运行 {REKEY_HINT} 重算全部哈希。"
            " · The key beside the warehouse is not the one its hashes were made with: restore it,"
            f" or re-key on purpose with `{REKEY_HINT}`."
        )
    return key


def preflight_key(warehouse: Path) -> None:
    """Check the key against the published warehouse before a run does any work (KeyRefused)."""
    if not warehouse.exists():
        checked_key(warehouse)
        return
    try:
        con = open_duckdb(str(warehouse), read_only=True)
    except duckdb.Error:
        checked_key(warehouse)  # the run says what is wrong with the file; the key is checked again there
        return
    with con:
        checked_key(warehouse, con)


def hash_key(warehouse: Path, con=None) -> str:
    """The key of the keyed hashes, checked against the warehouse on `con` and recorded in it.

    $TALLY_HASH_KEY, else a secret file beside the warehouse, made only for a warehouse that
    holds no hashes yet.
    """
    key = checked_key(warehouse, con)
    if key is None:
        key = secrets.token_hex(32)
        write_key(key_path(warehouse), key)
    if con is not None and recorded_fingerprint(con) is None:
        record_fingerprint(con, key)
    return key


def masked_text(raw: pl.Expr, column: Column, clear: pl.Expr | None = None) -> pl.Expr:
    """Mask a personal column's raw text for messages and quarantine.

    `clear` (a boolean per row, from `reads_clear`) keeps the text on the rows where the
    contract's `clear_when` holds; without it every row is masked. A `names` column's text
    is masked name by name, its separators kept.
    """
    if clear is not None:
        # A name kept in clear is still text: an ID or a phone written in it is masked.
        return pl.when(clear.fill_null(False)).then(mask_free_text(raw)).otherwise(masked_text(raw, column))
    match column.personal:
        case "person_name" if column.type == "names":
            return mask_names_text(raw)
        case "person_name":
            return mask_person_name(raw)
        case "id_number":
            return mask_id_number(raw)
        case "phone":
            return mask_phone(raw)
        case "free_text":
            return mask_free_text(raw)
    return raw


def reads_clear(ledger: Ledger, column: Column, raw: pl.Expr) -> pl.Expr | None:
    """Whether a row's text, as written, meets `column`'s clear_when (None when it has none).

    `raw` is the text of the clear_when column (当事人类型 as written). It counts when it is
    the value or one of its aliases, read as the enumeration reads them (企业, 法人 → 单位);
    anything else, a bad value included, masks: when in doubt the value is a person's.
    """
    if column.clear_when is None:
        return None
    other, value = column.clear_when
    spellings = [value, *(alias for alias, target in ledger.column(other).value_aliases.items() if target == value)]
    # Normalised as an enumeration's cell is (flows/extract/cells.py `_parse_enum`).
    key = normalise_value_expr(raw.cast(pl.Utf8)).str.to_lowercase()
    return key.is_in([normalise_value(s).lower() for s in spellings])


# Text columns that are identifiers or addresses, never prose: a number in them is theirs.
IDENTIFIER_COLUMNS = ("url", "spot_check_task")


@functools.cache
def free_text_columns(ledger: Ledger) -> frozenset[str]:
    """The text columns not marked personal where a clerk may still write an ID or a phone in passing."""
    return frozenset(
        c.name for c in ledger.columns
        if c.type == "text" and not c.personal and c.name != ledger.key
        and not c.name.endswith("_no") and c.name not in IDENTIFIER_COLUMNS
    )  # fmt: skip


def protect(rows: pl.DataFrame, ledger: Ledger, key: str) -> pl.DataFrame:
    """Replace clear personal values by masked ones and add their keys and check results."""
    derived: list[pl.Expr] = []
    masks: list[pl.Expr] = []
    key_names: list[str] = []  # the key columns, in the order they are appended
    hashed: list[str] = []  # columns whose clear value gets a keyed hash
    for column in ledger.columns:
        name = column.name
        col = pl.col(name)
        if column.personal in HASHED and column.type != "names":  # a list's names: `_keys` below
            hashed.append(name)
            key_names.append(f"{name}_key")
        if column.personal == "id_number":
            derived += [id_kind_expr(col).alias(f"{name}_kind"), id_valid_expr(col).alias(f"{name}_valid")]
        if column.type == "names":
            key_names.append(f"{name}_keys")
        if column.personal and column.clear_when is not None and column.clear_when[0] in rows.columns:
            # The contract's `clear_when`: a company's name is public; only a person's name is masked.
            other, value = column.clear_when
            masks.append(masked_text(col, column, clear=pl.col(other) == value).alias(name))
        elif column.personal and column.type == "names":
            masks.append(mask_person_names(col).alias(name))
        elif column.personal:
            masks.append(masked_text(col, column).alias(name))
        elif name in free_text_columns(ledger) and name in rows.columns:
            masks.append(mask_free_text(col).alias(name))
    if not (derived or masks or key_names):
        return rows
    keys: dict[str, pl.Series] = {}
    if hashed:  # one query for every hashed column
        for name, series in zip(hashed, keyed_hashes(rows.select(hashed), key).get_columns(), strict=True):
            keys[f"{name}_key"] = series.alias(f"{name}_key")
    for column in ledger.columns:
        if column.type == "names":
            keys[f"{column.name}_keys"] = name_keys(rows, column.name, key)
    # One lazy pass: the checks and the masks read the clear values (a with_columns sees its
    # input), and the ID number's normalised form is computed once for all of them.
    out = rows.lazy().with_columns(derived + masks).collect() if derived or masks else rows
    return out.hstack([keys[name] for name in key_names]) if key_names else out


def name_keys(rows: pl.DataFrame, name: str, key: str) -> pl.Series:
    """Keyed hashes of every name in a list column, so that officers match the roster."""
    # Few distinct officers sign thousands of rows: hash each name once.
    distinct = rows.get_column(name).explode().drop_nulls().unique()
    hashed = keyed_hash(distinct, key)
    keys = rows.select(
        pl.col(name)
        .list.eval(pl.element().replace_strict(distinct, hashed, default=None, return_dtype=pl.Utf8).drop_nulls())
        .fill_null(pl.lit([], dtype=pl.List(pl.Utf8)))
    ).to_series()
    return keys.alias(f"{name}_keys")
