"""Which service instance leads: a PostgreSQL session advisory lock (issue 22).

Several service instances may share one PostgreSQL database; work that must run once for the
whole line (retention, the burnout guard's pauses: see hotline/leader.py) runs only in the
instance that holds the lock. The lock lives as long as the database session that took it, so:

- Each instance keeps one connection of its own (outside the engine's pool) and asks
  ``pg_try_advisory_lock`` on it every ``every`` seconds until it gets the lock.
- The leader checks that connection on the same beat; when the check fails or does not answer
  within ``timeout`` seconds (the database restarted, the session was terminated, the network
  is cut), it steps down at once and starts asking again on a new connection.
- A leader that dies (``kill -9``, a crash, a lost host) loses its session, so PostgreSQL frees
  the lock as soon as it sees the connection gone; another instance takes it on its next ask.

Between a session's end and its leader's next check (at most ``every + timeout`` seconds) two
instances may both believe they lead: every singleton tolerates running twice for that long
(each is idempotent or re-checks the database). With SQLite there is one instance per
database file, and it always leads.

All database calls run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from typing import Final

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger("hotline")
LEAD_EVERY_SECONDS: Final = 2.0
LEAD_TIMEOUT_SECONDS: Final = 5.0
# The server notices a leader's host gone within about 20 s (its keepalives on this session),
# not after the system's two hours: the lock is then free for another instance.
_ARGS: Final = {
    "connect_timeout": 5,
    "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=3 -c tcp_keepalives_count=3",
}


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership:
    """Whether this instance leads; ``listeners`` hear each change (True: now leading)."""

    def __init__(
        self,
        engine: Engine,
        name: str = "hotline-leader",
        every: float = LEAD_EVERY_SECONDS,
        timeout: float = LEAD_TIMEOUT_SECONDS,
    ) -> None:
        self._alone = engine.dialect.name != "postgresql"
        # Its own engine without a pool: closing the connection ends the session (and the lock).
        own = None if self._alone else create_engine(engine.url, poolclass=NullPool, connect_args=_ARGS)
        self._engine = own
        self._key = lock_key(name)
        self._every = every
        self._timeout = timeout
        self._connection: Connection | None = None
        self.leading = False
        self.listeners: list[Callable[[bool], None]] = []
        self.changes = 0  # times leadership was taken or lost (for /metrics and tests)

    async def run(self) -> None:
        """Try for the lock, hold it, step down when its session is lost; until cancelled."""
        try:
            while True:
                await self.round()
                await asyncio.sleep(self._every)
        finally:
            self._set(False)
            await asyncio.to_thread(self._close)

    async def round(self) -> bool:
        """One ask (or check, when leading); returns whether this instance leads now."""
        if self._alone:
            self._set(True)
            return True
        try:
            held = await asyncio.wait_for(asyncio.to_thread(self._ask), self._timeout)
        except TimeoutError:
            held = False
            if self.leading:
                log.warning("leadership lost: the database did not answer within %g s", self._timeout)
            self._abandon()
        except Exception as exc:
            held = False
            if self.leading:
                log.warning("leadership lost: %s", type(exc).__name__)
            self._abandon()
        self._set(held)
        return held

    def _ask(self) -> bool:
        """Blocking: the lock held (checked) or taken now, on this instance's own session."""
        assert self._engine is not None
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if self.leading:
            self._connection.execute(text("SELECT 1"))
            return True
        taken = self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
        return bool(taken.scalar())

    def _abandon(self) -> None:
        """The session is lost or hangs: forget it (closed in a thread, which may block)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            asyncio.get_running_loop().run_in_executor(None, _close_quietly, connection)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            _close_quietly(connection)
        if self._engine is not None:
            self._engine.dispose()

    def _set(self, leading: bool) -> None:
        if leading == self.leading:
            return
        self.leading = leading
        self.changes += 1
        log.info("leadership %s", "taken: this instance runs the singletons" if leading else "given up")
        for listener in self.listeners:
            try:
                listener(leading)
            except Exception as exc:
                log.error("leadership listener failed: %s", type(exc).__name__)


def _close_quietly(connection: Connection) -> None:
    with contextlib.suppress(Exception):
        connection.invalidate()
    with contextlib.suppress(Exception):
        connection.close()
