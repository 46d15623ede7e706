"""Errors the library raises. Every one is a ``MatcherError`` with a planner-readable message."""

from __future__ import annotations


class MatcherError(Exception):
    """Base class: something the user can act on. The CLI prints it and exits 2."""

    exit_code = 2


class ValidationError(MatcherError):
    """Input data broke the schema. ``problems`` is a DataFrame with columns
    ``file, row, column, value, reason`` (rows counted as in Excel: header = row 1)."""

    def __init__(self, message: str, problems=None):
        super().__init__(message)
        self.problems = problems


class InfeasibleError(MatcherError):
    """A selection or schedule cannot satisfy its constraints; the message names which and who."""


class ConflictError(MatcherError):
    """Two planners changed the same item; the message shows both values."""


class AccessError(MatcherError):
    """A sign-in that failed, or a change the account may not make; the message says which."""


class StoreUnavailableError(MatcherError):
    """The database cannot be reached or written; nothing was changed."""
