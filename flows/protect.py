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
    keys: dict[str, pl.Series] = {}
    for column in ledger.columns:
        name = column.name
        col = pl.col(name)
        if column.personal in ("person_name", "id_number", "phone"):
            keys[f"{name}_key"] = keyed_hash(rows[name], key)
        if column.personal == "id_number":
            derived += [id_kind_expr(col).alias(f"{name}_kind"), id_valid_expr(col).alias(f"{name}_valid")]
        if column.type == "names":
            keys[f"{name}_keys"] = name_keys(rows, name, key)
    out = rows.with_columns(derived).with_columns(**keys) if derived or keys else rows
    masks = []
    for column in ledger.columns:
        col = pl.col(column.name)
        if column.personal == "person_name" and ledger.code == "cases":
            # A company's name is public; only a person's name is masked.
            masks.append(
                pl.when(pl.col("party_type") == "单位").then(col).otherwise(mask_person_name(col))
                .alias(column.name)
            )  # fmt: skip
        elif column.personal:
            masks.append(masked_text(col, column).alias(column.name))
    return out.with_columns(masks) if masks else out


def name_keys(rows: pl.DataFrame, name: str, key: str) -> pl.Series:
    """Keyed hashes of every name in a list column, so that officers match the roster."""
    exploded = rows.select(pl.int_range(pl.len()).alias("_i"), pl.col(name)).explode(name)
    # Few distinct officers sign thousands of rows: hash each name once.
    distinct = exploded[name].drop_nulls().unique()
    hashed = dict(zip(distinct.to_list(), keyed_hash(distinct, key).to_list(), strict=True))
    grouped = (
        exploded.with_columns(pl.col(name).replace_strict(hashed, default=None, return_dtype=pl.Utf8).alias("_k"))
        .group_by("_i", maintain_order=True)
        .agg(pl.col("_k").drop_nulls())
        .sort("_i")
    )
    return grouped["_k"].alias(f"{name}_keys")
