"""The shift leads' wallboard in headless Chromium against the real service: sipp callers change
it within a second of Asterisk's own queue events (seen on a separate AMI connection), /metrics
moves with them, and the report of the test's interval equals the call records of that interval.

Callers (tests/e2e/ivr.yaml): "16" is Russian, topic slow -> queue quiet (nobody answers there)
with overflow to main after 5 s; "10" is Russian, operator -> main (simulated operators).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from hotline.wiring import endpoint
from sandbox.scenarios import CallPlan
from telephony.ami import AmiNode
from telephony.events import AmiEvent, QueueCallerAbandon, QueueCallerJoin, QueueCallerLeave
from tests.browser import ARGS as CHROMIUM_ARGS
from tests.browser import CHROMIUM
from tests.browser import sign_in as sign_in_as
from tests.e2e.calls import place_async, plan, records
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk

BASE = 27500  # sipp ports of this test's callers: 27500.., 27600.. (media +1000)
QUIET = "quiet"
WITHIN = 1.0  # seconds from Asterisk's event to the redrawn wallboard
SECOND_CALLER_AFTER = 2.5  # s: the two quiet callers join, and leave, well apart
Labels = frozenset[tuple[str, str]]


def metric_values(service: Service) -> dict[tuple[str, Labels], float]:
    text = httpx.get(f"{service.url}/metrics/").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def delta(
    after: dict[tuple[str, Labels], float], before: dict[tuple[str, Labels], float], name: str, **labels: str
) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def snapshot(service: Service) -> dict[str, Any]:
    got = httpx.get(f"{service.url}/api/wallboard", headers=service.admin)
    assert got.status_code == 200, got.text
    return {q["queue"]: q for q in got.json()["queues"]}


def instant(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _calls(settings: Settings, first: list[CallPlan], second: list[CallPlan]) -> list[AmiEvent]:
    """Both groups of callers, the second a little later, while an own AMI session listens."""
    events: list[AmiEvent] = []
    observer = AmiNode(endpoint(settings.asterisk[0]), events.append)
    task = asyncio.create_task(observer.run())
    try:
        await observer.wait_logged_in(10)
        early = asyncio.create_task(place_async(settings, first, base=BASE))
        await asyncio.sleep(SECOND_CALLER_AFTER)
        late = await place_async(settings, second, base=BASE + 100)
        assert (late.failed, (await early).failed) == (0, 0)
    finally:
        await observer.stop()
        task.cancel()
    return events


def quiet_changes(events: Iterable[AmiEvent]) -> list[tuple[datetime, int, str]]:
    """(when, callers waiting in quiet after it, what) for every join and leave in quiet; an
    abandon counts from its own time (the board drops the caller there, the leave follows)."""
    abandoned = {e.uniqueid: e.at for e in events if isinstance(e, QueueCallerAbandon) and e.queue == QUIET}
    out = []
    for e in events:
        if isinstance(e, QueueCallerJoin) and e.queue == QUIET:
            out.append((e.at, e.count, "join"))
        elif isinstance(e, QueueCallerLeave) and e.queue == QUIET:
            out.append((abandoned.get(e.uniqueid, e.at), e.count, "leave"))
    return out


def redraw_latencies(changes: list[tuple[datetime, int, str]], log: list[dict[str, Any]]) -> list[float]:
    """Seconds from each change to the first redraw showing its count of waiting callers."""
    out = []
    for at, count, what in changes:
        event_ms = at.timestamp() * 1000
        # Date.now() is whole milliseconds; a redraw cannot show this count before the event.
        shown = [e["at"] for e in log if e["at"] >= event_ms - 5 and e["queues"].get(QUIET) == count]
        assert shown, f"{what} at {at.isoformat()}: the wallboard never showed {count} waiting in {QUIET}"
        out.append((shown[0] - event_ms) / 1000)
    return out


def wait_until(page: Page, expression: str, timeout_s: float = 30) -> None:
    """Poll a page expression from here: the page's CSP (no eval) refuses wait_for_function's."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true within {timeout_s:g} s: {expression}"
        time.sleep(0.05)


