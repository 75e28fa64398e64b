"""When a topic's queue is staffed: weekly hours, holidays and special days, in one time zone.

Pure domain logic, no I/O. The models are part of the document administrators edit (YAML or
JSON), so they validate strictly and every error says what is wrong and where; the error types
and messages are listed in :data:`ERRORS`.

Rules:

- Hours are local wall-clock times in ``Schedule.timezone``. A range includes its start and
  excludes its end; an end of ``24:00`` (stored as ``time(0)``) is the end of the day.
- For a local date the hours come from, in order: an exception for that date, a holiday
  (closed), the weekly hours. ``always_open`` beats all of them except an exception with
  ``closed: true``.
- Across DST changes the wall-clock rule still holds: a range that starts in a skipped hour opens
  at the first instant that exists after it; in a repeated hour a range applies both times.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Annotated, Any, Final, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = dt.time(0)
EN_DASH = "\u2013"

# Every validation error raised here: a stable type slug and its message template.
ERRORS: Final[dict[str, str]] = {
    "time_format": "{field} {value} is not a time of day: write 'HH:MM' from 00:00 to 23:59 "
    "(24:00 only as an end)",
    "time_type": "{field} must be a wall-clock time written 'HH:MM' (quote it in YAML), got {value}",
    "time_range_format": "time range {value} must look like 'HH:MM-HH:MM'",
    "time_range_order": "start {start} must be before end {end}; a range may not cross "
    "midnight, so split it at 24:00",
    "time_range_overlap": "overlapping hours on {where}: {first} and {second}",
    "weekday_unknown": "weekly key {key}: unknown weekday {name}; use mon, tue, wed, thu, fri, "
    "sat, sun, a range like 'mon-fri' or a list like 'sat,sun'",
    "weekday_range": "weekly key {key}: {part} is not a forward range of days like 'mon-fri' "
    "(write 'fri-sun,mon' to wrap round the week)",
    "date_type": "a date must be written 'YYYY-MM-DD', got {value}",
    "exception_closed_with_hours": "exception on {date} is closed, so it cannot also have hours",
    "exception_without_hours": "exception on {date} needs either 'closed: true' or its hours",
    "duplicate_date": "duplicate {what} {date}",
    "schedule_id": "schedule id {value} must be a lowercase slug: a letter, then letters, "
    "digits, '-' or '_' (at most 40)",
    "unknown_timezone": "unknown time zone {value}: use an IANA name such as 'Europe/Moscow'",
}

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_RANGE = re.compile(r"\s*([^\s\u2013-]+)\s*[\u2013-]\s*([^\s\u2013-]+)\s*")
_SLUG = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# Offsets are compared this often when looking for DST transitions (none are closer together).
_TRANSITION_STEP = dt.timedelta(hours=6)
_EXACT = dt.timedelta(microseconds=1)


def _invalid(error_type: str, **context: str) -> PydanticCustomError:
    return PydanticCustomError(error_type, ERRORS[error_type], context)


def _hhmm(clock: dt.time) -> str:
    return clock.strftime("%H:%M:%S" if clock.second else "%H:%M")


def _parse_clock(text: str, field: str) -> dt.time:
    match = _CLOCK.fullmatch(text.strip())
    hour, minute, second = (int(g or 0) for g in match.groups()) if match else (99, 0, 0)
    if field == "end" and (hour, minute, second) == (24, 0, 0):
        return MIDNIGHT
    if hour > 23 or minute > 59 or second > 59:
        raise _invalid("time_format", field=field, value=repr(text))
    return dt.time(hour, minute, second)


def _clock(value: object, field: str) -> dt.time:
    """A wall-clock time from 'HH:MM[:SS]' or a plain ``time``; never a number (YAML 1.1
    reads an unquoted 17:30 as the integer 1050, which pydantic would take as seconds)."""
    if isinstance(value, str):
        return _parse_clock(value, field)
    if isinstance(value, dt.time) and value.tzinfo is None and not value.microsecond:
        return value
    raise _invalid("time_type", field=field, value=repr(value))


class TimeRange(BaseModel):
    """Open from ``start`` (inclusive) to ``end`` (exclusive) on one day; given as
    ``{"start": "09:00", "end": "17:30"}`` or compactly as ``"09:00-17:30"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: dt.time
    end: dt.time

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data: Any) -> Any:
        if not isinstance(data, str):
            return data
        match = _RANGE.fullmatch(data)
        if match is None:
            raise _invalid("time_range_format", value=repr(data))
        return {"start": match[1], "end": match[2]}

    @field_validator("start", "end", mode="before")
    @classmethod
    def _wall_clock(cls, value: object, info: ValidationInfo) -> dt.time:
        return _clock(value, str(info.field_name))

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.ends_at_midnight and self.start >= self.end:
            raise _invalid("time_range_order", start=_hhmm(self.start), end=_hhmm(self.end))
        return self

    @model_serializer(when_used="json")
    def _as_text(self) -> str:
        return self.text()

    @property
    def ends_at_midnight(self) -> bool:
        return self.end == MIDNIGHT

    def contains(self, clock: dt.time) -> bool:
        return self.start <= clock and (self.ends_at_midnight or clock < self.end)

    def text(self, dash: str = "-") -> str:
        end = "24:00" if self.ends_at_midnight else _hhmm(self.end)
        return f"{_hhmm(self.start)}{dash}{end}"


