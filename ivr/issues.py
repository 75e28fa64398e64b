"""A problem of the IVR document, with its place: what validation reports and the API answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def issue_details(issues: Iterable[Issue]) -> list[dict[str, str]]:
    """Problems as the ``details`` of an error answer."""
    return [{"where": i.where, "problem": i.problem, "message": str(i)} for i in issues]
