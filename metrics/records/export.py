"""Exports of call figures (CSV, XLSX, JSON): calls per interval and topic, small cells suppressed.

The export reads the interval statistics (``call_intervals``, metrics/records/intervals.py), which hold
every call ever saved, whether its record is still kept or retention has deleted it, folded into
cells of ``interval_minutes`` (15, 30, 60 or 1440) by topic, over every node and queue. It never
reads the records as well, so no call is counted twice. A measure the reports also give has the
reports' name and definition (metrics/reports/service.py): ``offered`` (calls that reached a
queue, or were answered or abandoned in one), ``answered``, ``abandoned`` (in a queue),
``answered_within_threshold`` (within the queue's threshold as it was when the call was saved)
and ``longest_wait_seconds``; the others are the export's own (``calls``, every call;
``abandoned_in_ivr``, ``referred``, ``failed``, ``after_hours``, ``overflowed``, ``escalated``;
``wait_seconds_sum`` over calls that entered a queue, ``talk_seconds_sum`` over answered ones).

Intervals are in the time zone of ``metrics.timezone`` (the reports' default, so both exports
agree): a day is a local day, ``interval_start`` carries its UTC offset, and naive times asked
for are in that zone. CSV and XLSX hold the same table. A cell with fewer
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
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.xlsx import workbook
from metrics.records.exceptions import InvalidExportRange
from metrics.records.intervals import CellCounts, utc
from metrics.records.models import CallIntervalRow
from metrics.records.summary_store import SummaryStore, words
from privacy.suppression import suppress_small_cells

INTERVALS: Final = (15, 30, 60, 1440)
MAX_CELLS_IN_TIME: Final = 50_000  # intervals per export: 15 min over ~520 days
DEFAULT_SPAN: Final = timedelta(days=7)
# Each figure's column in the export, and the cell field (``call_intervals``) it comes from.
FIGURES: Final = {
    "calls": "calls",
    "offered": "report_offered",
    "answered": "answered",
    "abandoned": "abandoned_in_queue",
    "abandoned_in_ivr": "abandoned_in_ivr",
    "referred": "referred",
    "failed": "failed",
    "after_hours": "after_hours",
    "overflowed": "overflowed",
    "escalated": "escalated",
    "answered_within_threshold": "answered_within_sl",
    "wait_seconds_sum": "wait_seconds_sum",
    "talk_seconds_sum": "talk_seconds_sum",
    "longest_wait_seconds": "max_wait_seconds",
}
COLUMNS: Final = ("interval_start", "topic", *FIGURES)
_SECONDS: Final = ("wait_seconds_sum", "talk_seconds_sum", "longest_wait_seconds")


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


@dataclass(frozen=True)
class Export:
    since: datetime
    until: datetime
    interval_minutes: int
    timezone: str
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
            "timezone": self.timezone,
            "k": self.k,
            "suppressed": {
                "merged": self.merged,
                "hidden": self.hidden,
                "summary_values": self.summary_hidden,
            },
            "rows": self.rows,
        }

    @property
    def header(self) -> tuple[str, ...]:
        return (*COLUMNS, *self.summary_columns)

    def table(self) -> list[list[Any]]:
        """The rows as the CSV and the XLSX hold them, in ``header`` order."""
        return [[row.get(name) for name in self.header] for row in self.rows]

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.table())
        return out.getvalue()

    def as_xlsx(self) -> bytes:
        return workbook(self.header, self.table(), sheet="calls")


def local_interval_start(at: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    """The start of the local interval ``at`` lies in: a wall-clock multiple of ``minutes``
    after local midnight (a day: local midnight); the repeated hour of an autumn change keeps
    its two offsets apart."""
    local = utc(at).astimezone(tz)
    if minutes >= 1440:
        return datetime(local.year, local.month, local.day, tzinfo=tz)
    floor = (local.hour * 60 + local.minute) // minutes * minutes
    return local.replace(hour=floor // 60, minute=floor % 60, second=0, microsecond=0)


def _aware(value: datetime, tz: ZoneInfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _period(
    since: datetime | None, until: datetime | None, minutes: int, now: datetime, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """Whole local intervals covering [since, until); naive times are in ``tz``."""
    if minutes not in INTERVALS:
        raise InvalidExportRange(
            f"interval_minutes must be one of {', '.join(map(str, INTERVALS))}", interval_minutes=minutes
        )
    end = _aware(until, tz) if until is not None else now
    start = _aware(since, tz) if since is not None else end - DEFAULT_SPAN
    if start >= end:
        raise InvalidExportRange("since must be before until", since=start.isoformat(), until=end.isoformat())
    step = timedelta(minutes=minutes)
    first = local_interval_start(start, minutes, tz)
    last = local_interval_start(end, minutes, tz)
    # the next interval: half a step more than one, so a day of 23 or 25 hours still lands in it
    last = last if last == end else local_interval_start(last + step + step / 2, minutes, tz)
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
        timezone: str = "UTC",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """``timezone``: the zone of the intervals (``metrics.timezone``, already validated)."""
        self._engine = engine
        self._k = k
        self._zone = ZoneInfo(timezone)
        self._clock = clock

    def export(self, since: datetime | None, until: datetime | None, interval_minutes: int = 15) -> Export:
        start, end = _period(since, until, interval_minutes, self._clock(), self._zone)
        cells: dict[tuple[datetime, str], CellCounts] = {}
        for (at, topic), counts in self._cells(start, end, interval_minutes):
            cells.setdefault((at, topic), CellCounts()).merge(counts)
        noted = self._summaries(start, end, interval_minutes)
        rows = [
            {
                "interval_start": at.isoformat(),
                "topic": topic or None,
                **_figures(counts),
                **noted.get((at, topic), {}),
            }
            for (at, topic), counts in sorted(cells.items())
        ]
        shown = suppress_small_cells(
            rows, self._k, suppressed=["topic"], kept=["interval_start"], maxima=["longest_wait_seconds"]
        )
        columns, hidden = _small_summary_counts(shown.rows, self._k)
        zone = str(self._zone)
        return Export(
            start,
            end,
            interval_minutes,
            zone,
            self._k,
            shown.rows,
            shown.merged,
            shown.hidden,
            columns,
            hidden,
        )

    def _summaries(
        self, start: datetime, end: datetime, minutes: int
    ) -> dict[tuple[datetime, str], dict[str, int]]:
        """Per interval and topic, the calls with each summary value."""
        out: dict[tuple[datetime, str], dict[str, int]] = {}
        for summary in SummaryStore(self._engine).enumerated(utc(start), utc(end)):
            at = local_interval_start(summary.started_at, minutes, self._zone)
            counts = out.setdefault((at, summary.topic or ""), {})
            for name, value in summary.fields.items():
                for word in words(value):
                    column = f"summary.{name}.{word}"
                    counts[column] = counts.get(column, 0) + 1
        return out

    def _cells(
        self, start: datetime, end: datetime, minutes: int
    ) -> Iterator[tuple[tuple[datetime, str], CellCounts]]:
        cells = CallIntervalRow.__table__.c
        fields = tuple(FIGURES.values())
        query = select(cells.interval_start, cells.topic, *(cells[name] for name in fields)).where(
            cells.interval_start >= utc(start), cells.interval_start < utc(end)
        )
        with Session(self._engine) as session:
            for row in session.execute(query.execution_options(yield_per=2000)):
                counts = CellCounts(**{name: getattr(row, name) for name in fields})
                yield (local_interval_start(row.interval_start, minutes, self._zone), row.topic), counts


def _figures(counts: CellCounts) -> dict[str, Any]:
    """A cell's figures by their export names, seconds rounded to the millisecond."""
    values = {name: getattr(counts, field) for name, field in FIGURES.items()}
    for name in _SECONDS:
        values[name] = round(values[name], 3)
    return values


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
