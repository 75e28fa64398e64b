"""Every pause an operator takes is recorded: who started it (the operator, a shift lead, the
burnout guard), why, and when it ended. Shift leads read it back; so does the operator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from agents.models import PauseRow
from core.orm import stored_utc
from telephony.events import AmiEvent, QueueSnapshot

log = logging.getLogger("hotline.agents")


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


class PauseKeeper:
    """Asterisk 22 forgets pauses when it restarts (its members come back, unpaused). After each
    QueueStatus resync, pauses this log still holds open are applied again, so an operator on a
    break is not offered calls because Asterisk restarted. The log is the source of truth:
    every pause and its end go through :class:`agents.presence.Presence`."""

    def __init__(self, pauses: PauseLog, reapply: Callable[[str, str], Awaitable[None]]) -> None:
        self._pauses = pauses
        self._reapply = reapply
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueSnapshot):
            unpaused = {m.member for m in event.members if not m.paused}
            if unpaused:
                task = asyncio.get_running_loop().create_task(self._restore(unpaused))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _restore(self, unpaused: set[str]) -> None:
        try:
            open_now = await asyncio.to_thread(self._pauses.open_reasons)
        except SQLAlchemyError as exc:
            log.error("pauses could not be read back after a resync: %s", type(exc).__name__)
            return
        for operator in sorted(unpaused & open_now.keys()):
            try:
                await self._reapply(operator, open_now[operator])
                log.info("pause of %s applied again after an Asterisk resync", operator)
            except Exception as exc:  # one operator's failure never stops the others
                log.warning("pause of %s not applied again: %s", operator[:40], type(exc).__name__)
