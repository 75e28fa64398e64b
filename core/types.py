"""Shared vocabulary of every room: names that mean the same thing on both sides of an import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass(frozen=True)
class CallRef:
    """One call on one Asterisk node (``call_id`` is Asterisk's Linkedid)."""

    node: str
    call_id: str


# A FastAPI dependency that admits a request or raises (401/403); what it returns is the caller's
# identity. Rooms take guards from the composition root and never build them.
Guard = Callable[..., Awaitable[object]]
# Asked again, while a request stays open (a stream), whether its token still admits it: False
# once it does not (revoked, reset, deactivated, another role). Built beside the guard it repeats.
StillAdmitted = Callable[["Request"], Awaitable[bool]]
