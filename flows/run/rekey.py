"""Re-key the warehouse: recompute every keyed hash under a new key, on purpose.

The warehouse never holds the clear values its hashes were made from (names, ID numbers and
phones are masked), so they are read again from where they are kept: the source files of
the inbox (templates section 5: "the clear values stay in the source files, which are the
record"). Every file version whose rows carry a hash of a masked value is re-read from its
path in the inbox, and only if the file there still has the sha256 recorded when it was
loaded; if any is missing or changed, nothing is re-keyed and the files are named. The
hashes of officers' names (`officers_keys`, `patrollers_keys`) are recomputed from the
same files, name by name: the warehouse masks those names too.

Like a run, a re-key holds the run lock, works on a copy of the warehouse and publishes it
with one atomic rename; the new key file replaces the old one only after that.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flows.contract.ledgers import LEDGERS, Ledger
from flows.errors import TallyError
from flows.extract.inbox import SourceFile, sha256_file
from flows.extract.parse import SheetToParse, parse_sheets
from flows.extract.plan import Located, read_file
from flows.load.ddl import quote
from flows.load.warehouse import connect
from flows.privacy.masking import keyed_hashes
from flows.privacy.protect import (
    HASHED,
    KEY_ENV,
    key_fingerprint,
    key_path,
    name_keys,
    record_fingerprint,
    weak_key_reason,
    write_key,
)
from flows.publish import swap as publish
from flows.validate.cross_checks import CHECK_TABLE, run_cross_checks
from flows.validate.sheet_suites import ranges_in_suite


class RekeyRefused(TallyError):
    """A re-key that cannot be done honestly: nothing was changed."""


@dataclass(frozen=True)
class RekeyResult:
    """What a re-key did."""

    files: int  # source files re-read
    versions: int  # file versions whose rows were re-hashed from their files
    rows: int  # rows re-hashed from their files
    name_rows: int  # rows whose officers' name hashes were recomputed
    key_file: Path | None  # the key file written, None when the key is $TALLY_HASH_KEY
    fingerprint: str


def hashed_columns(ledger: Ledger) -> list[str]:
    """The columns of a ledger whose masked value has a keyed hash beside it (`<column>_key`)."""
    return [c.name for c in ledger.columns if c.personal in HASHED and c.type != "names"]


def names_columns(ledger: Ledger) -> list[str]:
    """The list-of-names columns of a ledger, hashed name by name (`<column>_keys`)."""
    return [c.name for c in ledger.columns if c.type == "names"]


def new_key(warehouse: Path, key_file: Path | None) -> tuple[str, str]:
    """The new key and where it comes from: $TALLY_HASH_KEY, a file given, or a fresh random one."""
    if KEY_ENV in os.environ:
        key, where = os.environ[KEY_ENV], f"环境变量 {KEY_ENV}"
    elif key_file is not None:
        if not key_file.is_file():
            raise RekeyRefused(f"新密钥文件不存在：{key_file}")
        key, where = key_file.read_text(encoding="utf-8", errors="replace").strip(), f"密钥文件 {key_file}"
    else:
        return secrets.token_hex(32), "新生成的随机密钥"
    if reason := weak_key_reason(key, where):
        raise RekeyRefused(reason)
    return key, where


def versions_with_hashes(con) -> pl.DataFrame:
    """Every file version whose raw rows hold hashes of masked values: ledger, id, path, sha256, sheet, rows."""
    parts = []
    for code, ledger in LEDGERS.items():
        if not hashed_columns(ledger) and not names_columns(ledger):
            continue
        parts.append(con.execute(
            f"""
            SELECT ? AS ledger, f.version_id, f.path, f.sha256, f.sheet, count(*) AS n
            FROM raw.{quote(code)} r JOIN file_versions f ON f.version_id = r._version_id
            GROUP BY ALL ORDER BY f.version_id
            """, [code],
        ).pl())  # fmt: skip
    schema = {"ledger": pl.Utf8, "version_id": pl.Int64, "path": pl.Utf8, "sha256": pl.Utf8,
              "sheet": pl.Utf8, "n": pl.Int64}
    return pl.concat([pl.DataFrame(schema=schema), *(p.cast(schema) for p in parts)], how="vertical")


def missing_sources(inbox: Path, versions: pl.DataFrame) -> list[str]:
    """The source files that are not in the inbox as they were loaded, each with why."""
    missing = []
    for path, sha in versions.select("path", "sha256").unique(maintain_order=True).iter_rows():
        file = inbox / path
        if not file.is_file():
            missing.append(f"{path}（不在收件箱中）")
        elif sha256_file(file) != sha:
            missing.append(f"{path}（内容已改变，与载入时的 sha256 不同）")
    return missing


def source_of(inbox: Path, path: str, sha: str) -> SourceFile:
    file = inbox / path
    stat = file.stat()
    return SourceFile(file, path, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC), sha)


def rehash_file(con, inbox: Path, path: str, sha: str, versions: pl.DataFrame, key: str) -> tuple[int, int]:
    """Re-read one source file and rewrite the hashes of its versions' rows.

    Returns the rows re-hashed, and how many of them have a list of names (hashed name by name).
    """
    read = read_file(source_of(inbox, path, sha))
    if isinstance(read, Exception):
        raise RekeyRefused(f"重新读取 {path} 失败：{type(read).__name__}") from read
    located = [item for item in read if isinstance(item, Located)]
    parsed = parse_sheets([
        SheetToParse(u.unit.grid.frame, u.match, ranges_in_suite(u.unit.ledger), u.unit.year, u.header_rows)
        for u in located
    ])  # fmt: skip
    done = named = 0
    for code, version_id, sheet, n in versions.select("ledger", "version_id", "sheet", "n").iter_rows():
        found = [p for u, p in zip(located, parsed, strict=True)
                 if u.unit.ledger.code == code and u.unit.sheet == sheet]
        if not found or isinstance(found[0], Exception):
            raise RekeyRefused(f"重新读取 {path}{f'（{sheet}）' if sheet else ''} 时找不到载入过的数据")
        rows = found[0].rows
        columns, lists = hashed_columns(LEDGERS[code]), names_columns(LEDGERS[code])
        hashes = keyed_hashes(rows.select(columns), key)
        fresh = pl.DataFrame([rows.get_column("_row"),
                              *[hashes.get_column(c).alias(f"k{i}") for i, c in enumerate(columns)],
                              *[name_keys(rows, c, key).alias(f"n{i}") for i, c in enumerate(lists)]])
        sets = ", ".join([*(f"{quote(c + '_key')} = fresh.k{i}" for i, c in enumerate(columns)),
                          *(f"{quote(c + '_keys')} = fresh.n{i}" for i, c in enumerate(lists))])
        con.register("fresh", fresh)
        try:
            changed = con.execute(
                f"UPDATE raw.{quote(code)} AS r SET {sets} FROM fresh "
                "WHERE r._version_id = ? AND r._row = fresh._row", [version_id],
            ).fetchone()[0]  # fmt: skip
        finally:
            con.unregister("fresh")
        if changed != n:
            raise RekeyRefused(f"重新读取 {path}{f'（{sheet}）' if sheet else ''} 得到的行与载入时不符"
                               f"（应为 {n} 行，对上 {changed} 行）")
        done += changed
        named += changed if lists else 0
    return done, named


def rerun_checks(con) -> None:
    """Re-run the cross-checks, which compare officers with the roster by their hashes.

    No model is rebuilt: the hashes live only in the raw tables and the staging views over
    them (no mart or indicator carries one), and both sides of every comparison are re-keyed.
    """
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if CHECK_TABLE in tables:
        run_cross_checks(con)


def rekey(inbox: Path, warehouse: Path, *, key_file: Path | None = None, lock_wait: float = 0.0) -> RekeyResult:
    """Recompute every keyed hash of the warehouse under a new key and publish it with that key."""
    if not warehouse.exists():
        raise RekeyRefused(f"仓库文件不存在：{warehouse}（没有要重算的哈希）")
    key, _ = new_key(warehouse, key_file)
    run_id = "rekey-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    with publish.run_lock(warehouse, run_id=run_id, wait=lock_wait):
        publish.clean_stale_asides(warehouse)
        aside = publish.build_aside(warehouse, run_id)
        try:
            con = connect(aside)
            try:
                versions = versions_with_hashes(con)
                if missing := missing_sources(inbox, versions):
                    raise RekeyRefused(
                        f"以下 {len(missing)} 个已载入文件不在收件箱 {inbox} 中或已改变，无法读回其中的原值来重算哈希，"
                        f"未作任何改动：{'；'.join(missing)}。请把这些文件按原样放回收件箱后重试。"
                        " · These loaded files are missing from the inbox or changed; nothing was re-keyed."
                    )
                con.execute("BEGIN TRANSACTION")
                rows = name_rows = 0
                by_file = versions.partition_by(["path", "sha256"], as_dict=True, maintain_order=True)
                for (path, sha), part in by_file.items():
                    done, named = rehash_file(con, inbox, path, sha, part, key)
                    rows, name_rows = rows + done, name_rows + named
                record_fingerprint(con, key)
                con.execute("COMMIT")
                rerun_checks(con)
                publish.close_aside(con)
            except BaseException:
                con.close()
                raise
            written = None
            if KEY_ENV not in os.environ:  # the new key waits beside the old until the swap
                pending = key_path(warehouse).with_name(key_path(warehouse).name + ".rekey")
                write_key(pending, key)
            publish.swap(aside, warehouse)
            if KEY_ENV not in os.environ:
                os.replace(pending, key_path(warehouse))
                written = key_path(warehouse)
        except BaseException:
            publish.discard_aside(aside)
            raise
    return RekeyResult(len(by_file), versions.height, rows, name_rows, written, key_fingerprint(key))
