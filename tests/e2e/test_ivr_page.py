"""The IVR editor (issue 19, item 2 and its acceptance) in headless Chromium against the real
service and Asterisk, in Russian, Polish and English: the first admin points a menu option of
the tree somewhere that does not exist, sees the problem at that option, fixes it to another
topic, reviews the change, publishes it from the review; a real sipp caller pressing that key
then reaches the new topic's queue. Each run puts the line back as it found it (the version
before re-activated, the draft as it was)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from core.settings import Settings
from tests.browser import ARGS, CHROMIUM, sign_in
from tests.e2e.calls import place, plan, records
from tests.e2e.conftest import ADMIN_ID, Service

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]  # Chromium and Asterisk: beside the rest

# Per language: the words the page says once published, the caller's keys (the language menu's
# key, then root's 3, which tests/e2e/ivr.yaml sends to the topic loss) and its language.
CASES = {
    "ru": ("Опубликовано: действует версия", "13", "ru"),
    "pl": ("Opublikowano: obowiązuje wersja", "13", "ru"),
    "en": ("Published: version", "23", "en"),
}
PORTS = {"ru": 49000, "pl": 49020, "en": 49040}  # sipp; no other test uses 49000-50099


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def restored(service: Service) -> Iterator[None]:
    """The line as the test found it afterwards: the live version and the draft."""
    service.start()
    live = _active(service)
    draft = httpx.get(f"{service.url}/api/ivr/draft/yaml", headers=service.admin).text
    yield
    headers = {**service.admin, "Content-Type": "application/yaml"}
    assert httpx.put(f"{service.url}/api/ivr/draft/yaml", content=draft, headers=headers).status_code == 200
    rolled = httpx.post(
        f"{service.url}/api/ivr/rollback", json={"version": live}, headers=service.admin, timeout=60
    )
    assert rolled.status_code == 200, rolled.text


def _active(service: Service) -> int:
    versions: list[dict[str, Any]] = httpx.get(
        f"{service.url}/api/ivr/versions", headers=service.admin
    ).json()
    return int(next(v["number"] for v in versions if v["active"]))


def _option(tab: Page, key: str) -> Any:
    return tab.locator(f'[role=treeitem][data-place="nodes/root/{key}"]')


def _point(tab: Page, topic: str) -> None:
    tab.locator('#item-fields .option[data-key="3"] input[name="topic"]').fill(topic)
    tab.click("#item-form button[type=submit]")


@pytest.mark.parametrize("language", ["ru", "pl", "en"])
def test_an_option_changed_in_the_editor_and_published_takes_a_real_call_the_new_way(
    browser: Browser, service: Service, e2e_settings: Settings, restored: None, language: str
) -> None:
    published, keys, spoken = CASES[language]
    tab = browser.new_context().new_page()
    tab.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    tab.goto(f"{service.url}/ivr/?lang={language}")
    sign_in(tab, ADMIN_ID, service.admin_password)
    expect(tab.locator("#app")).to_be_visible()

    _option(tab, "3").locator(":scope > .label").click()
    _point(tab, "no-such-topic")
    expect(_option(tab, "3")).to_have_class("faulty")
    expect(_option(tab, "3").locator(":scope > .here")).to_have_text("topic 'no-such-topic' does not exist")
    _point(tab, "addiction")
    expect(tab.locator("#problems li")).to_have_count(0)
    expect(_option(tab, "3")).not_to_have_class("faulty")

    tab.click("#review")
    expect(tab.locator("#unified")).to_contain_text("addiction")
    tab.fill("#publish-note", f"3 goes to addiction ({language})")
    tab.click("#publish")
    expect(tab.locator("#status")).to_contain_text(published, timeout=60_000)
    tab.context.close()

    before = {r["id"] for r in records(service, 0)}
    with ThreadPoolExecutor(1) as aside:  # playwright's own loop runs in this thread
        aside.submit(place, e2e_settings, [plan(keys)], PORTS[language]).result()
    [call] = [r for r in records(service, len(before) + 1) if r["id"] not in before]
    assert (call["path"], call["language"]) == (",".join(keys), spoken)
    assert (call["topic"], call["queue"], call["outcome"]) == ("addiction", "addiction", "answered")
