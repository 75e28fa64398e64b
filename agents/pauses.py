"""Every pause an operator takes is recorded: who started it (the operator, a shift lead, the
burnout guard), why, and when it ended. Shift leads read it back; so does the operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from agents.models import PauseRow


@dataclass(frozen=True)
class PauseEntry:
    operator: str
    reason: str
    source: str
    rule: str | None
    started_at: datetime
    ended_at: datetime | None


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


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
                    _utc(r.started_at) or r.started_at,
                    _utc(r.ended_at),
                )
                for r in session.scalars(query)
            ]
