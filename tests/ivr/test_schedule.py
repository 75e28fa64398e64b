# describe() writes en dashes, and the expected texts here spell them out.
# ruff: noqa: RUF001
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ivr.schedule import (
    FULL_DAY,
    Schedule,
    TimeRange,
    hours_on,
    is_open,
    next_change,
    weekdays_of,
)
from ivr.schedule_text import describe

UTC = dt.UTC
MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def _at(zone: dt.tzinfo, y: int, mo: int, d: int, h: int, mi: int, s: int, us: int) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, s, us, tzinfo=zone)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> dt.datetime:
    return _at(UTC, y, mo, d, h, mi, s, us)


def msk(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> dt.datetime:
    return _at(MOSCOW, y, mo, d, h, mi, s, us)


def schedule(**fields: Any) -> Schedule:
    return Schedule.model_validate({"id": "crisis", **fields})


# Mon-Fri 09:00-21:00, Sat 10:00-16:00 in Moscow; 2026-01-01 and 02 (Thu, Fri) are holidays.
CRISIS = schedule(
    weekly={"mon-fri": ["09:00-21:00"], "sat": ["10:00-16:00"]},
    holidays=["2026-01-01", "2026-01-02"],
)


def only_error(data: dict[str, Any]) -> tuple[tuple[int | str, ...], str]:
    with pytest.raises(ValidationError) as caught:
        Schedule.model_validate({"id": "crisis", **data})
    errors = caught.value.errors()
    assert len(errors) == 1, errors
    return errors[0]["loc"], errors[0]["msg"]


# --- weekly hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (msk(2026, 3, 2, 8, 59, 59, 999999), False),  # Monday, just before opening
        (msk(2026, 3, 2, 9, 0), True),  # start is inclusive
        (msk(2026, 3, 2, 20, 59, 59, 999999), True),
        (msk(2026, 3, 2, 21, 0), False),  # end is exclusive
        (msk(2026, 3, 7, 10, 0), True),  # Saturday
        (msk(2026, 3, 7, 16, 0), False),
        (msk(2026, 3, 8, 12, 0), False),  # Sunday: no hours
    ],
)
def test_weekly_boundaries_start_inclusive_end_exclusive(at: dt.datetime, expected: bool) -> None:
    assert is_open(CRISIS, at) is expected


def test_24_00_is_the_end_of_the_day() -> None:
    night = schedule(weekly={"sun": ["22:00-24:00"], "mon": ["00:00-06:00"]})
    assert night.weekly["sun"][0].end == dt.time(0)
    assert is_open(night, msk(2026, 3, 1, 23, 59, 59, 999999))
    assert is_open(night, msk(2026, 3, 2, 0, 0))  # Monday's own range takes over
    assert not is_open(night, msk(2026, 3, 2, 6, 0))
    assert not is_open(night, msk(2026, 3, 1, 21, 59))


def test_a_whole_day_is_00_00_to_24_00() -> None:
    line = schedule(weekly={"wed": ["00:00-24:00"]})
    assert line.weekly["wed"] == [FULL_DAY]
    assert is_open(line, msk(2026, 3, 4, 0, 0))
    assert is_open(line, msk(2026, 3, 4, 23, 59, 59, 999999))
    assert not is_open(line, msk(2026, 3, 5, 0, 0))


def test_mon_fri_expands_to_each_weekday() -> None:
    nine_to_nine = TimeRange(start=dt.time(9), end=dt.time(21))
    assert list(CRISIS.weekly) == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert all(CRISIS.weekly[day] == [nine_to_nine] for day in ("mon", "tue", "wed", "thu", "fri"))
    assert is_open(CRISIS, msk(2026, 3, 6, 9, 0))  # Friday


@pytest.mark.parametrize(
    ("key", "days"),
    [
        ("mon", ("mon",)),
        ("mon-fri", ("mon", "tue", "wed", "thu", "fri")),
        ("sat,sun", ("sat", "sun")),
        ("mon-wed, fri", ("mon", "tue", "wed", "fri")),
        ("sun-sun", ("sun",)),
    ],
)
def test_weekday_keys(key: str, days: tuple[str, ...]) -> None:
    assert weekdays_of(key) == days


