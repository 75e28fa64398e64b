"""Properties of the live cells (hypothesis), on SQLite and PostgreSQL: after any sequence of
saves (records saved again with other figures, in batches or alone) and retention runs, the
cells equal the records folded in Python, and every report read from the cells equals the same
report computed record by record (``rows_from_records``), across daylight-saving changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from metrics.records.facts import merge
from metrics.records.intervals import (
    ANSWER_LADDER,
    SHORT_ABANDON_LADDER,
    CellCounts,
    CellKey,
    interval_start,
    roll_up,
    utc,
)
from metrics.records.levels import ServiceLevels
from metrics.records.models import CallIntervalRow
from metrics.records.record import CallRecord, Outcome
from metrics.records.retention import Retention
from metrics.records.store import RecordStore
from metrics.reports.service import Dimension, Interval, ReportQuery, ReportService, Totals
from tests.databases import migrated_postgres, migrated_sqlite
from tests.metrics.reports.oracle import rows_from_records

# Europe/Berlin leaves summer time on 2026-10-25 01:00 UTC, America/New_York on 11-01 06:00 UTC.
START = datetime(2026, 10, 23, 0, 0, tzinfo=UTC)
DAYS = 11
KEEP = timedelta(days=1)
SAVED_WITH = ServiceLevels({"main": 20, "crisis": 10}, default_seconds=30)
QUEUES = ("main", "crisis", "loss", None)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = migrated_sqlite(tmp_path_factory.mktemp("cells"))
        yield eng
        eng.dispose()
    else:
        yield from migrated_postgres()


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM call_records"))
        conn.execute(text("DELETE FROM call_intervals"))
        conn.execute(text("UPDATE call_retention SET cutoff = NULL"))


waits = st.one_of(
    st.none(),
    st.sampled_from([0.0, 5.0, 10.0, 20.0, 29.999, 30.0, 300.0]),
    st.floats(0, 400, allow_nan=False).map(lambda w: round(w, 3)),
)


@st.composite
def calls(draw: st.DrawFn, number: int) -> CallRecord:
    queue = draw(st.sampled_from(QUEUES))
    started = START + timedelta(
        seconds=draw(st.integers(0, DAYS * 86400 - 1)), microseconds=draw(st.integers(0, 999_999))
    )
    outcome = draw(st.sampled_from(list(Outcome)))
    entered = draw(st.booleans()) if queue else False
    talk = draw(st.one_of(st.none(), st.floats(0, 3000, allow_nan=False).map(lambda t: round(t, 3))))
    return CallRecord(
        id=f"{number:032x}",
        node=draw(st.sampled_from(["a", "b"])),
        call_id=f"call-{number}",
        started_at=started,
        queue_entered_at=started + timedelta(seconds=5) if entered else None,
        topic=draw(st.sampled_from([queue, None, "legal"])),
        queue=queue,
        outcome=outcome,
        wait_seconds=draw(waits),
        talk_seconds=talk,
        wrapup_seconds=draw(st.one_of(st.none(), st.just(30.0))),
        after_hours=draw(st.booleans()),
        overflowed=draw(st.booleans()),
        escalated=draw(st.booleans()),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Steps: ("save", records) and ("retain", hours after START of the run's clock - keep)."""
    pool = [draw(calls(i)) for i in range(draw(st.integers(1, 40)))]
    steps: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 4)) == 0:
            steps.append(("retain", draw(st.integers(0, DAYS * 24))))
            continue
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=25))
        batch = [_changed(draw, r) for r in chosen]
        steps.append(("save", batch))
    return steps


def _changed(draw: st.DrawFn, record: CallRecord) -> CallRecord:
    """The same call (node, call id, start) with other figures, or as it was."""
    if not draw(st.booleans()):
        return record
    return dataclasses.replace(
        record,
        outcome=draw(st.sampled_from(list(Outcome))),
        wait_seconds=draw(waits),
        queue=draw(st.sampled_from(QUEUES)),
        talk_seconds=draw(st.one_of(st.none(), st.just(61.5))),
    )


