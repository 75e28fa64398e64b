"""Reports read from the cells, on SQLite and PostgreSQL: thresholds on and off the ladder, short
abandons, bounds inside a quarter-hour, and quarter-hours whose records retention has deleted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome
from metrics.records.retention import Retention
from metrics.records.store import RecordStore
from metrics.reports.service import Dimension, Interval, ReportError, ReportQuery, ReportService, Totals
from tests.databases import migrated_postgres, migrated_sqlite
from tests.metrics.reports.oracle import rows_from_records
from tests.metrics.reports.test_service import _random_calls, call

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
RANGE = (datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))  # _random_calls' 40 days


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = migrated_sqlite(tmp_path_factory.mktemp("reports-cells"))
        yield eng
        eng.dispose()
    else:
        yield from migrated_postgres()


@pytest.fixture
def empty(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM call_records"))
        conn.execute(text("DELETE FROM call_intervals"))
        conn.execute(text("UPDATE call_retention SET cutoff = NULL"))
    return engine


def saved(engine: Engine, levels: ServiceLevels, records: list[CallRecord]) -> list[CallRecord]:
    RecordStore(engine, lambda: levels).save_many(records)
    return records


def figures(report_rows: dict[object, Totals]) -> dict[object, tuple[object, ...]]:
    return {
        key: (
            t.offered,
            t.answered,
            t.abandoned,
            t.short_abandoned,
            t.answered_within,
            t.handled,
            t.longest_wait,
            round(t.answer_wait_sum, 6),
            round(t.handle_sum, 6),
        )
        for key, t in report_rows.items()
    }


def report_equals_records(
    engine: Engine, records: list[CallRecord], query: ReportQuery, levels: ServiceLevels
) -> None:
    report = ReportService(engine, lambda: levels).report(query)
    got = {(r.start, r.queue, r.topic): r.totals for r in report.rows}
    assert figures(got) == figures(rows_from_records(records, query, levels))


def test_a_threshold_changed_along_the_ladder_stays_exact(empty: Engine) -> None:
    records = saved(empty, ServiceLevels({"main": 20, "crisis": 10}), _random_calls(seed=3, count=500))
    now = ServiceLevels({"main": 45, "crisis": 5, "loss": 120}, default_seconds=15)
    query = ReportQuery(*RANGE, Interval.DAY, group_by=(Dimension.QUEUE,), timezone="Europe/Berlin")
    report_equals_records(empty, records, query, now)
    for asked in (10.0, 300.0):
        one = ReportQuery(*RANGE, Interval.WEEK, threshold_seconds=asked, short_abandon_seconds=3)
        report_equals_records(empty, records, one, now)


def test_a_threshold_off_the_ladder_is_exact_while_it_is_the_one_saved_with(empty: Engine) -> None:
    levels = ServiceLevels({"main": 12, "crisis": 10, "loss": 12}, default_seconds=12)
    records = saved(empty, levels, _random_calls(seed=4, count=400))
    query = ReportQuery(*RANGE, Interval.M60, group_by=(Dimension.QUEUE, Dimension.TOPIC))
    report_equals_records(empty, records, query, levels)
    asked = ReportQuery(*RANGE, Interval.DAY, threshold_seconds=12)  # 12 s for crisis too: refused
    with pytest.raises(ReportError, match=r"threshold_seconds: the threshold 12 s asked is not one"):
        ReportService(empty, lambda: levels).report(asked)
    only_main = ReportQuery(*RANGE, Interval.DAY, queues=("main",), threshold_seconds=12)
    report_equals_records(empty, records, only_main, levels)


def test_a_threshold_off_the_ladder_changed_since_the_calls_is_refused(empty: Engine) -> None:
    saved(empty, ServiceLevels({"main": 12}), _random_calls(seed=5, count=200))
    changed = ServiceLevels({"main": 13})
    with pytest.raises(ReportError, match="13 s configured for a queue is not one every quarter-hour keeps"):
        ReportService(empty, lambda: changed).report(ReportQuery(*RANGE, Interval.DAY))
    with pytest.raises(ReportError) as error:
        ReportService(empty, lambda: changed).report(ReportQuery(*RANGE))
    assert error.value.where == "threshold_seconds"


def test_short_abandons_off_their_ladder_are_refused(empty: Engine) -> None:
    with pytest.raises(ReportError, match=r"short_abandon_seconds: must be 0 or one of 2, 3, 5"):
        ReportService(empty).report(ReportQuery(*RANGE, short_abandon_seconds=4))


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Asia/Kathmandu"])
def test_bounds_inside_quarter_hours_read_the_records_at_either_end(empty: Engine, tz: str) -> None:
    levels = ServiceLevels({"main": 20, "crisis": 10})
    records = saved(empty, levels, _random_calls(seed=6, count=600))
    start = datetime(2026, 3, 22, 5, 7, 31, 250_000, tzinfo=UTC)
    for end in (datetime(2026, 4, 25, 17, 59, 59, tzinfo=UTC), start + timedelta(minutes=5)):
        query = ReportQuery(start, end, Interval.M30, group_by=(Dimension.QUEUE,), timezone=tz)
        report_equals_records(empty, records, query, levels)


def test_quarter_hours_retention_has_retired_are_still_reported(empty: Engine) -> None:
    levels = ServiceLevels({"main": 20, "crisis": 10})
    records = saved(empty, levels, _random_calls(seed=7, count=300))
    now = datetime(2026, 4, 10, 12, 5, tzinfo=UTC) + timedelta(days=30)
    deleted = Retention(empty, timedelta(days=30), clock=lambda: now).run_once().records
    assert 0 < deleted < len(records)
    both = (Dimension.QUEUE, Dimension.TOPIC)
    query = ReportQuery(*RANGE, Interval.M15, group_by=both, timezone="Asia/Kolkata")
    report_equals_records(empty, records, query, levels)


def test_a_known_quarter_hour_from_its_cell(empty: Engine) -> None:
    saved(
        empty,
        ServiceLevels({}),
        [
            call(T0 + timedelta(minutes=1), "main", Outcome.ANSWERED, 5, talk_seconds=100, wrapup_seconds=20),
            call(T0 + timedelta(minutes=2), "main", Outcome.ANSWERED, None, talk_seconds=None),
            call(T0 + timedelta(minutes=3), "main", Outcome.ABANDONED_IN_QUEUE, 2.5),
            call(T0 + timedelta(minutes=4), "main", Outcome.ABANDONED_IN_IVR),
        ],
    )
    query = ReportQuery(T0, T0 + timedelta(minutes=15), Interval.M15, short_abandon_seconds=3)
    [row] = ReportService(empty).report(query).rows
    t = row.totals
    assert (t.offered, t.answered, t.abandoned, t.short_abandoned, t.answered_within) == (2, 2, 0, 1, 2)
    assert (t.asa_seconds, t.aht_seconds, t.longest_wait, t.handled) == (2.5, 120.0, 5.0, 1)
