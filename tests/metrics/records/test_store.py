"""The record store and the cells it keeps, on a real SQLite file and a real PostgreSQL server
(migrations applied)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

import metrics.records.store as store_module
from core.db import migrate
from metrics.records.models import CallIntervalRow
from metrics.records.record import CallRecord, Outcome
from metrics.records.store import RecordStore

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database: Engine) -> Engine:
    """The shared SQLite/PostgreSQL fixture (tests/databases.py) under this module's name."""
    return database


def record(call_id: str, start: float = 0, **changes: object) -> CallRecord:
    base = CallRecord(
        id=uuid.uuid4().hex,
        node="local",
        call_id=call_id,
        started_at=T0 + timedelta(seconds=start),
        topic="crisis",
        queue="crisis",
        outcome=Outcome.ANSWERED,
        wait_seconds=4.0,
        talk_seconds=30.0,
        operator="sim-crisis-1",
        path="1",
        language="en",
        menu_version="config",
        answered_at=T0 + timedelta(seconds=start + 4),
        ended_at=T0 + timedelta(seconds=start + 34),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_migrations_create_the_schema_and_rerun_cleanly(engine: Engine) -> None:
    migrate(engine)  # second run is a no-op
    columns = {c["name"] for c in inspect(engine).get_columns("call_records")}
    assert {
        "id",
        "started_at",
        "ended_at",
        "topic",
        "queue",
        "outcome",
        "wait_seconds",
        "talk_seconds",
    } <= columns
    assert not {"caller", "callerid", "number", "calleridnum"} & columns


def test_save_and_list_round_trip_with_utc_times(engine: Engine) -> None:
    store = RecordStore(engine)
    saved = record("1.1")
    store.save(saved)
    [loaded] = store.list()
    assert loaded == saved
    assert loaded.started_at.tzinfo is not None


def test_one_row_per_call_even_when_saved_twice(engine: Engine) -> None:
    store = RecordStore(engine)
    store.save(record("1.1", outcome=Outcome.FAILED, complete=False))
    store.save(record("1.1", outcome=Outcome.ANSWERED))
    [loaded] = store.list()
    assert (loaded.outcome, loaded.complete) == (Outcome.ANSWERED, True)


def test_list_pages_and_filters_by_start(engine: Engine) -> None:
    store = RecordStore(engine)
    for i in range(5):
        store.save(record(f"1.{i}", start=i * 60))
    assert [r.call_id for r in store.list(limit=2, offset=1)] == ["1.1", "1.2"]
    assert [r.call_id for r in store.list(since=T0 + timedelta(seconds=150))] == ["1.3", "1.4"]


def test_a_batch_is_one_upsert_and_the_later_record_of_a_call_wins(engine: Engine) -> None:
    store = RecordStore(engine)
    store.save(record("1.1", outcome=Outcome.FAILED, complete=False))
    store.save_many([record("1.2"), record("1.1", talk_seconds=12.0), record("1.1", talk_seconds=13.0)])
    got = {r.call_id: r for r in store.list()}
    assert set(got) == {"1.1", "1.2"}
    assert (got["1.1"].outcome, got["1.1"].talk_seconds, got["1.1"].complete) == (
        Outcome.ANSWERED,
        13.0,
        True,
    )


def cells(engine: Engine) -> dict[tuple[str, str], tuple[int, int, float, float | None]]:
    """(topic, queue) -> calls, answered, max wait, longest wait of the cells (one quarter-hour)."""
    with Session(engine) as session:
        rows = session.scalars(select(CallIntervalRow)).all()
        return {(r.topic, r.queue): (r.calls, r.answered, r.max_wait_seconds, r.longest_wait) for r in rows}


def test_a_record_saved_again_moves_its_cell_and_the_maximum_goes_down(engine: Engine) -> None:
    store = RecordStore(engine)
    long_wait = record("4.1", wait_seconds=90.0, queue_entered_at=T0)
    store.save_many([long_wait, record("4.2", wait_seconds=10.0, queue_entered_at=T0)])
    assert cells(engine) == {("crisis", "crisis"): (2, 2, 90.0, 90.0)}
    store.save(dataclasses.replace(long_wait, wait_seconds=5.0, queue="main"))
    assert cells(engine) == {("crisis", "crisis"): (1, 1, 10.0, 10.0), ("crisis", "main"): (1, 1, 5.0, 5.0)}
    store.save_many([dataclasses.replace(long_wait, wait_seconds=5.0, queue="main")] * 2)  # unchanged
    assert cells(engine) == {("crisis", "crisis"): (1, 1, 10.0, 10.0), ("crisis", "main"): (1, 1, 5.0, 5.0)}
    store.save(
        dataclasses.replace(long_wait, wait_seconds=5.0, queue="main", outcome=Outcome.ABANDONED_IN_IVR)
    )
    assert cells(engine)[("crisis", "main")] == (1, 0, 5.0, 5.0)


def test_records_and_their_cells_are_one_transaction(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("cells unavailable")

    monkeypatch.setattr(store_module, "add_cells", broken)
    with pytest.raises(RuntimeError):
        RecordStore(engine).save(record("5.1"))
    assert RecordStore(engine).list() == []
