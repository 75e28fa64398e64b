"""The record of supervision sessions (tables in supervision/models.py). Database calls: the
service runs every one of them in a worker thread, never on the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session as DbSession

from core.orm import stored_utc
from supervision.models import SupervisionModeRow, SupervisionRow
from supervision.session import Ending, Mode, ModeChange, Origin, Session, State


@dataclass(frozen=True)
class Filters:
    operator: str | None = None
    supervisor: str | None = None
    ended_only: bool = False
    since: datetime | None = None
    limit: int = 100


class SupervisionStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def started(self, session: Session) -> None:
        row = SupervisionRow(
            id=session.id,
            operator=session.operator,
            supervisor=session.supervisor,
            origin=session.origin.value,
            node=session.node,
            call_id=session.call_id,
            mode=session.mode.value,
            state=session.state.value,
            started_at=session.started_at,
        )
        with DbSession(self._engine) as db, db.begin():
            db.add(row)
            db.flush()  # the session's row before its modes' (PostgreSQL checks the key)
            db.add_all(_mode_row(session.id, change) for change in session.modes)

    def changed(self, session: Session, change: ModeChange | None = None) -> None:
        """The session's state, times and last mode; ``change``: a mode to add to its history."""
        with DbSession(self._engine) as db, db.begin():
            row = db.get(SupervisionRow, session.id)
            if row is None:
                return
            row.mode, row.state = session.mode.value, session.state.value
            row.answered_at, row.ended_at = session.answered_at, session.ended_at
            row.ended_how = None if session.ended_how is None else session.ended_how.value
            row.ended_by = session.ended_by
            if change is not None:
                db.add(_mode_row(session.id, change))

    def close_left_open(self, at: datetime) -> int:
        """Sessions a previous process left open end now, as ``restart``; how many."""
        query = (
            update(SupervisionRow)
            .where(SupervisionRow.state != State.ENDED.value)
            .values(state=State.ENDED.value, ended_at=at, ended_how=Ending.RESTART.value)
            .returning(SupervisionRow.id)
        )
        with DbSession(self._engine) as db, db.begin():
            return len(db.execute(query).all())

    def get(self, session_id: str) -> Session | None:
        with DbSession(self._engine) as db:
            row = db.get(SupervisionRow, session_id)
            return None if row is None else _session(row, self._modes(db, [row.id]).get(row.id, []))

    def find(self, filters: Filters) -> list[Session]:
        query = select(SupervisionRow).order_by(SupervisionRow.started_at.desc(), SupervisionRow.id)
        if filters.operator is not None:
            query = query.where(SupervisionRow.operator == filters.operator)
        if filters.supervisor is not None:
            query = query.where(SupervisionRow.supervisor == filters.supervisor)
        if filters.ended_only:
            query = query.where(SupervisionRow.state == State.ENDED.value)
        if filters.since is not None:
            query = query.where(SupervisionRow.started_at >= filters.since)
        with DbSession(self._engine) as db:
            rows = list(db.scalars(query.limit(filters.limit)))
            modes = self._modes(db, [row.id for row in rows])
            return [_session(row, modes.get(row.id, [])) for row in rows]

    @staticmethod
    def _modes(db: DbSession, ids: list[str]) -> dict[str, list[ModeChange]]:
        found: dict[str, list[ModeChange]] = {}
        if not ids:
            return found
        query = (
            select(SupervisionModeRow)
            .where(SupervisionModeRow.session_id.in_(ids))
            .order_by(SupervisionModeRow.at, SupervisionModeRow.id)
        )
        for row in db.scalars(query):
            change = ModeChange(Mode(row.mode), stored_utc(row.at), row.via, row.by)
            found.setdefault(row.session_id, []).append(change)
        return found


def _mode_row(session_id: str, change: ModeChange) -> SupervisionModeRow:
    return SupervisionModeRow(
        session_id=session_id, at=change.at, mode=change.mode.value, via=change.via, by=change.by
    )


def _session(row: SupervisionRow, modes: list[ModeChange]) -> Session:
    return Session(
        id=row.id,
        operator=row.operator,
        supervisor=row.supervisor,
        origin=Origin(row.origin),
        node=row.node,
        call_id=row.call_id,
        target="",
        started_at=stored_utc(row.started_at),
        modes=modes or [ModeChange(Mode(row.mode), stored_utc(row.started_at), "api", row.supervisor)],
        state=State(row.state),
        answered_at=stored_utc(row.answered_at),
        ended_at=stored_utc(row.ended_at),
        ended_how=None if row.ended_how is None else Ending(row.ended_how),
        ended_by=row.ended_by,
    )
