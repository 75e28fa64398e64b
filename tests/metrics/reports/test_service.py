"""Reports computed in SQL against known answers and against the same report computed record by
record, on a real SQLite file and a real PostgreSQL server (migrations applied)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome
from metrics.records.store import RecordStore
from metrics.reports.service import (
    Dimension,
    Interval,
    ReportQuery,
    ReportRangeError,
    ReportService,
    ReportTimezoneError,
    offset_segments,
    zone,
)
from tests.databases import migrated_postgres, migrated_sqlite
from tests.metrics.reports.oracle import rows_from_records

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
LEVELS = ServiceLevels({"main": 20, "crisis": 10})


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = migrated_sqlite(tmp_path_factory.mktemp("reports"))
        yield eng
        eng.dispose()
    else:
        yield from migrated_postgres()


@pytest.fixture
def store(engine: Engine) -> Iterator[RecordStore]:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM call_records"))
        conn.execute(text("DELETE FROM call_intervals"))
    yield RecordStore(engine)


def call(
    at: datetime, queue: str | None, outcome: Outcome, wait: float | None = None, **kw: object
) -> CallRecord:
    entered = at + timedelta(seconds=8) if queue and outcome is not Outcome.ABANDONED_IN_IVR else None
    return CallRecord(
        id=uuid.uuid4().hex,
        node="local",
        call_id=uuid.uuid4().hex,
        started_at=at,
        queue_entered_at=entered,
        queue=queue,
        topic=kw.pop("topic", queue),  # type: ignore[arg-type]
        outcome=outcome,
        wait_seconds=wait,
        **kw,  # type: ignore[arg-type]
    )


def known_calls() -> list[CallRecord]:
    first = [
        call(T0 + timedelta(minutes=1), "main", Outcome.ANSWERED, 5, talk_seconds=100, wrapup_seconds=20),
        call(T0 + timedelta(minutes=2), "main", Outcome.ANSWERED, 25, talk_seconds=200),
        call(T0 + timedelta(minutes=3), "main", Outcome.ABANDONED_IN_QUEUE, 3),
        call(
            T0 + timedelta(minutes=29, seconds=59, microseconds=999_000),
            "main",
            Outcome.ABANDONED_IN_QUEUE,
            40,
        ),
        call(T0 + timedelta(minutes=4), None, Outcome.ABANDONED_IN_IVR),  # never offered
        call(T0 + timedelta(minutes=5), None, Outcome.REFERRED),  # never offered
    ]
    second = [
        call(T0 + timedelta(minutes=30), "crisis", Outcome.ANSWERED, 10, talk_seconds=60),  # exactly T
        call(
            T0 + timedelta(minutes=45), "crisis", Outcome.ANSWERED, 10.5, talk_seconds=90, wrapup_seconds=30
        ),
    ]
    return first + second


def test_known_answers_per_interval(store: RecordStore, engine: Engine) -> None:
    store.save_many(known_calls())
    report = ReportService(engine, lambda: LEVELS).report(
        ReportQuery(T0, T0 + timedelta(hours=1), Interval.M30, group_by=(Dimension.QUEUE,))
    )
    first, second = report.rows
    assert (first.start, first.queue, second.start, second.queue) == (
        T0,
        "main",
        T0 + timedelta(minutes=30),
        "crisis",
    )
    t = first.totals
    assert (t.offered, t.answered, t.abandoned, t.answered_within) == (4, 2, 2, 1)
    assert (t.service_level, t.answer_rate, t.abandonment) == (0.25, 0.5, 0.5)
    assert (t.asa_seconds, t.aht_seconds, t.longest_wait) == (15.0, 160.0, 40.0)
    t = second.totals
    assert (t.offered, t.answered_within, t.service_level, t.asa_seconds, t.aht_seconds) == (
        2,
        1,
        0.5,
        10.25,
        90.0,
    )
    assert report.total.offered == 6 and report.total.answered == 4


def test_short_abandons_are_left_out_when_asked(store: RecordStore, engine: Engine) -> None:
    store.save_many(known_calls())
    query = ReportQuery(T0, T0 + timedelta(minutes=30), Interval.M30, short_abandon_seconds=5)
    [row] = ReportService(engine, lambda: LEVELS).report(query).rows
    t = row.totals
    assert (t.offered, t.abandoned, t.short_abandoned, t.service_level) == (3, 1, 1, round(1 / 3, 6))


def test_one_threshold_for_the_report_replaces_each_queues(store: RecordStore, engine: Engine) -> None:
    store.save_many(known_calls())
    query = ReportQuery(T0, T0 + timedelta(hours=1), Interval.M60, threshold_seconds=30)
    [row] = ReportService(engine, lambda: LEVELS).report(query).rows
    assert (row.totals.offered, row.totals.answered_within) == (6, 4)


def test_days_follow_the_local_calendar_across_a_daylight_saving_change(
    store: RecordStore, engine: Engine
) -> None:
    # Europe/Berlin moves from +1 to +2 at 2026-03-29 01:00 UTC.
    store.save_many(
        [
            call(
                datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "main", Outcome.ANSWERED, 1, talk_seconds=1
            ),  # 29th 00:30
            call(
                datetime(2026, 3, 29, 21, 59, tzinfo=UTC), "main", Outcome.ANSWERED, 1, talk_seconds=1
            ),  # 29th 23:59
            call(
                datetime(2026, 3, 29, 22, 0, tzinfo=UTC), "main", Outcome.ANSWERED, 1, talk_seconds=1
            ),  # 30th 00:00
        ]
    )
    berlin = zone("Europe/Berlin")
    query = ReportQuery(
        datetime(2026, 3, 28, tzinfo=berlin),
        datetime(2026, 4, 1, tzinfo=berlin),
        Interval.DAY,
        timezone="Europe/Berlin",
    )
    rows = ReportService(engine, lambda: LEVELS).report(query).rows
    assert [(r.start.date().isoformat(), r.totals.offered) for r in rows] == [
        ("2026-03-29", 2),
        ("2026-03-30", 1),
    ]
    assert [r.start.utcoffset() for r in rows] == [timedelta(hours=1), timedelta(hours=2)]
    assert len(offset_segments(query.start, query.end, berlin)) == 2


def _random_calls(seed: int, count: int) -> list[CallRecord]:
    rng = random.Random(seed)
    start = datetime(2026, 3, 20, tzinfo=UTC)
    outcomes = (
        [Outcome.ANSWERED] * 6 + [Outcome.ABANDONED_IN_QUEUE] * 2 + [Outcome.ABANDONED_IN_IVR, Outcome.FAILED]
    )
    out = []
    for _ in range(count):
        at = start + timedelta(seconds=rng.randrange(0, 40 * 86400), microseconds=rng.randrange(0, 10**6))
        outcome = rng.choice(outcomes)
        queue = rng.choice(["main", "crisis", "loss"])
        wait = round(rng.expovariate(1 / 20), 3)
        talk = round(rng.uniform(10, 900), 3) if outcome is Outcome.ANSWERED else None
        wrapup = rng.choice([None, 30.0]) if talk else None
        out.append(
            call(
                at,
                queue,
                outcome,
                wait,
                topic=rng.choice([queue, None]),
                talk_seconds=talk,
                wrapup_seconds=wrapup,
            )
        )
    return out


@pytest.mark.parametrize(
    ("interval", "group_by", "tz", "short"),
    [
        (Interval.M15, (Dimension.QUEUE, Dimension.TOPIC), "UTC", 0.0),
        (Interval.M30, (), "Asia/Kolkata", 5.0),
        (Interval.M60, (Dimension.TOPIC,), "Europe/Berlin", 0.0),
        (Interval.DAY, (Dimension.QUEUE,), "Europe/Berlin", 0.0),
        (Interval.WEEK, (), "America/New_York", 3.0),
        (Interval.MONTH, (Dimension.QUEUE, Dimension.TOPIC), "Europe/Moscow", 0.0),
    ],
)
def test_sql_equals_the_report_computed_record_by_record(
    store: RecordStore,
    engine: Engine,
    interval: Interval,
    group_by: tuple[Dimension, ...],
    tz: str,
    short: float,
) -> None:
    records = _random_calls(seed=len(tz) + len(group_by), count=600)
    store.save_many(records)
    query = ReportQuery(
        datetime(2026, 3, 22, 5, 0, tzinfo=UTC),
        datetime(2026, 4, 25, tzinfo=UTC),
        interval,
        group_by=group_by,
        timezone=tz,
        short_abandon_seconds=short,
    )
    report = ReportService(engine, lambda: LEVELS).report(query)
    expected = rows_from_records(records, query, LEVELS)
    got = {(r.start, r.queue, r.topic): r.totals for r in report.rows}
    assert got.keys() == expected.keys()
    for key, totals in expected.items():
        assert got[key].offered == totals.offered, key
        assert got[key].answered_within == totals.answered_within, key
        assert got[key].asa_seconds == pytest.approx(totals.asa_seconds, abs=0.002), key
        assert got[key].aht_seconds == pytest.approx(totals.aht_seconds, abs=0.002), key
        assert got[key].longest_wait == totals.longest_wait, key
        assert got[key].abandoned == totals.abandoned, key


def test_bad_ranges_name_the_parameter(engine: Engine) -> None:
    service = ReportService(engine)
    with pytest.raises(ReportRangeError, match="end: end must be after start"):
        service.report(ReportQuery(T0, T0, Interval.M30))
    with pytest.raises(ReportRangeError, match="at most 40000"):
        service.report(ReportQuery(T0, T0 + timedelta(days=800), Interval.M15))
    with pytest.raises(ReportTimezoneError, match="tz: unknown time zone 'Mars/Base'"):
        service.report(ReportQuery(T0, T0 + timedelta(days=1), timezone="Mars/Base"))


def test_no_calls_no_rows(store: RecordStore, engine: Engine, tmp_path: Path) -> None:
    report = ReportService(engine).report(ReportQuery(T0, T0 + timedelta(days=1), Interval.M15))
    assert (report.rows, report.total.offered, report.total.service_level) == ([], 0, None)


def test_bounds_in_another_zone_select_the_same_instants(store: RecordStore, engine: Engine) -> None:
    store.save_many(known_calls())
    moscow = zone("Europe/Moscow")  # T0 is 03:00 in Moscow
    query = ReportQuery(
        datetime(2026, 3, 2, 3, 0, tzinfo=moscow), datetime(2026, 3, 2, 3, 30, tzinfo=moscow), Interval.M30
    )
    [row] = ReportService(engine, lambda: LEVELS).report(query).rows
    assert (row.start, row.totals.offered) == (T0, 4)  # rows in the report's zone (UTC)