def test_keys_naming_the_same_day_add_up_and_are_sorted() -> None:
    split = schedule(weekly={"mon-fri": ["14:00-18:00"], "mon,wed": ["09:00-13:00"]})
    assert [r.text() for r in split.weekly["mon"]] == ["09:00-13:00", "14:00-18:00"]
    assert [r.text() for r in split.weekly["tue"]] == ["14:00-18:00"]
    assert not is_open(split, msk(2026, 3, 3, 10, 0))  # Tuesday morning
    assert is_open(split, msk(2026, 3, 4, 10, 0))  # Wednesday morning


def test_touching_ranges_are_not_an_overlap() -> None:
    line = schedule(weekly={"mon": ["09:00-12:00", "12:00-15:00"]})
    assert is_open(line, msk(2026, 3, 2, 12, 0))
    assert next_change(line, msk(2026, 3, 2, 10, 0)) == utc(2026, 3, 2, 12, 0)  # 15:00 MSK


def test_time_range_accepts_both_forms_and_an_en_dash() -> None:
    expected = TimeRange(start=dt.time(9), end=dt.time(17, 30))
    assert TimeRange.model_validate("09:00-17:30") == expected
    assert TimeRange.model_validate(" 9:00 \u2013 17:30 ") == expected
    assert TimeRange.model_validate({"start": "09:00", "end": "17:30"}) == expected
    assert TimeRange.model_validate({"start": dt.time(9), "end": dt.time(17, 30)}) == expected


# --- holidays and exceptions ------------------------------------------------------------------


def test_a_holiday_closes_a_weekday() -> None:
    assert not is_open(CRISIS, msk(2026, 1, 1, 12, 0))  # Thursday, holiday
    assert is_open(CRISIS, msk(2026, 1, 8, 12, 0))  # the next Thursday


def test_exception_hours_replace_the_weekly_hours() -> None:
    line = schedule(
        weekly={"mon-fri": ["09:00-21:00"]},
        exceptions=[{"date": "2026-03-04", "hours": ["12:00-14:00"], "note": "training"}],
    )
    assert not is_open(line, msk(2026, 3, 4, 10, 0))
    assert is_open(line, msk(2026, 3, 4, 12, 0))
    assert not is_open(line, msk(2026, 3, 4, 14, 0))
    assert is_open(line, msk(2026, 3, 5, 10, 0))  # the day after is normal again


def test_an_exception_opens_a_holiday_and_a_closed_exception_shuts_a_weekday() -> None:
    line = schedule(
        weekly={"mon-fri": ["09:00-21:00"]},
        holidays=["2026-01-01"],
        exceptions=[
            {"date": "2026-01-01", "hours": ["10:00-14:00"]},
            {"date": "2026-03-03", "closed": True},
        ],
    )
    assert is_open(line, msk(2026, 1, 1, 11, 0))
    assert not is_open(line, msk(2026, 1, 1, 9, 30))
    assert not is_open(line, msk(2026, 3, 3, 12, 0))
    assert hours_on(line, dt.date(2026, 3, 3)) == []


def test_always_open_yields_only_to_a_closed_exception() -> None:
    line = schedule(
        always_open=True,
        weekly={"mon": ["09:00-10:00"]},
        holidays=["2026-01-01"],
        exceptions=[
            {"date": "2026-03-08", "closed": True},
            {"date": "2026-03-09", "hours": ["09:00-10:00"]},
        ],
    )
    assert is_open(line, msk(2026, 1, 1, 3, 0))  # holiday: still open
    assert is_open(line, msk(2026, 3, 2, 3, 0))  # weekly hours ignored
    assert is_open(line, msk(2026, 3, 9, 3, 0))  # exception hours ignored
    assert is_open(line, msk(2026, 3, 7, 23, 59, 59))
    assert not is_open(line, msk(2026, 3, 8, 0, 0))
    assert not is_open(line, msk(2026, 3, 8, 23, 59, 59))
    assert next_change(line, msk(2026, 3, 7, 12, 0)) == utc(2026, 3, 7, 21, 0)
    assert next_change(line, msk(2026, 3, 8, 12, 0)) == utc(2026, 3, 8, 21, 0)
    assert next_change(line, msk(2026, 3, 9, 12, 0)) is None


# --- time zones -------------------------------------------------------------------------------


def test_the_local_date_decides_not_the_utc_date() -> None:
    monday_night = schedule(weekly={"mon": ["00:00-06:00"]})
    sunday_only = schedule(weekly={"sun": ["00:00-24:00"]})
    at = utc(2026, 3, 1, 22, 30)  # Sunday 22:30 UTC = Monday 01:30 in Moscow
    assert at.weekday() == 6
    assert is_open(monday_night, at)
    assert not is_open(sunday_only, at)
    assert is_open(monday_night, at.astimezone(ZoneInfo("America/New_York")))


