"""What the IVR reports about each call, for whoever keeps records (metrics/records/assembler.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.types import CallRef
from ivr.engine import Route


class IvrObserver(Protocol):
    def ivr_started(
        self, call: CallRef, at: datetime, language: str, menu_version: str, repeat_count: int | None = None
    ) -> None: ...

    def ivr_routed(self, call: CallRef, at: datetime, route: Route) -> None: ...

    def ivr_hangup(self, call: CallRef, at: datetime, path: str) -> None: ...

    def ivr_failed(self, call: CallRef, at: datetime, path: str) -> None: ...
