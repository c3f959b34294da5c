"""Mask personal data before it reaches the warehouse, keeping keyed hashes beside it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import polars as pl

from .ledgers import Column, Ledger
from .masking import (
    id_kind_expr,
    id_valid_expr,
    keyed_hash,
    keyed_hashes,
    mask_free_text,
    mask_id_number,
    mask_person_name,
    mask_phone,
)

KEY_ENV = "TALLY_HASH_KEY"


def hash_key(warehouse: Path) -> str:
    """The key of the keyed hashes: $TALLY_HASH_KEY, else a secret file beside the warehouse."""
    if env := os.environ.get(KEY_ENV):
        return env
    path = warehouse.parent / ".tally-hash-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def masked_text(raw: pl.Expr, column: Column) -> pl.Expr:
    """Mask a personal column's raw text for messages and quarantine (the row's kind unknown)."""
    match column.personal:
        case "person_name":
            return mask_person_name(raw)
        case "id_number":
            return mask_id_number(raw)
        case "phone":
            return mask_phone(raw)
        case "free_text":
            return mask_free_text(raw)
    return raw


def protect(rows: pl.DataFrame, ledger: Ledger, key: str) -> pl.DataFrame:
    """Replace clear personal values by masked ones and add their keys and check results."""
    derived: list[pl.Expr] = []
    masks: list[pl.Expr] = []
    key_names: list[str] = []  # the key columns, in the order they are appended
    hashed: list[str] = []  # columns whose clear value gets a keyed hash
    for column in ledger.columns:
        name = column.name
        col = pl.col(name)
        if column.personal in ("person_name", "id_number", "phone"):
            hashed.append(name)
            key_names.append(f"{name}_key")
        if column.personal == "id_number":
            derived += [id_kind_expr(col).alias(f"{name}_kind"), id_valid_expr(col).alias(f"{name}_valid")]
        if column.type == "names":
            key_names.append(f"{name}_keys")
        if column.personal == "person_name" and ledger.code == "cases":
            # A company's name is public; only a person's name is masked.
            masks.append(
                pl.when(pl.col("party_type") == "单位").then(col).otherwise(mask_person_name(col)).alias(name)
            )  # fmt: skip
        elif column.personal:
            masks.append(masked_text(col, column).alias(name))
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
