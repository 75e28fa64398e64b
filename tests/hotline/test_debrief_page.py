"""The operator page's debrief part (hotline/static/debrief.js) in headless Chromium, against a
stand-in API: when the burnout guard's recovery notice suggests a debrief, the page asks, and
one click asks a shift lead for one about the last call the desk showed (its record id), marked
as suggested; "Not now" hides the question until the next suggestion."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, Request
from playwright.sync_api import Browser, Page, expect

from agents.directory import Role
from hotline.http import create_app
from tests.accounts import one_person
from tests.browser import chromium, serving, sign_in

pytestmark = pytest.mark.beside  # headless Chromium: in make test's second pytest, beside the rest

PASSWORD = "anna's passphrase"
NOTICE = {
    "rule": "heavy_topic",
    "message": "a call on crisis: take 10 minutes",
    "at": "2026-12-07T12:00:00+00:00",
    "until": "2026-12-07T12:10:00+00:00",
    "suggest_debrief": True,
}
CALL = {
    "operator": "op-anna",
    "state": "ended",
    "server_time": "2026-12-07T12:00:05+00:00",
    "call": {
        "record_id": "rec-1",
        "topic": "crisis",
        "topic_name": "Crisis",
        "offered_at": "2026-12-07T11:50:00+00:00",
        "answered_at": "2026-12-07T11:50:03+00:00",
        "ended_at": "2026-12-07T12:00:00+00:00",
    },
}


class StandIn:
    """The API the operator page reads, with one operator in a guard's recovery pause."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def router(self) -> APIRouter:
        router = APIRouter()
        state = {
            "status": "paused",
            "paused_reason": "recovery",
            "queues": ["crisis"],
            "calls_taken": 3,
            "since": None,
            "wrapup_until": None,
            "notices": [NOTICE],
        }
        me = {"id": "op-anna", "display_name": "Anna", "role": "operator", "skills": {}, "state": state}
        phone = {"server": "127.0.0.1", "port": 5060, "username": "op-anna", "realm": "hotline"}

        async def get_me() -> dict[str, Any]:
            return me

        async def empty() -> list[Any]:
            return []

        async def softphone() -> dict[str, Any]:
            return phone

        async def call() -> dict[str, Any]:
            return CALL

        async def mine() -> list[dict[str, Any]]:
            return [
                {**a, "id": i + 1, "state": "open", "requested_at": NOTICE["at"]}
                for i, a in enumerate(self.asked)
            ]

        async def ask(request: Request) -> dict[str, Any]:
            self.asked.append(await request.json())
            return {"id": len(self.asked)}

        router.add_api_route("/api/me", get_me, methods=["GET"])
        router.add_api_route("/api/me/softphone", softphone, methods=["GET"])
        router.add_api_route("/api/operators/op-anna/pauses", empty, methods=["GET"])
        router.add_api_route("/api/operators/op-anna/call", call, methods=["GET"])
        router.add_api_route("/api/referrals", empty, methods=["GET"])
        router.add_api_route("/api/supervision", empty, methods=["GET"])
        router.add_api_route("/api/operators/op-anna/debriefs", mine, methods=["GET"])
        router.add_api_route("/api/operators/op-anna/debriefs", ask, methods=["POST"], status_code=201)
        return router


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened(browser: Browser, stand_in: StandIn) -> Iterator[Page]:
    with (
        one_person("op-anna", PASSWORD, Role.OPERATOR) as accounts,
        serving(create_app([accounts, stand_in.router()])) as url,
    ):
        page = browser.new_page()
        page.goto(f"{url}/operator/")
        sign_in(page, "op-anna", PASSWORD)
        yield page
        page.close()


def test_the_guards_suggestion_asks_for_a_debrief_about_the_last_call(browser: Browser) -> None:
    stand_in = StandIn()
    for page in opened(browser, stand_in):
        expect(page.locator("#debrief-suggest")).to_be_visible(timeout=10_000)
        expect(page.locator("#debrief-call")).to_be_enabled()  # the desk has shown the call
        page.click("#debrief-yes")
        expect(page.locator("#debrief-state")).to_contain_text("You asked for a debrief", timeout=10_000)
        expect(page.locator("#debrief-suggest")).to_be_hidden()
        expect(page.locator("#debrief-form")).to_be_hidden()  # one open request at a time
    assert stand_in.asked == [{"suggested": True, "record_id": "rec-1"}]


def test_not_now_hides_the_suggestion_and_asks_nothing(browser: Browser) -> None:
    stand_in = StandIn()
    for page in opened(browser, stand_in):
        expect(page.locator("#debrief-suggest")).to_be_visible(timeout=10_000)
        page.click("#debrief-no")
        expect(page.locator("#debrief-suggest")).to_be_hidden()
        deadline = time.monotonic() + 2.5  # a poll or two later it stays hidden
        while time.monotonic() < deadline:
            assert page.locator("#debrief-suggest").is_hidden()
            page.wait_for_timeout(250)
    assert stand_in.asked == []