FULL_DAY = TimeRange(start=MIDNIGHT, end=MIDNIGHT)


def _disjoint(ranges: Sequence[TimeRange], where: str) -> list[TimeRange]:
    """The ranges sorted by start; overlapping ones are an error naming ``where``."""
    ordered = sorted(ranges, key=lambda r: r.start)
    for one, other in pairwise(ordered):
        if one.ends_at_midnight or one.end > other.start:
            raise _invalid("time_range_overlap", where=where, first=one.text(), second=other.text())
    return ordered


def _weekday(name: str, key: str) -> Weekday:
    for day in WEEKDAYS:
        if day == name:
            return day
    raise _invalid("weekday_unknown", name=repr(name), key=repr(key))


def _day_span(part: str, key: str) -> tuple[Weekday, ...]:
    names = [_weekday(name.strip(), key) for name in part.split("-")]
    first, last = WEEKDAYS.index(names[0]), WEEKDAYS.index(names[-1])
    if len(names) > 2 or first > last:
        raise _invalid("weekday_range", part=repr(part.strip()), key=repr(key))
    return WEEKDAYS[first : last + 1]


def weekdays_of(key: str) -> tuple[Weekday, ...]:
    """The days a weekly key names: 'mon', 'mon-fri', 'sat,sun', 'mon-wed,fri'."""
    days = [day for part in key.split(",") for day in _day_span(part, key)]
    return tuple(dict.fromkeys(days))


def _day_key(key: str) -> str:
    weekdays_of(key)
    return key


def _merge_weekly(raw: dict[str, list[TimeRange]]) -> dict[Weekday, list[TimeRange]]:
    merged: dict[Weekday, list[TimeRange]] = {}
    for key, ranges in raw.items():
        for day in weekdays_of(key):
            merged.setdefault(day, []).extend(ranges)
    return {day: _disjoint(merged[day], day) for day in WEEKDAYS if day in merged}


