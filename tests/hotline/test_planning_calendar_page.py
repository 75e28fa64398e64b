"""The planning page's defaults, explanations and roster calendar in headless Chromium (Debian's,
driven by Playwright) against the planning routes served by uvicorn over SQLite, signed in as a
shift lead with a password on the real routes of signing in (as tests/hotline/test_planning_page.py).

The line is configured for Europe/Warsaw; its operator directory holds the people a roster can
use. The history: "crisis" steady for five weeks; "legal" steady, then four times busier for the
last two weeks, so that its forecast from three weeks of history does worse than repeating last
week, while a plan made before the jump does not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi import APIRouter
from playwright.sync_api import Browser, Locator, Page, Request, expect
from sqlalchemy import Engine

from agents.directory import OperatorDirectory, Role
from core.db import make_engine, migrate
from hotline.http import create_app
from metrics.records.record import CallRecord
from metrics.records.store import RecordStore
from planning.api import planning_router
from planning.schemas import RosterableOut
from planning.service import PlanningService
from tests.accounts import authenticator, make_person, sign_in_routes
from tests.browser import chromium, serving
from tests.browser import sign_in as sign_in_as
from tests.planning.test_api import NOW, START, ZONE, _record, calls_per_half_hour

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

LINE_ZONE = "Europe/Warsaw"
PASSWORD = "a shift lead's passphrase"
LEAD = "lead-plan"
WEEKS = 5
JUMP = START - timedelta(weeks=2)  # legal's calls quadruple from here
BEFORE_JUMP = JUMP  # a plan from this day sees only the steady weeks
PEOPLE = {
    "op-anna": ("Anna", Role.OPERATOR),
    "op-boris": ("Boris", Role.OPERATOR),
    "op-vera": ("Vera", Role.SENIOR),
}


def records() -> list[CallRecord]:
    rng = np.random.default_rng(23)
    first = datetime.combine(START - timedelta(weeks=WEEKS), datetime.min.time(), tzinfo=ZONE)
    jump = datetime.combine(JUMP, datetime.min.time(), tzinfo=ZONE)
    out = []
    for i in range(WEEKS * 7 * 48):
        slot = first + timedelta(minutes=30 * i)
        for queue, scale in (("crisis", 1.0), ("legal", 0.4)):
            rate = calls_per_half_hour(0, i % 48, scale) * (4 if queue == "legal" and slot >= jump else 1)
            for _ in range(rng.poisson(rate)):
                at = (slot + timedelta(seconds=float(rng.uniform(0, 1800)))).astimezone(UTC)
                out.append(_record(rng, at, queue))
    return out


def directory_of(engine: Engine) -> OperatorDirectory:
    directory = OperatorDirectory(engine)
    for person_id, (name, role) in PEOPLE.items():
        directory.create(person_id, name, role, {"crisis": 2})
    directory.create("op-gone", "Gone", Role.OPERATOR, {})
    directory.update("op-gone", active=False)
    return directory


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('planning-calendar') / 'hotline.sqlite3'}")
    migrate(engine)
    store, calls = RecordStore(engine), records()
    for i in range(0, len(calls), 500):
        store.save_many(calls[i : i + 500])
    make_person(engine, LEAD, PASSWORD, Role.SHIFT_LEAD)
    directory = directory_of(engine)
    guard = authenticator(engine).guard({Role.SHIFT_LEAD, Role.ADMIN}, "planning")
    router = planning_router(
        engine,
        guard,
        PlanningService(engine, clock=lambda: NOW.astimezone(UTC)),
        timezone=LINE_ZONE,
        operators=lambda: [RosterableOut.of(o) for o in directory.all(active_only=True)],
    )
    with serving(create_app([sign_in_routes(engine), router, live_topics()])) as url:
        yield url
    engine.dispose()


CRISIS = {"ru": "Кризисная помощь", "pl": "Wsparcie kryzysowe", "en": "Crisis support"}


def live_topics() -> APIRouter:
    """GET /api/topics: the crisis queue's topic with its names; legal has none (shown by its id)."""
    router = APIRouter()

    async def topics() -> list[dict[str, object]]:
        return [{"id": "crisis", "names": CRISIS, "queue": "crisis"}]

    router.add_api_route("/api/topics", topics, methods=["GET"])
    return router


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, served: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith(served):
            elsewhere.append(request.url)

    tab.on("request", note)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{served}/planning/")
    sign_in_as(tab, LEAD, PASSWORD)
    expect(tab.get_by_role("status")).to_have_text("Signed in.")
    yield tab
    context.close()
    assert elsewhere == [] and errors == []


