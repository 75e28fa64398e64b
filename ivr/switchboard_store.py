"""Where switchboarding's redirects are kept (table ``switchboard``, migration 0012): every
redirect ever made, with who started it, from which queue to which queue or partner line, when it
started and was planned to end, and when and by whom it really ended. Blocking calls: the
switchboard (ivr/switchboard.py) runs them off the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from core.orm import stored_utc
from ivr.models import SwitchboardRow

State = Literal["active", "ended", "expired"]


@dataclass(frozen=True)
class Redirect:
    """One redirect of a queue's new callers: to ``target_queue`` or to the partner line
    ``target_referral`` (exactly one), from ``started_at`` until ``planned_end``, or until
    ``ended_at`` when someone (``ended_by``) ended it early. Ended without ``ended_by``: it
    expired at its planned end."""

    id: int
    queue: str
    target_queue: str | None
    target_referral: str | None
    started_by: str
    started_at: datetime
    planned_end: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None

    @property
    def target(self) -> str:
        return self.target_queue or self.target_referral or ""

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.planned_end

    def state(self, now: datetime) -> State:
        """``active``, ``ended`` (early, by someone) or ``expired`` (at its planned end)."""
        if self.active(now):
            return "active"
        return "ended" if self.ended_by is not None else "expired"


def _of(row: SwitchboardRow) -> Redirect:
    return Redirect(
        id=row.id,
        queue=row.queue,
        target_queue=row.target_queue,
        target_referral=row.target_referral,
        started_by=row.started_by,
        started_at=stored_utc(row.started_at),
        planned_end=stored_utc(row.planned_end),
        ended_at=stored_utc(row.ended_at),
        ended_by=row.ended_by,
    )


class SwitchboardStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(
        self,
        queue: str,
        target_queue: str | None,
        target_referral: str | None,
        by: str,
        started_at: datetime,
        planned_end: datetime,
    ) -> Redirect:
        row = SwitchboardRow(
            queue=queue,
            target_queue=target_queue,
            target_referral=target_referral,
            started_by=by,
            started_at=started_at,
            planned_end=planned_end,
        )
        with Session(self._engine) as session, session.begin():
            session.add(row)
            session.flush()
            return _of(row)

    def get(self, redirect_id: int) -> Redirect | None:
        with Session(self._engine) as session:
            row = session.get(SwitchboardRow, redirect_id)
            return _of(row) if row is not None else None

    def end(self, redirect_id: int, at: datetime, by: str | None) -> Redirect | None:
        """Ends a redirect still open (``by`` None: it expired at ``at``); None if it was not."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(SwitchboardRow)
                .where(SwitchboardRow.id == redirect_id, SwitchboardRow.ended_at.is_(None))
                .values(ended_at=at, ended_by=by)
            )
            if not done.rowcount:
                return None
        return self.get(redirect_id)

    def open(self) -> list[Redirect]:
        """Redirects not ended yet (some may be past their planned end), oldest first."""
        query = select(SwitchboardRow).where(SwitchboardRow.ended_at.is_(None)).order_by(SwitchboardRow.id)
        with Session(self._engine) as session:
            return [_of(r) for r in session.scalars(query)]

    def expire(self, now: datetime) -> list[Redirect]:
        """Redirects past their planned end and not ended: ended at their planned end."""
        ended = []
        for redirect in self.open():
            if redirect.planned_end <= now and (done := self.end(redirect.id, redirect.planned_end, None)):
                ended.append(done)
        return ended

    def recent(self, limit: int = 50) -> list[Redirect]:
        """The newest redirects, newest first, whatever their state."""
        query = select(SwitchboardRow).order_by(SwitchboardRow.id.desc()).limit(limit)
        with Session(self._engine) as session:
            return [_of(r) for r in session.scalars(query)]
