"""Exports on SQLite and PostgreSQL: the cells of kept and deleted records read once, small cells
merged or hidden, whole intervals in the configured time zone, the reports' names, the same
table in CSV and XLSX, clear errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from metrics.records.exceptions import InvalidExportRange
from metrics.records.export import COLUMNS, CallExporter, local_interval_start
from metrics.records.record import Outcome
from metrics.records.retention import Retention
from metrics.records.store import RecordStore
from tests.metrics.records.test_retention import call
from tests.xlsx import cells

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def crisis_and_legal(start: datetime, crisis: int, legal: int) -> list:  # type: ignore[type-arg]
    calls = [
        call(start + timedelta(seconds=10 * i), Outcome.ANSWERED, wait_seconds=float(i))
        for i in range(crisis)
    ]
    calls += [
        call(start + timedelta(seconds=5 * i), Outcome.REFERRED, topic="legal", queue=None, after_hours=True)
        for i in range(legal)
    ]
    return calls


def test_a_small_topic_is_merged_or_hidden(database: Engine) -> None:
    RecordStore(database).save_many(
        crisis_and_legal(T0, crisis=6, legal=2)
        + crisis_and_legal(T0 + timedelta(minutes=15), crisis=3, legal=2)
        + [call(T0 + timedelta(minutes=16), Outcome.ABANDONED_IN_IVR, topic=None, queue=None)]
    )
    export = CallExporter(database, k=5, clock=lambda: T0).export(T0, T0 + timedelta(minutes=30))
    rows = [(r["interval_start"], r["topic"], r["calls"]) for r in export.rows]
    assert rows == [
        ("2026-11-22T12:00:00+00:00", "crisis", 6),
        ("2026-11-22T12:15:00+00:00", "other", 6),  # crisis 3 + legal 2 + no topic 1
    ]
    assert (export.merged, export.hidden) == (4, 1)  # 12:00's legal (2 calls) alone: hidden
    crisis = export.rows[0]
    assert (
        crisis["answered"],
        crisis["offered"],
        crisis["wait_seconds_sum"],
        crisis["longest_wait_seconds"],
    ) == (
        6,
        6,
        15.0,
        5.0,
    )
    other = export.rows[1]
    assert (other["answered"], other["referred"], other["after_hours"], other["abandoned_in_ivr"]) == (
        3,
        2,
        2,
        1,
    )


def test_kept_and_deleted_records_are_read_once_from_the_cells(database: Engine) -> None:
    retired = crisis_and_legal(T0, crisis=4, legal=0)
    kept = crisis_and_legal(T0 + timedelta(minutes=20), crisis=3, legal=0)
    RecordStore(database).save_many(retired + kept)
    now = T0 + timedelta(days=400, minutes=15)  # the cutoff: 12:15, 400 days before
    assert Retention(database, timedelta(days=400), clock=lambda: now).run_once().records == 4
    RecordStore(database).save_many(retired + kept)  # saved again: retired refused, kept replaced
    assert len(RecordStore(database).list()) == 3
    exporter = CallExporter(database, k=5, clock=lambda: now)
    [hour] = exporter.export(T0, T0 + timedelta(hours=1), interval_minutes=60).rows
    assert (hour["interval_start"], hour["topic"], hour["calls"], hour["answered"]) == (
        "2026-11-22T12:00:00+00:00",
        "crisis",
        7,
        7,
    )
    assert hour["longest_wait_seconds"] == 3.0
    quarters = exporter.export(T0, T0 + timedelta(hours=1), interval_minutes=15)
    assert quarters.rows == [] and quarters.hidden == 2  # 4 and 3 calls: each under k


def test_the_period_widens_to_whole_intervals_and_naive_times_are_utc(database: Engine) -> None:
    RecordStore(database).save_many(
        crisis_and_legal(T0 + timedelta(minutes=59, seconds=30), crisis=5, legal=0)
    )
    exporter = CallExporter(database, k=1, clock=lambda: T0)
    export = exporter.export(datetime(2026, 11, 22, 12, 50), datetime(2026, 11, 22, 13, 1), 15)
    assert (export.since, export.until) == (T0 + timedelta(minutes=45), T0 + timedelta(minutes=75))
    assert [r["calls"] for r in export.rows] == [3, 2]  # 12:59:30, :40, :50; 13:00:00, :10
    day = exporter.export(T0, T0 + timedelta(hours=1), 1440)
    assert day.since == datetime(2026, 11, 22, tzinfo=UTC) and [r["calls"] for r in day.rows] == [5]


def test_csv_has_a_header_and_one_line_per_cell(database: Engine) -> None:
    RecordStore(database).save_many(crisis_and_legal(T0, crisis=5, legal=5))
    export = CallExporter(database, k=5, clock=lambda: T0).export(T0, T0 + timedelta(minutes=15))
    rows = list(csv.DictReader(io.StringIO(export.as_csv())))
    assert [(r["topic"], r["calls"], r["referred"]) for r in rows] == [
        ("crisis", "5", "0"),
        ("legal", "5", "5"),
    ]
    assert list(rows[0])[:4] == ["interval_start", "topic", "calls", "offered"]
    assert "call_id" not in export.as_csv() and "id" not in rows[0]


@pytest.mark.parametrize(
    ("since", "until", "minutes", "message"),
    [
        (T0, T0, 15, "since must be before until"),
        (T0 + timedelta(hours=1), T0, 15, "since must be before until"),
        (T0, T0 + timedelta(hours=1), 10, "interval_minutes must be one of 15, 30, 60, 1440"),
        (T0 - timedelta(days=600), T0, 15, "more than 50000 intervals"),
    ],
)
def test_bad_periods_are_refused_with_what_and_where(
    database: Engine, since: datetime, until: datetime, minutes: int, message: str
) -> None:
    with pytest.raises(InvalidExportRange, match=message) as caught:
        CallExporter(database, k=5, clock=lambda: T0).export(since, until, minutes)
    assert caught.value.error_id == "invalid_export_range" and caught.value.details


def test_xlsx_holds_the_csvs_table_cell_for_cell(database: Engine) -> None:
    RecordStore(database).save_many(crisis_and_legal(T0, crisis=6, legal=5))
    export = CallExporter(database, k=5, clock=lambda: T0).export(T0, T0 + timedelta(minutes=30))
    table = cells(export.as_xlsx())
    assert table == list(csv.reader(io.StringIO(export.as_csv())))
    assert table[0] == list(COLUMNS) and len(table) == 3


def test_a_measure_the_reports_give_has_their_name_and_meaning(database: Engine) -> None:
    """offered counts a call answered in a queue without a queue stamp, as the reports do."""
    unstamped = call(T0, Outcome.ANSWERED, queue_entered_at=None, wait_seconds=2.0)
    stamped = [call(T0 + timedelta(seconds=i), Outcome.ANSWERED, wait_seconds=9.0) for i in range(2)]
    RecordStore(database).save_many([unstamped, *stamped])
    [row] = CallExporter(database, k=1, clock=lambda: T0).export(T0, T0 + timedelta(minutes=15)).rows
    assert (row["offered"], row["answered"], row["abandoned"], row["longest_wait_seconds"]) == (3, 3, 0, 9.0)
    assert row["answered_within_threshold"] == 3  # each within the default 20 s
    old = {"abandoned_in_queue", "answered_within_sl", "max_wait_seconds", "start"}
    assert not old & set(COLUMNS) and {"interval_start", "offered", "answered", "abandoned"} <= set(COLUMNS)


def test_intervals_and_naive_times_are_in_the_configured_time_zone(database: Engine) -> None:
    """Moscow (UTC+3): 22:30 UTC on the 22nd is 01:30 on the 23rd, a day of its own."""
    late = T0.replace(hour=22, minute=30)
    RecordStore(database).save_many(crisis_and_legal(T0, 2, 0) + crisis_and_legal(late, 3, 0))
    exporter = CallExporter(database, k=1, timezone="Europe/Moscow", clock=lambda: late)
    days = exporter.export(datetime(2026, 11, 22), datetime(2026, 11, 24), 1440)
    assert [(r["interval_start"], r["calls"]) for r in days.rows] == [
        ("2026-11-22T00:00:00+03:00", 2),
        ("2026-11-23T00:00:00+03:00", 3),
    ]
    assert days.as_json()["timezone"] == "Europe/Moscow"
    hours = exporter.export(datetime(2026, 11, 23, 1, 10), datetime(2026, 11, 23, 1, 50), 60)
    assert hours.since == datetime(2026, 11, 23, 1, tzinfo=ZoneInfo("Europe/Moscow"))
    assert [(r["interval_start"], r["calls"]) for r in hours.rows] == [("2026-11-23T01:00:00+03:00", 3)]
    assert cells(hours.as_xlsx())[1][0] == "2026-11-23T01:00:00+03:00"


def test_local_intervals_across_a_clock_change_keep_the_repeated_hour_apart() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 2026-10-25 03:00 CEST becomes 02:00 CET
    first, second = datetime(2026, 10, 25, 0, 40, tzinfo=UTC), datetime(2026, 10, 25, 1, 40, tzinfo=UTC)
    starts = [local_interval_start(at, 30, berlin).isoformat() for at in (first, second)]
    assert starts == ["2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"]
    assert local_interval_start(second, 1440, berlin).isoformat() == "2026-10-25T00:00:00+02:00"
