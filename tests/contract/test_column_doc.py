"""A ledger column's optional English `doc` words its warehouse comment and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

from flows.contract import spec
from flows.contract.spec import load_contract
from flows.load.comments import ledger_column_docs, raw_table_doc


def test_a_doc_words_the_comment_and_leaves_the_fingerprint_alone(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(spec.DEFAULT_DIR, tmp_path / "contract"))
    ledgers = folder / "ledgers.toml"
    text = ledgers.read_text(encoding="utf-8")
    ledgers.write_text(
        text.replace('name = "venue_type"\n', 'name = "venue_type"\ndoc = "kind of venue inspected"\n', 1),
        encoding="utf-8",
    )
    with_doc, without = load_contract(folder), load_contract()
    docs = ledger_column_docs(with_doc.ledgers["inspections"])
    assert docs["venue_type"] == "场所类型 · kind of venue inspected"
    # without a doc: the header and the column's name, in words
    assert ledger_column_docs(without.ledgers["inspections"])["venue_type"] == "场所类型 · venue type"
    # a comment changes nothing a file is read by: no file is read again for it
    assert with_doc.fingerprints == without.fingerprints


def test_derived_and_lineage_columns_name_the_template_column() -> None:
    cases = raw_table_doc(load_contract().ledgers["cases"])
    assert (cases.schema, cases.name) == ("raw", "cases")
    assert cases.columns["party_id_key"] == "证件号码的密钥散列 · keyed hash of the clear party id"
    assert cases.columns["_row"].startswith("行号")
    assert cases.comment.startswith(f"{load_contract().ledgers['cases'].name_zh}原始行")
