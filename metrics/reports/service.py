"""Historical reports of the calls, computed in SQL over 15-minute cells (one GROUP BY per offset).

A call counts in the interval of its ``started_at`` (the caller's arrival), in the report's time
zone. Definitions (shared with the live metrics, see :func:`is_offered`):

- offered: calls that reached a queue (``queue_entered_at`` set), plus calls recorded as answered
  or abandoned in a queue without that stamp (a caller gone between the IVR's route and the
  queue: the records call it an abandon, so it is offered too, or abandons could exceed offers);
- answered: outcome ``answered``; abandoned: outcome ``abandoned_in_queue``;
- short abandons (optional, ``short_abandon_seconds`` > 0): abandons that waited less are left
  out of offered and abandoned and counted on their own;
- service level: answered within T (the call's queue's threshold, or one T for the report) over
  offered; answer rate: answered over offered; abandonment: abandoned over offered;
- ASA: mean wait of answered calls; AHT: mean talk + wrap-up (when recorded) of answered calls;
  longest wait: the longest wait of an offered call.

The figures come from the 15-minute cells the record store keeps (metrics/records/intervals.py) for
every whole UTC quarter-hour of the range, and from the records only for the part of a
quarter-hour at either end when a bound is not on one (metrics/reports/sql.py): a year of
reports reads some 35,000 quarter-hours per queue and topic, not millions of records. The cells
keep the answers within each threshold of ``ANSWER_LADDER`` and the short abandons under each of
``SHORT_ABANDON_LADDER``; a threshold off the ladder is exact where the cells counted their
answers against that very threshold when the calls were saved (the queue's configured one), and
refused otherwise (``ReportError``, never an approximation). ``short_abandon_seconds`` must be
0 or on its ladder. A record whose quarter-hour retention has retired is in its cell but no
longer in the records, so a bound inside such a quarter-hour misses its part of it.

Sums, counts and maxima only come from SQL, so rows of the same local interval merge exactly:
a report that spans a daylight-saving change runs one query per offset; days, weeks and months
are days summed in Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, text

from core.errors import DomainError
from metrics.records.intervals import ANSWER_LADDER, SHORT_ABANDON_LADDER
from metrics.records.levels import ServiceLevels
from metrics.records.summary_store import SummaryStore
from metrics.reports.calendar import bucket_start, offset_segments
from metrics.reports.sql import Thresholds, cells_statement, records_statement, stretches
from metrics.reports.summaries import SummaryCounts, count_summaries

MAX_BUCKETS = 40_000  # a year of 15-minute intervals is 35,040


class ReportError(DomainError):
    """A report that cannot be made as asked; ``where`` names the parameter."""

    error_id = "report_invalid"
    status = 422

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}", {"where": where})
        self.where = where


class ReportRangeError(ReportError):
    error_id = "report_invalid_range"


class ReportTimezoneError(ReportError):
    error_id = "report_unknown_timezone"


class Interval(StrEnum):
    M15 = "15m"
    M30 = "30m"
    M60 = "60m"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Dimension(StrEnum):
    QUEUE = "queue"
    TOPIC = "topic"


# SQL bucket width per interval; weeks and months are days summed in Python.
_WIDTH = {Interval.M15: 900, Interval.M30: 1800, Interval.M60: 3600}
_DAY = 86400


@dataclass(frozen=True)
class ReportQuery:
    start: datetime  # aware
    end: datetime  # aware, exclusive
    interval: Interval = Interval.M30
    group_by: tuple[Dimension, ...] = ()
    queues: tuple[str, ...] = ()  # only these (empty: all)
    topics: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()  # the calls that came in on these Asterisk nodes (empty: the whole line)
    timezone: str = "UTC"
    short_abandon_seconds: float = 0.0
    threshold_seconds: float | None = None  # one T for every queue instead of each queue's own


@dataclass(frozen=True)
class Totals:
    """The additive part of a report cell."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within: int = 0
    answer_wait_sum: float = 0.0
    handle_sum: float = 0.0
    handled: int = 0
    longest_wait: float | None = None

    @classmethod
    def of(cls, many: Iterable[Totals]) -> Totals:
        """The sum of many, in one pass (what ``sum`` of ``+`` gives, without the copies)."""
        offered = answered = abandoned = short = within = handled = 0
        wait_sum = handle_sum = 0.0
        longest: float | None = None
        for t in many:
            offered += t.offered
            answered += t.answered
            abandoned += t.abandoned
            short += t.short_abandoned
            within += t.answered_within
            wait_sum += t.answer_wait_sum
            handle_sum += t.handle_sum
            handled += t.handled
            if t.longest_wait is not None and (longest is None or t.longest_wait > longest):
                longest = t.longest_wait
        return cls(offered, answered, abandoned, short, within, wait_sum, handle_sum, handled, longest)

    def __add__(self, other: Totals) -> Totals:
        longest = [w for w in (self.longest_wait, other.longest_wait) if w is not None]
        return Totals(
            self.offered + other.offered,
            self.answered + other.answered,
            self.abandoned + other.abandoned,
            self.short_abandoned + other.short_abandoned,
            self.answered_within + other.answered_within,
            self.answer_wait_sum + other.answer_wait_sum,
            self.handle_sum + other.handle_sum,
            self.handled + other.handled,
            max(longest) if longest else None,
        )

    @property
    def answer_rate(self) -> float | None:
        return _ratio(self.answered, self.offered)

    @property
    def service_level(self) -> float | None:
        return _ratio(self.answered_within, self.offered)

    @property
    def abandonment(self) -> float | None:
        return _ratio(self.abandoned, self.offered)

    @property
    def asa_seconds(self) -> float | None:
        return _mean(self.answer_wait_sum, self.answered)

    @property
    def aht_seconds(self) -> float | None:
        return _mean(self.handle_sum, self.handled)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None


