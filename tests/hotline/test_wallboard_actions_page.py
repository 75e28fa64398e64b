"""The wallboard page's actions (hotline/static/wallboard.js) in headless Chromium, against a
stand-in API whose stream sends one snapshot: alerts in the server's rank with an Acknowledge
button (and who acknowledged), each operator's Pause (with the chosen reason), Resume, Move
into/out of a queue and Listen (POST /api/supervision, the supervision room's contract), the
open debrief requests with Start and Close (with an outcome), and the record of actions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from playwright.sync_api import Browser, Page, expect

from agents.directory import Role
from hotline.http import create_app
from tests.accounts import one_person
from tests.browser import chromium, serving, sign_in

pytestmark = pytest.mark.beside  # headless Chromium: in make test's second pytest, beside the rest

PASSWORD = "the lead's passphrase"
SNAPSHOT: dict[str, Any] = {
    "at": "2026-12-07T12:00:00+00:00",
    "timezone": "UTC",
    "queues": [
        {
            "queue": q,
            "waiting": w,
            "longest_wait_seconds": float(w * 30),
            "oldest_since": None,
            "threshold_seconds": 10,
            "target": 0.8,
            "service_level_24h": None,
            "offered_24h": 0,
            "service_level_today": None,
            "offered_today": 0,
            "answered_today": 0,
            "abandoned_today": 0,
            "logged_in": 1 if q == "crisis" else 0,
            "operators": {"on_call": 1} if q == "crisis" else {},
            # A line of two Asterisk nodes (issue 22): who waits where.
            "waiting_by_node": {"south": 0, "north": w} if q == "crisis" else {},
        }
        for q, w in (("crisis", 1), ("legal", 0))
    ],
    "operators": [
        {
            "operator": "op-anna",
            "status": "on_call",
            "paused_reason": "",
            "queues": ["crisis"],
            "since": "2026-12-07T11:59:00+00:00",
            "seconds_in_state": 60.0,
            "moved": {"crisis": "in"},
        }
    ],
    "alerts": [
        {
            "queue": "crisis",
            "kind": "wait",
            "message": "a crisis caller has waited 30 s",
            "rank": 1,
            "id": "wait:crisis",
            "crisis": True,
            "acknowledged": None,
        },
        {
            "queue": "legal",
            "kind": "unstaffed",
            "message": "nobody is logged in",
            "rank": 6,
            "id": "unstaffed:legal",
            "crisis": False,
            "acknowledged": {"by": "op-lead", "at": "2026-12-07T11:58:00+00:00"},
        },
    ],
    "records": {"pending": 0, "oldest_pending_seconds": 0.0},
    "summaries": {"missing_today": 0},
    "switchboard": [],
    "debriefs": [
        {
            "id": 7,
            "operator": "op-boris",
            "state": "open",
            "record_id": "rec-1",
            "note": "a hard call",
            "suggested": True,
            "requested_at": "2026-12-07T11:55:00+00:00",
            "started_at": None,
            "started_by": None,
            "paused": False,
        },
    ],
}


class StandIn:
    """The API the wallboard reads and acts through; what the page sent is kept."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def router(self) -> APIRouter:
        router = APIRouter()

        async def stream() -> StreamingResponse:
            async def frames() -> AsyncIterator[str]:
                yield f"event: snapshot\ndata: {json.dumps(SNAPSHOT)}\n\n"
                while True:
                    await asyncio.sleep(5)
                    yield ": keepalive\n\n"

            return StreamingResponse(frames(), media_type="text/event-stream")

        async def acted(request: Request) -> dict[str, Any]:
            body = await request.body()
            self.sent.append((request.method, request.url.path, json.loads(body) if body else None))
            return {"action": "x", "alert": "x", "by": "op-lead", "at": "2026-12-07T12:00:01+00:00"}

        async def actions() -> list[dict[str, Any]]:
            return [
                {
                    "at": "2026-12-07T12:00:01+00:00",
                    "by": "op-lead",
                    "action": "pause",
                    "operator": "op-anna",
                    "target": "training",
                    "result": "ok",
                }
            ]

        router.add_api_route("/api/wallboard/stream", stream, methods=["GET"])
        router.add_api_route("/api/wallboard/actions", actions, methods=["GET"])
        for path, methods in (
            ("/api/wallboard/operators/{operator}/{verb}", ["POST"]),
            ("/api/wallboard/operators/{operator}/queues/{queue}", ["PUT", "DELETE"]),
            ("/api/wallboard/alerts/{alert}/acknowledge", ["POST"]),
            ("/api/debriefs/{debrief}/{verb}", ["POST"]),
            ("/api/supervision", ["POST"]),
        ):
            router.add_api_route(path, acted, methods=methods)
        return router


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened(browser: Browser, stand_in: StandIn) -> Iterator[Page]:
    with (
        one_person("op-lead", PASSWORD, Role.SHIFT_LEAD) as accounts,
        serving(create_app([accounts, stand_in.router()])) as url,
    ):
        page = browser.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{url}/wallboard/")
        sign_in(page, "op-lead", PASSWORD)
        expect(page.locator("#link")).to_have_text("live", timeout=10_000)
        yield page
        page.close()


