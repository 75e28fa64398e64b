"""The record store on a real SQLite file and a real PostgreSQL server (migrations applied)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from hotline.db import make_engine, migrate
from metrics.records import CallRecord, Outcome
from metrics.store import RecordStore

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _postgres_available() -> bool:
    try:
        with create_engine(PG_ADMIN_URL).connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        return False
    return True


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'db' / 'hotline.sqlite3'}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    if not _postgres_available():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    migrate(eng)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


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
    return CallRecord(**{**base.__dict__, **changes})


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
