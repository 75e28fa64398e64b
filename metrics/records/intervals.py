"""Interval statistics: call records folded into 15-minute cells (UTC quarter-hour, node, topic,
queue), the rows of ``call_intervals``.

The record store (metrics/records/store.py) adds each record's contribution to its cell in the
transaction that saves the record, so the cells always hold every record ever saved: retention
only deletes old records, exports read the cells, and reports (metrics/reports/service.py) read them too.
No cell holds anything about a single caller but its contribution to the counts.

Two groups of figures:

- the export figures (``EXPORT_FIELDS``, unchanged since retention made the first cells);
- the report figures, with the report's own definitions (offered also counts calls recorded as
  answered or abandoned in a queue without a queue stamp; ASA over answered calls; AHT over
  answered calls with a talk time; the longest wait of an offered call, ``None`` when no offered
  call has a wait). A report's threshold T is only known when it is asked, so the answered calls
  within T are kept for a fixed ladder of thresholds (``ANSWER_LADDER``), and the short abandons
  for a ladder of ``SHORT_ABANDON_LADDER``; ``answered_within_sl`` holds the calls within the
  queue's threshold *as configured when the call was saved* and ``sl_seconds`` says which
  threshold that was (``None``: no answered call yet; ``MIXED``: calls counted against two).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

INTERVAL_MINUTES: Final = 15
DEFAULT_SERVICE_LEVEL_SECONDS: Final = 20
_EPOCH: Final = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: day and week intervals start at 00:00
ANSWER_LADDER: Final = (5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300)
SHORT_ABANDON_LADDER: Final = (2, 3, 5, 10, 15, 20, 30)
MIXED: Final = -1.0  # sl_seconds of a cell whose answered calls were counted against two thresholds

ServiceLevel = Callable[[str], float]  # queue ('' for none) -> seconds within which an answer is in time


def within_column(seconds: int) -> str:
    return f"answered_within_{seconds}s"


def short_column(seconds: int) -> str:
    return f"short_abandoned_{seconds}s"


WITHIN_COLUMNS: Final = tuple(within_column(t) for t in ANSWER_LADDER)
SHORT_COLUMNS: Final = tuple(short_column(s) for s in SHORT_ABANDON_LADDER)


class RecordLike(Protocol):
    """What a cell needs from a call record (a CallRecord or a selected database row)."""

    @property
    def started_at(self) -> datetime: ...
    @property
    def node(self) -> str: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def queue_entered_at(self) -> datetime | None: ...
    @property
    def wait_seconds(self) -> float | None: ...
    @property
    def talk_seconds(self) -> float | None: ...
    @property
    def wrapup_seconds(self) -> float | None: ...
    @property
    def after_hours(self) -> bool: ...
    @property
    def overflowed(self) -> bool: ...
    @property
    def escalated(self) -> bool: ...


def utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def interval_start(at: datetime, minutes: int = INTERVAL_MINUTES) -> datetime:
    step = timedelta(minutes=minutes)
    return _EPOCH + ((utc(at) - _EPOCH) // step) * step


@dataclass(frozen=True, order=True)
class CellKey:
    interval_start: datetime
    node: str
    topic: str  # '' when the caller chose none
    queue: str  # '' when the call never had one


def cell_key(record: RecordLike, minutes: int = INTERVAL_MINUTES) -> CellKey:
    return CellKey(
        interval_start(record.started_at, minutes), record.node, record.topic or "", record.queue or ""
    )


_OUTCOME_FIELDS: Final = {
    "answered": "answered",
    "abandoned_in_queue": "abandoned_in_queue",
    "abandoned_in_ivr": "abandoned_in_ivr",
    "referred": "referred",
    "failed": "failed",
}


@dataclass
class CellCounts:
    calls: int = 0
    offered: int = 0  # entered a queue
    answered: int = 0
    abandoned_in_queue: int = 0
    abandoned_in_ivr: int = 0
    referred: int = 0
    failed: int = 0  # incomplete or unknown end
    after_hours: int = 0
    overflowed: int = 0
    escalated: int = 0
    answered_within_sl: int = 0  # answered within the queue's threshold when saved (sl_seconds)
    wait_seconds_sum: float = 0.0  # over offered calls
    talk_seconds_sum: float = 0.0  # over answered calls
    max_wait_seconds: float = 0.0
    # -- report figures (the report's definitions, see the module's docstring) ------------------
    sl_seconds: float | None = None
    report_offered: int = 0
    answered_wait_sum: float = 0.0
    handled: int = 0  # answered calls with a talk time
    handle_seconds_sum: float = 0.0  # talk + wrap-up of handled calls
    longest_wait: float | None = None
    ladder: dict[str, int] = field(default_factory=dict)  # WITHIN_COLUMNS and SHORT_COLUMNS

    def add(self, record: RecordLike, service_level: ServiceLevel) -> None:
        outcome = str(record.outcome)
        name = _OUTCOME_FIELDS.get(outcome, "failed")
        setattr(self, name, getattr(self, name) + 1)
        self.calls += 1
        wait = record.wait_seconds or 0.0
        if record.queue_entered_at is not None:
            self.offered += 1
            self.wait_seconds_sum += wait
            self.max_wait_seconds = max(self.max_wait_seconds, wait)
        self.after_hours += int(bool(record.after_hours))
        self.overflowed += int(bool(record.overflowed))
        self.escalated += int(bool(record.escalated))
        if record.queue_entered_at is not None or outcome in ("answered", "abandoned_in_queue"):
            self._add_offered(record, outcome, wait)
        if outcome == "answered":
            self._add_answered(record, wait, service_level(record.queue or ""))

    def _add_offered(self, record: RecordLike, outcome: str, wait: float) -> None:
        self.report_offered += 1
        if record.wait_seconds is not None:
            self.longest_wait = _larger(self.longest_wait, record.wait_seconds)
        if outcome == "abandoned_in_queue":
            for seconds, column in zip(SHORT_ABANDON_LADDER, SHORT_COLUMNS, strict=True):
                if wait < seconds:
                    self.ladder[column] = self.ladder.get(column, 0) + 1

    def _add_answered(self, record: RecordLike, wait: float, threshold: float) -> None:
        self.talk_seconds_sum += record.talk_seconds or 0.0
        self.answered_wait_sum += wait
        self.sl_seconds = merged_threshold(self.sl_seconds, float(threshold))
        self.answered_within_sl += int(wait <= threshold)
        for seconds, column in zip(ANSWER_LADDER, WITHIN_COLUMNS, strict=True):
            if wait <= seconds:
                self.ladder[column] = self.ladder.get(column, 0) + 1
        if record.talk_seconds is not None:
            self.handled += 1
            self.handle_seconds_sum += record.talk_seconds + (record.wrapup_seconds or 0.0)

    def merge(self, other: CellCounts) -> None:
        for name in ADDED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_wait_seconds = max(self.max_wait_seconds, other.max_wait_seconds)
        self.longest_wait = _larger(self.longest_wait, other.longest_wait)
        self.sl_seconds = merged_threshold(self.sl_seconds, other.sl_seconds)
        for column, count in other.ladder.items():
            self.ladder[column] = self.ladder.get(column, 0) + count

    def as_dict(self) -> dict[str, Any]:
        """The export figures (``EXPORT_FIELDS``), seconds rounded to the millisecond."""
        values = {name: getattr(self, name) for name in EXPORT_FIELDS}
        for name in ("wait_seconds_sum", "talk_seconds_sum", "max_wait_seconds"):
            values[name] = round(values[name], 3)
        return values

    def columns(self) -> dict[str, Any]:
        """Every figure by its ``call_intervals`` column."""
        values = {name: getattr(self, name) for name in (*ADDED, *MAXIMA, "sl_seconds")}
        values.update({column: self.ladder.get(column, 0) for column in LADDER_COLUMNS})
        return values

    @classmethod
    def of_columns(cls, row: Any) -> CellCounts:
        """From a ``call_intervals`` row (anything with the columns as attributes)."""
        counts = cls(**{name: getattr(row, name) for name in (*ADDED, *MAXIMA, "sl_seconds")})
        counts.ladder = {column: getattr(row, column) for column in LADDER_COLUMNS}
        return counts


def _larger(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def merged_threshold(a: float | None, b: float | None) -> float | None:
    """``sl_seconds`` of two contributions together: None (no answered call) takes the other's."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    return MIXED