def _replay(engine: Engine, steps: list[tuple[str, Any]]) -> tuple[list[CallRecord], bool]:
    """Run the steps against the database and the model: which record of each call counts."""
    store = RecordStore(engine, lambda: SAVED_WITH)
    counted: dict[tuple[str, str], CallRecord] = {}
    kept: set[tuple[str, str]] = set()
    cutoff: datetime | None = None
    for kind, value in steps:
        if kind == "save":
            store.save_many(value)
            for key, r in {(r.node, r.call_id): r for r in value}.items():
                gone = key in counted and key not in kept  # its record was deleted
                if cutoff is None or not (r.started_at < cutoff or gone):
                    # Saved again: folded into the stored version (metrics/records/facts.py).
                    counted[key] = merge(counted[key], r) if key in kept else r
                    kept.add(key)
        else:
            now = START + timedelta(hours=value) + KEEP
            result = Retention(engine, KEEP, clock=lambda now=now: now).run_once()
            cutoff = result.cutoff if cutoff is None else max(cutoff, result.cutoff)
            kept -= {k for k in kept if counted[k].started_at < result.cutoff}
    return list(counted.values()), cutoff is not None


def _stored_cells(engine: Engine) -> dict[CellKey, CellCounts]:
    with Session(engine) as session:
        rows = session.scalars(select(CallIntervalRow)).all()
        return {
            CellKey(utc(row.interval_start), row.node, row.topic, row.queue): CellCounts.of_columns(row)
            for row in rows
        }


def _same_cells(got: dict[Any, CellCounts], expected: dict[Any, CellCounts]) -> None:
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        have = got[key].columns()
        for name, value in want.columns().items():
            if isinstance(value, float):
                assert have[name] == pytest.approx(value, abs=1e-6), (key, name)
            else:
                assert have[name] == value, (key, name)


def _same_report(got: dict[Any, Totals], expected: dict[Any, Totals]) -> None:
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        have = got[key]
        for name in ("offered", "answered", "abandoned", "short_abandoned", "answered_within", "handled"):
            assert getattr(have, name) == getattr(want, name), (key, name)
        assert have.longest_wait == want.longest_wait, key
        assert have.answer_wait_sum == pytest.approx(want.answer_wait_sum, abs=1e-6), key
        assert have.handle_sum == pytest.approx(want.handle_sum, abs=1e-6), key


queries = st.fixed_dictionaries(
    {
        "interval": st.sampled_from(list(Interval)),
        "group_by": st.sampled_from([(), (Dimension.QUEUE,), (Dimension.TOPIC,), tuple(Dimension)]),
        "timezone": st.sampled_from(ZONES),
        "short_abandon_seconds": st.sampled_from([0.0, *map(float, SHORT_ABANDON_LADDER)]),
        "threshold_seconds": st.one_of(st.none(), st.sampled_from(ANSWER_LADDER).map(float)),
        "levels": st.dictionaries(
            st.sampled_from(["main", "crisis", "loss"]), st.sampled_from(ANSWER_LADDER)
        ),
        "queues": st.sampled_from([(), ("main",), ("crisis", "loss")]),
        "start": st.integers(0, 3 * 86400),
        "length": st.integers(1, 9 * 86400),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=histories(), asked=queries)
def test_cells_and_reports_equal_the_records(
    engine: Engine, steps: list[tuple[str, Any]], asked: dict[str, Any]
) -> None:
    _empty(engine)
    records, retired = _replay(engine, steps)
    _same_cells(_stored_cells(engine), roll_up(records, SAVED_WITH.threshold))
    start, end = (
        START + timedelta(seconds=asked["start"]),
        START + timedelta(seconds=asked["start"] + asked["length"]),
    )
    if retired:  # a bound inside a retired quarter-hour would miss its deleted records
        start, end = interval_start(start), interval_start(end) + timedelta(minutes=15)
    levels = ServiceLevels(asked["levels"], default_seconds=20)
    query = ReportQuery(
        start,
        end,
        asked["interval"],
        group_by=asked["group_by"],
        queues=asked["queues"],
        timezone=asked["timezone"],
        short_abandon_seconds=asked["short_abandon_seconds"],
        threshold_seconds=asked["threshold_seconds"],
    )
    report = ReportService(engine, lambda: levels).report(query)
    got = {(r.start, r.queue, r.topic): r.totals for r in report.rows}
    _same_report(got, rows_from_records(records, query, levels))