def test_hours_are_in_the_schedules_zone() -> None:
    berlin = schedule(timezone="Europe/Berlin", weekly={"mon": ["09:00-17:00"]})
    assert not is_open(berlin, utc(2026, 3, 2, 7, 59))  # 08:59 CET
    assert is_open(berlin, utc(2026, 3, 2, 8, 0))
    assert is_open(CRISIS, utc(2026, 3, 2, 6, 0))  # 09:00 MSK


@pytest.mark.parametrize("call", [is_open, next_change])
def test_a_naive_datetime_is_refused(call: Any) -> None:
    with pytest.raises(ValueError) as caught:
        call(CRISIS, dt.datetime(2026, 3, 2, 10, 0))
    name = call.__name__
    assert str(caught.value) == (f"{name} needs a timezone-aware datetime, got naive 2026-03-02T10:00:00")


# --- DST (Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00) ---------------


def test_a_range_starting_in_the_spring_gap_opens_at_the_first_real_instant() -> None:
    line = schedule(timezone="Europe/Berlin", weekly={"sun": ["02:30-04:00"]})
    assert not is_open(line, utc(2026, 3, 29, 0, 59, 59))  # 01:59:59 CET
    assert is_open(line, utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert next_change(line, utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 1, 0)
    assert next_change(line, utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 2, 0)  # 04:00 CEST


def test_a_range_wholly_inside_the_gap_never_opens() -> None:
    line = schedule(timezone="Europe/Berlin", weekly={"sun": ["02:10-02:40"]})
    assert next_change(line, utc(2026, 3, 28, 12, 0), horizon_days=1) is None
    assert next_change(line, utc(2026, 3, 28, 12, 0), horizon_days=8) == utc(2026, 4, 5, 0, 10)


def test_wall_clock_hours_shift_in_utc_across_the_change() -> None:
    daily = schedule(timezone="Europe/Berlin", weekly={"mon-sun": ["09:00-17:00"]})
    assert next_change(daily, utc(2026, 3, 28, 17, 0)) == utc(2026, 3, 29, 7, 0)
    assert next_change(daily, utc(2026, 10, 24, 16, 0)) == utc(2026, 10, 25, 8, 0)


def test_a_range_in_the_repeated_autumn_hour_applies_both_times() -> None:
    line = schedule(timezone="Europe/Berlin", weekly={"sun": ["02:00-02:30"]})
    changes = []
    at = utc(2026, 10, 24, 23, 0)
    for _ in range(4):
        found = next_change(line, at)
        assert found is not None
        changes.append(found)
        at = found
    assert changes == [utc(2026, 10, 25, h, m) for h, m in ((0, 0), (0, 30), (1, 0), (1, 30))]
    assert [is_open(line, c) for c in changes] == [True, False, True, False]
    assert changes[2].astimezone(BERLIN).fold == 1


# --- next_change ------------------------------------------------------------------------------


def test_next_change_tells_when_a_closed_line_opens_in_utc() -> None:
    found = next_change(CRISIS, msk(2026, 3, 6, 21, 0))  # Friday evening
    assert found == utc(2026, 3, 7, 7, 0)  # Saturday 10:00 MSK
    assert found is not None and found.tzinfo is UTC
    assert found.astimezone(MOSCOW).strftime("%a %H:%M") == "Sat 10:00"


def test_next_change_tells_when_an_open_line_closes() -> None:
    assert next_change(CRISIS, msk(2026, 3, 2, 9, 0)) == utc(2026, 3, 2, 18, 0)


def test_next_change_skips_holidays() -> None:
    # Wednesday 2025-12-31 21:00; Thu and Fri are holidays, Saturday opens at 10:00.
    assert next_change(CRISIS, msk(2025, 12, 31, 21, 0)) == utc(2026, 1, 3, 7, 0)


def test_next_change_gives_none_past_the_horizon() -> None:
    saturday = schedule(weekly={"sat": ["10:00-16:00"]})
    sunday = msk(2026, 3, 8, 10, 0)
    assert next_change(saturday, sunday, horizon_days=5) is None
    # Saturday 10:00 is exactly six days on: the horizon's last instant still counts.
    assert next_change(saturday, sunday, horizon_days=6) == utc(2026, 3, 14, 7, 0)
    assert next_change(saturday, sunday, horizon_days=0) is None
    assert next_change(schedule(), sunday) is None
    assert next_change(schedule(always_open=True), sunday) is None
    with pytest.raises(ValueError, match=r"^horizon_days must not be negative, got -1$"):
        next_change(saturday, sunday, horizon_days=-1)


# --- describe ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (
            {
                "weekly": {"mon-fri": ["09:00-21:00"], "sat": ["10:00-16:00"]},
                "holidays": ["2026-01-01", "2026-01-07"],
            },
            "Mon–Fri 09:00–21:00, Sat 10:00–16:00 (Europe/Moscow); 2 holidays",
        ),
        (
            {"timezone": "Europe/Berlin", "weekly": {"mon-sun": ["09:00-13:00", "14:00-18:00"]}},
            "Daily 09:00–13:00 & 14:00–18:00 (Europe/Berlin)",
        ),
        (
            {"weekly": {"mon,wed": ["09:00-12:00"], "sat-sun": ["22:00-24:00"]}},
            "Mon 09:00–12:00, Wed 09:00–12:00, Sat–Sun 22:00–24:00 (Europe/Moscow)",
        ),
        (
            {"always_open": True, "exceptions": [{"date": "2026-03-08", "closed": True}]},
            "24/7 (Europe/Moscow); closed on 1 day",
        ),
        (
            {
                "timezone": "UTC",
                "holidays": ["2026-01-01"],
                "exceptions": [{"date": "2026-03-08", "hours": ["10:00-12:00"]}],
            },
            "Closed (UTC); 1 holiday, 1 special day",
        ),
    ],
)
def test_describe(fields: dict[str, Any], text: str) -> None:
    assert describe(schedule(**fields)) == text


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "loc", "msg"),
    [
        (
            {"timezone": "Europe/Moskva"},
            ("timezone",),
            "unknown time zone 'Europe/Moskva': use an IANA name such as 'Europe/Moscow'",
        ),
        (
            {"timezone": "/etc/localtime"},
            ("timezone",),
            "unknown time zone '/etc/localtime': use an IANA name such as 'Europe/Moscow'",
        ),
        (
            {"weekly": {"mon-fri": ["09:00-12:00"], "wed": ["11:00-13:00"]}},
            ("weekly",),
            "overlapping hours on wed: 09:00-12:00 and 11:00-13:00",
        ),
        (
            {"weekly": {"sun": ["20:00-24:00", "23:00-23:30"]}},
            ("weekly",),
            "overlapping hours on sun: 20:00-24:00 and 23:00-23:30",
        ),
        (
            {"weekly": {"mon-fri": ["22:00-06:00"]}},
            ("weekly", "mon-fri", 0),
            "start 22:00 must be before end 06:00; a range may not cross midnight, so split it at 24:00",
        ),
        (
            {"weekly": {"mon": ["09:00-09:00"]}},
            ("weekly", "mon", 0),
            "start 09:00 must be before end 09:00; a range may not cross midnight, so split it at 24:00",
        ),
        (
            {"weekly": {"monday-fri": ["09:00-17:00"]}},
            ("weekly", "monday-fri", "[key]"),
            "weekly key 'monday-fri': unknown weekday 'monday'; use mon, tue, wed, thu, fri, "
            "sat, sun, a range like 'mon-fri' or a list like 'sat,sun'",
        ),
        (
            {"weekly": {"sat,sun-mon": ["09:00-17:00"]}},
            ("weekly", "sat,sun-mon", "[key]"),
            "weekly key 'sat,sun-mon': 'sun-mon' is not a forward range of days like "
            "'mon-fri' (write 'fri-sun,mon' to wrap round the week)",
        ),
        (
            {"weekly": {"mon": ["9 to 5"]}},
            ("weekly", "mon", 0),
            "time range '9 to 5' must look like 'HH:MM-HH:MM'",
        ),
        (
            {"weekly": {"mon": ["09:00-24:30"]}},
            ("weekly", "mon", 0, "end"),
            "end '24:30' is not a time of day: write 'HH:MM' from 00:00 to 23:59 (24:00 only as an end)",
        ),
        (
            {"weekly": {"mon": ["24:00-24:00"]}},
            ("weekly", "mon", 0, "start"),
            "start '24:00' is not a time of day: write 'HH:MM' from 00:00 to 23:59 (24:00 only as an end)",
        ),
        (  # what PyYAML's default loader makes of an unquoted 17:30; not 00:17:30
            {"weekly": {"mon": [{"start": "09:00", "end": 1050}]}},
            ("weekly", "mon", 0, "end"),
            "end must be a wall-clock time written 'HH:MM' (quote it in YAML), got 1050",
        ),
        (
            {"exceptions": [{"date": "2026-05-09", "closed": True}] * 2},
            ("exceptions",),
            "duplicate exception date 2026-05-09",
        ),
        (
            {"holidays": ["2026-01-01", "2026-01-01"]},
            ("holidays",),
            "duplicate holiday 2026-01-01",
        ),
        (
            {"holidays": [20260101]},
            ("holidays", 0),
            "a date must be written 'YYYY-MM-DD', got 20260101",
        ),
        (
            {"exceptions": [{"date": "2026-05-09", "closed": True, "hours": ["10:00-12:00"]}]},
            ("exceptions", 0),
            "exception on 2026-05-09 is closed, so it cannot also have hours",
        ),
        (
            {"exceptions": [{"date": "2026-05-09"}]},
            ("exceptions", 0),
            "exception on 2026-05-09 needs either 'closed: true' or its hours",
        ),
        (
            {"exceptions": [{"date": "2026-05-09", "hours": ["10:00-12:00", "11:00-13:00"]}]},
            ("exceptions", 0, "hours"),
            "overlapping hours on 2026-05-09: 10:00-12:00 and 11:00-13:00",
        ),
        (
            {"always_open": True, "open": True},
            ("open",),
            "Extra inputs are not permitted",
        ),
    ],
)
def test_validation_errors_say_what_and_where(
    data: dict[str, Any], loc: tuple[int | str, ...], msg: str
) -> None:
    assert only_error(data) == (loc, msg)


