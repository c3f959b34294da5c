"""Checks across the rows of one sheet that the loader makes before any configured validation.

None are left here: a register's key seen twice in one file (templates §6) is a rule of the
expectation suites (`expectations/<ledger>.json`, rule `duplicate_key`), which
`flows.validation.validate_ledgers` runs by default, so that it is reported exactly once.
"""

from __future__ import annotations


def builtin_checks():
    """Return the row checks every run makes, before any configured validation (none)."""
    return ()
