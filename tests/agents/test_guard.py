"""The burnout guard: which calls start a recovery pause, and what it tells the operator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.guard import BurnoutGuard
from agents.presence import PauseReason, PauseSource
from core.settings import GuardRules
from telephony.events import AgentComplete, QueueMemberAdded, QueueMemberPause

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
    assert [n.rule for n in g.notices("op-anna")] == ["calls_in_a_row"]
    g.on_event(QueueMemberPause("a", T0, "", "", "peer", "op-anna", "PJSIP/op-anna", 1, False, "", False, 3))
    assert g.notices("op-anna") == []  # resumed by hand: the notice is gone, the count starts again
    g.on_event(done(240, talk=50, call="c9"))
    assert [n.rule for n in g.notices("op-anna")] == ["heavy_topic"]
    await asyncio.sleep(0.05)
    assert [c[4] for c in presence.calls] == ["calls_in_a_row", "heavy_topic"]
    await g.close()


async def test_a_break_is_suggested_after_hours_on_the_line() -> None:
    g, presence = guard(GuardRules(break_after_hours=2), now=2.5 * 3600)
    g.on_event(QueueMemberAdded("a", T0, "", "", "peer", "op-anna", "PJSIP/op-anna", 1, False, "", False, 0))
    [notice] = g.notices("op-anna")
    assert (notice.rule, notice.message) == ("break_due", "2.5 hours on the line: time for a break")
    assert presence.calls == []  # only a suggestion
    g.forget("op-anna")
    assert g.notices("op-anna") == []


def test_disabled_rules_do_nothing() -> None:
    g, presence = guard(GuardRules(enabled=False, long_call_minutes=1))
    g.on_event(done(600, talk=590))
    assert g.notices("op-anna") == [] and presence.calls == []
