"""The wallboard's switchboarding part (hotline/static/switchboard.js) in headless Chromium
against the real switchboard API (no Asterisk): a shift lead redirects a queue from the page, sees
it with a countdown to its expiry, is told why a loop is refused, and ends it early."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from agents.directory import Role
from core.db import make_engine, migrate
from hotline.http import create_app
from ivr.switchboard import Switchboard
from ivr.switchboard_api import switchboard_router
from ivr.switchboard_store import SwitchboardStore
from metrics.live.board import QueueBoard
from metrics.records.levels import ServiceLevels
from tests.accounts import authenticator, make_person, sign_in_routes
from tests.browser import chromium, serving, sign_in
from tests.conftest import seed_document
from wallboard.api import wallboard_router
from wallboard.service import Wallboard, WallboardSources

pytestmark = pytest.mark.beside  # headless Chromium: in make test's second pytest, beside the rest

PASSWORD = "the lead's passphrase"
LEADS = {Role.SHIFT_LEAD, Role.ADMIN}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(engine)
    doc = seed_document()
    board = Switchboard(SwitchboardStore(engine), lambda: doc)
    sources = WallboardSources(QueueBoard(), doc.queue_names, list, lambda: ServiceLevels({}))
    wall = Wallboard(replace(sources, switchboard=board.snapshot))
    board.listen(wall.changed)
    make_person(engine, "admin", PASSWORD, Role.ADMIN)
    auth = authenticator(engine)
    routers = [
        sign_in_routes(engine),
        switchboard_router(board, auth.guard(LEADS, "switchboard")),
        wallboard_router(wall, auth.guard(LEADS, "wallboard"), auth.still_admits(LEADS, "wallboard")),
    ]
    with serving(create_app(routers)) as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_a_lead_redirects_a_queue_sees_its_countdown_and_ends_it(browser: Browser, served: str) -> None:
    tab = browser.new_context().new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{served}/wallboard/")
    sign_in(tab, "admin", PASSWORD)
    items = tab.locator("#switchboard-list li")
    expect(items).to_have_text(["No queue is redirected."])
    tab.select_option("#switchboard-queue", "crisis")
    tab.select_option("#switchboard-target", "queue:main")
    tab.fill("#switchboard-minutes", "5")
    tab.click("#switchboard-form button[type=submit]")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(re.compile(r"^crisis → queue main until .* by admin"))
    left = items.first.locator(".switchboard-left")
    expect(left).to_have_text(re.compile(r"^\((5:00|4:5\d) left\)$"))
    first = left.text_content()
    expect(left).not_to_have_text(first or "", timeout=3000)  # it counts down
    expect(tab.locator(".message")).to_contain_text("New callers of crisis go to queue main until")

    tab.select_option("#switchboard-queue", "main")
    tab.select_option("#switchboard-target", "queue:crisis")
    tab.click("#switchboard-form button[type=submit]")
    expect(tab.locator(".message")).to_contain_text(
        "'main' to 'crisis' refused: queue 'crisis' goes to 'main'"
    )
    expect(tab.locator(".message")).to_have_class(re.compile(r"\bbad\b"))

    tab.select_option("#switchboard-queue", "loss")
    tab.select_option("#switchboard-target", "referral:bereavement-group")
    tab.fill("#switchboard-minutes", "0.25")
    tab.click("#switchboard-form button[type=submit]")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("loss → partner line Bereavement support group (example) until")

    items.first.locator("button.switchboard-end").click()
    expect(tab.locator(".message")).to_have_text("crisis takes its own new callers again.")
    expect(items).to_have_count(1)
    expect(items).to_have_text([re.compile(r"^(No queue is redirected\.|loss → .*)$")])
    expect(items).to_have_text(["No queue is redirected."], timeout=25000)  # loss expires by itself
    assert errors == []
    tab.context.close()