def test_schedule_id_must_be_a_lowercase_slug() -> None:
    with pytest.raises(ValidationError) as caught:
        Schedule(id="Crisis Line")
    assert caught.value.errors()[0]["msg"] == (
        "schedule id 'Crisis Line' must be a lowercase slug: a letter, then letters, "
        "digits, '-' or '_' (at most 40)"
    )


def test_a_bad_range_under_a_day_range_key_is_reported_once() -> None:
    with pytest.raises(ValidationError) as caught:
        schedule(weekly={"mon-sun": ["18:00-09:00"]})
    assert caught.value.error_count() == 1
    assert caught.value.errors()[0]["type"] == "time_range_order"


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        CRISIS.always_open = True  # type: ignore[misc]


# --- the document administrators edit ---------------------------------------------------------

DOCUMENT = """
id: crisis
timezone: Europe/Berlin
weekly:
  mon-fri: ["09:00-13:00", "14:00-21:00"]
  sat,sun:
    - start: "10:00"
      end: "16:00"
holidays: [2026-01-01, 2026-12-25]
exceptions:
  - date: 2026-12-24
    hours: ["10:00-14:00"]
    note: Christmas Eve
  - date: 2026-12-31
    closed: true
"""


def test_a_yaml_document_loads_and_round_trips_through_json() -> None:
    line = Schedule.model_validate(yaml.safe_load(DOCUMENT))
    assert describe(line) == (
        "Mon–Fri 09:00–13:00 & 14:00–21:00, Sat–Sun 10:00–16:00 (Europe/Berlin); 2 holidays, 2 special days"
    )
    assert is_open(line, utc(2026, 12, 24, 12, 59)) and not is_open(line, utc(2026, 12, 24, 13, 0))
    assert '"mon":["09:00-13:00","14:00-21:00"]' in line.model_dump_json()
    assert Schedule.model_validate_json(line.model_dump_json()) == line
    assert Schedule.model_validate(line.model_dump()) == line


