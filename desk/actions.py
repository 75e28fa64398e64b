"""The log of call control: every transfer, conference, emergency and leave, who asked for it
and when (desk/control.py writes it; a database write, run in a worker thread)."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.orm import stored_utc
from desk.control import DeskAction
from desk.models import DeskActionRow


class DeskLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, done: DeskAction) -> None:
        target = done.target
        row = DeskActionRow(
            at=done.at,
            action=done.action.value,
            operator=done.operator,
            by=done.by,
            node=done.call.node,
            call_id=done.call.call_id,
            queue=done.queue,
            topic=done.topic,
            target_kind=None if target is None else target.kind,
            target=None if target is None else target.id,
        )
        with Session(self._engine) as session, session.begin():
            session.add(row)

    def recent(self, limit: int = 100) -> list[dict[str, object]]:
        query = select(DeskActionRow).order_by(DeskActionRow.at.desc(), DeskActionRow.id.desc()).limit(limit)
        with Session(self._engine) as session:
            return [
                {
                    "at": stored_utc(row.at),
                    "action": row.action,
                    "operator": row.operator,
                    "by": row.by,
                    "call_id": row.call_id,
                    "queue": row.queue,
                    "topic": row.topic,
                    "target_kind": row.target_kind,
                    "target": row.target,
                }
                for row in session.scalars(query)
            ]
