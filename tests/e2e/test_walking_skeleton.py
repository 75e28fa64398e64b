"""One real call path end to end: sipp caller -> Asterisk 22 -> FastAGI IVR -> queue ->
simulated operator -> one call record and Prometheus counters. Then the same with the Python
service down, then a scan for every caller number used.

The tests in this module run in order and share the numbers they used (NUMBERS).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotline.app import endpoint
from hotline.callgen import Callgen, CallPlan
from hotline.privacy import needles_for, scan_files, scan_text
from hotline.sandbox import Sandbox
from hotline.settings import Settings
from telephony.ami import AmiNode
from telephony.events import AgentComplete, AgentConnect, AmiEvent, QueueCallerJoin
from tests.e2e.conftest import HOLD_SECONDS, Service

pytestmark = pytest.mark.asterisk

NUMBERS: list[str] = []
NAME = "Synth Caller"


def plan(digits: str, **kw: Any) -> CallPlan:
    number = f"+7900000{len(NUMBERS) + 1:04d}"
    NUMBERS.append(number)
    return CallPlan(number=number, digits=digits, name=f"{NAME} {len(NUMBERS):03d}", **kw)


def place(settings: Settings, plans: list[CallPlan], base: int) -> None:
    gen = Callgen(port=settings.sandbox.sip_port, local_port_base=base, media_port_base=base + 1000)
    result = asyncio.run(gen.place(plans, concurrency=20, rate=20, timeout_s=90))
    assert (result.successful, result.failed) == (len(plans), 0), result


def records(service: Service, expected: int, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        body: list[dict[str, Any]] = httpx.get(
            f"{service.url}/api/calls", params={"limit": 1000}
        ).json()
        if len(body) >= expected or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def samples(service: Service) -> dict[tuple[str, str], float]:
    text = httpx.get(f"{service.url}/metrics/").text
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, s.labels.get("queue", s.labels.get("node", "")))] = s.value
    return out


def test_calls_reach_their_queue_and_leave_one_record_each(
    service: Service, e2e_settings: Settings
) -> None:
    service.start()
    options = e2e_settings.menu.options
    topics = {t.id: t.queue for t in e2e_settings.topics}
    pressed = ["1", "1", "2", "3", "3", "4"]
    plans = [plan(d) for d in pressed]
    plans.append(plan(""))  # presses nothing: a human on the default queue
    plans.append(plan("", hangup_after_ms=1500))  # hangs up inside the IVR
    place(e2e_settings, plans, base=25100)

    got = records(service, len(plans))
    assert len(got) == len(plans), got
    answered = [r for r in got if r["outcome"] == "answered"]
    by_route = Counter((r["topic"], r["queue"]) for r in answered)
    expected = Counter((options[d], topics[options[d]]) for d in pressed)
    expected[(None, "main")] += 1
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
        assert (
            not r["fallback"] and r["complete"] and r["operator"].startswith(f"sim-{r['queue']}-")
        )
        assert 0 <= r["wait_seconds"] < 10, r
        assert HOLD_SECONDS - 1 <= r["talk_seconds"] <= HOLD_SECONDS + 2, r
        assert r["started_at"] <= r["queue_entered_at"] <= r["answered_at"] <= r["ended_at"], r

    metrics = samples(service)
    per_queue = Counter(r["queue"] for r in answered)
    for queue in {q.name for q in e2e_settings.queues}:
        assert metrics[("hotline_calls_offered_total", queue)] == per_queue[queue], queue
        assert metrics[("hotline_calls_answered_total", queue)] == per_queue[queue], queue
        assert metrics[("hotline_calls_abandoned_total", queue)] == 0, queue
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


def test_callers_reach_a_human_when_the_service_is_down(
    service: Service, e2e_settings: Settings
) -> None:
    service.stop()
    plans = [plan("1"), plan("2"), plan("")]
    events = asyncio.run(_calls_with_service_down(e2e_settings, plans))
    joins = [e for e in events if isinstance(e, QueueCallerJoin)]
    connects = [e for e in events if isinstance(e, AgentConnect)]
    completes = [e for e in events if isinstance(e, AgentComplete)]
    assert [e.queue for e in joins] == ["main"] * len(plans)
    assert len({e.call_id for e in connects}) == len(plans)
    assert {e.queue for e in connects} == {"main"}
    assert all(c.talk_seconds >= HOLD_SECONDS - 1 for c in completes) and len(completes) == len(
        plans
    )


def test_no_caller_number_reached_any_store(
    service: Service, e2e_settings: Settings, sandbox: Sandbox
) -> None:
    assert len(NUMBERS) >= 10, "runs after the call tests of this module"
    needles = [n for number in NUMBERS for n in needles_for(number)] + [NAME]
    service.start()
    texts = {
        "/api/calls": httpx.get(f"{service.url}/api/calls", params={"limit": 1000}).text,
        "/metrics": httpx.get(f"{service.url}/metrics/").text,
        "/healthz": httpx.get(f"{service.url}/healthz").text,
    }
    service.stop()
    assert '"outcome":"answered"' in texts["/api/calls"]
    findings = [f for where, text in texts.items() for f in scan_text(where, text, needles)]
    stores = [e2e_settings.var_dir, sandbox.directory]
    findings += scan_files(stores, needles)
    assert findings == []
    # The scan itself can see a number where one is.
    control = Path(e2e_settings.var_dir) / "control.txt"
    control.write_text(f"leak {NUMBERS[0].lstrip('+')}", encoding="utf-8")
    assert scan_files(stores, needles), "the scanner must find a planted number"
    control.unlink()
