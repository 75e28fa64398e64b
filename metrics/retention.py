"""Retention: call records older than the retention period become interval statistics.

Each chunk is one transaction: the oldest records past the cutoff are deleted, and the rows the
DELETE returned (``RETURNING``: exactly those, never more) are added to ``call_intervals``. A
failed chunk changes nothing; a chunk that committed never counts its records again, because
they are gone. Two runs at once cannot count a record twice: the second DELETE finds it gone.
So a run can be repeated or interrupted at any point and the statistics stay exact.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from metrics.intervals import COUNT_FIELDS, MAXIMA, CellCounts, CellKey, ServiceLevel, roll_up
from metrics.models import CallIntervalRow, CallRecordRow

log = logging.getLogger("hotline.retention")
CHUNK: Final = 1000
_KEYS: Final = ("interval_start", "node", "topic", "queue")
RECORD_COLUMNS: Final = (
    CallRecordRow.started_at,
    CallRecordRow.node,
    CallRecordRow.topic,
    CallRecordRow.queue,
    CallRecordRow.outcome,
    CallRecordRow.queue_entered_at,
    CallRecordRow.answered_at,
    CallRecordRow.wait_seconds,
    CallRecordRow.talk_seconds,
    CallRecordRow.after_hours,
    CallRecordRow.overflowed,
    CallRecordRow.escalated,
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    records: int  # records rolled up and deleted
    cells: int  # interval cells written to (added to or created)
    chunks: int


def service_levels(levels: Mapping[str, int], default: int = 20) -> ServiceLevel:
    """Per-queue thresholds (the IVR document's ``service_level_seconds``), else ``default``."""
    table = dict(levels)
    return lambda queue: table.get(queue, default)


class Retention:
    def __init__(
        self,
        engine: Engine,
        keep: timedelta,
        service_level: ServiceLevel | None = None,
        chunk: int = CHUNK,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if keep <= timedelta(0):
            raise ValueError("the retention period must be positive")
        self._engine = engine
        self._keep = keep
        self._level = service_level
        self._chunk = max(1, chunk)
        self._clock = clock

    def run_once(self) -> RetentionResult:
        """Roll up and delete every record that started before now - keep, chunk by chunk."""
        cutoff = self._clock() - self._keep
        records = cells = chunks = 0
        while True:
            done, touched = self._roll_chunk(cutoff)
            if not done:
                break
            records, cells, chunks = records + done, cells + touched, chunks + 1
        return RetentionResult(cutoff, records, cells, chunks)

    def _roll_chunk(self, cutoff: datetime) -> tuple[int, int]:
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
                delete(CallRecordRow).where(CallRecordRow.id.in_(ids)).returning(*RECORD_COLUMNS)
            )
            rows = list(gone)
            cells = roll_up(rows, self._level)
            if cells:
                session.execute(self._add_statement(cells))
        return len(rows), len(cells)

    def _add_statement(self, cells: dict[CellKey, CellCounts]) -> Any:
        """One upsert: a new cell is inserted, an existing one gets the counts added."""
        values = [
            {
                "interval_start": k.interval_start,
                "node": k.node,
                "topic": k.topic,
                "queue": k.queue,
                **c.as_dict(),
            }
            for k, c in cells.items()
        ]
        postgres = self._engine.dialect.name == "postgresql"
        insert = pg_insert if postgres else sqlite_insert
        statement = insert(CallIntervalRow).values(values)
        table = CallIntervalRow.__table__.c
        larger = func.greatest if postgres else func.max
        changed = {
            name: larger(table[name], statement.excluded[name])
            if name in MAXIMA
            else table[name] + statement.excluded[name]
            for name in COUNT_FIELDS
        }
        return statement.on_conflict_do_update(index_elements=list(_KEYS), set_=changed)


async def run_retention_forever(retention: Retention, every: timedelta = timedelta(hours=1)) -> None:
    """For the composition root: a run now, then one every ``every``, off the event loop. A failed
    run is logged (its exception type only) and tried again next time; cancellation stops it."""
    while True:
        try:
            result = await asyncio.to_thread(retention.run_once)
        except Exception as exc:
            log.error("retention run failed: %s", type(exc).__name__)
        else:
            if result.records:
                log.info(
                    "retention: %d records before %s rolled into %d interval cells",
                    result.records,
                    result.cutoff.isoformat(timespec="minutes"),
                    result.cells,
                )
        await asyncio.sleep(every.total_seconds())
