"""Comments on the warehouse's relations and columns, and the ones of the loader's tables.

Analysts open the warehouse in the DuckDB shell, harlequin or DBeaver, where a table's and a
column's comment is what they read first. Every relation and column the build creates gets one,
in Chinese with English beside it (`检查日期 · inspection date`), from the place that defines it:

- a ledger's columns (`raw.<ledger>`, and so the staging views and marts that pass them on) from
  the contract: a column's `header` is its Chinese name, its optional `doc` the English (else its
  name, `inspection_date` → `inspection date`); `ledger_column_docs`;
- the loader's tables, from `flows/load/ddl_docs.py` beside their DDL;
- each SQL model, from its file's header (`flows/transform/model_docs.py`).

`apply` writes them with `COMMENT ON`, only where the catalog says something else, so that it is
cheap to call on every build. A comment is text from tally's own files (never spreadsheet text),
written as a SQL literal because DuckDB binds no parameter in `COMMENT ON`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flows.contract.ledgers import Column, Ledger
from flows.load.ddl import extra_columns, quote

SEPARATOR = " · "
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class RelationDoc:
    """The comments of one relation: its own and its columns' (by column name)."""

    schema: str
    name: str
    comment: str
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def qualified(self) -> str:
        """Return `"schema"."name"`, quoted."""
        return f"{quote(self.schema)}.{quote(self.name)}"


def bilingual(zh: str, en: str) -> str:
    """Return a comment as the warehouse writes them: `中文 · English`."""
    return f"{zh}{SEPARATOR}{en}"


def has_chinese(text: str | None) -> bool:
    """Say whether a comment holds Chinese (a Han character): every comment must."""
    return bool(text and _HAN.search(text))


def english_of(column: Column) -> str:
    """Return a ledger column's English words: its `doc`, else its name with spaces."""
    return column.doc or column.name.replace("_", " ")


LINEAGE_DOCS = {
    "_version_id": bilingual("文件版本号", "the file version the row came from (file_versions.version_id)"),
    "_sheet": bilingual("工作表", "the sheet the row is on"),
    "_row": bilingual("行号（与表格所示一致）", "the row number as the spreadsheet shows it, 1-based"),
    "_county": bilingual("县区代码（GB/T 2260）",
                         "the county's GB/T 2260 code: the bureau's own, or its folder's in a city's inbox"),
}  # one per ddl.LINEAGE column


def ledger_column_docs(ledger: Ledger) -> dict[str, str]:
    """Return the comment of every column of `raw.<ledger>`, from the contract alone.

    A template column's comment is its Chinese header and its English words; the columns derived
    from it before masking (`ddl.extra_columns`: keyed hashes, an ID's kind and check digit)
    say so and name it.
    """
    docs: dict[str, str] = {}
    for column in ledger.columns:
        en = english_of(column)
        docs[column.name] = bilingual(column.header, en)
        if column.personal == "free_text":
            docs[column.name] = bilingual(
                f"{column.header}（其中的身份证号、电话已脱敏）", f"{en} (IDs and phones in it masked)"
            )
        elif column.personal is not None:
            docs[column.name] = bilingual(f"{column.header}（已脱敏）", f"{en} (masked)")
        derived = {
            f"{column.name}_key": bilingual(f"{column.header}的密钥散列", f"keyed hash of the clear {en}"),
            f"{column.name}_kind": bilingual(
                f"{column.header}的证件种类", "kind of ID: resident_id | uscc | other"
            ),
            f"{column.name}_valid": bilingual(f"{column.header}校验位正确", f"the {en}'s check digit holds"),
            f"{column.name}_keys": bilingual(
                f"{column.header}中每人的密钥散列", f"keyed hash of each name in {en}"
            ),
        }
        for name, _type in extra_columns(column):
            docs[name] = derived[name]
    return {**docs, **LINEAGE_DOCS}


def raw_table_doc(ledger: Ledger) -> RelationDoc:
    """Return the comments of `raw.<ledger>`: every row of every loaded version, append-only."""
    comment = bilingual(
        f"{ledger.name_zh}原始行（每个载入文件版本的每一行，只增不改；现行版本见 stg_{ledger.code}）",
        f"raw rows of the {ledger.code} ledger: every row of every loaded file version, "
        f"append-only (current versions: stg_{ledger.code})",
    )
    return RelationDoc("raw", ledger.code, comment, ledger_column_docs(ledger))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def catalog_comments(con) -> tuple[dict[tuple[str, str], tuple[str, str | None]], dict[tuple[str, str, str], str | None]]:
    """Return what the catalog holds now: relations (schema, name) → (kind, comment), and
    columns (schema, relation, column) → comment, in the connection's current database."""
    relations = {
        (schema, name): (kind, comment)
        for schema, name, kind, comment in con.execute(
            """
            SELECT schema_name, table_name, 'TABLE', comment FROM duckdb_tables()
            WHERE database_name = current_database() AND NOT temporary
            UNION ALL
            SELECT schema_name, view_name, 'VIEW', comment FROM duckdb_views()
            WHERE database_name = current_database() AND NOT internal AND NOT temporary
            """
        ).fetchall()
    }
    columns = {
        (schema, table, column): comment
        for schema, table, column, comment in con.execute(
            """
            SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()
            WHERE database_name = current_database() AND NOT internal
            """
        ).fetchall()
    }
    return relations, columns


def apply(con, docs: Iterable[RelationDoc]) -> int:
    """Write the comments of `docs` whose relation exists and whose comment differs; return how
    many statements that took. A relation or column that does not exist is left alone."""
    relations, columns = catalog_comments(con)
    statements: list[str] = []
    for doc in docs:
        found = relations.get((doc.schema, doc.name))
        if found is None:
            continue
        kind, comment = found
        if comment != doc.comment:
            statements.append(f"COMMENT ON {kind} {doc.qualified} IS {_literal(doc.comment)}")
        for column, text in doc.columns.items():
            key = (doc.schema, doc.name, column)
            if key in columns and columns[key] != text:
                statements.append(
                    f"COMMENT ON COLUMN {doc.qualified}.{quote(column)} IS {_literal(text)}"
                )
    for statement in statements:
        con.execute(statement)
    return len(statements)
