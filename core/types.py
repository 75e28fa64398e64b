"""Shared vocabulary of every room: names that mean the same thing on both sides of an import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CallRef:
    """One call on one Asterisk node (``call_id`` is Asterisk's Linkedid)."""

    node: str
    call_id: str


# A FastAPI dependency that admits a request or raises (401/403); what it returns is the caller's
# identity. Rooms take guards from the composition root and never build them.
Guard = Callable[..., Awaitable[object]]
