"""Exports of call figures (CSV, JSON): calls per interval and topic, small cells suppressed.

The export reads the interval statistics (``call_intervals``, metrics/records/intervals.py), which hold
every call ever saved, whether its record is still kept or retention has deleted it, folded into
cells of ``interval_minutes`` (15, 30, 60 or 1440) by topic, over every node and queue. It never
reads the records as well, so no call is counted twice. ``answered_within_sl`` counts answers
within the queue's threshold as it was when the call was saved. A cell with fewer
than ``k`` calls is merged into "other" or hidden (privacy/suppression.py), so no row of an
export can single a caller out. No record id, call id, operator or time finer than the interval
leaves through here.

The calls' after-call summaries add a column per enumerated value, ``summary.<field>.<value>``
(a flag's ``yes``/``no``; never a text): the calls of the row with that value, from the
summaries of the records still kept. They follow the rows' merging, and a count under ``k``
(but not 0) is left empty; a column empty in every row is left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from metrics.records.exceptions import InvalidExportRange
from metrics.records.intervals import EXPORT_FIELDS, CellCounts, interval_start, utc
from metrics.records.models import CallIntervalRow
from metrics.records.summary_store import SummaryStore, words
from privacy.suppression import suppress_small_cells

INTERVALS: Final = (15, 30, 60, 1440)
MAX_CELLS_IN_TIME: Final = 50_000  # intervals per export: 15 min over ~520 days
DEFAULT_SPAN: Final = timedelta(days=7)
COLUMNS: Final = ("interval_start", "topic", *EXPORT_FIELDS)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class Export:
    since: datetime
    until: datetime
    interval_minutes: int
    k: int
    rows: list[dict[str, Any]]
    merged: int
    hidden: int
    summary_columns: tuple[str, ...] = ()
    summary_hidden: int = 0  # summary counts under k left empty

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "interval_minutes": self.interval_minutes,
            "k": self.k,
            "suppressed": {
                "merged": self.merged,
                "hidden": self.hidden,
                "summary_values": self.summary_hidden,
            },
            "rows": self.rows,
        }

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=(*COLUMNS, *self.summary_columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


def _period(
    since: datetime | None, until: datetime | None, minutes: int, now: datetime
) -> tuple[datetime, datetime]:
    """Whole intervals covering [since, until); naive times are UTC."""
    if minutes not in INTERVALS:
        raise InvalidExportRange(
            f"interval_minutes must be one of {', '.join(map(str, INTERVALS))}", interval_minutes=minutes
        )
    end = utc(until) if until is not None else now
    start = utc(since) if since is not None else end - DEFAULT_SPAN
    if start >= end:
        raise InvalidExportRange("since must be before until", since=start.isoformat(), until=end.isoformat())
    step = timedelta(minutes=minutes)
    first = interval_start(start, minutes)
    last = interval_start(end, minutes)
    last = last if last == end else last + step
    if (last - first) // step > MAX_CELLS_IN_TIME:
        raise InvalidExportRange(
            f"more than {MAX_CELLS_IN_TIME} intervals: choose a shorter period or a longer interval",
            since=first.isoformat(),
            until=last.isoformat(),
            interval_minutes=minutes,
        )
    return first, last


def _now() -> datetime:
    return datetime.now(UTC)


class CallExporter:
    def __init__(
        self,
        engine: Engine,
        k: int,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._engine = engine
        self._k = k
        self._clock = clock

    def export(self, since: datetime | None, until: datetime | None, interval_minutes: int = 15) -> Export:
        start, end = _period(since, until, interval_minutes, self._clock())
        cells: dict[tuple[datetime, str], CellCounts] = {}
        for (at, topic), counts in self._cells(start, end, interval_minutes):
            cells.setdefault((at, topic), CellCounts()).merge(counts)
        noted = self._summaries(start, end, interval_minutes)
        rows = [
            {
                "interval_start": at.isoformat(),
                "topic": topic or None,
                **counts.as_dict(),
                **noted.get((at, topic), {}),
            }
            for (at, topic), counts in sorted(cells.items())
        ]
        shown = suppress_small_cells(
            rows, self._k, suppressed=["topic"], kept=["interval_start"], maxima=["max_wait_seconds"]
        )
        columns, hidden = _small_summary_counts(shown.rows, self._k)
        return Export(
            start, end, interval_minutes, self._k, shown.rows, shown.merged, shown.hidden, columns, hidden
        )

    def _summaries(
        self, start: datetime, end: datetime, minutes: int
    ) -> dict[tuple[datetime, str], dict[str, int]]:
        """Per interval and topic, the calls with each summary value."""
        out: dict[tuple[datetime, str], dict[str, int]] = {}
        for summary in SummaryStore(self._engine).enumerated(start, end):
            counts = out.setdefault((interval_start(summary.started_at, minutes), summary.topic or ""), {})
            for name, value in summary.fields.items():
                for word in words(value):
                    column = f"summary.{name}.{word}"
                    counts[column] = counts.get(column, 0) + 1
        return out

    def _cells(
        self, start: datetime, end: datetime, minutes: int
    ) -> Iterator[tuple[tuple[datetime, str], CellCounts]]:
        cells = CallIntervalRow.__table__.c
        query = select(cells.interval_start, cells.topic, *(cells[name] for name in EXPORT_FIELDS)).where(
            cells.interval_start >= start, cells.interval_start < end
        )
        with Session(self._engine) as session:
            for row in session.execute(query.execution_options(yield_per=2000)):
                counts = CellCounts(**{name: getattr(row, name) for name in EXPORT_FIELDS})
                yield (interval_start(row.interval_start, minutes), row.topic), counts


def _small_summary_counts(rows: list[dict[str, Any]], k: int) -> tuple[tuple[str, ...], int]:
    """Empties each summary count under ``k`` (0 stays), fills the columns shown somewhere;
    returns them and how many counts were emptied."""
    hidden = 0
    for row in rows:
        for name in [n for n in row if n.startswith("summary.")]:
            if 0 < row[name] < k:
                row[name] = None
                hidden += 1
    columns = tuple(
        sorted({n for row in rows for n, v in row.items() if n.startswith("summary.") and v is not None})
    )
    for row in rows:
        for name in [n for n in row if n.startswith("summary.") and n not in columns]:
            del row[name]
        for name in columns:
            row.setdefault(name, 0)
    return columns, hidden
