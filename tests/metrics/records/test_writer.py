"""The record writer on real databases: a SQLite file locked by another writer, a private
PostgreSQL the test stops and starts, a process killed with records in its journal, a journal
replayed after its records were committed. Every call ends with exactly one row, in order, and
cells equal to the records."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import make_engine, migrate
from core.journal import REJECTED, Journal
from metrics.records.intervals import CellCounts, CellKey, roll_up, utc
from metrics.records.models import CallIntervalRow
from metrics.records.record import CallRecord, Outcome
from metrics.records.store import RecordStore
from metrics.records.writer import Backlog, RecordWriter
from tests.conftest import ROOT
from tests.databases import migrated_sqlite
from tests.pg_private import PrivatePostgres

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WAIT = 60.0  # generous: only a broken writer takes this long
QUICK = {"interval": 0.01, "backoff": (0.05, 1.0)}


def record(call_id: str, start: float = 0, **changes: Any) -> CallRecord:
    """A finished call; the same call id gives the same record id (a test in another process too)."""
    queue = ("crisis", "main", "loss")[int(start // 60) % 3]
    base = CallRecord(
        id=hashlib.md5(call_id.encode()).hexdigest(),
        node="local",
        call_id=call_id,
        started_at=T0 + timedelta(seconds=start),
        topic=queue,
        queue=queue,
        outcome=Outcome.ANSWERED,
        wait_seconds=4.0 + start % 50,
        talk_seconds=30.0,
        operator="sim-1",
        path="1",
        language="en",
        menu_version="config",
        queue_entered_at=T0 + timedelta(seconds=start + 1),
        answered_at=T0 + timedelta(seconds=start + 5 + start % 50),
        ended_at=T0 + timedelta(seconds=start + 60),
    )
    return dataclasses.replace(base, **changes)


def calls(count: int, prefix: str = "c") -> list[CallRecord]:
    return [record(f"{prefix}.{i}", start=i * 290) for i in range(count)]  # several quarter-hours


class Recording(RecordStore):
    """The store, noting the call ids of every committed batch in order."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.committed: list[str] = []

    def save_many(self, records: Sequence[CallRecord]) -> None:
        super().save_many(records)
        self.committed.extend(r.call_id for r in records)


def stored_cells(engine: Engine) -> dict[CellKey, CellCounts]:
    with Session(engine) as session:
        rows = session.scalars(select(CallIntervalRow)).all()
        return {
            CellKey(utc(r.interval_start), r.node, r.topic, r.queue): CellCounts.of_columns(r) for r in rows
        }


def assert_saved_once(engine: Engine, records: list[CallRecord]) -> None:
    """Exactly these records, one row per call, and cells equal to what they roll up to."""
    stored = RecordStore(engine).list(limit=10_000)
    assert sorted(stored, key=lambda r: r.call_id) == sorted(records, key=lambda r: r.call_id)
    got, want = stored_cells(engine), roll_up(records)
    assert got.keys() == want.keys()
    for key, counts in want.items():
        assert got[key].columns() == pytest.approx(counts.columns()), key


async def until(writer: RecordWriter, predicate: Callable[[Backlog], bool]) -> Backlog:
    return await asyncio.wait_for(writer.wait_until(predicate), WAIT)


def segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("journal-*.jsonl"))


@pytest.fixture
def engine(database: Engine) -> Engine:
    """The shared SQLite/PostgreSQL fixture (tests/databases.py) under this module's name."""
    return database


async def test_the_writer_batches_journals_and_saves_everything(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "var" / "records"
    writer = RecordWriter(RecordStore(engine), folder, batch_size=3, interval=0.05)
    records = calls(7)
    for r in records:
        writer.submit(r)
    assert sum(len(p.read_text().splitlines()) for p in segments(folder)) == 7  # before any save
    await asyncio.wait_for(writer.close(), WAIT)
    backlog = writer.backlog()
    assert (backlog.pending, backlog.saved_total, backlog.rejected_total) == (0, 7, 0)
    assert_saved_once(engine, records)
    assert segments(folder) == [] and oct(folder.stat().st_mode & 0o777) == "0o700"


class Refusing(RecordStore):
    """Refuses, for its content, any batch holding the poisoned call."""

    def save_many(self, records: Sequence[CallRecord]) -> None:
        if any(r.call_id == "poison" for r in records):
            raise IntegrityError("INSERT INTO call_records", {}, ValueError("refused"))
        super().save_many(records)


async def test_one_refused_record_does_not_hold_up_the_others_and_is_kept(
    engine: Engine, tmp_path: Path
) -> None:
    writer = RecordWriter(Refusing(engine), tmp_path, batch_size=10, interval=0.01)
    for call in ("3.1", "poison", "3.2"):
        writer.submit(record(call))
    await asyncio.wait_for(writer.close(), WAIT)
    assert (writer.backlog().saved_total, writer.backlog().rejected_total) == (2, 1)
    assert {r.call_id for r in RecordStore(engine).list()} == {"3.1", "3.2"}
    [kept] = [line for line in (tmp_path / REJECTED).read_text().splitlines()]
    assert '"call_id":"poison"' in kept and segments(tmp_path) == []


async def test_records_wait_out_a_locked_sqlite_file_and_are_saved_in_order(tmp_path: Path) -> None:
    path = tmp_path / "hotline.sqlite3"
    migrate(make_engine(f"sqlite:///{path}"))
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 0.1})
    store = Recording(engine)
    writer = RecordWriter(store, tmp_path / "records", **QUICK)  # type: ignore[arg-type]
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the file
    records = calls(8)
    for r in records:
        writer.submit(r)
    waiting = await until(writer, lambda b: b.outage and b.pending == 8)
    assert waiting.saved_total == 0 and waiting.oldest_pending_seconds >= 0
    locker.execute("ROLLBACK")
    done = await until(writer, lambda b: b.pending == 0)
    assert (done.saved_total, done.outage, done.oldest_pending_seconds) == (8, False, 0.0)
    assert store.committed == [r.call_id for r in records]
    assert_saved_once(engine, records)
    await writer.close()
    locker.close()
    engine.dispose()


