"""The planning page in headless Chromium (Debian's, driven by Playwright) against the real app
served by uvicorn on a free port, over a SQLite database seeded with generated records: no
Asterisk needed. Forecast table and charts, a roster, refusals, and nothing fetched elsewhere."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from agents.directory import Role
from core.db import make_engine, migrate
from hotline.http import create_app
from planning.api import planning_router
from planning.service import PlanningService
from tests.accounts import authenticator, make_person, sign_in_routes
from tests.browser import chromium, serving
from tests.browser import sign_in as sign_in_as
from tests.planning.test_api import NOW, START, TEMPLATES, seed

pytestmark = pytest.mark.beside  # headless Chromium: in make test's second pytest, beside the rest

PASSWORD = "a planner's passphrase"
ADMIN, OPERATOR = "adm-plan", "op-page"


@dataclass
class Served:
    url: str


async def _nothing(_: object) -> None:
    return None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("planning-page")
    engine = make_engine(f"sqlite:///{tmp / 'hotline.sqlite3'}")
    migrate(engine)
    seed(engine, weeks=3)
    make_person(engine, ADMIN, PASSWORD, Role.ADMIN)
    make_person(engine, OPERATOR, PASSWORD, Role.OPERATOR)
    auth = authenticator(engine)
    service = PlanningService(engine, clock=lambda: NOW.astimezone(UTC))  # within the seeded history
    guard = auth.guard({Role.SHIFT_LEAD, Role.ADMIN}, "planning")
    app = create_app([sign_in_routes(engine), planning_router(engine, guard, service)])
    with serving(app) as url:
        yield Served(url)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    elsewhere: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith(served.url):
            elsewhere.append(request.url)

    page.on("request", note)
    page.goto(f"{served.url}/planning/")
    yield page
    context.close()
    assert elsewhere == []  # assets served locally: no CDN, nothing fetched elsewhere


def sign_in(page: Page, person: str = ADMIN, password: str = PASSWORD) -> None:
    sign_in_as(page, person, password)


def plan_form(page: Page, days: int = 7, interval: str = "30") -> None:
    page.get_by_label("First day").fill(START.isoformat())
    page.get_by_label("Days").fill(str(days))
    page.get_by_label("Interval").select_option(interval)
    page.get_by_label("History").fill("3")


def test_a_wrong_password_and_an_operator_are_refused(page: Page) -> None:
    sign_in(page, ADMIN, "not the password")
    expect(page.locator("#sign-in-note")).to_have_text("The name, the password or the code is wrong.")
    expect(page.locator("#app")).to_be_hidden()
    sign_in(page, OPERATOR)
    expect(page.get_by_role("status")).to_contain_text("This page is not for your role")
    expect(page.locator("#app")).to_be_hidden()


def test_forecast_table_and_charts(page: Page) -> None:
    sign_in(page)
    expect(page.get_by_role("status")).to_have_text("Signed in.")
    expect(page.locator("#now")).to_have_text(re.compile(r"now \(.+\): \d+ positions"))
    plan_form(page)
    page.get_by_role("button", name="Forecast").click()
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"Forecast for 2 queues; peak \d+ positions\.")
    )
    rows = page.get_by_role("table", name="queues").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("crisis")
    expect(rows.first).to_contain_text(re.compile(r"\d+(\.\d)?%"))  # the backtest WAPE
    calls = page.locator("#forecast-chart polyline.calls")
    expect(calls).to_have_count(1)
    assert len(calls.get_attribute("points").split()) == 7 * 48  # type: ignore[union-attr]
    expect(page.locator("#staffing-chart polyline.required")).to_have_count(1)
    expect(page.locator("#forecast-chart text")).to_contain_text(["Mon 23/11"])
    all_queues = calls.get_attribute("points")
    page.get_by_label("chart queue").select_option("legal")
    expect(calls).not_to_have_attribute("points", all_queues or "")


def test_a_roster_draws_scheduled_against_required(page: Page) -> None:
    sign_in(page)
    plan_form(page, days=7, interval="60")
    request = {
        "templates": TEMPLATES,
        "operators": [{"id": f"op-{i}"} for i in range(8)],
        "time_limit_seconds": 5,
    }
    page.get_by_label("roster request (JSON)").fill(json.dumps(request))
    page.get_by_role("button", name="Make roster").click()
    expect(page.get_by_role("status")).to_have_text(
        re.compile(
            r"(Best possible roster|A good roster \(.+\)): [\d.,]+ h scheduled,"
            r" under-coverage \d+ interval-positions\."
        )
    )
    expect(page.locator("#staffing-chart polyline.scheduled")).to_have_count(1)
    expect(page.get_by_role("table", name="operators").locator("tbody tr")).to_have_count(8)


def test_bad_input_shows_the_field(page: Page) -> None:
    sign_in(page)
    plan_form(page)
    page.get_by_label("Service level").fill("150")
    page.get_by_role("button", name="Forecast").click()
    expect(page.get_by_role("status")).to_contain_text("body.targets.service_level")
