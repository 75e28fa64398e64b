"""The leader's work (hotline/singletons.py): its loops run only while this instance leads;
the burnout guard pauses only in the leader, and a new leader ends on time the recovery pauses
the previous one began."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from agents.guard import BurnoutGuard
from core.db import make_engine
from core.leader import Leadership
from core.settings import GuardRules
from core.tasks import TaskSupervisor
from hotline.singletons import Singletons
from tests.agents.test_guard import T0, FakePresence, done


async def test_loops_run_while_leading_and_stop_when_the_lead_is_lost(tmp_path: Path) -> None:
    leadership = Leadership(make_engine(f"sqlite:///{tmp_path / 'h.sqlite3'}"), every=0.01)
    tasks = TaskSupervisor()
    found = Singletons(leadership, tasks.supervise)
    rounds: list[int] = []
    taken: list[bool] = []

    async def loop() -> None:
        while True:
            rounds.append(1)
            await asyncio.sleep(0.01)

    found.add("retention", loop)
    found.on_lead(lambda: taken.append(True))
    running = asyncio.create_task(found.run())
    await asyncio.sleep(0.1)
    assert (leadership.leading, found.running, taken) == (True, ["retention"], [True])
    assert rounds
    leadership.listeners[0](False)  # as when the leader's database session is lost
    await asyncio.sleep(0.05)
    count = len(rounds)
    await asyncio.sleep(0.05)
    assert (found.running, len(rounds)) == ([], count)  # not running any more
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await tasks.close()


async def test_only_the_leader_pauses_and_a_new_leader_ends_the_pause_on_time() -> None:
    rules = GuardRules(long_call_minutes=10, recovery_minutes=0.002)  # 0.12 s
    presences = [FakePresence(), FakePresence()]
    clock = {"now": T0 + timedelta(seconds=700)}
    leader, other = (
        BurnoutGuard(rules, p, lambda call: None, clock=lambda: clock["now"])  # type: ignore[arg-type]
        for p in presences
    )
    other.acts = lambda: False  # a follower
    for g in (leader, other):
        g.on_event(done(700, talk=660))  # both follow AMI: both show the notice
        assert [n.rule for n in g.notices("op-anna")] == ["long_call"]
    await asyncio.sleep(0.02)
    assert [c[0] for c in presences[0].calls] == ["pause"]
    assert presences[1].calls == []  # the follower did not pause too
    await leader.close()  # the leader dies before the pause's end
    other.acts = lambda: True
    assert other.take_over() == 1
    assert other.take_over() == 0  # taken once
    await asyncio.sleep(0.3)
    assert presences[1].calls == [("resume", "op-anna")]  # ended on time by the new leader
    await other.close()
