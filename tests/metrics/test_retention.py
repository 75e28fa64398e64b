"""Retention on SQLite and PostgreSQL: old records become exact interval statistics, once."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import metrics.retention as retention_module
from metrics.intervals import interval_start
from metrics.models import CallIntervalRow, CallRecordRow
from metrics.records import CallRecord, Outcome
from metrics.retention import Retention, run_retention_forever, service_levels
from metrics.store import RecordStore

NOW = datetime(2027, 12, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=500)  # 2026-07-19 12:00, a quarter-hour boundary
KEEP = timedelta(days=400)


def call(start: datetime, outcome: Outcome, **kw: Any) -> CallRecord:
    defaults: dict[str, Any] = {"topic": "crisis", "queue": "crisis", "language": "ru"}
    if outcome in (Outcome.ANSWERED, Outcome.ABANDONED_IN_QUEUE):
        defaults["queue_entered_at"] = start + timedelta(seconds=10)
        defaults["wait_seconds"] = 5.0
    if outcome is Outcome.ANSWERED:
        defaults["answered_at"] = start + timedelta(seconds=15)
        defaults["talk_seconds"] = 60.0
    defaults.update(kw)
    return CallRecord(
        id=uuid.uuid4().hex,
        node="local",
        call_id=uuid.uuid4().hex,
        started_at=start,
        outcome=outcome,
        **defaults,
    )


def old_calls() -> list[CallRecord]:
    """Two cells of crisis calls in one quarter hour, plus one loss call in the next."""
    return [
        call(OLD, Outcome.ANSWERED, wait_seconds=4.0),
        call(OLD + timedelta(minutes=1), Outcome.ANSWERED, wait_seconds=30.0, overflowed=True),
        call(OLD + timedelta(minutes=2), Outcome.ABANDONED_IN_QUEUE, wait_seconds=50.0),
        call(OLD + timedelta(minutes=3), Outcome.ABANDONED_IN_IVR, topic=None, queue=None),
        call(OLD + timedelta(minutes=4), Outcome.REFERRED, topic="legal", queue=None, after_hours=True),
        call(OLD + timedelta(minutes=5), Outcome.FAILED, complete=False),
        call(OLD + timedelta(minutes=16), Outcome.ANSWERED, topic="loss", queue="loss", escalated=True),
    ]


def cells(engine: Engine) -> dict[tuple[str, str, str], dict[str, Any]]:
    with Session(engine) as session:
        rows = session.scalars(select(CallIntervalRow)).all()
        out = {}
        for r in rows:
            start = (
                r.interval_start.replace(tzinfo=UTC) if r.interval_start.tzinfo is None else r.interval_start
            )
            values = {c: getattr(r, c) for c in CallIntervalRow.__table__.columns.keys()}  # noqa: SIM118
            values["interval_start"] = start.astimezone(UTC)
            out[(start.astimezone(UTC).strftime("%H:%M"), r.topic, r.queue)] = values
        return out


def record_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(CallRecordRow)) or 0)


def test_old_records_become_interval_statistics(database: Engine) -> None:
    store = RecordStore(database)
    recent = call(NOW - timedelta(days=3), Outcome.ANSWERED)
    store.save_many([*old_calls(), recent])
    result = Retention(database, KEEP, service_levels({"crisis": 10}), clock=lambda: NOW).run_once()
    assert (result.records, result.cells, result.chunks) == (7, 4, 1)
    assert store.list() == [recent]
    got = cells(database)
    assert set(got) == {
        ("12:00", "crisis", "crisis"),
        ("12:00", "", ""),
        ("12:00", "legal", ""),
        ("12:15", "loss", "loss"),
    }
    crisis = got[("12:00", "crisis", "crisis")]
    assert crisis["interval_start"] == OLD
    assert {k: crisis[k] for k in ("calls", "offered", "answered", "abandoned_in_queue", "failed")} == {
        "calls": 4,
        "offered": 3,
        "answered": 2,
        "abandoned_in_queue": 1,
        "failed": 1,
    }
    assert crisis["answered_within_sl"] == 1  # 4 s within crisis's 10 s; 30 s is not
    assert (crisis["wait_seconds_sum"], crisis["max_wait_seconds"], crisis["talk_seconds_sum"]) == (
        84.0,
        50.0,
        120.0,
    )
    assert crisis["overflowed"] == 1
    assert got[("12:00", "", "")]["abandoned_in_ivr"] == 1
    legal = got[("12:00", "legal", "")]
    assert (legal["referred"], legal["after_hours"], legal["offered"]) == (1, 1, 0)
    loss = got[("12:15", "loss", "loss")]
    assert (loss["answered"], loss["answered_within_sl"], loss["escalated"]) == (1, 1, 1)  # default 20 s


def test_a_second_run_changes_nothing_and_later_runs_add(database: Engine) -> None:
    store = RecordStore(database)
    store.save_many(old_calls())
    retention = Retention(database, KEEP, clock=lambda: NOW)
    retention.run_once()
    first = cells(database)
    again = retention.run_once()
    assert (again.records, again.chunks) == (0, 0)
    assert cells(database) == first
    store.save_many([call(OLD + timedelta(minutes=7), Outcome.ANSWERED, wait_seconds=70.0)])
    retention.run_once()
    crisis = cells(database)[("12:00", "crisis", "crisis")]
    assert (crisis["calls"], crisis["answered"], crisis["max_wait_seconds"]) == (5, 3, 70.0)
    assert crisis["wait_seconds_sum"] == first[("12:00", "crisis", "crisis")]["wait_seconds_sum"] + 70.0


def test_chunks_give_the_same_figures_as_one_pass(database: Engine) -> None:
    store = RecordStore(database)
    calls = [call(OLD + timedelta(minutes=i), Outcome.ANSWERED, wait_seconds=float(i)) for i in range(40)]
    store.save_many(calls)
    result = Retention(database, KEEP, chunk=7, clock=lambda: NOW).run_once()
    assert (result.records, result.chunks) == (40, 6)
    got = cells(database)
    assert sum(c["calls"] for c in got.values()) == 40
    assert {k[0] for k in got} == {"12:00", "12:15", "12:30"}
    assert got[("12:30", "crisis", "crisis")]["max_wait_seconds"] == 39.0
    assert sum(c["wait_seconds_sum"] for c in got.values()) == sum(range(40))


def test_a_failed_chunk_changes_nothing(database: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    RecordStore(database).save_many([call(OLD + timedelta(minutes=i), Outcome.ANSWERED) for i in range(10)])
    real = retention_module.roll_up
    calls = {"n": 0}

    def failing_second(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kw)

    monkeypatch.setattr(retention_module, "roll_up", failing_second)
    retention = Retention(database, KEEP, chunk=4, clock=lambda: NOW)
    with pytest.raises(RuntimeError):
        retention.run_once()
    assert record_count(database) == 6  # the first chunk committed, the second rolled back
    assert sum(c["calls"] for c in cells(database).values()) == 4
    monkeypatch.setattr(retention_module, "roll_up", real)
    retention.run_once()
    assert record_count(database) == 0
    assert sum(c["calls"] for c in cells(database).values()) == 10


def test_two_runs_at_once_count_every_record_once(database: Engine) -> None:
    calls = [call(OLD + timedelta(seconds=20 * i), Outcome.ANSWERED) for i in range(300)]
    RecordStore(database).save_many(calls)
    runs = [Retention(database, KEEP, chunk=9, clock=lambda: NOW) for _ in range(2)]
    errors: list[BaseException] = []

    def run(r: Retention) -> None:
        try:
            r.run_once()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert record_count(database) == 0
    assert sum(c["calls"] for c in cells(database).values()) == 300


def test_records_at_the_cutoff_stay(database: Engine) -> None:
    cutoff = NOW - KEEP
    RecordStore(database).save_many(
        [call(cutoff, Outcome.ANSWERED), call(cutoff - timedelta(seconds=1), Outcome.ANSWERED)]
    )
    result = Retention(database, KEEP, clock=lambda: NOW).run_once()
    assert result.records == 1 and record_count(database) == 1
    [cell] = cells(database).values()
    assert cell["interval_start"] == interval_start(cutoff - timedelta(seconds=1))


def test_bad_period_is_refused(database: Engine) -> None:
    with pytest.raises(ValueError, match="retention period"):
        Retention(database, timedelta(0))


async def test_the_periodic_task_survives_a_failed_run(caplog: pytest.LogCaptureFixture) -> None:
    third = asyncio.Event()

    class Flaky:
        runs = 0

        def run_once(self) -> Any:
            self.runs += 1
            if self.runs == 3:
                loop.call_soon_threadsafe(third.set)
            if self.runs == 1:
                raise OSError("disk full")
            return retention_module.RetentionResult(NOW, 3, 1, 1)

    loop = asyncio.get_running_loop()
    flaky = Flaky()
    with caplog.at_level(logging.INFO, logger="hotline.retention"):
        task = asyncio.create_task(run_retention_forever(flaky, every=timedelta(seconds=0.01)))  # type: ignore[arg-type]
        await asyncio.wait_for(third.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert "retention run failed: OSError" in caplog.text
    assert "disk full" not in caplog.text
    assert "3 records before" in caplog.text
