"""Every pause recorded, on a migrated SQLite database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agents.pauses import PauseKeeper, PauseLog
from core.db import make_engine, migrate
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

    keeper = PauseKeeper(log, reapply)

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
