"""Call records and their interval cells in the database, and a writer that keeps database I/O
off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.orm import stored_utc
from metrics.records.assembler import CallRecord, Outcome
from metrics.records.cells import RECORD_COLUMNS, add_cells, lock_cutoff, replace_cells
from metrics.records.intervals import CellKey, ServiceLevel, cell_key, roll_up
from metrics.records.levels import ServiceLevels
from metrics.records.models import CallRecordRow

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
        """One transaction: the later of two records of a call wins, and the cells follow.

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

    def list(self, limit: int = 100, offset: int = 0, since: datetime | None = None) -> list[CallRecord]:
        query = select(CallRecordRow).order_by(CallRecordRow.started_at, CallRecordRow.id)
        if since is not None:
            query = query.where(CallRecordRow.started_at >= since)
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


class RecordWriter:
    """Accepts finished records on the event loop and saves them in batches on one worker
    thread: one transaction per batch (every ``interval`` seconds or ``batch_size`` records).

    A failed batch is retried, then saved record by record so one bad record cannot take the
    others with it; a record that still fails is logged by its id (never its content).
    """

    def __init__(
        self, store: RecordStore, retries: int = 3, batch_size: int = 200, interval: float = 0.25
    ) -> None:
        self._store = store
        self._retries = retries
        self._batch_size = batch_size
        self._interval = interval
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
        self._buffer: list[CallRecord] = []
        self._timer: asyncio.TimerHandle | None = None
        self._pending: set[Future[None]] = set()
        self._in_flight: dict[Future[None], int] = {}
        self.saved_total = 0
        self.failed_total = 0

    def submit(self, record: CallRecord) -> None:
        self._buffer.append(record)
        if len(self._buffer) >= self._batch_size:
            self._dispatch()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self._interval, self._dispatch)
            except RuntimeError:  # no event loop (a script, a test): save now
                self._dispatch()

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._buffer = self._buffer, []
        if batch:
            future = self._executor.submit(self._save, batch)
            self._pending.add(future)
            self._in_flight[future] = len(batch)
            future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        self._pending.discard(future)
        self._in_flight.pop(future, None)

    def _save(self, batch: list[CallRecord]) -> None:
        for attempt in range(1, self._retries + 1):
            try:
                self._store.save_many(batch)
            except Exception as exc:
                log.warning(
                    "saving %d records failed (attempt %d): %s", len(batch), attempt, type(exc).__name__
                )
            else:
                self.saved_total += len(batch)
                return
        for record in batch:
            self._save_one(record)

    def _save_one(self, record: CallRecord) -> None:
        try:
            self._store.save(record)
        except Exception as exc:
            self.failed_total += 1
            log.error("record %s could not be saved: %s", record.id, type(exc).__name__)
        else:
            self.saved_total += 1

    @property
    def pending(self) -> int:
        """Records submitted and not saved yet."""
        return len(self._buffer) + sum(self._in_flight.values())

    async def flush(self) -> None:
        self._dispatch()
        pending = list(self._pending)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))

    async def close(self) -> None:
        await self.flush()
        self._executor.shutdown(wait=True)
