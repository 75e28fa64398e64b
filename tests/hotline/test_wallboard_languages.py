"""The wallboard in Russian and Polish (issue 19, item 3), in headless Chromium against the
actions test's stand-in API: ?lang= picks the language; the board's words, the alerts (made
from their kind and the snapshot's figures, not the server's English), the queues (by their
topics' names), the operators' states, the debrief requests and the record of the leads' actions
come from i18n-wallboard.js and the live IVR; counts are grouped as the language groups them,
shares are percentages of the language, waits m:ss. Switching the language redraws them."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from playwright.sync_api import Browser, Page, expect

import tests.hotline.test_wallboard_actions_page as actions_page
from agents.directory import Role
from hotline.http import create_app
from tests.accounts import one_person
from tests.browser import chromium, serving, sign_in
from tests.hotline.test_wallboard_actions_page import PASSWORD, SNAPSHOT, StandIn

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

NBSP = "\u00a0"
WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "live": "в эфире",
        "h1": "Табло горячей линии",
        "queue": "Кризисная помощь",
        "wait": "Кризисная помощь: абонент в кризисе ждёт 0:30 (порог 0:10)",
        "acked": "принято: op-lead",
        "unstaffed": "legal: в очереди нет ни одного оператора",
        "state": "разговор",
        "counts": f"12{NBSP}345 / 12{NBSP}000 / 345",
        "level": f"76{NBSP}%",
        "debrief": "открыт (предложила защита от выгорания)",
        "action": "пауза",
        "reason": "обучение",
        "result": "выполнено",
        "pause": "Пауза",
        "header": "Очередь",
        "by_node": "ждут на каждом узле",
    },
    "pl": {
        "live": "na żywo",
        "h1": "Tablica telefonu zaufania",
        "queue": "Pomoc kryzysowa",
        "wait": "Pomoc kryzysowa: rozmówca w kryzysie czeka 0:30 (próg 0:10)",
        "acked": "potwierdził(a) op-lead",
        "unstaffed": "legal: nikt nie jest zalogowany",
        "state": "w rozmowie",
        "counts": f"12{NBSP}345 / 12{NBSP}000 / 345",
        "level": "76%",
        "debrief": "otwarta (zaproponowała ochrona przed wypaleniem)",
        "action": "przerwa",
        "reason": "szkolenie",
        "result": "wykonano",
        "pause": "Przerwa",
        "header": "Kolejka",
        "by_node": "czeka na każdym węźle",
    },
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(autouse=True)
def figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in's snapshot with counts and a share that read differently per language."""
    snapshot: dict[str, Any] = copy.deepcopy(SNAPSHOT)
    crisis = snapshot["queues"][0]
    crisis.update(offered_today=12345, answered_today=12000, abandoned_today=345, service_level_24h=0.755)
    monkeypatch.setattr(actions_page, "SNAPSHOT", snapshot)


def topics() -> APIRouter:
    """The live IVR's topics (GET /api/topics): one leads to the queue crisis."""
    router = APIRouter()

    async def live() -> list[dict[str, Any]]:
        names = {"ru": "Кризисная помощь", "pl": "Pomoc kryzysowa", "en": "Crisis help"}
        return [{"id": "crisis", "names": names, "queue": "crisis"}]

    router.add_api_route("/api/topics", live, methods=["GET"])
    return router


def opened(browser: Browser, language: str) -> Iterator[Page]:
    with (
        one_person("op-lead", PASSWORD, Role.SHIFT_LEAD) as accounts,
        serving(create_app([accounts, StandIn().router(), topics()])) as url,
    ):
        page = browser.new_page(locale="en-GB", timezone_id="UTC")
        page.goto(f"{url}/wallboard/?lang={language}")
        sign_in(page, "op-lead", PASSWORD)
        yield page
        page.close()


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_the_wallboard_speaks_the_language_asked(browser: Browser, language: str) -> None:
    words = WORDS[language]
    for page in opened(browser, language):
        expect(page.locator("#link")).to_have_text(words["live"], timeout=10_000)
        assert page.evaluate("document.documentElement.lang") == language
        expect(page.locator("h1")).to_have_text(words["h1"])
        expect(page.locator("#queues th").first).to_have_text(words["header"])
        alerts = page.locator("#alerts li")
        expect(alerts.first).to_contain_text(words["wait"])
        expect(alerts.nth(1)).to_contain_text(words["unstaffed"])
        expect(alerts.nth(1)).to_contain_text(words["acked"])
        crisis = page.locator('#queues tr[data-queue="crisis"] td')
        expect(crisis.first).to_have_text(words["queue"])  # named by its topic, in the language
        expect(crisis.nth(5)).to_have_text(words["counts"])
        expect(crisis.nth(3)).to_have_text(words["level"])
        by_node = crisis.nth(1).locator(".by-node")  # two nodes: who waits where, named by node
        expect(by_node).to_have_text("north 1 · south 0")
        expect(by_node).to_have_attribute("title", words["by_node"])
        row = page.locator('#operators tr[data-operator="op-anna"]')
        expect(row.locator("td").nth(1)).to_have_text(words["state"])
        expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^1:0\d$"))
        expect(row.locator("button.pause")).to_have_text(words["pause"])
        expect(page.locator('#debriefs tr[data-id="7"]')).to_contain_text(words["debrief"])
        record = page.locator("#actions tbody tr").first
        for key in ("action", "reason", "result"):
            expect(record).to_contain_text(words[key])


def test_choosing_english_redraws_the_board(browser: Browser) -> None:
    for page in opened(browser, "ru"):
        expect(page.locator("#link")).to_have_text("в эфире", timeout=10_000)
        page.select_option("#language", "en")
        expect(page.locator("#link")).to_have_text("live")
        alert = "Crisis help: a crisis caller has waited 0:30"
        expect(page.locator("#alerts li").first).to_contain_text(alert)
        crisis = page.locator('#queues tr[data-queue="crisis"] td')
        expect(crisis.nth(5)).to_have_text("12,345 / 12,000 / 345")
        expect(crisis.nth(1).locator(".by-node")).to_have_attribute("title", "waiting on each node")
        expect(page.locator('#operators tr[data-operator="op-anna"] td').nth(1)).to_have_text("on call")
        expect(page.locator('#debriefs tr[data-id="7"]')).to_contain_text("open (the guard suggested it)")
        expect(page.locator("#actions tbody tr").first).to_contain_text("training")