def _sent(stand_in: StandIn, count: int) -> list[tuple[str, str, Any]]:
    for _ in range(100):
        if len(stand_in.sent) >= count:
            break
        asyncio.run(asyncio.sleep(0.05))
    return stand_in.sent


def test_every_action_of_the_wallboard_reaches_its_route(browser: Browser) -> None:
    stand_in = StandIn()
    for page in opened(browser, stand_in):
        alerts = page.locator("#alerts li")
        expect(alerts).to_have_count(2)
        expect(alerts.first).to_have_attribute("data-id", "wait:crisis")  # the server's rank kept
        expect(alerts.nth(1)).to_contain_text("acknowledged by op-lead")
        expect(alerts.nth(1).locator("button")).to_have_count(0)
        alerts.first.locator("button.ack").click()
        expect(page.locator(".message")).to_contain_text("Alert acknowledged")
        row = page.locator('#operators tr[data-operator="op-anna"]')
        expect(row).to_contain_text("crisis (moved: +crisis)")
        page.select_option("#lead-reason", "training")
        row.locator("button.pause").click()
        expect(page.locator(".message")).to_contain_text("op-anna paused")
        row.locator("select.move").select_option("in:legal")
        expect(page.locator(".message")).to_contain_text("moved into legal until they log out")
        row.locator("select.move").select_option("out:crisis")
        expect(page.locator(".message")).to_contain_text("moved out of crisis")
        row.locator("button.listen").click()
        expect(page.locator(".message")).to_contain_text("Listening to op-anna")
        debrief = page.locator('#debriefs tr[data-id="7"]')
        expect(debrief).to_contain_text("open (the guard suggested it)")
        debrief.locator("button.start").click()
        expect(page.locator(".message")).to_contain_text("Debrief with op-boris started")
        debrief.locator("input.outcome").fill("talked it through")
        debrief.locator("button.close").click()
        expect(page.locator(".message")).to_contain_text("Debrief with op-boris closed")
        expect(page.locator("#actions tbody tr").first).to_contain_text("op-lead")
    assert _sent(stand_in, 7) == [
        ("POST", "/api/wallboard/alerts/wait:crisis/acknowledge", None),
        ("POST", "/api/wallboard/operators/op-anna/pause", {"reason": "training"}),
        ("PUT", "/api/wallboard/operators/op-anna/queues/legal", None),
        ("DELETE", "/api/wallboard/operators/op-anna/queues/crisis", None),
        ("POST", "/api/supervision", {"operator": "op-anna", "mode": "listen"}),
        ("POST", "/api/debriefs/7/start", None),
        ("POST", "/api/debriefs/7/close", {"outcome": "talked it through"}),
    ]