# --- property: next_change agrees with is_open ------------------------------------------------

# Each zone's 2026 DST changes (UTC); zones without DST get an ordinary summer instant.
CHANGES = [
    ("Europe/Berlin", utc(2026, 3, 29, 1)),
    ("Europe/Berlin", utc(2026, 10, 25, 1)),
    ("America/New_York", utc(2026, 3, 8, 7)),
    ("America/New_York", utc(2026, 11, 1, 6)),
    ("America/Santiago", utc(2026, 4, 5, 3)),  # 24:00 -> 23:00 on Saturday 04-04
    ("America/Santiago", utc(2026, 9, 6, 4)),  # 00:00 -> 01:00: Sunday has no midnight
    ("Australia/Lord_Howe", utc(2026, 4, 4, 15)),  # 30-minute DST: 02:00 -> 01:30
    ("Australia/Lord_Howe", utc(2026, 10, 3, 15, 30)),  # 02:00 -> 02:30
    ("Europe/Moscow", utc(2026, 6, 15)),
    ("Asia/Kathmandu", utc(2026, 6, 15)),  # +05:45
]
HORIZON_DAYS = 2
GRID = dt.timedelta(minutes=15)  # every boundary and offset here falls on a UTC quarter hour


def _slot(index: int) -> str:
    return f"{index // 2:02d}:{index % 2 * 30:02d}"


