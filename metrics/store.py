"""Call records in the database, and a writer that keeps database I/O off the event loop."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from metrics.models import CallRecordRow
from metrics.records import CallRecord, Outcome

log = logging.getLogger("hotline.records")
_FIELDS = tuple(f.name for f in fields(CallRecord))
_STAMPS = ("started_at", "ivr_ended_at", "queue_entered_at", "answered_at", "ended_at")


def _utc(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes; every stored time is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _to_record(row: CallRecordRow) -> CallRecord:
    values = {name: getattr(row, name) for name in _FIELDS}
    for name in _STAMPS:
        values[name] = _utc(values[name])
    values["outcome"] = Outcome(values["outcome"])
    return CallRecord(**values)


class RecordStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, record: CallRecord) -> None:
        """Insert, or update the record of the same call (node, call_id): never two per call."""
        values = {name: getattr(record, name) for name in _FIELDS}
        values["outcome"] = record.outcome.value
        with Session(self._engine) as session, session.begin():
            row = session.scalars(
                select(CallRecordRow).where(
                    CallRecordRow.node == record.node, CallRecordRow.call_id == record.call_id
                )
            ).one_or_none()
            if row is None:
                session.add(CallRecordRow(**values))
            else:
                values.pop("id")
                for name, value in values.items():
                    setattr(row, name, value)

    def list(self, limit: int = 100, offset: int = 0, since: datetime | None = None) -> list[CallRecord]:
        query = select(CallRecordRow).order_by(CallRecordRow.started_at, CallRecordRow.id)
        if since is not None:
            query = query.where(CallRecordRow.started_at >= since)
        with Session(self._engine) as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            return [_to_record(row) for row in rows]


class RecordWriter:
    """Accepts finished records from the event loop and saves them on one worker thread.

    A failed save is retried a few times, then logged with the record id (never its content);
    the record stays in memory until saved or the retries run out.
    """

    def __init__(self, store: RecordStore, retries: int = 3) -> None:
        self._store = store
        self._retries = retries
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records")
        self._pending: set[Future[None]] = set()
        self.saved_total = 0
        self.failed_total = 0

    def submit(self, record: CallRecord) -> None:
        future = self._executor.submit(self._save, record)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _save(self, record: CallRecord) -> None:
        for attempt in range(1, self._retries + 1):
            try:
                self._store.save(record)
            except Exception as exc:
                log.warning(
                    "saving record %s failed (attempt %d): %s",
                    record.id,
                    attempt,
                    type(exc).__name__,
                )
            else:
                self.saved_total += 1
                return
        self.failed_total += 1
        log.error("record %s could not be saved after %d attempts", record.id, self._retries)

    async def flush(self) -> None:
        pending = list(self._pending)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending))

    async def close(self) -> None:
        await self.flush()
        self._executor.shutdown(wait=True)