def a_lead(service: Service, lead_id: str = "lead-wall") -> str:
    """A shift lead made through the API (made again with new credentials if a run before left
    one); their one-time sign-in password."""
    body = {"id": lead_id, "display_name": lead_id, "role": "shift_lead"}
    made = httpx.post(f"{service.url}/api/operators", headers=service.admin, json=body, timeout=30)
    if made.status_code == 409:
        made = httpx.post(
            f"{service.url}/api/operators/{lead_id}/credentials", headers=service.admin, timeout=30
        )
    assert made.status_code in (200, 201), made.text
    return str(made.json()["password"])


def sign_in(page: Page, service: Service) -> None:
    """A shift lead signs in on the wallboard, and it shows its first snapshot."""
    password = a_lead(service)
    page.goto(f"{service.url}/wallboard/")
    sign_in_as(page, "lead-wall", password)
    expect(page.locator("#link")).to_have_text("live", timeout=10_000)
    wait_until(page, "window.wallboardLog.length > 0")


def test_calls_move_the_wallboard_the_metrics_and_the_report(
    service: Service, e2e_settings: Settings
) -> None:
    service.start()
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    before_ids = {r["id"] for r in records(service, 0)}
    metrics_before, board_before = metric_values(service), snapshot(service)
    first = [plan("16"), plan("10")]  # overflows from quiet to main after 5 s; main at once
    second = [plan("16", hangup_after_ms=6500)]  # gives up in quiet after about 1.5 s
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            sign_in(page, service)
            with ThreadPoolExecutor(1) as pool:
                calls = pool.submit(lambda: asyncio.run(_calls(e2e_settings, first, second)))
                wait_until(page, f"window.wallboardLog.some(e => e.queues.{QUIET} === 2)", 20)
                live = metric_values(service)
                row = page.locator(f'#queues tr[data-queue="{QUIET}"]')
                expect(row.locator("td.waiting")).to_have_text("2")
                expect(page.locator("#alerts")).to_contain_text("Slow, Crowded: nobody is logged in")
                events = calls.result(timeout=60)
            log: list[dict[str, Any]] = page.evaluate("window.wallboardLog")
        finally:
            browser.close()

    assert live[("hotline_calls_waiting", frozenset({("queue", QUIET)}))] == 2
    assert live[("hotline_longest_wait_seconds", frozenset({("queue", QUIET)}))] > 0
    changes = quiet_changes(events)
    assert [(count, what) for _, count, what in changes] == [
        (1, "join"),
        (2, "join"),
        (1, "leave"),
        (0, "leave"),
    ]
    gaps = [(b[0] - a[0]).total_seconds() for a, b in pairwise(changes)]
    assert min(gaps) > 0.1, f"quiet's changes came too close together to tell apart: {gaps}"
    latencies = redraw_latencies(changes, log)
    print("event -> redraw, s:", [round(x, 3) for x in latencies])  # shown with pytest -s or -rP
    assert max(latencies) < WITHIN, latencies

    mine = [r for r in records(service, len(before_ids) + 3) if r["id"] not in before_ids]
    shapes = Counter((r["topic"], r["queue"], r["outcome"], r["overflowed"]) for r in mine)
    assert shapes == Counter(
        {
            ("slow", "main", "answered", True): 1,
            ("slow", QUIET, "abandoned_in_queue", False): 1,
            (None, "main", "answered", False): 1,
        }
    ), mine
    _metrics_moved(metric_values(service), metrics_before, mine)
    _wallboard_counted(snapshot(service), board_before, mine)
    _report_equals_records(service, started, mine)


def _metrics_moved(
    after: dict[tuple[str, Labels], float],
    before: dict[tuple[str, Labels], float],
    mine: list[dict[str, Any]],
) -> None:
    assert delta(after, before, "hotline_calls_offered_total", queue=QUIET) == 2  # both joined quiet
    assert (
        delta(after, before, "hotline_calls_offered_total", queue="main") == 2
    )  # the overflow, the operator call
    assert delta(after, before, "hotline_calls_answered_total", queue="main") == 2
    assert delta(after, before, "hotline_calls_abandoned_total", queue=QUIET) == 1
    assert after[("hotline_calls_waiting", frozenset({("queue", QUIET)}))] == 0
    for r in mine:
        queue, topic = r["queue"], r["topic"] or "none"
        same = [m for m in mine if (m["queue"], m["topic"] or "none") == (queue, topic)]
        answered = sum(m["outcome"] == "answered" for m in same)
        assert delta(after, before, "hotline_topic_calls_offered_total", queue=queue, topic=topic) == len(
            same
        )
        assert (
            delta(after, before, "hotline_topic_calls_answered_total", queue=queue, topic=topic) == answered
        )
    assert delta(after, before, "hotline_wait_seconds_count", queue="main", outcome="answered") == 2
    assert delta(after, before, "hotline_wait_seconds_count", queue=QUIET, outcome="abandoned") == 1


