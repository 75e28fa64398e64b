"""What a shift lead does from the wallboard (issue 17, item 4): pause, resume or log out an
operator, move one into or out of a queue for the rest of the shift, acknowledge an alert.

Each goes through the same code as the operators' own API (agents/presence.py): the effect in
Asterisk is the same (QueuePause with the reason, QueueRemove from every queue, QueueAdd), a
pause is recorded in the pause log as started by a shift lead, a logout ends the burnout
guard's shift. Every action, done or refused, is recorded with who, what, whom, when and the
result (``ok`` or the error_id) in ``wallboard_actions``, written in a worker thread; a database
that cannot take the line is logged (the action itself stands).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agents.presence import PauseReason, PauseSource, Presence
from agents.state import OperatorBoard
from core.errors import DomainError
from core.orm import stored_utc
from wallboard.models import WallboardActionRow
from wallboard.service import Wallboard

log = logging.getLogger("hotline.wallboard")


def _now() -> datetime:
    return datetime.now(UTC)


class ActionLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(
        self, at: datetime, by: str, action: str, operator: str | None, target: str | None, result: str
    ) -> None:
        row = WallboardActionRow(
            at=at,
            by=by[:80],
            action=action[:24],
            operator=operator,
            target=(target or None) and target[:80],
            result=result[:40],
        )
        with Session(self._engine) as session, session.begin():
            session.add(row)

    def recent(self, limit: int = 100, operator: str | None = None) -> list[dict[str, Any]]:
        query = select(WallboardActionRow).order_by(WallboardActionRow.id.desc()).limit(limit)
        if operator is not None:
            query = query.where(WallboardActionRow.operator == operator)
        with Session(self._engine) as session:
            return [
                {
                    "at": stored_utc(r.at),
                    "by": r.by,
                    "action": r.action,
                    "operator": r.operator,
                    "target": r.target,
                    "result": r.result,
                }
                for r in session.scalars(query)
            ]


class WallboardActions:
    """``forget(operator)``: the burnout guard's shift ends (a logout)."""

    def __init__(
        self,
        presence: Presence,
        board: OperatorBoard,
        wallboard: Wallboard,
        actions: ActionLog,
        forget: Callable[[str], None],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._presence = presence
        self._board = board
        self._wallboard = wallboard
        self.log = actions
        self._forget = forget
        self._clock = clock

    async def record(
        self, by: str, action: str, operator: str | None, target: str | None, result: str
    ) -> None:
        """One line of the record; the database away costs the line, never the action."""
        try:
            await asyncio.to_thread(self.log.add, self._clock(), by, action, operator, target, result)
        except Exception as exc:
            log.warning("wallboard action %s by %s not recorded: %s", action, by[:40], type(exc).__name__)

    async def _done(
        self, by: str, action: str, operator: str | None, target: str | None, act: Awaitable[Any]
    ) -> None:
        try:
            await act
        except DomainError as exc:
            await self.record(by, action, operator, target, exc.error_id)
            raise
        await self.record(by, action, operator, target, "ok")
        self._wallboard.changed()

    async def pause(self, by: str, operator: str, reason: PauseReason) -> None:
        act = self._presence.pause(operator, reason, PauseSource.SHIFT_LEAD)
        await self._done(by, "pause", operator, reason.value, act)

    async def resume(self, by: str, operator: str) -> None:
        await self._done(by, "resume", operator, None, self._presence.resume(operator))

    async def logout(self, by: str, operator: str) -> None:
        async def out() -> None:
            await self._presence.logout(operator)
            self._forget(operator)

        await self._done(by, "logout", operator, None, out())

    async def move(self, by: str, operator: str, queue: str, into: bool) -> None:
        members = self._board.memberships(operator)
        member_of = {m.queue for m in members}
        paused = next((m.paused_reason or "supervision" for m in members if m.paused), "")
        act = self._presence.move(operator, queue, into, member_of, paused)
        await self._done(by, "queue_add" if into else "queue_remove", operator, queue, act)

    async def acknowledge(self, by: str, alert: str) -> dict[str, Any]:
        try:
            made = self._wallboard.acknowledge(alert, by)
        except DomainError as exc:
            await self.record(by, "acknowledge", None, alert, exc.error_id)
            raise
        await self.record(by, "acknowledge", None, alert, "ok")
        return {"alert": alert, "by": made.by, "at": made.at.isoformat()}