@pytest.mark.postgres
async def test_records_wait_out_a_stopped_postgresql_and_are_saved_in_order(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    engine = make_engine(private_postgres.create_database())
    migrate(engine)
    store = Recording(engine)
    writer = RecordWriter(store, tmp_path / "records", **QUICK)  # type: ignore[arg-type]
    writer.submit(record("before"))
    await asyncio.wait_for(writer.flush(), WAIT)  # a pooled connection, about to go stale
    private_postgres.stop()
    records = calls(8)
    for r in records:
        writer.submit(r)
    waiting = await until(writer, lambda b: b.outage and b.pending == 8)
    assert waiting.saved_total == 1
    assert sum(len(p.read_text().splitlines()) for p in segments(tmp_path / "records")) == 8
    private_postgres.start()
    done = await until(writer, lambda b: b.pending == 0)
    assert (done.saved_total, done.outage) == (9, False)
    assert store.committed == ["before", *[r.call_id for r in records]]
    assert_saved_once(engine, [record("before"), *records])
    assert segments(tmp_path / "records") == []
    await writer.close()
    engine.dispose()


@pytest.mark.postgres
async def test_a_writer_dropped_in_an_outage_leaves_its_records_to_the_next_one(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    engine = make_engine(private_postgres.create_database())
    migrate(engine)
    private_postgres.stop()
    dropped = RecordWriter(RecordStore(engine), tmp_path, interval=0.01, backoff=(3600.0, 3600.0))
    records = calls(6)
    for r in records:
        dropped.submit(r)
    await until(dropped, lambda b: b.outage)  # then never closed: the process "crashed"
    private_postgres.start()
    store = Recording(engine)
    writer = RecordWriter(store, tmp_path, **QUICK)  # type: ignore[arg-type]
    assert await writer.replay(wait=WAIT) == 6
    writer.submit(record("after", start=3000))
    await asyncio.wait_for(writer.close(), WAIT)
    assert store.committed == [*[r.call_id for r in records], "after"]
    assert_saved_once(engine, [*records, record("after", start=3000)])
    await asyncio.wait_for(dropped.close(), WAIT)  # its last try saves them all again: no change
    assert_saved_once(engine, [*records, record("after", start=3000)])
    engine.dispose()


CHILD = """
import asyncio, sys
from pathlib import Path
from sqlalchemy import create_engine
from metrics.records.store import RecordStore
from metrics.records.writer import RecordWriter
from tests.metrics.records.test_writer import calls

async def main() -> None:
    engine = create_engine(sys.argv[1], connect_args={"timeout": 0.1, "check_same_thread": False})
    writer = RecordWriter(RecordStore(engine), Path(sys.argv[2]), interval=0.01, backoff=(0.05, 0.2))
    for r in calls(8, "killed"):
        writer.submit(r)
    await writer.wait_until(lambda b: b.outage)
    print("in an outage", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_killed_process_leaves_its_records_to_the_next_start(tmp_path: Path) -> None:
    engine = migrated_sqlite(tmp_path)
    url = str(engine.url)
    locker = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, url, str(tmp_path / "records"), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), WAIT) == b"in an outage\n"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    locker.execute("ROLLBACK")
    locker.close()
    store = Recording(engine)
    writer = RecordWriter(store, tmp_path / "records", **QUICK)  # type: ignore[arg-type]
    assert await writer.replay(wait=WAIT) == 8
    assert store.committed == [r.call_id for r in calls(8, "killed")]
    assert_saved_once(engine, calls(8, "killed"))
    assert segments(tmp_path / "records") == []
    await writer.close()


async def test_replaying_segments_already_committed_counts_nothing_twice(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [*calls(6), record("c.1", start=290, wait_seconds=70.0, queue="loss")]  # saved twice
    crashed = RecordWriter(RecordStore(engine), tmp_path, batch_size=4, interval=0.01)
    with monkeypatch.context() as patch:
        patch.setattr(Journal, "commit", lambda _self, _segment: None)  # killed before any unlink
        for r in records:
            crashed.submit(r)
        await asyncio.wait_for(crashed.close(), WAIT)
    final = [*records[:1], records[-1], *records[2:6]]
    assert_saved_once(engine, final)
    before = stored_cells(engine)
    assert len(segments(tmp_path)) == 2
    writer = RecordWriter(RecordStore(engine), tmp_path, interval=0.01)
    assert await writer.replay(wait=WAIT) == 7
    assert_saved_once(engine, final)
    assert stored_cells(engine).keys() == before.keys()
    assert all(stored_cells(engine)[k].columns() == pytest.approx(c.columns()) for k, c in before.items())
    assert segments(tmp_path) == []
    await writer.close()