def _wallboard_counted(after: dict[str, Any], before: dict[str, Any], mine: list[dict[str, Any]]) -> None:
    for queue in ("main", QUIET):
        own = [r for r in mine if r["queue"] == queue]
        moved = {
            k: after[queue][k] - before[queue][k]
            for k in ("offered_today", "answered_today", "abandoned_today")
        }
        assert moved == {
            "offered_today": len(own),
            "answered_today": sum(r["outcome"] == "answered" for r in own),
            "abandoned_today": sum(r["outcome"] == "abandoned_in_queue" for r in own),
        }, queue
        assert after[queue]["waiting"] == 0


def _report_equals_records(service: Service, started: datetime, mine: list[dict[str, Any]]) -> None:
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    window = {"start": started.isoformat(), "end": end.isoformat(), "tz": "UTC"}
    listed = httpx.get(
        f"{service.url}/api/calls",
        params={"since": started.isoformat(), "limit": 1000},
        headers=service.admin,
    ).json()
    in_window = [r for r in listed if started <= instant(r["started_at"]) < end]
    assert sorted(r["id"] for r in in_window) == sorted(r["id"] for r in mine)  # nobody else called
    params = {**window, "interval": "15m", "group": ["queue", "topic"]}
    got = httpx.get(f"{service.url}/api/reports", params=params, headers=service.admin)
    assert got.status_code == 200, got.text
    report = got.json()
    thresholds = {q: float(t) for q, t in report["thresholds"].items()}
    rows = {(instant(r["interval_start"]), r["queue"], r["topic"]): r for r in report["rows"]}
    expected = expected_cells(in_window, thresholds)
    assert set(rows) == set(expected)
    for key, figures in expected.items():
        same(rows[key], figures, key)
    same(report["total"], expected_figures(in_window, thresholds), "total")


def same(got: dict[str, Any], expected: dict[str, Any], where: object) -> None:
    for name, value in expected.items():
        if value is None:
            assert got[name] is None, (where, name)
        else:
            assert got[name] == pytest.approx(value, abs=1e-3), (where, name, got[name], value)


def expected_cells(calls: list[dict[str, Any]], thresholds: dict[str, float]) -> dict[Any, dict[str, Any]]:
    """The report's figures per 15 minutes, queue and topic, worked out from the records here."""
    cells: dict[Any, list[dict[str, Any]]] = {}
    for r in calls:
        epoch = instant(r["started_at"]).timestamp()
        start = datetime.fromtimestamp(math.floor(epoch / 900) * 900, UTC)
        cells.setdefault((start, r["queue"], r["topic"]), []).append(r)
    return {key: expected_figures(group, thresholds) for key, group in cells.items()}


def expected_figures(calls: list[dict[str, Any]], thresholds: dict[str, float]) -> dict[str, Any]:
    offered = [
        r for r in calls if r["queue_entered_at"] or r["outcome"] in ("answered", "abandoned_in_queue")
    ]
    answered = [r for r in offered if r["outcome"] == "answered"]
    abandoned = [r for r in offered if r["outcome"] == "abandoned_in_queue"]
    within = [r for r in answered if (r["wait_seconds"] or 0) <= thresholds.get(r["queue"], 20.0)]
    handled = [r for r in answered if r["talk_seconds"] is not None]
    n = len(offered)
    return {
        "offered": n,
        "answered": len(answered),
        "abandoned": len(abandoned),
        "answered_within_threshold": len(within),
        "answer_rate": len(answered) / n,
        "service_level": len(within) / n,
        "abandonment": len(abandoned) / n,
        "asa_seconds": sum(r["wait_seconds"] or 0 for r in answered) / len(answered) if answered else None,
        "aht_seconds": (
            sum(r["talk_seconds"] + (r["wrapup_seconds"] or 0) for r in handled) / len(handled)
            if handled
            else None
        ),
        "longest_wait_seconds": max(
            (r["wait_seconds"] for r in offered if r["wait_seconds"] is not None), default=None
        ),
    }
