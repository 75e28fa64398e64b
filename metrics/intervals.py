"""Interval statistics: call records folded into 15-minute cells (node, topic, queue).

The shape is shared by retention (old records become rows of ``call_intervals``) and exports
(records and stored intervals read back as one table), so a figure means the same wherever it
is read. No cell holds anything about a single caller but its contribution to the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

INTERVAL_MINUTES: Final = 15
DEFAULT_SERVICE_LEVEL_SECONDS: Final = 20
_EPOCH: Final = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: day and week intervals start at 00:00

ServiceLevel = Callable[[str], int]  # queue -> seconds within which an answer counts as in time


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
    def answered_at(self) -> datetime | None: ...
    @property
    def wait_seconds(self) -> float | None: ...
    @property
    def talk_seconds(self) -> float | None: ...
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
    answered_within_sl: int = 0  # answered within the queue's service-level threshold
    wait_seconds_sum: float = 0.0  # over offered calls
    talk_seconds_sum: float = 0.0  # over answered calls
    max_wait_seconds: float = 0.0

    def add(self, record: RecordLike, service_level: ServiceLevel) -> None:
        self.calls += 1
        outcome = str(record.outcome)
        if outcome in _OUTCOME_FIELDS:
            setattr(self, _OUTCOME_FIELDS[outcome], getattr(self, _OUTCOME_FIELDS[outcome]) + 1)
        else:
            self.failed += 1
        wait = record.wait_seconds or 0.0
        if record.queue_entered_at is not None:
            self.offered += 1
            self.wait_seconds_sum += wait
            self.max_wait_seconds = max(self.max_wait_seconds, wait)
        if outcome == "answered":
            self.talk_seconds_sum += record.talk_seconds or 0.0
            if record.queue and wait <= service_level(record.queue):
                self.answered_within_sl += 1
        self.after_hours += int(bool(record.after_hours))
        self.overflowed += int(bool(record.overflowed))
        self.escalated += int(bool(record.escalated))

    def merge(self, other: CellCounts) -> None:
        for name in COUNT_FIELDS:
            if name == "max_wait_seconds":
                self.max_wait_seconds = max(self.max_wait_seconds, other.max_wait_seconds)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        for name in ("wait_seconds_sum", "talk_seconds_sum", "max_wait_seconds"):
            values[name] = round(values[name], 3)
        return values


_OUTCOME_FIELDS: Final = {
    "answered": "answered",
    "abandoned_in_queue": "abandoned_in_queue",
    "abandoned_in_ivr": "abandoned_in_ivr",
    "referred": "referred",
    "failed": "failed",
}
COUNT_FIELDS: Final = tuple(f.name for f in fields(CellCounts))
MAXIMA: Final = ("max_wait_seconds",)


def fixed_service_level(seconds: int = DEFAULT_SERVICE_LEVEL_SECONDS) -> ServiceLevel:
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
        key = CellKey(
            interval_start(record.started_at, minutes), record.node, record.topic or "", record.queue or ""
        )
        cells.setdefault(key, CellCounts()).add(record, level)
    return cells