@dataclass(frozen=True)
class ReportRow:
    start: datetime  # the interval's start, in the report's time zone
    queue: str | None
    topic: str | None
    totals: Totals


@dataclass(frozen=True)
class Report:
    query: ReportQuery
    rows: list[ReportRow]
    total: Totals


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ReportTimezoneError("tz", f"unknown time zone {name!r}") from exc


def check(query: ReportQuery) -> None:
    if query.start.tzinfo is None or query.end.tzinfo is None:
        raise ReportRangeError("start", "start and end need a time zone")
    if query.end <= query.start:
        raise ReportRangeError("end", "end must be after start")
    zone(query.timezone)
    width = _WIDTH.get(query.interval, _DAY)
    buckets = (query.end - query.start).total_seconds() / width
    if buckets > MAX_BUCKETS:
        raise ReportRangeError("end", f"{buckets:.0f} intervals of {query.interval}; at most {MAX_BUCKETS}")
    if query.short_abandon_seconds < 0 or not math.isfinite(query.short_abandon_seconds):
        raise ReportError("short_abandon_seconds", "must be a number of seconds, 0 or more")
    short = query.short_abandon_seconds
    if short and not (float(short).is_integer() and int(short) in SHORT_ABANDON_LADDER):
        ladder = ", ".join(map(str, SHORT_ABANDON_LADDER))
        raise ReportError("short_abandon_seconds", f"must be 0 or one of {ladder} (seconds)")


