"""Every pause an operator takes is recorded: who started it (the operator, a shift lead, the
burnout guard), why, and when it ended. Shift leads read it back; so does the operator.

A pause takes effect in Asterisk whether or not the database answers: :class:`PauseWriter`
queues each change and writes them in order, retrying with backoff through an outage (logged
once, each failed try counted as ``pause-log`` on /metrics). A caller waits for its own write
for a moment only, so an answer is never held up by the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from agents.models import PauseRow
from core.orm import stored_utc
from core.tasks import Backoff, TaskSupervisor
from telephony.events import AmiEvent, QueueSnapshot

log = logging.getLogger("hotline.agents")
WAIT_FOR_WRITE: Final = 2.0  # seconds a pause or resume waits for its own log entry


@dataclass(frozen=True)
class PauseEntry:
    operator: str
    reason: str
    source: str
    rule: str | None
    started_at: datetime
    ended_at: datetime | None


class PauseLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def started(self, operator: str, reason: str, source: str, at: datetime, rule: str | None = None) -> None:
        """A new pause; an open one of the same operator ends here (a pause changing reason)."""
        with Session(self._engine) as session, session.begin():
            self._end_open(session, operator, at)
            session.add(PauseRow(operator=operator, reason=reason, source=source, rule=rule, started_at=at))

    def ended(self, operator: str, at: datetime) -> None:
        with Session(self._engine) as session, session.begin():
            self._end_open(session, operator, at)

    @staticmethod
    def _end_open(session: Session, operator: str, at: datetime) -> None:
        session.execute(
            update(PauseRow)
            .where(PauseRow.operator == operator, PauseRow.ended_at.is_(None))
            .values(ended_at=at)
        )

    def open_reasons(self) -> dict[str, str]:
        """Operator -> reason of every pause not ended yet."""
        query = select(PauseRow.operator, PauseRow.reason).where(PauseRow.ended_at.is_(None))
        with Session(self._engine) as session:
            return {operator: reason for operator, reason in session.execute(query)}

    def recent(self, operator: str | None = None, limit: int = 100) -> list[PauseEntry]:
        query = select(PauseRow).order_by(PauseRow.started_at.desc(), PauseRow.id.desc()).limit(limit)
        if operator is not None:
            query = query.where(PauseRow.operator == operator)
        with Session(self._engine) as session:
            return [
                PauseEntry(
                    r.operator,
                    r.reason,
                    r.source,
                    r.rule,
                    stored_utc(r.started_at),
                    stored_utc(r.ended_at),
                )
                for r in session.scalars(query)
            ]


def transient(exc: BaseException) -> bool:
    """A database that is away or busy (stopped, unreachable, locked): worth another try.
    Anything else (a constraint, a bug) would fail the same way again."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError)


@dataclass(eq=False)
class _Change:
    operator: str
    at: datetime
    reason: str | None = None  # None: the open pause ends
    source: str = ""
    rule: str | None = None
    written: asyncio.Event = field(default_factory=asyncio.Event)


class PauseWriter:
    """Pauses and their ends, written to the :class:`PauseLog` in order by one supervised task."""

    def __init__(
        self,
        pauses: PauseLog,
        tasks: TaskSupervisor | None = None,
        wait: float = WAIT_FOR_WRITE,
        backoff: Backoff | None = None,
    ) -> None:
        self.log = pauses
        self._tasks = tasks or TaskSupervisor()
        self._wait = wait
        self._backoff = backoff or Backoff(0.5, 30.0)
        self._queue: deque[_Change] = deque()
        self._wake = asyncio.Event()
        self._outage = self._tasks.outage("pause-log", "writing the pause log", log)
        self._writer: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def started(
        self, operator: str, reason: str, source: str, at: datetime, rule: str | None = None
    ) -> None:
        await self._record(_Change(operator, at, reason, source, rule))

    async def ended(self, operator: str, at: datetime) -> None:
        await self._record(_Change(operator, at))

    async def open_reasons(self) -> dict[str, str]:
        """The log's open pauses with the changes still waiting applied over them (raises
        while the database is away)."""
        waiting = list(self._queue)
        found = await asyncio.to_thread(self.log.open_reasons)
        for change in waiting:
            if change.reason is None:
                found.pop(change.operator, None)
            else:
                found[change.operator] = change.reason
        return found

    async def _record(self, change: _Change) -> None:
        self._queue.append(change)
        if self._writer is None or self._writer.done():
            self._writer = self._tasks.supervise("pause-log", self._drain)
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(change.written.wait(), self._wait)

    async def _drain(self) -> None:
        try:
            while True:
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if await self._write(self._queue[0]):
                    self._queue.popleft().written.set()
                else:
                    await asyncio.sleep(self._backoff.next())
        finally:
            if self._queue:
                log.warning("%d pause changes not written to the log (database away)", len(self._queue))

    async def _write(self, change: _Change) -> bool:
        """True when the change is done with: written, or refused for good (logged)."""
        try:
            if change.reason is None:
                await asyncio.to_thread(self.log.ended, change.operator, change.at)
            else:
                args = (change.operator, change.reason, change.source, change.at, change.rule)
                await asyncio.to_thread(self.log.started, *args)
        except Exception as exc:
            if transient(exc):
                self._outage.failed(exc)
                return False
            self._tasks.count_failure("pause-log")
            log.error("pause of %s not logged: %s refused it", change.operator[:40], type(exc).__name__)
            return True
        self._outage.ok()
        self._backoff.reset()
        return True


class PauseKeeper:
    """Asterisk 22 forgets pauses when it restarts (its members come back, unpaused). After each
    QueueStatus resync, pauses this log still holds open are applied again, so an operator on a
    break is not offered calls because Asterisk restarted. The log is the source of truth:
    every pause and its end go through :class:`agents.presence.Presence`. With the database
    away, the log is read again with backoff until it answers or the node's next resync."""

    def __init__(
        self,
        pauses: PauseWriter,
        reapply: Callable[[str, str], Awaitable[None]],
        tasks: TaskSupervisor | None = None,
        backoff: Callable[[], Backoff] = lambda: Backoff(0.5, 30.0),
    ) -> None:
        self._pauses = pauses
        self._reapply = reapply
        self._tasks = tasks or TaskSupervisor()
        self._backoff = backoff
        self._outage = self._tasks.outage("pause-keeper", "reading the pause log after a resync", log)
        self._running: dict[str, asyncio.Task[None]] = {}  # node -> its latest resync's restore

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueSnapshot):
            unpaused = {m.member for m in event.members if not m.paused}
            if (earlier := self._running.pop(event.node, None)) is not None:
                earlier.cancel()  # a newer snapshot of the node supersedes it
            if unpaused:
                self._running[event.node] = self._tasks.spawn("pause-keeper", self._restore(unpaused))

    async def _read(self) -> dict[str, str]:
        backoff = self._backoff()
        while True:
            try:
                found = await self._pauses.open_reasons()
            except SQLAlchemyError as exc:
                self._outage.failed(exc)
                await asyncio.sleep(backoff.next())
                continue
            self._outage.ok()
            return found

    async def _restore(self, unpaused: set[str]) -> None:
        open_now = await self._read()
        for operator in sorted(unpaused & open_now.keys()):
            try:
                await self._reapply(operator, open_now[operator])
                log.info("pause of %s applied again after an Asterisk resync", operator)
            except Exception as exc:  # one operator's failure never stops the others
                log.warning("pause of %s not applied again: %s", operator[:40], type(exc).__name__)
