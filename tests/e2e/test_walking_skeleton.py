"""One real call path end to end: sipp caller -> Asterisk 22 -> FastAGI IVR -> queue ->
simulated operator -> one call record and Prometheus counters. Then the same with the Python
service down (ordered second to last by conftest; the privacy scan runs last)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from core.settings import Settings
from hotline.wiring import endpoint
from sandbox.callgen import Callgen
from sandbox.scenarios import CallPlan
from telephony.ami import AmiNode
from telephony.events import AgentComplete, AgentConnect, AmiEvent, QueueCallerJoin
from tests.e2e.calls import place, plan, records, samples
from tests.e2e.conftest import HOLD_SECONDS, Service

pytestmark = pytest.mark.asterisk

# Language key, then topic key -> (language, topic, queue) in tests/e2e/ivr.yaml.
ROUTES = {
    "11": ("ru", "crisis", "crisis"),
    "13": ("ru", "loss", "loss"),
    "23": ("en", "loss", "loss"),
    "24": ("en", "addiction", "addiction"),
    "21": ("en", "crisis", "crisis"),
}


def test_calls_reach_their_queue_and_leave_one_record_each(service: Service, e2e_settings: Settings) -> None:
    service.start()
    before = {r["id"] for r in records(service, 0)}
    counted = samples(service)  # the counters count since the process started: compare their moves
    pressed = [*ROUTES, "14"]
    plans = [plan(d) for d in pressed]
    plans.append(plan(""))  # presses nothing: a human on the default queue
    plans.append(plan("", hangup_after_ms=1500))  # hangs up inside the IVR
    place(e2e_settings, plans, base=25100)

    got = [r for r in records(service, len(before) + len(plans)) if r["id"] not in before]
    assert len(got) == len(plans), got
    answered = [r for r in got if r["outcome"] == "answered"]
    by_route = Counter((r["language"], r["topic"], r["queue"]) for r in answered)
    expected = Counter(ROUTES[d] for d in ROUTES)
    expected[("ru", "addiction", "addiction")] += 1
    expected[("ru", None, "main")] += 1
    assert by_route == expected
    [silent] = [r for r in answered if r["topic"] is None]
    assert silent["route_reason"] == "no_input"
    [gone] = [r for r in got if r["outcome"] != "answered"]
    assert (gone["outcome"], gone["queue"], gone["ended_at"] is not None) == (
        "abandoned_in_ivr",
        None,
        True,
    )
    for r in answered:
        assert not r["fallback"] and r["complete"] and r["operator"].startswith(f"sim-{r['queue']}-")
        assert 0 <= r["wait_seconds"] < 10, r
        assert HOLD_SECONDS - 1 <= r["talk_seconds"] <= HOLD_SECONDS + 2, r
        assert r["started_at"] <= r["queue_entered_at"] <= r["answered_at"] <= r["ended_at"], r

    metrics = samples(service)
    per_queue = Counter(r["queue"] for r in answered)
    for queue in ("main", "crisis", "violence", "loss", "addiction", "legal"):
        for name, expected_move in (
            ("hotline_calls_offered_total", per_queue[queue]),
            ("hotline_calls_answered_total", per_queue[queue]),
            ("hotline_calls_abandoned_total", 0),
        ):
            moved = metrics[(name, queue)] - counted.get((name, queue), 0.0)
            assert moved == expected_move, (name, queue)
        assert metrics[("hotline_calls_waiting", queue)] == 0, queue
    assert metrics[("hotline_ami_connected", "local")] == 1


async def _calls_with_service_down(settings: Settings, plans: list[CallPlan]) -> list[AmiEvent]:
    events: list[AmiEvent] = []
    observer = AmiNode(endpoint(settings.asterisk[0]), events.append)
    task = asyncio.create_task(observer.run())
    try:
        await observer.wait_logged_in(10)
        gen = Callgen(port=settings.sandbox.sip_port, local_port_base=25300, media_port_base=26300)
        result = await gen.place(plans, concurrency=20, rate=20, timeout_s=60)
        assert (result.successful, result.failed) == (len(plans), 0), result
        await asyncio.sleep(0.5)
    finally:
        await observer.stop()
        task.cancel()
    return events


def test_callers_reach_a_human_when_the_service_is_down(service: Service, e2e_settings: Settings) -> None:
    service.stop()
    plans = [plan("1"), plan("2"), plan("")]
    events = asyncio.run(_calls_with_service_down(e2e_settings, plans))
    joins = [e for e in events if isinstance(e, QueueCallerJoin)]
    connects = [e for e in events if isinstance(e, AgentConnect)]
    completes = [e for e in events if isinstance(e, AgentComplete)]
    assert [e.queue for e in joins] == ["main"] * len(plans)
    assert len({e.call_id for e in connects}) == len(plans)
    assert {e.queue for e in connects} == {"main"}
    assert all(c.talk_seconds >= HOLD_SECONDS - 1 for c in completes) and len(completes) == len(plans)
