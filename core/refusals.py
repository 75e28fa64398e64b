"""Refusals logged so that a flood of them never floods the log: the first of a kind at once,
then at most one line per interval with the count. Every refusal is counted (``total``) for
/metrics. Used by the FastAGI server (peers, secrets) and the HTTP front door."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

REFUSED_LOG_INTERVAL = 60.0


class RefusalLog:
    """``what`` says why (never a value the peer sent); ``server`` names the port's side."""

    def __init__(
        self,
        what: str,
        *,
        server: str = "FastAGI",
        logger: logging.Logger | None = None,
        interval: float = REFUSED_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._what = what
        self._server = server
        self._log = logger or logging.getLogger("hotline.agi")
        self._interval = interval
        self._clock = clock
        self._since: float | None = None
        self._pending = 0
        self.total = 0

    def refused(self, peer: str) -> None:
        self.total += 1
        now = self._clock()
        if self._since is None:
            self._since = now
            self._log.warning("%s connection from %s refused: %s", self._server, peer, self._what)
            return
        self._pending += 1
        if now - self._since >= self._interval:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self._pending:
            self._log.warning(
                "%s: %d more connections refused in %.0f s: %s",
                self._server,
                self._pending,
                self._interval,
                self._what,
            )
        self._pending = 0
        self._since = self._clock() if now is None else now
