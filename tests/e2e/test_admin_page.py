"""The admin page in headless Chromium (Debian's, driven by Playwright) against the real
service, the first admin signed in with their password: the same validation messages as the
API, publishing, simulating, rolling back."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser import ARGS, CHROMIUM
from tests.browser import sign_in as sign_in_as
from tests.e2e.conftest import ADMIN_ID, Service

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]  # Chromium and Asterisk: beside the rest


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, service: Service) -> Iterator[Page]:
    service.start()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{service.url}/admin/")
    yield page
    context.close()


def sign_in(page: Page, service: Service) -> None:
    sign_in_as(page, ADMIN_ID, service.admin_password)


def test_a_wrong_password_is_refused(page: Page) -> None:
    sign_in_as(page, ADMIN_ID, "not the password")
    expect(page.locator("#sign-in-note")).to_have_text("The name, the password or the code is wrong.")
    expect(page.locator("#app")).to_be_hidden()


def test_broken_menu_shows_the_validators_message_and_cannot_be_published(
    page: Page, service: Service
) -> None:
    live_before = httpx.get(f"{service.url}/healthz").json()["ivr"]["version"]
    sign_in(page, service)
    editor = page.get_by_label("IVR document (YAML)")
    expect(editor).to_have_value(re.compile("entry: language"))
    good = editor.input_value()
    editor.fill(good.replace("topic: addiction", "topic: gambling", 1))
    page.get_by_role("button", name="Publish").click()
    problems = page.get_by_role("list", name="problems")
    expect(problems).to_contain_text("language > root, option 4: topic 'gambling' does not exist")
    expect(page.get_by_role("status")).to_have_text("Draft saved with 1 problem.")
    assert httpx.get(f"{service.url}/healthz").json()["ivr"]["version"] == live_before

    editor.fill(good)
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_role("status")).to_have_text("Draft saved; it is valid.")
    expect(problems).to_be_empty()


def test_publish_simulate_and_roll_back(page: Page, service: Service) -> None:
    live_before = httpx.get(f"{service.url}/healthz").json()["ivr"]["version"]
    sign_in(page, service)
    editor = page.get_by_label("IVR document (YAML)")
    expect(editor).to_have_value(re.compile("entry: language"))
    editor.fill(editor.input_value().replace("topic: addiction", "topic: crisis", 1))
    page.get_by_label("version note").fill("4 goes to crisis")
    # Numbered after the highest version ever published: a rollback does not reuse numbers.
    versions = httpx.get(f"{service.url}/api/ivr/versions", headers=service.admin).json()
    new = max(v["number"] for v in versions) + 1
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text(f"Version {new} is live.")
    expect(page.locator("#live")).to_have_text(f"live version: {new}")
    expect(page.locator("#versions tr.active")).to_contain_text("4 goes to crisis")

    page.get_by_label("Keys").fill("2 4")
    page.locator("#simdraft").uncheck()
    page.get_by_role("button", name="Simulate").click()
    expect(page.get_by_label("simulation result")).to_contain_text(
        "→ queue crisis; reason chosen; topic Crisis;"  # the topic by its name
    )

    page.get_by_role("button", name=f"Roll back to {live_before}").click()
    expect(page.get_by_role("status")).to_have_text(f"Version {live_before} is live again.")
    assert httpx.get(f"{service.url}/healthz").json()["ivr"]["version"] == live_before

    # The audit log saw both, by the admin, with the versions; its chain verifies. (Entries are
    # saved a quarter of a second after the answer: wait for the rollback's first.)
    for _ in range(50):
        url = f"{service.url}/api/audit"
        if httpx.get(url, params={"action": "/api/ivr/rollback"}, headers=service.admin).json():
            break
        time.sleep(0.1)
    page.get_by_label("What").fill("/api/ivr/")
    page.get_by_role("button", name="Show").click()
    table = page.locator("#audit tbody")
    published = table.locator("tr", has_text="POST /api/ivr/publish").last
    expect(published).to_contain_text(f'{{"version":{new}}}')
    expect(published.locator("td").nth(2)).to_have_text("admin")
    rolled = table.locator("tr", has_text="POST /api/ivr/rollback").last
    expect(rolled).to_contain_text(f'{{"version":{live_before}}}')
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#audit-verdict")).to_contain_text("audit chain intact")
