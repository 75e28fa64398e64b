"""The operator's page in Russian and Polish (issue 19, item 3), in headless Chromium against the
debrief test's stand-in API: ?lang= picks the language, the page's words come from
i18n-operator.js (the state, the pause's reason, the call's state and facts, the guard's notice
from its figures, the debrief's question), numbers are grouped as the language groups them and
durations read m:ss; switching the language redraws what the scripts wrote."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Page, expect

from agents.directory import Role
from hotline.http import create_app
from tests.accounts import one_person
from tests.browser import chromium, serving, sign_in
from tests.hotline.test_debrief_page import PASSWORD, StandIn

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

NBSP = "\u00a0"
# The words each language shows for the stand-in's operator: paused (recovery), 12345 calls taken,
# a call that ended after 9:57 on the phone, and a heavy call's suggestion of a debrief.
WORDS = {
    "ru": {
        "h1": "Моя смена",
        "status": "на паузе",
        "reason": "(восстановление)",
        "calls": f"12{NBSP}345",
        "call": "Звонок завершён: сохраните итоги",
        "suggest": "Это был тяжёлый звонок",
        "pause": "Пауза",
        "header": "Причина",
        "notice": "тяжёлая тема (crisis): сделайте перерыв на 10 мин (до 12:10:00)",
    },
    "pl": {
        "h1": "Mój dyżur",
        "status": "przerwa",
        "reason": "(regeneracja)",
        "calls": f"12{NBSP}345",
        "call": "Połączenie zakończone: zapisz podsumowanie",
        "suggest": "To była trudna rozmowa",
        "pause": "Przerwa",
        "header": "Powód",
        "notice": "trudny temat (crisis): proszę zrobić 10 min przerwy (do 12:10:00)",
    },
}


class ManyCalls(StandIn):
    """The stand-in whose operator has taken a number of calls that shows the grouping."""

    def router(self) -> APIRouter:
        router = super().router()
        me = next(r for r in router.routes if isinstance(r, APIRoute) and r.path == "/api/me")
        router.routes.remove(me)

        async def get_me() -> dict[str, Any]:
            answer = await me.endpoint()
            notices = [{**n, "figures": {"topic": "crisis", "rest": 10}} for n in answer["state"]["notices"]]
            return {**answer, "state": {**answer["state"], "calls_taken": 12345, "notices": notices}}

        router.add_api_route("/api/me", get_me, methods=["GET"])
        return router


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened(browser: Browser, language: str) -> Iterator[Page]:
    with (
        one_person("op-anna", PASSWORD, Role.OPERATOR) as accounts,
        serving(create_app([accounts, ManyCalls().router()])) as url,
    ):
        page = browser.new_page(locale="en-GB", timezone_id="UTC")
        page.goto(f"{url}/operator/?lang={language}")
        sign_in(page, "op-anna", PASSWORD)
        yield page
        page.close()


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_the_operators_page_speaks_the_language_asked(browser: Browser, language: str) -> None:
    words = WORDS[language]
    for page in opened(browser, language):
        expect(page.locator("#op-status")).to_have_text(words["status"], timeout=10_000)
        assert page.evaluate("document.documentElement.lang") == language
        expect(page.locator("h1")).to_have_text(words["h1"])
        expect(page.locator("#op-reason")).to_have_text(words["reason"])
        expect(page.locator("#op-calls")).to_have_text(words["calls"])
        expect(page.locator("#call-state")).to_have_text(words["call"])
        expect(page.locator("#call-timer")).to_have_text("9:57")
        expect(page.locator("#notices li")).to_have_text(words["notice"])
        expect(page.locator("#debrief-suggest")).to_contain_text(words["suggest"])
        expect(page.locator("#pause")).to_have_text(words["pause"])
        expect(page.locator("#pauses").locator("xpath=..").locator("th").first).to_have_text(words["header"])


def test_choosing_english_redraws_what_the_scripts_wrote(browser: Browser) -> None:
    for page in opened(browser, "ru"):
        expect(page.locator("#op-status")).to_have_text("на паузе", timeout=10_000)
        page.select_option("#language", "en")
        expect(page.locator("#op-status")).to_have_text("paused")
        expect(page.locator("#op-reason")).to_have_text("(recovery)")
        expect(page.locator("#op-calls")).to_have_text("12,345")
        expect(page.locator("#call-state")).to_have_text("Call ended: summary to save")
        expect(page.locator("h1")).to_have_text("My shift")
        expect(page.locator("#notices li")).to_have_text("a call on crisis: take 10 minutes (until 12:10:00)")
