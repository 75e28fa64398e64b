"""The SQL of reports (metrics/reports/service.py): one GROUP BY per stretch of the range, over the
15-minute cells of ``call_intervals`` for whole UTC quarter-hours, and over ``call_records``
for what is left at either end (a bound inside a quarter-hour) or where the zone's offset is
no whole number of quarter-hours (local mean time before standard time).

Both statements give the same columns (``FIGURES`` after bucket, queue and topic), so rows of
one local interval from cells, records and two offsets merge exactly. A cell is the UTC
quarter-hour it starts in; every real UTC offset is a multiple of 15 minutes, so each cell lies
in one local 15/30/60-minute interval and one local day.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, literal_column, or_, select

from metrics.records.intervals import ANSWER_LADDER, short_column, within_column
from metrics.records.models import CallIntervalRow, CallRecordRow
from metrics.records.record import Outcome

ANSWERED = Outcome.ANSWERED.value
ABANDONED = Outcome.ABANDONED_IN_QUEUE.value
QUARTER: Final = 900  # seconds in a cell
FIGURES: Final = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "answered_within",
    "answer_wait_sum",
    "handle_sum",
    "handled",
    "longest_wait",
)
_QUARTER = timedelta(seconds=QUARTER)
# Epoch seconds of a stored time: unixepoch() (SQLite 3.38+) is exact and a third faster.
_SQLITE_EPOCH = (
    "unixepoch({})" if sqlite3.sqlite_version_info >= (3, 38) else "CAST(strftime('%s', {}) AS INTEGER)"
)


@dataclass(frozen=True)
class Stretch:
    """[start, end) at one UTC offset, read from cells or from records."""

    start: datetime
    end: datetime
    offset: int
    cells: bool


@dataclass(frozen=True)
class Thresholds:
    """The threshold T of each queue a report uses (``default`` for the others)."""

    per_queue: Mapping[str, float]
    default: float

    def off_ladder(self) -> list[float]:
        return sorted({t for t in (*self.per_queue.values(), self.default) if not on_ladder(t)})


def on_ladder(seconds: float) -> bool:
    return float(seconds).is_integer() and int(seconds) in ANSWER_LADDER


def stretches(segments: list[tuple[datetime, datetime, int]]) -> list[Stretch]:
    """Each offset segment cut into the whole quarter-hours (cells) and the rest (records)."""
    out: list[Stretch] = []
    for start, end, offset in segments:
        first, last = _ceil(start), _floor(end)
        if offset % QUARTER or first >= last:
            out.append(Stretch(start, end, offset, cells=False))
            continue
        pieces = ((start, first, False), (first, last, True), (last, end, False))
        out.extend(Stretch(a, b, offset, cells) for a, b, cells in pieces if a < b)
    return out


def _floor(at: datetime) -> datetime:
    epoch = int(at.timestamp() // QUARTER) * QUARTER
    return datetime.fromtimestamp(epoch, UTC)


def _ceil(at: datetime) -> datetime:
    down = _floor(at)
    return down if down == at else down + _QUARTER


def bucket(dialect: str, column: str, offset: int, width: int) -> ColumnElement[Any]:
    """floor((epoch seconds + offset) / width), exact for whole seconds on both databases.
    Written out (integers only) so GROUP BY repeats the very expression of the SELECT."""
    shift, size = int(offset), int(width)
    if dialect == "postgresql":
        sql = f"floor((date_part('epoch', {column}) + {shift}) / {size})"
    else:  # integer division; times after 1970 are positive
        sql = f"(({_SQLITE_EPOCH.format(column)} + {shift}) / {size})"
    return literal_column(sql)


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _dimensions(table: Any, group_by: tuple[str, ...]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    queue = (table.queue if "queue" in group_by else literal(None)).label("queue")
    topic = (table.topic if "topic" in group_by else literal(None)).label("topic")
    return queue, topic


# -- cells ----------------------------------------------------------------------------------------
def cells_statement(
    dialect: str,
    stretch: Stretch,
    width: int,
    group_by: tuple[str, ...],
    filters: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    short_seconds: float,
    thresholds: Thresholds,
) -> Select[Any]:
    """The figures per local bucket from whole cells; the last column counts cells whose
    answers within T are unknown (T off the ladder and counted against another threshold)."""
    c = CallIntervalRow.__table__.c
    at = bucket(dialect, "call_intervals.interval_start", stretch.offset, width).label("bucket")
    queue, topic = _dimensions(c, group_by)
    within = _within_cells(thresholds)
    short = c[short_column(int(short_seconds))] if short_seconds > 0 else literal(0)
    columns = [
        at,
        queue,
        topic,
        func.sum(c.report_offered),
        func.sum(c.answered),
        func.sum(c.abandoned_in_queue),
        func.sum(short),
        func.sum(within),
        func.sum(c.answered_wait_sum),
        func.sum(c.handle_seconds_sum),
        func.sum(c.handled),
        func.max(c.longest_wait),
        _count(within.is_(None)) if thresholds.off_ladder() else literal(0),
    ]
    queues, topics, nodes = filters
    where = [
        c.interval_start >= stretch.start.astimezone(UTC),
        c.interval_start < stretch.end.astimezone(UTC),
        c.report_offered > 0,
    ]
    if queues:
        where += [c.queue.in_(queues), c.queue != ""]
    if topics:
        where += [c.topic.in_(topics), c.topic != ""]
    if nodes:
        where.append(c.node.in_(nodes))
    groups = [at, *(col for col in (queue, topic) if col.name in group_by)]
    return select(*columns).where(*where).group_by(*groups).order_by(*groups)


def _within_cells(thresholds: Thresholds) -> ColumnElement[Any]:
    c = CallIntervalRow.__table__.c
    default = _within_one(thresholds.default)
    if not thresholds.per_queue:
        return default
    whens = {queue: _within_one(t) for queue, t in thresholds.per_queue.items()}
    return case(whens, value=c.queue, else_=default)


def _within_one(seconds: float) -> ColumnElement[Any]:
    """A cell's answers within T: the ladder's column, else the count made at save time when
    it was made against T (NULL: unknown)."""
    c = CallIntervalRow.__table__.c
    if on_ladder(seconds):
        return c[within_column(int(seconds))]
    return case(
        (c.answered == 0, 0),
        (c.sl_seconds == float(seconds), c.answered_within_sl),
        else_=literal(None),
    )


# -- records --------------------------------------------------------------------------------------
def records_statement(
    dialect: str,
    stretch: Stretch,
    width: int,
    group_by: tuple[str, ...],
    filters: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    short_seconds: float,
    thresholds: Thresholds,
) -> Select[Any]:
    """The same figures from the records of [start, end) (the last column is always 0)."""
    c = CallRecordRow
    answered = c.outcome == ANSWERED
    abandoned = c.outcome == ABANDONED
    wait = func.coalesce(c.wait_seconds, 0.0)
    short = and_(abandoned, wait < short_seconds)
    handle = c.talk_seconds + func.coalesce(c.wrapup_seconds, 0.0)
    at = bucket(dialect, "call_records.started_at", stretch.offset, width).label("bucket")
    queue, topic = _dimensions(c, group_by)
    columns = [
        at,
        queue,
        topic,
        func.count(),
        _count(answered),
        _count(abandoned),
        _count(short),
        _count(and_(answered, wait <= _threshold_records(thresholds))),
        func.sum(case((answered, wait), else_=0.0)),
        func.sum(case((and_(answered, c.talk_seconds.is_not(None)), handle), else_=0.0)),
        _count(and_(answered, c.talk_seconds.is_not(None))),
        func.max(c.wait_seconds),
        literal(0),
    ]
    where = [  # UTC: SQLite stores times without their offset
        c.started_at >= stretch.start.astimezone(UTC),
        c.started_at < stretch.end.astimezone(UTC),
        or_(c.queue_entered_at.is_not(None), c.outcome.in_((ANSWERED, ABANDONED))),
    ]
    queues, topics, nodes = filters
    if queues:
        where.append(c.queue.in_(queues))
    if topics:
        where.append(c.topic.in_(topics))
    if nodes:
        where.append(c.node.in_(nodes))
    groups = [at, *(col for col in (queue, topic) if col.name in group_by)]
    return select(*columns).where(*where).group_by(*groups).order_by(*groups)


def _threshold_records(thresholds: Thresholds) -> ColumnElement[Any] | float:
    if not thresholds.per_queue:
        return float(thresholds.default)
    whens = {queue: float(t) for queue, t in thresholds.per_queue.items()}
    return case(whens, value=func.coalesce(CallRecordRow.queue, ""), else_=float(thresholds.default))
