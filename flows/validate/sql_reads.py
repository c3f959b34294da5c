"""Which relations a SQL text reads: the model builder's fingerprints and the cross-checks' both
ask it (`flows.transform.models`, `flows.validate.cross_checks`), so it lives below both.

A relation read is the name after FROM or JOIN, unless schema-qualified (`raw.x`, read apart by
the builder) or a table function (`range(...)`), without the text's own CTE names; comments and
string literals are read as blanks.
"""

from __future__ import annotations

import re

COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_CTE = re.compile(
    r'(?:\bwith|,)\s+"?([A-Za-z_]\w*)"?\s+as\s*(?:not\s+)?(?:materialized\s*)?\(', re.I
)
_RELATION = re.compile(r'\b(?:from|join)\s+"?([A-Za-z_]\w*)\b"?(?!\s*\.)(?!\s*\()', re.I)


def references(sql: str) -> set[str]:
    """Return the relation names a SQL text reads, without its own CTE names."""
    code = _STRING.sub("''", COMMENT.sub(" ", sql))
    ctes = {m.group(1).lower() for m in _CTE.finditer(code)}
    return {m.group(1).lower() for m in _RELATION.finditer(code)} - ctes


_OTHER = re.compile(r'\b(?:from|join)\s+"?[A-Za-z_]\w*\b"?\s*[.(]', re.I)


def reads_beyond(sql: str) -> bool:
    """Say whether a SQL text also reads what `references` does not name: a schema-qualified
    relation (`raw.x`) or a table function (`read_csv(...)`)."""
    return _OTHER.search(_STRING.sub("''", COMMENT.sub(" ", sql))) is not None
