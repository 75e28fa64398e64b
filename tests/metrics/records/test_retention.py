"""Retention on SQLite and PostgreSQL: the cells the store wrote stay exact while retention deletes
old records, and a retired quarter-hour takes no record again."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import metrics.records.retention as retention_module
from metrics.records.cells import advance_cutoff
from metrics.records.intervals import interval_start, roll_up
from metrics.records.levels import ServiceLevels
from metrics.records.models import CallIntervalRow, CallRecordRow
from metrics.records.record import CallRecord, Outcome
from metrics.records.retention import Retention, RetentionResult, run_retention_forever
from metrics.records.store import RecordStore

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


def crisis_store(engine: Engine) -> RecordStore:
    return RecordStore(engine, lambda: ServiceLevels({"crisis": 10}))


def test_saved_records_are_cells_and_retention_only_deletes_them(database: Engine) -> None:
    store = crisis_store(database)
    recent = call(NOW - timedelta(days=3, minutes=-40), Outcome.ANSWERED)  # 12:40
    store.save_many([*old_calls(), recent])
    before = cells(database)
    result = Retention(database, KEEP, clock=lambda: NOW).run_once()
    assert (result.records, result.cells, result.chunks) == (7, 4, 1)
    assert store.list() == [recent]
    got = cells(database)
    assert got == before
    assert set(got) == {
        ("12:00", "crisis", "crisis"),
        ("12:00", "", ""),
        ("12:00", "legal", ""),
        ("12:15", "loss", "loss"),
        ("12:30", "crisis", "crisis"),
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
    assert (crisis["answered_within_sl"], crisis["sl_seconds"]) == (1, 10.0)  # 4 s within 10 s; 30 s not
    assert (crisis["answered_within_5s"], crisis["answered_within_30s"], crisis["short_abandoned_5s"]) == (
        1,
        2,
        0,
    )
    assert (crisis["wait_seconds_sum"], crisis["max_wait_seconds"], crisis["talk_seconds_sum"]) == (
        84.0,
        50.0,
        120.0,
    )
    assert (crisis["report_offered"], crisis["longest_wait"], crisis["handled"]) == (3, 50.0, 2)
    assert crisis["overflowed"] == 1
    assert got[("12:00", "", "")]["abandoned_in_ivr"] == 1
    legal = got[("12:00", "legal", "")]
    assert (legal["referred"], legal["after_hours"], legal["offered"]) == (1, 1, 0)
    assert legal["report_offered"] == 0
    assert legal["longest_wait"] is None and legal["sl_seconds"] is None
    loss = got[("12:15", "loss", "loss")]
    assert (loss["answered"], loss["answered_within_sl"], loss["escalated"]) == (1, 1, 1)  # default 20 s
    assert loss["sl_seconds"] == 20.0


def test_a_second_run_changes_nothing_and_retired_quarter_hours_take_no_record(
    database: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    store = crisis_store(database)
    store.save_many(old_calls())
    retention = Retention(database, KEEP, clock=lambda: NOW)
    retention.run_once()
    first = cells(database)
    again = retention.run_once()
    assert (again.records, again.chunks) == (0, 0)
    assert cells(database) == first
    late = call(OLD + timedelta(minutes=7), Outcome.ANSWERED, wait_seconds=70.0)
    with caplog.at_level(logging.WARNING, logger="hotline.records"):
        store.save_many([late])
    assert cells(database) == first and record_count(database) == 0
    assert f"record {late.id} not saved" in caplog.text


def test_a_record_saved_again_after_its_quarter_hour_retired_counts_once(database: Engine) -> None:
    store = crisis_store(database)
    first = call(OLD + timedelta(days=1), Outcome.ABANDONED_IN_QUEUE, wait_seconds=50.0)
    store.save(first)
    counted = cells(database)
    now = OLD + timedelta(days=1, minutes=20) + KEEP
    Retention(database, KEEP, clock=lambda: now).run_once()
    store.save(dataclasses.replace(first, outcome=Outcome.ANSWERED, answered_at=first.started_at))
    assert cells(database) == counted and record_count(database) == 0


def test_a_stored_record_of_a_retired_quarter_hour_is_not_moved_out_of_it(database: Engine) -> None:
    store = crisis_store(database)
    first = call(OLD + timedelta(days=1), Outcome.ABANDONED_IN_QUEUE, wait_seconds=50.0)
    store.save(first)
    counted = cells(database)
    cutoff = first.started_at + timedelta(minutes=15)
    with Session(database) as session, session.begin():
        advance_cutoff(session, cutoff)  # retention has closed the quarter-hour, not deleted yet
    store.save(dataclasses.replace(first, started_at=cutoff, outcome=Outcome.ANSWERED))
    assert cells(database) == counted
    assert [r.started_at for r in store.list()] == [first.started_at]


def test_the_cutoff_is_a_quarter_hour_and_never_moves_back(database: Engine) -> None:
    store = crisis_store(database)
    cutoff = NOW - KEEP
    store.save_many([call(cutoff + timedelta(minutes=1), Outcome.ANSWERED)])
    later = Retention(database, KEEP, clock=lambda: NOW + timedelta(minutes=7)).run_once()
    assert later.cutoff == cutoff and later.records == 0  # 12:07 - keep is in the 12:00 quarter
    Retention(database, KEEP, clock=lambda: NOW + timedelta(minutes=15)).run_once()
    assert record_count(database) == 0
    longer = Retention(database, KEEP + timedelta(days=30), clock=lambda: NOW + timedelta(minutes=15))
    longer.run_once()
    store.save(call(cutoff + timedelta(minutes=5), Outcome.ANSWERED))  # still retired
    assert record_count(database) == 0
    assert sum(c["calls"] for c in cells(database).values()) == 1


def test_chunks_delete_everything_and_leave_the_cells(database: Engine) -> None:
    store = crisis_store(database)
    calls = [call(OLD + timedelta(minutes=i), Outcome.ANSWERED, wait_seconds=float(i)) for i in range(40)]
    store.save_many(calls)
    before = cells(database)
    result = Retention(database, KEEP, chunk=7, clock=lambda: NOW).run_once()
    assert (result.records, result.chunks) == (40, 6)
    assert record_count(database) == 0
    got = cells(database)
    assert got == before
    assert {k[0] for k in got} == {"12:00", "12:15", "12:30"}
    assert got[("12:30", "crisis", "crisis")]["max_wait_seconds"] == 39.0
    assert sum(c["wait_seconds_sum"] for c in got.values()) == sum(range(40))


def test_a_failed_chunk_changes_nothing(database: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    crisis_store(database).save_many([call(OLD + timedelta(minutes=i), Outcome.ANSWERED) for i in range(10)])
    before = cells(database)
    real = retention_module.delete
    calls = {"n": 0}

    def failing_second(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kw)

    monkeypatch.setattr(retention_module, "delete", failing_second)
    retention = Retention(database, KEEP, chunk=4, clock=lambda: NOW)
    with pytest.raises(RuntimeError):
        retention.run_once()
    assert record_count(database) == 6  # the first chunk committed, the second rolled back
    monkeypatch.setattr(retention_module, "delete", real)
    retention.run_once()
    assert record_count(database) == 0
    assert cells(database) == before


def test_two_runs_at_once_delete_every_record_once(database: Engine) -> None:
    calls = [call(OLD + timedelta(seconds=20 * i), Outcome.ANSWERED) for i in range(300)]
    crisis_store(database).save_many(calls)
    runs = [Retention(database, KEEP, chunk=9, clock=lambda: NOW) for _ in range(2)]
    errors: list[BaseException] = []
    results: list[RetentionResult] = []

    def run(r: Retention) -> None:
        try:
            results.append(r.run_once())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert record_count(database) == 0 and sum(r.records for r in results) == 300
    assert sum(c["calls"] for c in cells(database).values()) == 300


def test_records_at_the_cutoff_stay(database: Engine) -> None:
    cutoff = NOW - KEEP
    crisis_store(database).save_many(
        [call(cutoff, Outcome.ANSWERED), call(cutoff - timedelta(seconds=1), Outcome.ANSWERED)]
    )
    result = Retention(database, KEEP, clock=lambda: NOW).run_once()
    assert result.records == 1 and record_count(database) == 1
    assert {c["interval_start"]: c["calls"] for c in cells(database).values()} == {
        interval_start(cutoff - timedelta(seconds=1)): 1,
        cutoff: 1,
    }


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
    assert "retention run failed (OSError at test_retention.py" in caplog.text
    assert "retention run works again after 1 failed tries" in caplog.text
    assert "disk full" not in caplog.text
    assert "3 records before" in caplog.text


def test_saves_and_retention_at_once_count_every_accepted_call_once(
    database: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """The cutoff moves through the quarter-hours the store is writing into; the row lock
    both take first decides, call by call, whether it is counted (and kept) or refused."""
    first = NOW - KEEP - timedelta(hours=1)
    calls = [call(first + timedelta(seconds=30 * i), Outcome.ANSWERED) for i in range(480)]  # 4 h
    store = crisis_store(database)
    clock = iter([NOW + timedelta(minutes=10 * i) for i in range(12)])
    errors: list[BaseException] = []

    def save() -> None:
        try:
            for n in range(0, len(calls), 20):
                store.save_many(calls[n : n + 20])
                time.sleep(0.005)  # let retention in between
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def retain() -> None:
        try:
            for now in clock:
                Retention(database, KEEP, chunk=50, clock=lambda now=now: now).run_once()
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    with caplog.at_level(logging.WARNING, logger="hotline.records"):
        threads = [threading.Thread(target=save), threading.Thread(target=retain)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    refused = caplog.text.count("not saved: its quarter-hour is before the retention cutoff")
    got = cells(database)
    assert sum(c["calls"] for c in got.values()) == len(calls) - refused
    cutoff = interval_start(NOW + timedelta(minutes=110) - KEEP)  # the last run's
    kept = store.list(limit=1000)
    assert all(r.started_at >= cutoff for r in kept)
    live = {k: v for k, v in got.items() if v["interval_start"] >= cutoff}
    assert {k: v["calls"] for k, v in live.items()} == {
        (key.interval_start.strftime("%H:%M"), key.topic, key.queue): counts.calls
        for key, counts in roll_up(kept).items()
    }
