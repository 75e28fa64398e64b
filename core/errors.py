"""The one base of every error a room raises for its callers to see.

A ``DomainError`` carries what the HTTP shell needs to answer with RFC 9457 problem details:
a stable ``error_id`` slug (clients and tests match on it, never on the text), the HTTP
``status``, a short ``title`` of the kind of problem, the message (``detail``), and
``details``: JSON-ready data that says where the problem is (a field, a node, a menu path).
Rooms subclass it; the shell (hotline/http.py) maps every subclass in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    error_id: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str | None] = None  # None: made from error_id ("ivr_not_found" -> "Ivr not found")
    headers: ClassVar[Mapping[str, str] | None] = None  # HTTP headers the answer carries

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.details = details

    @classmethod
    def kind(cls) -> str:
        """The problem type's title: the class's own, or its error_id in words."""
        return cls.title or cls.error_id.replace("_", " ").capitalize()


def where(field: str, problem: str) -> list[dict[str, str]]:
    """The ``details`` of a problem with one named field (the shape validation errors use)."""
    return [{"where": field, "problem": problem}]


def problems(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: the errors it may answer with, by status (the HTTP shell gives
    each the problem-details schema)."""
    by_status: dict[int, list[str]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error.error_id)
    return {status: {"description": "error_id: " + ", ".join(ids)} for status, ids in by_status.items()}
