"""The README's relation table, generated from the comments' own source: the models' headers and
the docs of the tables written from Python (`model_docs`), so that it cannot drift from them.

`python -m flows.transform.relation_table` prints it; `--check` exits 1 when the README's copy
(between `<!-- relations:begin -->` and `<!-- relations:end -->`) differs, `--write` rewrites it.
`tests/transform/test_warehouse_comments.py` checks that the README's copy is current.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from flows import resources
from flows.contract.ledgers import LEDGERS
from flows.load import ddl_docs
from flows.load.comments import bilingual
from flows.transform.model_docs import BUILDER_DOCS, CHECK_DOCS, fallback_comment, parse_header
from flows.transform.models import build_order, discover

README_BEGIN = "<!-- relations:begin -->"
README_END = "<!-- relations:end -->"


def relation_table(models: Iterable | None = None) -> str:
    """Return the README's table of relations: every relation the build creates, with its comment.

    Read from the same source as the comments (no warehouse needed): the models in build order,
    then the tables written from Python. The raw tables are one line.
    """
    models = build_order(discover()) if models is None else list(models)
    lines = ["| relation | what it holds |", "| --- | --- |"]
    for model in models:
        header = parse_header(model.sql)
        kind = "view" if model.materialization == "view" else "table"
        comment = header.comment or fallback_comment(model)
        lines.append(f"| `{model.name}` ({kind}) | {_cell(comment)} |")
    for doc in [*ddl_docs.LOADER_DOCS, *BUILDER_DOCS, CHECK_DOCS]:
        lines.append(f"| `{doc.name}` (table) | {_cell(doc.comment)} |")
    codes = ", ".join(f"`raw.{code}`" for code in LEDGERS)
    raw = bilingual("各台账原始行（每个载入版本的每一行，只增不改）",
                    "every row of every loaded file version, append-only, with _version_id, _sheet and _row")
    lines.append(f"| {codes} (tables) | {_cell(raw)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme_section(readme: str) -> str:
    """Return the README's generated relation table (between its markers)."""
    start = readme.index(README_BEGIN) + len(README_BEGIN)
    return readme[start:readme.index(README_END)].strip("\n") + "\n"


def main(argv: list[str]) -> int:
    """`python -m flows.transform.relation_table [--check | --write] [README]`."""
    readme = Path(next((a for a in argv if not a.startswith("--")), resources.CHECKOUT / "README.md"))
    table = relation_table()
    if "--check" in argv:
        if readme_section(readme.read_text(encoding="utf-8")) != table:
            print(f"{readme}: the relation table is not current; run "
                  f"`python -m flows.transform.relation_table --write`", file=sys.stderr)
            return 1
        return 0
    if "--write" in argv:
        text = readme.read_text(encoding="utf-8")
        start = text.index(README_BEGIN) + len(README_BEGIN)
        readme.write_text(text[:start] + "\n" + table + text[text.index(README_END):], encoding="utf-8")
        return 0
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
