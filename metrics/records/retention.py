"""Retention: call records older than the retention period are deleted; their figures stay.

The record store adds every record to its 15-minute cell (``call_intervals``) when it saves it,
so retention has nothing to roll up: it moves the cutoff of ``call_retention`` forward to the
quarter-hour at or before now - keep (never back), then deletes the records that started before
it, chunk by chunk, one transaction each. Cells are never touched, so a run can be repeated,
interrupted or run twice at once and the statistics stay exact. Once the cutoff has passed a
quarter-hour the store refuses records of it (metrics/records/store.py): a call counted there cannot be
counted again after its record is gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from core.tasks import Backoff, TaskSupervisor
from metrics.records.cells import advance_cutoff
from metrics.records.intervals import cell_key, interval_start
from metrics.records.models import CallRecordRow

log = logging.getLogger("hotline.retention")
CHUNK: Final = 1000
_CELL_COLUMNS: Final = (
    CallRecordRow.started_at,
    CallRecordRow.node,
    CallRecordRow.topic,
    CallRecordRow.queue,
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    records: int  # records deleted
    cells: int  # interval cells that hold them (counted per chunk)
    chunks: int


class Retention:
    def __init__(
        self,
        engine: Engine,
        keep: timedelta,
        chunk: int = CHUNK,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if keep <= timedelta(0):
            raise ValueError("the retention period must be positive")
        self._engine = engine
        self._keep = keep
        self._chunk = max(1, chunk)
        self._clock = clock

    def run_once(self) -> RetentionResult:
        """Delete every record that started before the quarter-hour of now - keep, chunk by chunk."""
        cutoff = interval_start(self._clock() - self._keep)
        with Session(self._engine) as session, session.begin():
            advance_cutoff(session, cutoff)
        records = cells = chunks = 0
        while True:
            done, held = self._delete_chunk(cutoff)
            if not done:
                break
            records, cells, chunks = records + done, cells + held, chunks + 1
        return RetentionResult(cutoff, records, cells, chunks)

    def _delete_chunk(self, cutoff: datetime) -> tuple[int, int]:
        oldest = (
            select(CallRecordRow.id)
            .where(CallRecordRow.started_at < cutoff)
            .order_by(CallRecordRow.started_at, CallRecordRow.id)
            .limit(self._chunk)
        )
        with Session(self._engine) as session, session.begin():
            ids = list(session.scalars(oldest))
            if not ids:
                return 0, 0
            gone = session.execute(
                delete(CallRecordRow).where(CallRecordRow.id.in_(ids)).returning(*_CELL_COLUMNS)
            ).all()
        return len(gone), len({cell_key(row) for row in gone})


async def run_retention_forever(
    retention: Retention,
    every: timedelta = timedelta(hours=1),
    tasks: TaskSupervisor | None = None,
    backoff: Backoff | None = None,
) -> None:
    """For the composition root: a run now, then one every ``every``, off the event loop. A failed
    run (the database away) is tried again with backoff, sooner than ``every``; the first failure
    of an outage is logged (its exception type only) and its end, each failure counted as
    ``retention`` on /metrics. Cancellation stops it."""
    outage = (tasks or TaskSupervisor()).outage("retention", "retention run", log)
    backoff = backoff or Backoff(30.0, every.total_seconds())
    while True:
        try:
            result = await asyncio.to_thread(retention.run_once)
        except Exception as exc:
            outage.failed(exc)
            await asyncio.sleep(min(backoff.next(), every.total_seconds()))
            continue
        outage.ok()
        backoff.reset()
        if result.records:
            log.info(
                "retention: %d records before %s deleted; their figures stay in %d interval cells",
                result.records,
                result.cutoff.isoformat(timespec="minutes"),
                result.cells,
            )
        await asyncio.sleep(every.total_seconds())
