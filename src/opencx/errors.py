"""Domain errors that the API turns into clear 4xx answers."""

from __future__ import annotations


class NotFound(Exception):
    """An id that does not exist in this organization (404; never says whether it exists elsewhere)."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what = what
        self.ident = ident


class InvalidInput(Exception):
    """Input that parses but breaks a rule (422), naming the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Conflict(Exception):
    """A request that clashes with the current state (409)."""
