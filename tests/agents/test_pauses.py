"""Every pause recorded, on a migrated SQLite database, and through the database's outages."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError

from agents.pauses import PauseKeeper, PauseLog, PauseWriter
from core.db import make_engine, migrate
from core.tasks import Backoff, TaskSupervisor
from telephony.events import QueueMember, QueueSnapshot

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_pauses_are_recorded_and_a_new_one_ends_the_open_one(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    migrate(engine)
    log = PauseLog(engine)
    log.started("op-anna", "break", "operator", T0)
    log.started("op-anna", "recovery", "guard", T0 + timedelta(minutes=10), rule="long_call")
    log.ended("op-anna", T0 + timedelta(minutes=15))
    log.started("op-boris", "training", "shift_lead", T0)
    mine = log.recent("op-anna")
    assert [(p.reason, p.source, p.rule, p.started_at, p.ended_at) for p in mine] == [
        ("recovery", "guard", "long_call", T0 + timedelta(minutes=10), T0 + timedelta(minutes=15)),
        ("break", "operator", None, T0, T0 + timedelta(minutes=10)),
    ]
    assert [p.operator for p in log.recent()] == ["op-anna", "op-boris", "op-anna"]  # newest first
    engine.dispose()


async def test_pauses_asterisk_lost_are_applied_again_after_a_resync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    migrate(engine)
    log = PauseLog(engine)
    log.started("op-anna", "break", "operator", T0)
    log.started("op-boris", "training", "operator", T0)
    log.ended("op-boris", T0 + timedelta(minutes=5))
    applied: list[tuple[str, str]] = []

    async def reapply(operator: str, reason: str) -> None:
        applied.append((operator, reason))

    keeper = PauseKeeper(PauseWriter(log), reapply)

    def member(name: str, paused: bool) -> QueueMember:
        return QueueMember("a", T0, "", "", "peer", name, f"PJSIP/{name}", 1, paused, "", False, 0)

    # After a restart: everybody back, unpaused; only anna's pause is still open in the log.
    keeper.on_event(QueueSnapshot("a", T0, (), (member("op-anna", False), member("op-boris", False)), ()))
    await asyncio.sleep(0.3)
    assert applied == [("op-anna", "break")]
    applied.clear()
    keeper.on_event(QueueSnapshot("a", T0, (), (member("op-anna", True),), ()))  # still paused: nothing
    await asyncio.sleep(0.3)
    assert applied == []
    engine.dispose()


def impatient_engine(tmp_path: Path) -> tuple[Engine, Path]:
    """A migrated SQLite file, and an engine on it that waits only 0.1 s for a lock."""
    path = tmp_path / "h.db"
    migrated = make_engine(f"sqlite:///{path}")
    migrate(migrated)
    migrated.dispose()
    return create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 0.1}), path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another connection holds the database's write lock (as a long transaction, a backup or
    another process would): every write here fails with "database is locked"."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("COMMIT")
        other.close()


def history(log: PauseLog, operator: str) -> list[tuple[str, datetime, datetime | None]]:
    return [(p.reason, p.started_at, p.ended_at) for p in reversed(log.recent(operator))]


async def test_pauses_are_written_in_order_once_the_database_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine, path = impatient_engine(tmp_path)
    tasks = TaskSupervisor()
    writer = PauseWriter(PauseLog(engine), tasks, wait=0.2, backoff=Backoff(0.05, 0.1))
    caplog.set_level(logging.DEBUG)
    with locked(path):
        started = asyncio.get_running_loop().time()
        await writer.started("op-anna", "break", "operator", T0)  # waits for its write a moment only
        await writer.ended("op-anna", T0 + timedelta(minutes=5))
        await writer.started("op-anna", "training", "shift_lead", T0 + timedelta(minutes=6))
        assert asyncio.get_running_loop().time() - started < 2.0
        assert writer.pending == 3
        assert await writer.open_reasons() == {"op-anna": "training"}  # what waits, over the log
        await asyncio.sleep(0.5)  # a few more tries
    deadline = asyncio.get_running_loop().time() + 5
    while writer.pending:
        assert asyncio.get_running_loop().time() < deadline, "pauses never written"
        await asyncio.sleep(0.05)
    assert history(writer.log, "op-anna") == [
        ("break", T0, T0 + timedelta(minutes=5)),
        ("training", T0 + timedelta(minutes=6), None),
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("writing the pause log failed (OperationalError at ")
    assert "writing the pause log works again" in caplog.text
    assert tasks.failures["pause-log"] >= 3  # every failed try counted
    assert "never retrieved" not in caplog.text
    await tasks.close()
    engine.dispose()


async def test_a_pause_refused_for_good_is_logged_and_the_next_ones_still_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A write the database refuses (a constraint: a bug, not an outage) must not hold up the
    queue behind it: it is logged and counted, and the next pause is written."""
    engine, _ = impatient_engine(tmp_path)
    tasks = TaskSupervisor()
    writer = PauseWriter(PauseLog(engine), tasks, wait=1.0)
    await writer.started("op-anna", "break", None, T0)  # type: ignore[arg-type]  # NOT NULL
    await writer.started("op-boris", "break", "operator", T0)
    assert writer.pending == 0
    assert [p.operator for p in writer.log.recent()] == ["op-boris"]
    assert tasks.failures["pause-log"] == 1
    assert "pause of op-anna not logged: IntegrityError refused it" in caplog.text
    await tasks.close()
    engine.dispose()


class FlakyPauses:
    """Stands in for the PauseWriter: the database away for the first two reads."""

    def __init__(self) -> None:
        self.reads = 0

    async def open_reasons(self) -> dict[str, str]:
        self.reads += 1
        if self.reads <= 2:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return {"op-anna": "break"}


async def test_pauses_are_applied_again_once_the_log_can_be_read(caplog: pytest.LogCaptureFixture) -> None:
    applied: list[tuple[str, str]] = []

    async def reapply(operator: str, reason: str) -> None:
        applied.append((operator, reason))

    tasks = TaskSupervisor()
    pauses = FlakyPauses()
    keeper = PauseKeeper(pauses, reapply, tasks, lambda: Backoff(0.01, 0.02))  # type: ignore[arg-type]
    member = QueueMember("a", T0, "", "", "peer", "op-anna", "PJSIP/op-anna", 1, False, "", False, 0)
    keeper.on_event(QueueSnapshot("a", T0, (), (member,), ()))
    await asyncio.sleep(0.3)
    assert applied == [("op-anna", "break")] and pauses.reads == 3
    assert tasks.failures["pause-keeper"] == 2
    assert caplog.text.count("reading the pause log after a resync failed") == 1
