"""The cells of ``call_intervals`` in the database: contributions added, cells recomputed from
their records, and the retention cutoff that both the record store and retention lock first.

Everything here runs inside the caller's transaction (a Session in ``session.begin()``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.orm import stored_utc
from metrics.records.intervals import (
    INTERVAL_MINUTES,
    MAXIMA,
    MIXED,
    CellCounts,
    CellKey,
    ServiceLevel,
    roll_up,
)
from metrics.records.models import CallIntervalRow, CallRecordRow, CallRetentionRow

KEYS: Final = ("interval_start", "node", "topic", "queue")
RECORD_COLUMNS: Final = (
    CallRecordRow.started_at,
    CallRecordRow.node,
    CallRecordRow.topic,
    CallRecordRow.queue,
    CallRecordRow.outcome,
    CallRecordRow.queue_entered_at,
    CallRecordRow.wait_seconds,
    CallRecordRow.talk_seconds,
    CallRecordRow.wrapup_seconds,
    CallRecordRow.after_hours,
    CallRecordRow.overflowed,
    CallRecordRow.escalated,
)
_CELLS = CallIntervalRow.__table__
_COLUMNS: Final = tuple(c.name for c in CallIntervalRow.__table__.columns)


class MigrationMissing(RuntimeError):
    """call_retention has no row: the database is older than migration 0006."""


def lock_cutoff(session: Session) -> datetime | None:
    """Lock the retention row until the transaction ends and return its cutoff. An UPDATE, so
    SQLite takes its write lock here, before anything is read; PostgreSQL locks the row."""
    r = CallRetentionRow
    statement = update(r).where(r.id == 1).values(cutoff=r.cutoff).returning(r.cutoff)
    row = session.execute(statement).one_or_none()
    if row is None:
        raise MigrationMissing("call_retention has no row; run the migrations")
    return stored_utc(row[0])


def advance_cutoff(session: Session, cutoff: datetime) -> datetime:
    """Move the cutoff to ``cutoff`` unless it is already later (it never moves back: records
    before it are gone, so their quarter-hours must stay closed). Returns the cutoff now."""
    current = lock_cutoff(session)
    if current is not None and current >= cutoff:
        return current
    session.execute(update(CallRetentionRow).where(CallRetentionRow.id == 1).values(cutoff=cutoff))
    return cutoff


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _values(cells: Mapping[CellKey, CellCounts]) -> list[dict[str, Any]]:
    return [
        {
            "interval_start": k.interval_start,
            "node": k.node,
            "topic": k.topic,
            "queue": k.queue,
            **c.columns(),
        }
        for k, c in cells.items()
    ]


def add_cells(session: Session, cells: Mapping[CellKey, CellCounts]) -> None:
    """One upsert: a new cell is inserted, an existing one gets the counts added, the larger
    maxima and the threshold of both (``merged_threshold``)."""
    if not cells:
        return
    statement = _insert(session)(CallIntervalRow).values(_values(cells))
    new = statement.excluded
    postgres = session.get_bind().dialect.name == "postgresql"
    changed: dict[str, Any] = {
        name: _cell(name) + new[name] for name in _COLUMNS if name not in (*KEYS, *MAXIMA, "sl_seconds")
    }
    for name in MAXIMA:
        changed[name] = _larger(_cell(name), new[name], postgres)
    changed["sl_seconds"] = case(
        (new.sl_seconds.is_(None), _cell("sl_seconds")),
        (_cell("sl_seconds").is_(None), new.sl_seconds),
        (_cell("sl_seconds") == new.sl_seconds, _cell("sl_seconds")),
        else_=MIXED,
    )
    session.execute(statement.on_conflict_do_update(index_elements=list(KEYS), set_=changed))


def _cell(name: str) -> Any:
    return _CELLS.c[name]


def _larger(a: Any, b: Any, postgres: bool) -> ColumnElement[Any]:
    """The larger of two nullable values (GREATEST skips NULLs; SQLite's max() does not)."""
    if postgres:
        return func.greatest(a, b)
    return func.coalesce(func.max(a, b), a, b)


def replace_cells(session: Session, keys: Iterable[CellKey], service_level: ServiceLevel) -> None:
    """Recompute cells from their records (every record of each cell must still be kept: the
    store only does this for quarter-hours after the retention cutoff); an empty cell goes."""
    cells: dict[CellKey, CellCounts] = {}
    empty: list[CellKey] = []
    for key in keys:
        rows = session.execute(select(*RECORD_COLUMNS).where(*_records_of(key))).all()
        counts = roll_up(rows, service_level).get(key)
        if counts is None:
            empty.append(key)
        else:
            cells[key] = counts
    for key in empty:
        session.execute(delete(CallIntervalRow).where(*_cell_is(key)))
    if cells:
        statement = _insert(session)(CallIntervalRow).values(_values(cells))
        every = {name: statement.excluded[name] for name in _COLUMNS if name not in KEYS}
        session.execute(statement.on_conflict_do_update(index_elements=list(KEYS), set_=every))


def _records_of(key: CellKey) -> list[ColumnElement[bool]]:
    c = CallRecordRow
    end = key.interval_start + timedelta(minutes=INTERVAL_MINUTES)
    return [
        c.started_at >= key.interval_start,
        c.started_at < end,
        c.node == key.node,
        func.coalesce(c.topic, "") == key.topic,
        func.coalesce(c.queue, "") == key.queue,
    ]


def _cell_is(key: CellKey) -> list[ColumnElement[bool]]:
    return [
        and_(
            CallIntervalRow.interval_start == key.interval_start,
            CallIntervalRow.node == key.node,
            CallIntervalRow.topic == key.topic,
            CallIntervalRow.queue == key.queue,
        )
    ]