EXPORT_FIELDS: Final = (
    "calls",
    "offered",
    "answered",
    "abandoned_in_queue",
    "abandoned_in_ivr",
    "referred",
    "failed",
    "after_hours",
    "overflowed",
    "escalated",
    "answered_within_sl",
    "wait_seconds_sum",
    "talk_seconds_sum",
    "max_wait_seconds",
)
COUNT_FIELDS: Final = EXPORT_FIELDS  # the export's columns (the name retention gave them)
MAXIMA: Final = ("max_wait_seconds", "longest_wait")
ADDED: Final = tuple(
    name
    for name in (*EXPORT_FIELDS, "report_offered", "answered_wait_sum", "handled", "handle_seconds_sum")
    if name not in MAXIMA
)
LADDER_COLUMNS: Final = (*WITHIN_COLUMNS, *SHORT_COLUMNS)


def fixed_service_level(seconds: float = DEFAULT_SERVICE_LEVEL_SECONDS) -> ServiceLevel:
    return lambda _queue: seconds


def roll_up(
    records: Iterable[RecordLike],
    service_level: ServiceLevel | None = None,
    minutes: int = INTERVAL_MINUTES,
) -> dict[CellKey, CellCounts]:
    """Fold records into cells by interval (of ``started_at``), node, topic and queue."""
    level = service_level or fixed_service_level()
    cells: dict[CellKey, CellCounts] = {}
    for record in records:
        cells.setdefault(cell_key(record, minutes), CellCounts()).add(record, level)
    return cells