class ReportService:
    """Reports over the interval cells (and the records at the range's ends); ``levels``
    gives each queue's threshold T when asked."""

    def __init__(self, engine: Engine, levels: Callable[[], ServiceLevels] | None = None) -> None:
        self._engine = engine
        self._levels = levels or (lambda: ServiceLevels({}))

    def report(self, query: ReportQuery) -> Report:
        check(query)
        tz = zone(query.timezone)
        width = _WIDTH.get(query.interval, _DAY)
        thresholds = self._thresholds(query)
        dialect = self._engine.dialect.name
        group_by = tuple(d.value for d in query.group_by)
        filters = (query.queues, query.topics, query.nodes)
        cells: dict[tuple[datetime, str | None, str | None], Totals] = {}
        starts: dict[int, datetime] = {}
        unknown = 0
        with self._engine.connect() as conn, conn.begin():
            self._tune(conn)
            for stretch in stretches(offset_segments(query.start, query.end, tz)):
                make = cells_statement if stretch.cells else records_statement
                statement = make(
                    dialect, stretch, width, group_by, filters, query.short_abandon_seconds, thresholds
                )
                for bucket, queue, topic, *figures, missing in conn.execute(statement).all():
                    start = starts.get(bucket) or starts.setdefault(bucket, bucket_start(bucket, width, tz))
                    key = (start, queue or None, topic or None)
                    _merge(cells, key, _totals(figures, query.short_abandon_seconds))
                    unknown += int(missing or 0)
        if unknown:
            raise _off_ladder(thresholds, query)
        if query.interval in (Interval.WEEK, Interval.MONTH):
            cells = _roll_up(cells, query.interval, tz)
        rows = [ReportRow(*key, totals) for key, totals in sorted(cells.items(), key=_order)]
        return Report(query, rows, Totals.of(r.totals for r in rows))

    def summaries(self, query: ReportQuery, k: int) -> SummaryCounts:
        """The summaries of the report's calls (its period, queues and topics), counted."""
        check(query)
        found = SummaryStore(self._engine).enumerated(query.start, query.end, query.topics, query.queues)
        return count_summaries(found, k)

    def _thresholds(self, query: ReportQuery) -> Thresholds:
        if query.threshold_seconds is not None:
            return Thresholds({}, query.threshold_seconds)
        levels = self._levels()
        return Thresholds(dict(levels.thresholds), levels.default_seconds)

    def _tune(self, conn: Connection) -> None:
        """PostgreSQL, this transaction only: JIT compiling costs more than it saves on these
        one-pass aggregates (over the records it took 1.35 s), and the hash of a year of
        intervals must not spill to disk. Over the cells it still saves some 10%."""
        if self._engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL jit = off"))
            conn.execute(text("SET LOCAL work_mem = '64MB'"))


def _off_ladder(thresholds: Thresholds, query: ReportQuery) -> ReportError:
    off = ", ".join(f"{t:g} s" for t in thresholds.off_ladder())
    ladder = ", ".join(map(str, ANSWER_LADDER))
    asked = "asked" if query.threshold_seconds is not None else "configured for a queue"
    return ReportError(
        "threshold_seconds",
        f"the threshold {off} {asked} is not one every quarter-hour keeps ({ladder}), and calls in"
        " this range were counted against another; ask for threshold_seconds on that list",
    )


def _totals(figures: list[Any], short_abandon_seconds: float) -> Totals:
    offered, answered, abandoned, short, within, wait_sum, handle_sum, handled, longest = figures
    short = int(short or 0) if short_abandon_seconds > 0 else 0
    return Totals(
        int(offered) - short,
        int(answered or 0),
        int(abandoned or 0) - short,
        short,
        int(within or 0),
        float(wait_sum or 0.0),
        float(handle_sum or 0.0),
        int(handled or 0),
        None if longest is None else float(longest),
    )


def _merge(cells: dict[Any, Totals], key: Any, totals: Totals) -> None:
    previous = cells.get(key)
    cells[key] = totals if previous is None else previous + totals


def _order(item: tuple[tuple[datetime, str | None, str | None], Totals]) -> tuple[datetime, str, str]:
    (start, queue, topic), _ = item
    return start, queue or "", topic or ""


def _roll_up(
    cells: Mapping[tuple[datetime, str | None, str | None], Totals], interval: Interval, tz: ZoneInfo
) -> dict[tuple[datetime, str | None, str | None], Totals]:
    out: dict[tuple[datetime, str | None, str | None], Totals] = {}
    for (day, queue, topic), totals in cells.items():
        _merge(out, (_period_start(day.date(), interval, tz), queue, topic), totals)
    return out


def _period_start(day: date, interval: Interval, tz: ZoneInfo) -> datetime:
    first = day.replace(day=1) if interval is Interval.MONTH else day - timedelta(days=day.weekday())
    return datetime(first.year, first.month, first.day, tzinfo=tz)
