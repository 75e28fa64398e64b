"""What the IVR reports about each call, for whoever keeps records (metrics/records.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ivr.engine import Route


@dataclass(frozen=True)
class CallRef:
    """One call on one Asterisk node (``call_id`` is Asterisk's Linkedid)."""

    node: str
    call_id: str


class IvrObserver(Protocol):
    def ivr_started(
        self, call: CallRef, at: datetime, language: str, menu_version: str, repeat_count: int | None = None
    ) -> None: ...

    def ivr_routed(self, call: CallRef, at: datetime, route: Route) -> None: ...

    def ivr_hangup(self, call: CallRef, at: datetime, path: str) -> None: ...

    def ivr_failed(self, call: CallRef, at: datetime, path: str) -> None: ...