def plan_form(page: Page, first: date, interval: str = "30") -> None:
    page.fill("#start", first.isoformat())
    page.fill("#days", "7")
    page.select_option("#interval", interval)
    page.fill("#weeks", "3")


def forecast(page: Page, first: date) -> dict[str, Any]:
    plan_form(page, first)
    with page.expect_response("**/api/planning/forecast") as answer:
        page.get_by_role("button", name="Forecast").click()
    expect(page.get_by_role("status")).to_contain_text("Forecast for 2 queues")
    body: dict[str, Any] = answer.value.json()
    return body


def person(page: Page, name: str) -> Locator:
    return page.locator("details.person", has_text=name)


def test_the_page_plans_in_the_configured_time_zone_and_says_so(page: Page) -> None:
    expect(page.locator("#zone")).to_have_value(LINE_ZONE)
    expect(page.locator("#zone-note")).to_have_text(
        f"All days and times on this page are in {LINE_ZONE}, the line's configured time zone."
    )
    expect(page.locator("#start")).to_have_value(datetime.now(ZoneInfo(LINE_ZONE)).date().isoformat())
    plan_form(page, START)
    with page.expect_request("**/api/planning/forecast") as sent:
        page.get_by_role("button", name="Forecast").click()
    assert sent.value.post_data_json["timezone"] == LINE_ZONE
    expect(page.locator("#forecast-chart text")).to_contain_text(["Mon 23/11"])
    # another zone, typed in, is said to differ from the line's
    page.fill("#zone", "Europe/Moscow")
    expect(page.locator("#zone-note")).to_contain_text("the line's configured time zone is Europe/Warsaw")


def test_each_figure_is_explained_in_plain_words(page: Page) -> None:
    expect(page.locator("#shrinkage-explain")).to_contain_text("10 people rostered give 7 on the phones")
    expect(page.locator("#occupancy-explain")).to_contain_text("burn out")
    expect(page.locator("#sl-explain")).to_contain_text("8 callers in 10 wait 20 seconds or less")
    terms = page.locator("#glossary dt")
    expect(terms).to_have_text(
        ["Backtest WAPE", "Naive WAPE", "Calls", "Patience", "Peak agents", "Peak positions"]
    )
    expect(page.locator("#glossary dd").first).to_contain_text("missed by about 15 calls in every 100")
    expect(page.locator("#glossary dd").nth(4)).to_contain_text("on the phones at once")


