"""Errors that carry a reason a bureau clerk can act on."""

from __future__ import annotations

import re

# What a reason must never carry: control characters (a NUL breaks tables and terminals),
# the replacement character U+FFFD of undecodable text, and zero-width characters.
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\u200b-\u200d\u2060\ufeff]+")
_BREAKS = re.compile(r"[\t\r\n]+")


def readable(text: str) -> str:
    """Reason text without control, replacement or zero-width characters (breaks become spaces)."""
    return _UNREADABLE.sub("", _BREAKS.sub(" ", text))


class TallyError(Exception):
    """A failure of tally itself or of its settings, shown to the user as it is."""


class Rejected(Exception):
    """A whole file (or sheet) cannot be loaded; `reason` says why, in Chinese."""

    def __init__(self, reason: str, *, rule: str) -> None:
        reason = readable(reason)
        super().__init__(reason)
        self.reason = reason
        self.rule = rule

    def __reduce__(self):
        # Rejections come back pickled from the reader processes; `rule` is keyword-only.
        return _rebuild, (type(self), self.reason, self.rule, getattr(self, "cause", None))


class ReadFailed(Rejected):
    """A file could not be read for a cause that is not its content; the next run reads it again.

    `cause` is recorded in `file_versions.failure`: unreadable, changed, timeout or unexpected.
    """

    def __init__(self, reason: str, *, rule: str, cause: str) -> None:
        super().__init__(reason, rule=rule)
        self.cause = cause


def _rebuild(cls, reason: str, rule: str, cause: str | None) -> Rejected:
    if issubclass(cls, ReadFailed):
        return cls(reason, rule=rule, cause=cause or "unexpected")
    return cls(reason, rule=rule)


class AccountingError(TallyError):
    """Rows read ≠ rows loaded + rows quarantined: the run must not publish."""