def _slots_near(zone: ZoneInfo, change: dt.datetime) -> st.SearchStrategy[int]:
    """Half-hour slots of the day, often next to the wall times either side of the change."""
    walls = [(change + d).astimezone(zone) for d in (-dt.timedelta(microseconds=1), dt.timedelta())]
    near = [w.hour * 2 + w.minute // 30 for w in walls]
    return st.one_of(*(st.integers(max(0, n - 1), min(48, n + 2)) for n in near), st.integers(0, 48))


@st.composite
def day_hours(draw: st.DrawFn, slots: st.SearchStrategy[int]) -> list[str]:
    cuts = sorted(draw(st.sets(slots, max_size=4)))
    return [f"{_slot(a)}-{_slot(b)}" for a, b in zip(cuts[0::2], cuts[1::2], strict=False)]


@st.composite
def scenarios(draw: st.DrawFn, zone: str, change: dt.datetime) -> tuple[Schedule, dt.datetime]:
    hours = day_hours(_slots_near(ZoneInfo(zone), change))
    # Mostly shortly before the change, so that it falls inside the horizon.
    seconds = st.one_of(st.integers(-3 * 3600, 3600), st.integers(-HORIZON_DAYS * 86400, 86400))
    at = change + dt.timedelta(seconds=draw(seconds))
    near = st.integers(-1, HORIZON_DAYS + 1).map(lambda n: at.date() + dt.timedelta(days=n))
    special = st.one_of(
        st.fixed_dictionaries({"date": near, "closed": st.just(True)}),
        st.fixed_dictionaries({"date": near, "hours": hours.filter(bool)}),
    )
    data = {
        "id": "prop",
        "timezone": zone,
        "always_open": draw(st.integers(0, 4)) == 0,
        "weekly": {key: draw(hours) for key in ("mon", "tue-thu", "fri", "sat,sun")},
        "holidays": draw(st.lists(near, max_size=1)),
        "exceptions": draw(st.lists(special, max_size=2, unique_by=lambda e: e["date"])),
    }
    return Schedule.model_validate(data), at


def scanned_flips(line: Schedule, at: dt.datetime, stop: dt.datetime) -> list[dt.datetime]:
    """Every instant in (at, stop] where is_open flips, found by brute force: the answer is
    constant between quarter-hour grid points, so checking them all is exhaustive."""
    flips, state = [], is_open(line, at)
    moment = at.replace(minute=at.minute // 15 * 15, second=0, microsecond=0) + GRID
    while moment <= stop:
        if is_open(line, moment) != state:
            flips.append(moment)
            state = not state
        moment += GRID
    return flips


def chained_changes(line: Schedule, at: dt.datetime, stop: dt.datetime) -> list[dt.datetime]:
    changes: list[dt.datetime] = []
    found = next_change(line, at, horizon_days=HORIZON_DAYS)
    while found is not None and found <= stop:
        assert found.tzinfo is UTC
        changes.append(found)
        found = next_change(line, found, horizon_days=HORIZON_DAYS)
    return changes


@pytest.mark.parametrize(("zone", "change"), CHANGES, ids=[f"{z}-{c:%m-%d}" for z, c in CHANGES])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_no_flip_between_an_instant_and_its_next_change(
    zone: str, change: dt.datetime, data: st.DataObject
) -> None:
    line, at = data.draw(scenarios(zone, change))
    stop = at + dt.timedelta(days=HORIZON_DAYS)
    # No flip strictly between an instant and its next_change, and none is missed.
    assert chained_changes(line, at, stop) == scanned_flips(line, at, stop)
