"""What the shift lead's tools add to the wallboard (hotline/lead.py wires them): the crisis
queues (their waits rank first, wallboard/alerts.py), the open debrief requests
(agents/debriefs.py), the lead's queue moves of each operator this shift (agents/presence.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _none() -> list[dict[str, Any]]:
    return []


def _no_moves(_operator: str) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class LeadSources:
    crisis_queues: Callable[[], set[str]] = set
    debriefs: Callable[[], list[dict[str, Any]]] = _none
    moves: Callable[[str], dict[str, str]] = _no_moves
