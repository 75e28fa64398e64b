"""Call records in the database, and a writer that keeps database I/O off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hotline.orm import stored_utc
from metrics.models import CallRecordRow
from metrics.records import CallRecord, Outcome

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
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, record: CallRecord) -> None:
        """Insert, or update the record of the same call (node, call_id): never two per call."""
        self.save_many([record])

    def save_many(self, records: Sequence[CallRecord]) -> None:
        """One transaction, one upsert statement: the later of two records of a call wins."""
        latest = {(r.node, r.call_id): r for r in records}
        if not latest:
            return
        rows = [_values(r) for r in latest.values()]
        insert = pg_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(CallRecordRow).values(rows)
        changed = {name: statement.excluded[name] for name in _FIELDS if name != "id"}
        statement = statement.on_conflict_do_update(index_elements=["node", "call_id"], set_=changed)
        with Session(self._engine) as session, session.begin():
            session.execute(statement)

    def list(self, limit: int = 100, offset: int = 0, since: datetime | None = None) -> list[CallRecord]:
        query = select(CallRecordRow).order_by(CallRecordRow.started_at, CallRecordRow.id)
        if since is not None:
            query = query.where(CallRecordRow.started_at >= since)
        with Session(self._engine) as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            return [_to_record(row) for row in rows]


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
            future.add_done_callback(self._pending.discard)

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

    async def flush(self) -> None:
        self._dispatch()
        pending = list(self._pending)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))

    async def close(self) -> None:
        await self.flush()
        self._executor.shutdown(wait=True)