def _weekly_schema(source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
    """Validate the keys as written (so an error points at 'mon-fri', once), then expand."""
    written = handler.generate_schema(dict[Annotated[str, AfterValidator(_day_key)], list[TimeRange]])
    expanded = handler.generate_schema(dict[Weekday, list[TimeRange]])
    return core_schema.no_info_after_validator_function(
        _merge_weekly,
        written,
        serialization=core_schema.wrap_serializer_function_ser_schema(
            lambda value, serialize: serialize(value), schema=expanded
        ),
    )


WeeklyHours = Annotated[dict[Weekday, list[TimeRange]], GetPydanticSchema(_weekly_schema)]


def _calendar_day(value: object) -> object:
    if isinstance(value, int | float):
        raise _invalid("date_type", value=repr(value))
    return value


Day = Annotated[dt.date, BeforeValidator(_calendar_day)]


class DateException(BaseModel):
    """A special day: either closed, or open these hours instead of the weekly ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: Day
    closed: bool = False
    hours: list[TimeRange] = []
    note: str = ""

    @field_validator("hours")
    @classmethod
    def _disjoint_hours(cls, hours: list[TimeRange], info: ValidationInfo) -> list[TimeRange]:
        return _disjoint(hours, str(info.data.get("date", "this date")))

    @model_validator(mode="after")
    def _closed_or_hours(self) -> Self:
        if self.closed and self.hours:
            raise _invalid("exception_closed_with_hours", date=self.date.isoformat())
        if not self.closed and not self.hours:
            raise _invalid("exception_without_hours", date=self.date.isoformat())
        return self


def _unique_dates(days: Sequence[dt.date], what: str) -> None:
    seen: set[dt.date] = set()
    for day in days:
        if day in seen:
            raise _invalid("duplicate_date", what=what, date=day.isoformat())
        seen.add(day)


class Schedule(BaseModel):
    """When one topic's queue is staffed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    timezone: str = "Europe/Moscow"
    always_open: bool = False
    weekly: WeeklyHours = {}
    holidays: list[Day] = []
    exceptions: list[DateException] = []

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.fullmatch(value):
            raise _invalid("schedule_id", value=repr(value))
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise _invalid("unknown_timezone", value=repr(value)) from None
        return value

    @field_validator("holidays")
    @classmethod
    def _unique_holidays(cls, value: list[dt.date]) -> list[dt.date]:
        _unique_dates(value, "holiday")
        return value

    @field_validator("exceptions")
    @classmethod
    def _unique_exceptions(cls, value: list[DateException]) -> list[DateException]:
        _unique_dates([e.date for e in value], "exception date")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def exception_on(self, day: dt.date) -> DateException | None:
        return next((e for e in self.exceptions if e.date == day), None)


def hours_on(schedule: Schedule, day: dt.date) -> list[TimeRange]:
    """The hours that apply on a local date, after exceptions, holidays and ``always_open``."""
    special = schedule.exception_on(day)
    if special is not None and special.closed:
        return []
    if schedule.always_open:
        return [FULL_DAY]
    if special is not None:
        return list(special.hours)
    if day in schedule.holidays:
        return []
    return list(schedule.weekly.get(WEEKDAYS[day.weekday()], []))


def _aware(at: dt.datetime, caller: str) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{caller} needs a timezone-aware datetime, got naive {at.isoformat()}")
    return at


def is_open(schedule: Schedule, at: dt.datetime) -> bool:
    """Whether the line is staffed at the instant ``at`` (which must be timezone-aware)."""
    local = _aware(at, "is_open").astimezone(schedule.zone)
    clock = local.time()
    return any(r.contains(clock) for r in hours_on(schedule, local.date()))


def next_change(schedule: Schedule, at: dt.datetime, horizon_days: int = 14) -> dt.datetime | None:
    """The first instant after ``at`` (in UTC) at which :func:`is_open` gives the other answer,
    or None if there is none within ``horizon_days`` days."""
    if horizon_days < 0:
        raise ValueError(f"horizon_days must not be negative, got {horizon_days}")
    start = _aware(at, "next_change").astimezone(dt.UTC)
    stop = start + dt.timedelta(days=horizon_days)
    open_now = is_open(schedule, start)
    for moment in _candidates(schedule, start, stop):
        if is_open(schedule, moment) != open_now:
            return moment
    return None


def _candidates(schedule: Schedule, start: dt.datetime, stop: dt.datetime) -> list[dt.datetime]:
    """Every instant in (start, stop] where the answer might change: each local midnight and
    range boundary (both readings of a repeated wall time) and each DST transition."""
    zone = schedule.zone
    moments = set(_transitions(zone, start, stop))
    for day in _local_days(zone, start, stop):
        for clock in _boundaries(schedule, day):
            moments.update(_instants(day, clock, zone))
    return sorted(m for m in moments if start < m <= stop)


def _local_days(zone: ZoneInfo, start: dt.datetime, stop: dt.datetime) -> Iterator[dt.date]:
    # A day either side, in case a zone ever turns its clocks back across midnight.
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    while day <= stop.astimezone(zone).date() + dt.timedelta(days=1):
        yield day
        day += dt.timedelta(days=1)


def _boundaries(schedule: Schedule, day: dt.date) -> set[dt.time]:
    clocks = {MIDNIGHT}
    for hours in hours_on(schedule, day):
        clocks.update((hours.start, hours.end))
    return clocks


def _instants(day: dt.date, clock: dt.time, zone: ZoneInfo) -> set[dt.datetime]:
    wall = dt.datetime.combine(day, clock, tzinfo=zone)
    return {wall.replace(fold=fold).astimezone(dt.UTC) for fold in (0, 1)}


def _transitions(zone: ZoneInfo, start: dt.datetime, stop: dt.datetime) -> Iterator[dt.datetime]:
    low = start
    while low < stop:
        high = min(low + _TRANSITION_STEP, stop)
        if low.astimezone(zone).utcoffset() != high.astimezone(zone).utcoffset():
            yield _bisect_transition(zone, low, high)
        low = high


def _bisect_transition(zone: ZoneInfo, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    """The first instant in (low, high] with high's UTC offset."""
    target = high.astimezone(zone).utcoffset()
    while high - low > _EXACT:
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high
