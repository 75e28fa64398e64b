"""Call records and their interval cells in the database (the record writer,
metrics/records/writer.py, keeps the saving off the event loop)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.orm import stored_utc
from metrics.records.cells import RECORD_COLUMNS, add_cells, lock_cutoff, replace_cells
from metrics.records.facts import merge
from metrics.records.intervals import CellKey, ServiceLevel, cell_key, roll_up
from metrics.records.levels import ServiceLevels
from metrics.records.models import CallRecordRow
from metrics.records.record import CallRecord, Outcome

log = logging.getLogger("hotline.records")
_FIELDS = tuple(f.name for f in fields(CallRecord))
_STAMPS = ("started_at", "ivr_ended_at", "queue_entered_at", "answered_at", "ended_at")


def _values(record: CallRecord) -> dict[str, object]:
    values = {name: getattr(record, name) for name in _FIELDS}
    values["outcome"] = record.outcome.value
    return values


def _to_record(row: CallRecordRow) -> CallRecord:
    values = {name: getattr(row, name) for name in _FIELDS}
    for name in _STAMPS:
        values[name] = stored_utc(values[name])
    values["outcome"] = Outcome(values["outcome"])
    return CallRecord(**values)


class RecordStore:
    """Call records, and their 15-minute cells (metrics/records/intervals.py) kept in step with them: the
    transaction that saves records adds their contributions to ``call_intervals``.

    ``levels`` gives each queue's service-level threshold when a record is saved (the cell's
    ``answered_within_sl``); reports read the threshold ladder, which needs none.
    """

    def __init__(self, engine: Engine, levels: Callable[[], ServiceLevels] | None = None) -> None:
        self._engine = engine
        self._levels = levels or (lambda: ServiceLevels({}))

    def save(self, record: CallRecord) -> None:
        """Insert, or update the record of the same call (node, call_id): never two per call."""
        self.save_many([record])

    def save_many(self, records: Sequence[CallRecord]) -> None:
        """One transaction: one record per call, and the cells follow.

        A record saved again is folded into the stored one (metrics/records/facts.py
        :func:`merge`): the later version says how the call went, and what only the earlier
        knew stays (two service instances each save their version of every call they saw).

        A new record adds its contribution to its cell. A record saved again (same node and
        call id) replaces the stored one and, when its figures changed, the cells of both
        versions are recomputed from their records, so nothing is counted twice and maxima stay
        exact (a cell after retention's cutoff still has every record it counts). A record of
        a quarter-hour retention has retired (before the cutoff) is refused and logged by id:
        its call may already be counted there, and the record that counted it is gone. A
        call's records share their start; one saved again with a later start after its
        first record was deleted could not be recognised and would count twice.
        """
        latest = {(r.node, r.call_id): r for r in records}
        if not latest:
            return
        level = self._levels().threshold
        with Session(self._engine) as session, session.begin():
            cutoff = lock_cutoff(session)
            fresh = _after(cutoff, latest)
            if not fresh:
                return
            inserted = self._insert_new(session, fresh)
            again = {key: r for key, r in fresh.items() if key not in inserted}
            touched = self._replace(session, again, cutoff, level) if again else set()
            new = [r for key, r in fresh.items() if key in inserted]
            add_cells(session, {k: c for k, c in roll_up(new, level).items() if k not in touched})
            replace_cells(session, touched, level)

    def _insert_new(self, session: Session, records: dict[tuple[str, str], CallRecord]) -> set[Any]:
        statement = self._insert()(CallRecordRow).values([_values(r) for r in records.values()])
        returning = statement.on_conflict_do_nothing().returning(CallRecordRow.node, CallRecordRow.call_id)
        return {tuple(row) for row in session.execute(returning)}

    def _replace(
        self,
        session: Session,
        again: dict[tuple[str, str], CallRecord],
        cutoff: datetime | None,
        level: ServiceLevel,
    ) -> set[CellKey]:
        """Update records saved before; the cells of their old and new versions, unless the
        record's contribution did not change (a batch sent again after a lost commit)."""
        keys = tuple_(CallRecordRow.node, CallRecordRow.call_id).in_(list(again))
        old = session.execute(select(CallRecordRow.call_id, *RECORD_COLUMNS).where(keys)).all()
        for row in old:
            if cutoff is not None and stored_utc(row.started_at) < cutoff:
                _refuse(again.pop((row.node, row.call_id)), cutoff)
        if not again:
            return set()
        stored = session.scalars(select(CallRecordRow).where(keys)).all()
        for known in map(_to_record, stored):  # another instance's version: fold the two into one
            key = (known.node, known.call_id)
            if key in again:
                again[key] = merge(known, again[key])
        statement = self._insert()(CallRecordRow).values([_values(r) for r in again.values()])
        changed = {name: statement.excluded[name] for name in _FIELDS if name != "id"}
        session.execute(statement.on_conflict_do_update(index_elements=["node", "call_id"], set_=changed))
        touched: set[CellKey] = set()
        for row in old:
            record = again.get((row.node, row.call_id))
            if record is not None and roll_up([row], level) != roll_up([record], level):
                touched |= {cell_key(row), cell_key(record)}
        return touched

    def _insert(self) -> Any:
        return pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert

    def get(self, record_id: str) -> CallRecord | None:
        with Session(self._engine) as session:
            row = session.get(CallRecordRow, record_id)
            return None if row is None else _to_record(row)

    def list(
        self, limit: int = 100, offset: int = 0, since: datetime | None = None, node: str | None = None
    ) -> list[CallRecord]:
        """Records by start; ``node``: only the calls that came in on that Asterisk node."""
        query = select(CallRecordRow).order_by(CallRecordRow.started_at, CallRecordRow.id)
        if since is not None:
            query = query.where(CallRecordRow.started_at >= since)
        if node is not None:
            query = query.where(CallRecordRow.node == node)
        with Session(self._engine) as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            return [_to_record(row) for row in rows]


def _after(
    cutoff: datetime | None, records: dict[tuple[str, str], CallRecord]
) -> dict[tuple[str, str], CallRecord]:
    if cutoff is None:
        return records
    kept = {}
    for key, record in records.items():
        if record.started_at < cutoff:
            _refuse(record, cutoff)
        else:
            kept[key] = record
    return kept


def _refuse(record: CallRecord, cutoff: datetime) -> None:
    log.warning(
        "record %s not saved: its quarter-hour is before the retention cutoff %s",
        record.id,
        cutoff.isoformat(timespec="minutes"),
    )
