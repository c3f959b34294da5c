"""Which file version is current: the SQL of `sql/staging/current_versions.sql`, for Python.

The view `current_versions` is the one definition of "current", and every staging model reads
it. The view itself is created by the model build, after the load: the loader (deciding
inside its transaction whether a file replaces the loaded version of its slot, on a first
run before any view exists) and the build's ledger fingerprints (taken before the view is
created again) cannot read it yet. They read the same SQL from the same file instead, as a
subquery, so that the rule still lives in one place.
"""

from __future__ import annotations

import hashlib

from flows.resources import SQL_DIR

VIEW = "current_versions"
# The model file itself: sql/ sits beside flows/ in the checkout, as for the other SQL folders.
RULE_FILE = SQL_DIR / "staging" / f"{VIEW}.sql"


def rule_sql() -> str:
    """Return the view's SELECT as its model file writes it (read afresh: a served process sees edits)."""
    return RULE_FILE.read_text(encoding="utf-8").strip().rstrip(";")


def rule_digest() -> str:
    """Return a fingerprint of the rule, so that a build whose rule changed rebuilds what it reads."""
    return hashlib.sha256(rule_sql().encode()).hexdigest()


def current_relation() -> str:
    """Return the current versions as a relation to put after FROM or JOIN (aliased `current_versions`)."""
    return f"(\n{rule_sql()}\n) AS {VIEW}"