def test_a_forecast_worse_than_the_naive_one_is_warned_of_and_only_then(page: Page) -> None:
    steady = forecast(page, BEFORE_JUMP)
    assert not any(q["worse_than_naive"] for q in steady["queues"])
    expect(page.locator("#forecast-warning")).to_be_hidden()
    expect(page.get_by_role("table", name="queues")).not_to_contain_text("worse than naive")

    jumped = forecast(page, START)
    worse = {q["queue"]: q["worse_than_naive"] for q in jumped["queues"]}
    assert worse == {"crisis": False, "legal": True}
    warning = page.get_by_role("alert").filter(has_text="Warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("the forecast for legal (error ")
    expect(warning).to_contain_text("does worse than a naive guess (the same time last week)")
    expect(warning).not_to_contain_text("crisis")
    rows = page.get_by_role("table", name="queues").locator("tbody tr")
    expect(rows.filter(has_text="legal")).to_contain_text("\u26a0 worse than naive")
    expect(rows.filter(has_text="crisis")).not_to_contain_text("worse than naive")

    forecast(page, BEFORE_JUMP)  # and gone again for a plan that is not worse
    expect(page.locator("#forecast-warning")).to_be_hidden()


def test_the_roster_is_made_from_the_real_operators_and_shown_as_calendars(page: Page) -> None:
    summaries = page.locator("details.person summary strong")
    expect(summaries).to_have_text(
        [f"{LEAD} ({LEAD})", "Anna (op-anna)", "Boris (op-boris)", "Vera (op-vera)"]
    )
    expect(page.locator("#people")).not_to_contain_text("Gone")  # inactive accounts are not offered
    anna, boris, vera = person(page, "op-anna"), person(page, "op-boris"), person(page, "op-vera")
    lead = person(page, f"({LEAD})")
    expect(lead.get_by_label("In this roster")).to_be_checked()  # a shift lead takes calls too
    for who in (anna, boris, vera, lead):
        who.locator("summary").click()
    lead.get_by_label("In this roster").uncheck()
    vera.get_by_label("In this roster").uncheck()
    expect(vera.locator("summary")).to_contain_text("not in this roster")
    # Anna: no weekends, a day off on Wednesday; Boris: Mondays only 07:00-15:00
    anna.get_by_label("Anna: Saturday", exact=True).select_option("off")
    anna.get_by_label("Anna: Sunday", exact=True).select_option("off")
    wednesday = (START + timedelta(days=2)).isoformat()
    anna.get_by_label("Anna: add a day off").fill(wednesday)
    anna.get_by_role("button", name="Add").click()
    expect(anna.locator("summary")).to_contain_text("5 of 7 weekdays, 1 day off")
    boris.get_by_label("Boris: Monday", exact=True).select_option("hours")
    boris.get_by_label("Boris: Monday from").fill("07:00")
    boris.get_by_label("Boris: Monday to").fill("15:00")
    plan_form(page, START)
    page.fill("#rule-limit", "5")
    with page.expect_request("**/api/planning/roster") as sent:
        page.get_by_role("button", name="Make roster").click()
    made = r"(Best possible roster|A good roster \(.+\)): "
    expect(page.get_by_role("status")).to_have_text(re.compile(made))

    body = sent.value.post_data_json
    assert body["timezone"] == LINE_ZONE
    assert [t["name"] for t in body["templates"]] == ["early", "day", "late", "night"]
    assert body["templates"][3] == {"name": "night", "start": "23:00", "minutes": 480, "breaks": []}
    sent_anna, sent_boris = body["operators"]
    assert sent_anna["id"] == "op-anna" and sent_anna["days_off"] == [wednesday]
    assert {w["weekday"] for w in sent_anna["available"]} == {"mon", "tue", "wed", "thu", "fri"}
    assert {"weekday": "tue", "start": "23:00", "end": "07:00"} in sent_anna["available"]  # the night shift
    mondays = [w for w in sent_boris["available"] if w["weekday"] == "mon"]
    assert mondays == [{"weekday": "mon", "start": "07:00", "end": "15:00"}]

    calendar = page.get_by_role("table", name="the operators' shifts, day by day")
    expect(calendar.locator("thead th")).to_have_text(
        [
            "Operator",
            "Mon 23/11",
            "Tue 24/11",
            "Wed 25/11",
            "Thu 26/11",
            "Fri 27/11",
            "Sat 28/11",
            "Sun 29/11",
            "Hours per week",
        ]
    )
    rows = calendar.locator("tbody tr")
    expect(rows.locator("th")).to_have_text(["Anna (op-anna)", "Boris (op-boris)"])
    anna_cells = rows.nth(0).locator("td")
    expect(anna_cells.nth(2)).to_have_text("day off")
    expect(anna_cells.nth(5)).to_have_text("")  # no weekends
    expect(anna_cells.nth(6)).to_have_text("")
    shifts = calendar.locator("td.shift span")
    expect(shifts.first).to_be_visible()
    for text in shifts.all_text_contents():
        assert re.fullmatch(r"(early|day|late|night) \d\d:\d\d\u2013\d\d:\d\d", text), text
    monday = rows.nth(1).locator("td").nth(0).text_content() or ""
    assert monday in ("", "early 07:00\u201315:00")

    cover = page.get_by_role("table", name="Cover by time of day")
    expect(cover.locator("tbody tr")).to_have_count(48)
    expect(cover.locator("tbody tr th").first).to_have_text("00:00")
    short = cover.locator("td.short")
    expect(short.first).to_be_visible()  # two people cannot cover a week of calls
    for text in short.all_text_contents()[:20]:
        assert re.fullmatch(r"\d+/\d+ short \d+", text), text  # said in words, not by colour alone
    expect(page.locator("#roster-summary")).to_contain_text("position(s) short over")
    page.set_viewport_size({"width": 375, "height": 800})  # a phone: wide tables scroll in their box
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_problems_are_shown_at_their_place(page: Page) -> None:
    page.get_by_label("Shift 2 break minutes").fill("")
    page.get_by_role("button", name="Make roster").click()
    problem = page.locator("#templates span.problem")
    expect(problem).to_have_text("Give both the break's time and its length, or neither.")
    expect(page.get_by_label("Shift 2 break minutes")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Shift 2 break minutes").fill("30")

    plan_form(page, START, interval="60")  # half-hour breaks are off an hourly grid
    page.get_by_role("button", name="Make roster").click()
    expect(page.get_by_role("status")).to_contain_text("body.templates.0.breaks.0")
    expect(page.locator("#templates tbody tr").first.locator("span.problem")).to_contain_text(
        "breaks lie inside the shift, on the grid"
    )
    expect(page.get_by_label("Shift 1 break at")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Shift 2 break minutes")).not_to_have_attribute("aria-invalid", "true")

    page.fill("#rule-rest", "99")
    page.get_by_role("button", name="Make roster").click()
    expect(page.locator("#rules span.problem")).to_be_visible()
    expect(page.locator("#rule-rest")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Shift 1 break at")).not_to_have_attribute("aria-invalid", "true")

    for summary in page.locator("details.person summary").all():
        summary.click()  # open each person
    for box in page.get_by_label("In this roster").all():
        box.uncheck()
    page.get_by_role("button", name="Make roster").click()
    expect(page.get_by_role("status")).to_have_text("Tick at least one person for this roster.")


IN = {
    "ru": {
        "signed_in": "Вход выполнен.",
        "heading": "Планирование смен",
        "zone": f"Все дни и время на этой странице указаны в поясе {LINE_ZONE} — это часовой пояс линии.",  # noqa: RUF001
        "terms": [
            "WAPE бэктеста",
            "WAPE наивного прогноза",
            "Звонки",
            "Терпение",
            "Операторов в пик",
            "Мест в пик",
        ],
        "done": r"Прогноз по 2 очередям; мест в пик: \d+\.",
        "wape": r"\d+(,\d)?\u00a0%",
        "saturday": "Anna: суббота",
        "day": "пн, 09.11",  # the first day of the plan, a Monday
    },
    "pl": {
        "signed_in": "Zalogowano.",
        "heading": "Planowanie dyżurów",
        "zone": f"Wszystkie dni i godziny na tej stronie są w strefie {LINE_ZONE},"
        " czyli w strefie czasowej linii.",
        "terms": [
            "WAPE testu wstecznego",
            "WAPE prognozy naiwnej",
            "Połączenia",
            "Cierpliwość",
            "Agentów w szczycie",
            "Stanowisk w szczycie",
        ],
        "done": r"Prognoza dla 2 kolejek; stanowisk w szczycie: \d+\.",
        "wape": r"\d+(,\d)?%",
        "saturday": "Anna: sobota",
        "day": "pon., 9.11",
    },
}


@pytest.mark.parametrize("language", sorted(IN))
def test_the_page_in_russian_and_in_polish(browser: Browser, served: str, language: str) -> None:
    words = IN[language]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{served}/planning/?lang={language}")
    sign_in_as(tab, LEAD, PASSWORD)
    expect(tab.get_by_role("status")).to_have_text(words["signed_in"])
    expect(tab.locator("h1")).to_have_text(words["heading"])
    expect(tab.locator("#zone-note")).to_have_text(words["zone"])
    expect(tab.locator("#glossary dt")).to_have_text(words["terms"])
    expect(tab.locator("#people")).to_contain_text("Anna (op-anna)")
    assert tab.get_by_label(words["saturday"], exact=True).count() == 1  # the weekdays in the language
    plan_form(tab, BEFORE_JUMP)
    tab.click("#plan button[type=submit]")
    expect(tab.get_by_role("status")).to_have_text(re.compile(words["done"]))
    rows = tab.locator("#queues tbody tr")
    expect(rows.first).to_contain_text(re.compile(words["wape"]))  # the backtest WAPE, the language's way
    expect(rows.filter(has_text=CRISIS[language])).to_have_count(1)  # the queue by its topic's name
    expect(tab.locator("#forecast-chart text")).to_contain_text([words["day"]])
    tab.set_viewport_size({"width": 375, "height": 800})  # a phone, with the language's longer words
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    tab.set_viewport_size({"width": 1400, "height": 1000})
    tab.select_option("#language", "en")  # everything the scripts wrote, again in English
    expect(tab.locator("#glossary dt").first).to_have_text("Backtest WAPE")
    expect(rows.filter(has_text=CRISIS["en"])).to_have_count(1)
    expect(tab.locator("#forecast-chart text")).to_contain_text(["Mon 09/11"])
    expect(person(tab, "op-anna").locator("summary")).to_contain_text("any shift, any day")
    context.close()
    assert errors == []
