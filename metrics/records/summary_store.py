"""After-call summaries in the database (``call_summaries``, one per call record, deleted with
it), and the reads that count them: reports, exports and the wallboard see the enumerated
values only, never a summary's free text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.orm import stored_utc
from metrics.records.models import CallRecordRow, CallSummaryRow

# A field's value: one slug (choice, referral), several (choices, issues), yes or no (flag).
Value = str | bool | list[str]


@dataclass(frozen=True)
class Summary:
    record_id: str
    fields: dict[str, Value]  # enumerated values, by field id
    saved_by: str  # the operator's pseudonym ("admin" for the admin token)
    saved_at: datetime
    menu_version: int  # the IVR version whose form it follows
    texts: dict[str, str] = field(default_factory=dict)  # free text, by field id: never counted


@dataclass(frozen=True)
class Summarised:
    """A summary's enumerated values with what reports and exports group them by."""

    record_id: str
    started_at: datetime
    topic: str | None
    fields: dict[str, Value]


def words(value: Value) -> list[str]:
    """A field's value as the values reports and exports count: yes/no for a flag, each of a
    list."""
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    return [value] if isinstance(value, str) else list(value)


def _summary(row: CallSummaryRow) -> Summary:
    return Summary(row.record_id, dict(row.fields), row.saved_by, stored_utc(row.saved_at), row.menu_version,
                   dict(row.texts))  # fmt: skip


class SummaryStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(self, summary: Summary) -> None:
        """Insert, or replace the call's summary (saved again within its window)."""
        values: dict[str, Any] = {
            "record_id": summary.record_id,
            "fields": summary.fields,
            "texts": summary.texts,
            "saved_by": summary.saved_by,
            "saved_at": summary.saved_at,
            "menu_version": summary.menu_version,
        }
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(CallSummaryRow).values(values)
        changed = {name: statement.excluded[name] for name in values if name != "record_id"}
        with Session(self._engine) as session, session.begin():
            session.execute(statement.on_conflict_do_update(index_elements=["record_id"], set_=changed))

    def get(self, record_id: str) -> Summary | None:
        with Session(self._engine) as session:
            row = session.get(CallSummaryRow, record_id)
            return None if row is None else _summary(row)

    def of(self, record_ids: Sequence[str]) -> dict[str, Summary]:
        """The summaries of these records (those that have one)."""
        if not record_ids:
            return {}
        query = select(CallSummaryRow).where(CallSummaryRow.record_id.in_(list(record_ids)))
        with Session(self._engine) as session:
            return {row.record_id: _summary(row) for row in session.scalars(query)}

    def enumerated(
        self, start: datetime, end: datetime, topics: Iterable[str] = (), queues: Iterable[str] = ()
    ) -> Iterator[Summarised]:
        """The enumerated values of the summaries of calls that started in [start, end), of
        these topics and queues (none given: all); never their texts."""
        r, s = CallRecordRow, CallSummaryRow
        query = (
            select(r.id, r.started_at, r.topic, s.fields)
            .join(s, s.record_id == r.id)
            .where(r.started_at >= start, r.started_at < end)
        )
        if topics := list(topics):
            query = query.where(r.topic.in_(topics))
        if queues := list(queues):
            query = query.where(r.queue.in_(queues))
        with Session(self._engine) as session:
            for row in session.execute(query.execution_options(yield_per=2000)):
                yield Summarised(row.id, stored_utc(row.started_at), row.topic, dict(row.fields))

    def taken_since(self, since: datetime) -> list[tuple[str, datetime, bool]]:
        """Calls an operator took that started at ``since`` or later: (record id, start,
        whether it has a summary). What the wallboard preloads."""
        r, s = CallRecordRow, CallSummaryRow
        query = (
            select(r.id, r.started_at, s.record_id)
            .outerjoin(s, s.record_id == r.id)
            .where(r.started_at >= since, r.operator.is_not(None))
        )
        with Session(self._engine) as session:
            return [(row[0], stored_utc(row[1]), row[2] is not None) for row in session.execute(query)]
