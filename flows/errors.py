"""Errors that carry a reason a bureau clerk can act on."""

from __future__ import annotations


class TallyError(Exception):
    """A failure of tally itself or of its settings, shown to the user as it is."""


class Rejected(Exception):
    """A whole file (or sheet) cannot be loaded; `reason` says why, in Chinese."""

    def __init__(self, reason: str, *, rule: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule


class AccountingError(TallyError):
    """Rows read ≠ rows loaded + rows quarantined: the run must not publish."""
