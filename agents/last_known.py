"""Who each credential was when the database last said, for while it cannot say.

Revoking anything (deactivating or demoting a person, ending a session, revoking a token or a
kiosk) is a database write: while the database cannot be read nothing has been revoked, so a
credential admitted before is taken as it was then, for at most ``KEPT`` after it was last
checked and never past its own expiry. A credential never seen is not taken. Only a digest of
each credential is kept. Anything revoked in this process forgets every entry at once
(Authenticator.revoked).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from agents.passwords import digest

T = TypeVar("T")
KEPT = timedelta(hours=1)
SIZE = 4096


class LastKnown(Generic[T]):
    def __init__(self, size: int = SIZE, clock: Callable[[], datetime] | None = None) -> None:
        self._size = size
        self._now = clock or (lambda: datetime.now(UTC))
        self._known: OrderedDict[str, tuple[T, datetime]] = OrderedDict()
        self._lock = threading.Lock()  # the guards run in worker threads

    def remember(self, credential: str, value: T, expires_at: datetime | None = None) -> None:
        until = self._now() + KEPT
        if expires_at is not None:
            until = min(until, expires_at)
        with self._lock:
            self._known[digest(credential)] = (value, until)
            self._known.move_to_end(digest(credential))
            while len(self._known) > self._size:
                self._known.popitem(last=False)

    def recall(self, credential: str) -> T | None:
        with self._lock:
            known = self._known.get(digest(credential))
        if known is None or known[1] <= self._now():
            return None
        return known[0]

    def forget(self, credential: str) -> None:
        with self._lock:
            self._known.pop(digest(credential), None)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
