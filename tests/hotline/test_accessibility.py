"""Every page of hotline.http.PAGES in Russian, Polish and English (issue 19, item 6 and its
acceptance), in headless Chromium with the data the pages' own tests give them, signed in with a
role that sees the page: a full-page screenshot at 1400 and at 375 px wide under var/screenshots/
(the test output folder, which CI keeps), no horizontal scrolling at 375 px, and axe-core
(vendored, tests/vendor/) finds no serious or critical violation at either width. A page with no
data here fails rather than being skipped: a new page brings its fixture (<page>_site)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from agents.directory import Role
from hotline.http import PAGES, create_app
from tests.accounts import one_person
from tests.browser import chromium, serving, sign_in
from tests.conftest import ROOT
from tests.hotline import test_operators_page as operators_page
from tests.hotline import test_planning_calendar_page as planning_page
from tests.hotline import test_reports_page as reports_page
from tests.hotline.test_operator_page_languages import ManyCalls
from tests.hotline.test_operators_page import url as composed  # the demo IVR live, people on the phones
from tests.hotline.test_planning_calendar_page import served as planning_served
from tests.hotline.test_reports_page import served as reports_served
from tests.hotline.test_wallboard_actions_page import StandIn
from tests.hotline.test_wallboard_languages import topics
from tests.planning.test_api import START

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

__all__ = ["composed", "planning_served", "reports_served"]  # the pages' own fixtures, shared

LANGUAGES = ("ru", "pl", "en")
WIDE, PHONE = 1400, 375
SHOTS = ROOT / "var" / "screenshots"
AXE = (ROOT / "tests" / "vendor" / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")
PASSWORD = "a passphrase for the pages"


@dataclass(frozen=True)
class Site:
    """A page's server, who signs in there (None: a session already open) and what shows that
    the page has drawn its data."""

    url: str
    person: str | None
    password: str
    drawn: Callable[[Page], None]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _admin_drawn(tab: Page) -> None:
    expect(tab.locator("#versions tbody tr")).not_to_have_count(0)
    expect(tab.locator("#yaml")).not_to_have_value("")


@pytest.fixture(scope="module")
def admin_site(composed: str) -> Site:
    return Site(composed, operators_page.ADMIN, operators_page.PASSWORD, _admin_drawn)


def _ivr_drawn(tab: Page) -> None:
    """The draft's tree, and a menu chosen in it so that its form shows too."""
    tab.locator('[id="tl-nodes/root"]').click()  # the demo's first menu
    expect(tab.locator("#item-form")).to_be_visible()


@pytest.fixture(scope="module")
def ivr_site(composed: str) -> Site:
    return Site(composed, operators_page.ADMIN, operators_page.PASSWORD, _ivr_drawn)


def _operators_drawn(tab: Page) -> None:
    expect(tab.locator("#online li")).to_have_count(2)


@pytest.fixture(scope="module")
def operators_site(composed: str) -> Site:
    return Site(composed, operators_page.ADMIN, operators_page.PASSWORD, _operators_drawn)


def _operator_drawn(tab: Page) -> None:
    expect(tab.locator("#op-status")).not_to_be_empty()
    expect(tab.locator("#debrief-suggest")).to_be_visible()


@pytest.fixture(scope="module")
def operator_site() -> Iterator[Site]:
    """The debrief test's stand-in: a paused operator, a call ended, a heavy call's notice."""
    with (
        one_person("op-anna", PASSWORD, Role.OPERATOR) as accounts,
        serving(create_app([accounts, ManyCalls().router()])) as url,
    ):
        yield Site(url, "op-anna", PASSWORD, _operator_drawn)


def _wallboard_drawn(tab: Page) -> None:
    expect(tab.locator('#operators tr[data-operator="op-anna"]')).to_be_visible()
    expect(tab.locator("#actions tbody tr").first).to_be_visible()


@pytest.fixture(scope="module")
def wallboard_site() -> Iterator[Site]:
    """The actions test's stand-in: alerts, queues, operators, debrief requests, leads' actions."""
    with (
        one_person("op-lead", PASSWORD, Role.SHIFT_LEAD) as accounts,
        serving(create_app([accounts, StandIn().router(), topics()])) as url,
    ):
        yield Site(url, "op-lead", PASSWORD, _wallboard_drawn)


def _reports_drawn(tab: Page) -> None:
    reports_page.ask(tab, "2026-11-22")
    expect(tab.locator("#rows tbody tr")).to_have_count(3)


@pytest.fixture(scope="module")
def reports_site(reports_served: str) -> Site:
    return Site(reports_served, None, "", _reports_drawn)


def _planning_drawn(tab: Page) -> None:
    planning_page.plan_form(tab, START)
    tab.click("#plan button[type=submit]")
    expect(tab.locator("#queues tbody tr")).to_have_count(2)


@pytest.fixture(scope="module")
def planning_site(planning_served: str) -> Site:
    return Site(planning_served, planning_page.LEAD, planning_page.PASSWORD, _planning_drawn)


def _opened(browser: Browser, site: Site, page: str, language: str, errors: list[str]) -> Page:
    context = browser.new_context(locale="en-GB", timezone_id="UTC", viewport={"width": WIDE, "height": 900})
    tab = context.new_page()
    tab.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    tab.goto(f"{site.url}/{page}/?lang={language}")
    if site.person is not None:
        sign_in(tab, site.person, site.password)
    site.drawn(tab)
    return tab


def _violations(tab: Page) -> list[str]:
    """axe-core's serious and critical findings: rule, impact and the elements' selectors."""
    if not tab.evaluate("typeof window.axe === 'object'"):
        tab.evaluate(AXE)  # through the DevTools protocol: the page's CSP does not apply
    found: list[dict[str, Any]] = tab.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
             id: v.id, impact: v.impact, help: v.help,
             targets: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return [
        f"{v['id']} ({v['impact']}: {v['help']}) at {', '.join(v['targets'])}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def _overflowing(tab: Page) -> list[str]:
    """What reaches past the window's right edge at this width (to say where the scroll comes from)."""
    return list(
        tab.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                              && e.getClientRects().length)
                 .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))"""
        )
    )


def _shot(tab: Page, page: str, language: str, width: int) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{page}-{language}-{width}.png"
    tab.screenshot(path=path, full_page=True)
    return path


def _checked(tab: Page, page: str, language: str) -> list[str]:
    """The screenshots at both widths; what axe finds at each, the language and a phone's scroll."""
    problems = (
        []
        if tab.evaluate("document.documentElement.lang") == language
        else [f"<html lang> is not {language}"]
    )
    for width in (WIDE, PHONE):
        tab.set_viewport_size({"width": width, "height": 900})
        tab.wait_for_timeout(100)  # a resize's layout and redraws
        _shot(tab, page, language, width)
        problems += [f"{width} px: {v}" for v in _violations(tab)]
    wide, window = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide > window + 1:
        problems.append(f"{PHONE} px: scrolls sideways to {wide} px; past the edge: {_overflowing(tab)}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_the_page_is_accessible_and_fits_a_phone(
    browser: Browser, request: pytest.FixtureRequest, page: str, language: str
) -> None:
    fixture = f"{page}_site"
    try:
        site: Site = request.getfixturevalue(fixture)
    except pytest.FixtureLookupError:
        pytest.fail(f"the page {page!r} has no data here: add a fixture {fixture} to {__name__}")
    problems: list[str] = []
    tab = _opened(browser, site, page, language, problems)
    try:
        problems += _checked(tab, page, language)
    finally:
        tab.context.close()
    assert problems == [], "\n".join(problems)
