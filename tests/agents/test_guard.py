"""The burnout guard: which calls start a recovery pause, and what it tells the operator; its
recovery through a database or an Asterisk away."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from agents.directory import OperatorDirectory, Role
from agents.guard import BurnoutGuard
from agents.pauses import PauseLog, PauseWriter
from agents.presence import PauseReason, PauseSource, Presence, PresenceFailed
from core.settings import GuardRules
from core.tasks import Backoff, TaskSupervisor
from telephony.events import AgentComplete, QueueMemberAdded, QueueMemberPause
from tests.agents.test_pauses import impatient_engine, locked
from tests.conftest import seed_document

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class FakePresence:
    """Stands in for AMI: records what the guard asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def pause(self, operator: str, reason: PauseReason, source: PauseSource, rule: str | None) -> None:
        self.calls.append(("pause", operator, reason, source, rule))

    async def resume(self, operator: str) -> None:
        self.calls.append(("resume", operator))


def done(seconds: float, talk: int, call: str = "c1", queue: str = "peer") -> AgentComplete:
    return AgentComplete("a", T0 + timedelta(seconds=seconds), call, call, queue, "op-anna", 2, talk, "agent")


def guard(
    rules: GuardRules, topics: dict[str, str] | None = None, now: float = 0
) -> tuple[BurnoutGuard, FakePresence]:
    presence = FakePresence()
    topic_of = lambda call: (topics or {}).get(call.call_id)  # noqa: E731
    g = BurnoutGuard(rules, presence, topic_of, clock=lambda: T0 + timedelta(seconds=now))  # type: ignore[arg-type]
    return g, presence


async def test_a_long_call_starts_a_recovery_pause_that_ends_by_itself() -> None:
    g, presence = guard(GuardRules(long_call_minutes=10, recovery_minutes=0.001))
    g.on_event(done(700, talk=660))
    assert [n.rule for n in g.notices("op-anna")] == ["long_call"]
    assert [n.suggest_debrief for n in g.notices("op-anna")] == [True]  # the page offers a debrief
    assert [n.figures for n in g.notices("op-anna")] == [{"minutes": 11, "rest": 0.001}]  # a page's own words
    await asyncio.sleep(0.2)
    assert presence.calls == [
        ("pause", "op-anna", PauseReason.RECOVERY, PauseSource.GUARD, "long_call"),
        ("resume", "op-anna"),
    ]
    await g.close()


async def test_a_heavy_topic_and_calls_in_a_row_count_but_short_calls_do_not() -> None:
    g, presence = guard(GuardRules(max_calls_in_a_row=3, recovery_minutes=60), topics={"c9": "crisis"})
    g.on_event(done(60, talk=50, call="c1"))
    g.on_event(done(120, talk=50, call="c2"))
    assert g.notices("op-anna") == []
    g.on_event(done(180, talk=50, call="c3"))
    assert [(n.rule, dict(n.figures)) for n in g.notices("op-anna")] == [
        ("calls_in_a_row", {"calls": 3, "rest": 60})
    ]
    g.on_event(QueueMemberPause("a", T0, "", "", "peer", "op-anna", "PJSIP/op-anna", 1, False, "", False, 3))
    assert g.notices("op-anna") == []  # resumed by hand: the notice is gone, the count starts again
    g.on_event(done(240, talk=50, call="c9"))
    assert [(n.rule, dict(n.figures)) for n in g.notices("op-anna")] == [
        ("heavy_topic", {"topic": "crisis", "rest": 60})
    ]
    await asyncio.sleep(0.05)
    assert [c[4] for c in presence.calls] == ["calls_in_a_row", "heavy_topic"]
    await g.close()


async def test_a_break_is_suggested_after_hours_on_the_line() -> None:
    g, presence = guard(GuardRules(break_after_hours=2), now=2.5 * 3600)
    g.on_event(QueueMemberAdded("a", T0, "", "", "peer", "op-anna", "PJSIP/op-anna", 1, False, "", False, 0))
    [notice] = g.notices("op-anna")
    assert (notice.rule, notice.message) == ("break_due", "2.5 hours on the line: time for a break")
    assert notice.figures == {"hours": 2.5}
    assert presence.calls == []  # only a suggestion
    g.forget("op-anna")
    assert g.notices("op-anna") == []


def test_disabled_rules_do_nothing() -> None:
    g, presence = guard(GuardRules(enabled=False, long_call_minutes=1))
    g.on_event(done(600, talk=590))
    assert g.notices("op-anna") == [] and presence.calls == []


# -- through a database outage ----------------------------------------------------------------------
class FakeNode:
    """An AMI node that accepts every action (what Asterisk was asked is kept)."""

    name = "a"

    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []

    async def send(self, action: dict[str, str]) -> dict[str, str]:
        self.actions.append(dict(action))
        return {"Response": "Success"}

    def pauses(self) -> list[str]:
        return [a["Paused"] for a in self.actions if a["Action"] == "QueuePause"]


@dataclass
class Desk:
    """The guard on a real Presence, directory and pause log, on the given engine."""

    guard: BurnoutGuard
    node: FakeNode
    writer: PauseWriter
    tasks: TaskSupervisor

    @classmethod
    def on(cls, engine: Engine, recovery_minutes: float) -> Desk:
        directory = OperatorDirectory(engine)
        directory.create("op-anna", "Anna", Role.OPERATOR, {"crisis": 2})
        tasks, node = TaskSupervisor(), FakeNode()
        writer = PauseWriter(PauseLog(engine), tasks, wait=0.1, backoff=Backoff(0.05, 0.2))
        presence = Presence(directory, [node], seed_document, lambda _op: True, writer)  # type: ignore[list-item]
        rules = GuardRules(long_call_minutes=10, recovery_minutes=recovery_minutes)
        guard = BurnoutGuard(
            rules, presence, lambda _call: None, tasks=tasks, backoff=lambda: Backoff(0.1, 0.3)
        )
        return cls(guard, node, writer, tasks)

    async def written(self) -> list[tuple[str, str, bool]]:
        """The pause log once every change is written: (reason, source, ended)."""
        deadline = asyncio.get_running_loop().time() + 10
        while self.writer.pending:
            assert asyncio.get_running_loop().time() < deadline, "pause log never written"
            await asyncio.sleep(0.05)
        return [(p.reason, p.source, p.ended_at is not None) for p in self.writer.log.recent("op-anna")]


async def test_the_recovery_pause_is_applied_and_logged_through_a_locked_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The database locked by another connection while the guard pauses and resumes an
    operator: Asterisk gets both at once, the log gets them when the lock is gone, and no task
    dies ("Task exception was never retrieved" was the bug)."""
    engine, path = impatient_engine(tmp_path)
    desk = Desk.on(engine, recovery_minutes=0.005)  # 0.3 s
    caplog.set_level(logging.DEBUG)
    with locked(path):
        desk.guard.on_event(done(700, talk=660))
        await asyncio.sleep(0.8)
        assert desk.node.pauses() == ["true", "false"]  # the pause and its end, on time
        assert desk.writer.pending == 2
    assert await desk.written() == [("recovery", "guard", True)]
    assert desk.tasks.failures["burnout-guard"] == 0 and desk.tasks.failures["pause-log"] >= 1
    assert caplog.text.count("writing the pause log failed (OperationalError at pauses.py:") == 1
    assert "never retrieved" not in caplog.text and not [r for r in caplog.records if r.name == "asyncio"]
    await desk.guard.close()
    await desk.tasks.close()
    engine.dispose()


async def test_a_recovery_asterisk_cannot_take_is_retried_until_its_time_is_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Refusing(FakePresence):
        async def pause(
            self, operator: str, reason: PauseReason, source: PauseSource, rule: str | None
        ) -> None:
            self.calls.append(("pause", operator))
            raise PresenceFailed("a", "QueuePause on node 'a' failed: not logged in")

    presence, tasks = Refusing(), TaskSupervisor()
    rules = GuardRules(long_call_minutes=10, recovery_minutes=0.01)  # 0.6 s

    class Steady(Backoff):  # no jitter: 0.1 s every time, so at most 0.6 / 0.1 + 1 tries
        def next(self) -> float:
            return 0.1

    g = BurnoutGuard(rules, presence, lambda _c: None, tasks=tasks, backoff=lambda: Steady(0.1, 0.1))  # type: ignore[arg-type]
    g.on_event(done(700, talk=660))
    await asyncio.sleep(1.0)
    assert 3 <= len(presence.calls) <= 7 and not g._tasks  # tried with backoff, then given up
    assert caplog.text.count("burnout guard: recovery pause for op-anna failed (PresenceFailed") == 1
    assert "recovery pause for op-anna given up" in caplog.text
    assert tasks.failures["burnout-guard"] == len(presence.calls)
