"""The IVR editor (issue 19, item 2) in headless Chromium against the real composed app over
SQLite (no Asterisk), in Russian, Polish and English: an admin opens /ivr/, walks the tree with
the keyboard to a menu option, points it somewhere that does not exist, sees the problem at that
option in the tree and in the problems list, fixes it, simulates a caller on the draft (the
prompts' texts, not their ids), reviews the change against the live version, publishes from the
review with a note and finds the change in the live version through the API; the page fits a
phone's width and every control has a label."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from agents.directory import Role
from core.db import migrate
from hotline.app import Hotline
from ivr.document import IvrDocument
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from tests.accounts import make_person
from tests.browser import chromium, serving, sign_in
from tests.conftest import make_settings

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

PASSWORD = "correct horse battery"
ADMIN = "adm-eva"
# The line this test edits: its own small document (in the three languages the page speaks), so
# that the shipped seed may change without it.
DOCUMENT = """
languages: [ru, pl, en]
default_language: ru
fallback_queue: main
queues: [{name: main}, {name: crisis}, {name: loss}, {name: addiction}, {name: social}]
topics:
  - {id: crisis, names: {ru: Кризис, pl: Kryzys, en: Crisis}, queue: crisis, priority: 10}
  - {id: loss, names: {ru: Утрата, pl: Strata, en: Loss}, queue: loss}
  - {id: addiction, names: {ru: Зависимость, pl: Uzależnienie, en: Addiction}, queue: addiction}
  - {id: social, names: {ru: Социальная помощь, pl: Pomoc społeczna, en: Social help}, queue: social}
prompts:
  welcome:
    ru: {text: "Вы позвонили на линию доверия. Кризис: один. Другие темы: два."}
    pl: {text: "Dodzwoniłeś się do telefonu zaufania. Kryzys: jeden. Inne tematy: dwa."}
    en: {text: "You have called the helpline. Crisis: one. Other topics: two."}
  topics:
    ru: {text: "Утрата: один. Зависимость: два. Социальная помощь: три."}
    pl: {text: "Strata: jeden. Uzależnienie: dwa. Pomoc społeczna: trzy."}
    en: {text: "Loss: one. Addiction: two. Social help: three."}
menu:
  entry: root
  nodes:
    root:
      prompt: welcome
      timeout_seconds: 2
      tries: 1
      options:
        "1": {action: topic, topic: crisis}
        "2": {action: submenu, node: topics}
        "0": {action: operator}
    topics:
      prompt: topics
      options:
        "1": {action: topic, topic: loss}
        "2": {action: topic, topic: addiction}
        "3": {action: topic, topic: social}
        "*": {action: back}
        "0": {action: operator}
"""
WORDS = {
    "ru": {
        "h1": "Редактор голосового меню",
        "here": "1 ошибка",
        "valid": "В черновике нет ошибок.",  # noqa: RUF001
        "silent": r"Абонент, который ничего не нажимает, попадает к человеку через \d+,\d с \(предел 15 с\)",  # noqa: RUF001
        "silent_here": r"молчащий абонент у человека через \d+,\d с",  # noqa: RUF001
        "published": "Опубликовано: действует версия",
        "topics": "Утрата: один.",
    },
    "pl": {
        "h1": "Edytor menu głosowego",
        "here": "1 błąd",
        "valid": "Wersja robocza nie ma błędów.",
        "silent": r"Rozmówca, który niczego nie naciska, trafia do człowieka po \d+,\d s \(limit 15 s\)",
        "silent_here": r"milczący rozmówca u człowieka po \d+,\d s",
        "published": "Opublikowano: obowiązuje wersja",
        "topics": "Strata: jeden.",
    },
    "en": {
        "h1": "IVR editor",
        "here": "1 problem",
        "valid": "The draft has no problems.",
        "silent": r"A caller who presses nothing reaches a person in \d+\.\d s \(limit 15 s\)",
        "silent_here": r"a silent caller reaches a person in \d+\.\d s",
        "published": "Published: version",
        "topics": "Loss: one.",
    },
}
# Per language: the key of the second menu changed, what it is first pointed at (that does not
# exist) and the problem validation names, then the topic it is fixed to.
CASES = {
    "ru": ("1", "topic", "topic", "no-such-topic", "topic 'no-such-topic' does not exist", "addiction"),
    "pl": ("2", "submenu", "node", "nowhere", "node 'nowhere' does not exist", "social"),
    "en": ("3", "operator", "queue", "no-queue", "queue 'no-queue' does not exist", "crisis"),
}
NAMES = {  # the topics' names in each language
    "addiction": {"ru": "Зависимость", "pl": "Uzależnienie", "en": "Addiction"},
    "social": {"ru": "Социальная помощь", "pl": "Pomoc społeczna", "en": "Social help"},
    "crisis": {"ru": "Кризис", "pl": "Kryzys", "en": "Crisis"},
}


async def _nothing(_: IvrDocument) -> None:
    return None


async def live_seed(hotline: Hotline) -> None:
    """The demo IVR live, as a fresh install publishes it (here without an Asterisk to reload)."""
    settings = hotline.settings
    publisher = IvrService(
        hotline.ivr_store, PromptStudio(settings.prompts_dir), _nothing, settings.asterisk_prompts_dir
    )
    assert settings.ivr_seed is not None
    await publisher.start(settings.ivr_seed)
    await hotline.ivr_service.start(settings.ivr_seed)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ivr-page")
    (tmp / "ivr.yaml").write_text(DOCUMENT, encoding="utf-8")
    asterisk = [{"name": "local", "ami_secret": "s" * 24}]
    hotline = Hotline(make_settings(tmp, asterisk=asterisk, ivr_seed=str(tmp / "ivr.yaml")))
    migrate(hotline.engine)
    with ThreadPoolExecutor(1) as aside:  # playwright's own loop may run in this thread
        aside.submit(asyncio.run, live_seed(hotline)).result()
    make_person(hotline.engine, ADMIN, PASSWORD, Role.ADMIN)
    with serving(hotline.app) as served:
        yield served
    hotline.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened(browser: Browser, url: str, language: str) -> Page:
    tab = browser.new_context().new_page()  # 1280 x 720: the form beside the tree, the review below
    tab.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    tab.on("dialog", lambda d: d.accept())
    tab.goto(f"{url}/ivr/?lang={language}")
    sign_in(tab, ADMIN, PASSWORD)
    expect(tab.locator("#app")).to_be_visible()
    return tab


def item(tab: Page, place: str) -> Any:
    return tab.locator(f'[role=treeitem][data-place="{place}"]')


def row(tab: Page, key: str) -> Any:
    return tab.locator(f'#item-fields .option[data-key="{key}"]')


def point(tab: Page, key: str, action: str, field: str, value: str) -> None:
    """The option's action and its target, then the form saved (as a person types them)."""
    row(tab, key).locator('select[name="action"]').select_option(action)
    row(tab, key).locator(f'input[name="{field}"]').fill(value)
    tab.click("#item-form button[type=submit]")


def unlabelled(tab: Page) -> list[str]:
    """Controls in the app without an accessible name (a label, aria-label or aria-labelledby)."""
    found: list[str] = tab.evaluate(
        """() => [...document.querySelectorAll('#app input, #app select, #app textarea, #app button')]
          .filter((c) => c.offsetParent !== null)
          .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
                         && !c.getAttribute('aria-labelledby') && !(c.textContent || '').trim())
          .map((c) => c.outerHTML.slice(0, 80))"""
    )
    return found


@pytest.mark.parametrize("language", ["ru", "pl", "en"])
def test_an_option_edited_in_the_tree_fails_validation_at_its_place_is_fixed_reviewed_and_published(
    browser: Browser, url: str, language: str
) -> None:
    words = WORDS[language]
    key, action, field, wrong, problem, fixed = CASES[language]
    tab = opened(browser, url, language)
    expect(tab.locator("h1")).to_have_text(words["h1"])
    expect(tab.locator("#summary")).to_contain_text(words["valid"])
    # How long a caller who presses nothing takes (issue 20): for the draft, and from each menu.
    summary = re.compile(re.escape(words["valid"]) + " " + words["silent"])
    expect(tab.locator("#summary")).to_have_text(summary)
    expect(item(tab, "nodes/root").locator(":scope > .label")).to_have_text(re.compile(words["silent_here"]))

    # The keyboard: from the second menu, right goes in to its first key, down to the one wanted.
    item(tab, "nodes/topics").focus()
    tab.keyboard.press("ArrowRight")
    expect(item(tab, "nodes/topics/1")).to_be_focused()
    for _ in range(int(key) - 1):
        tab.keyboard.press("ArrowDown")
    option = item(tab, f"nodes/topics/{key}")
    expect(option).to_be_focused()
    tab.keyboard.press("Enter")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(row(tab, key).locator('select[name="key"]')).to_be_focused()

    point(tab, key, action, field, wrong)
    option = item(tab, f"nodes/topics/{key}")
    expect(option).to_have_class("faulty")
    expect(option.locator(":scope > .mark")).to_have_text(f"⚠ {words['here']}")
    expect(option.locator(":scope > .here")).to_have_text(problem)
    expect(tab.locator("#item-issues")).to_contain_text(problem)
    expect(tab.locator("#problems li")).to_have_count(1)
    expect(tab.locator("#status")).to_have_class(re.compile(r"\bbad\b"))
    tab.set_viewport_size({"width": 375, "height": 800})  # a phone: the form and the tree fit
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    tab.set_viewport_size({"width": 1280, "height": 720})
    assert unlabelled(tab) == []

    item(tab, "nodes/root").locator(":scope > .label").click()  # another item, then back from the list
    expect(tab.locator("#form-h")).to_be_focused()
    tab.locator("#problems button").click()  # the list leads to the place: its option in the form
    expect(item(tab, f"nodes/topics/{key}")).to_have_attribute("aria-selected", "true")
    expect(row(tab, key).locator('select[name="key"]')).to_be_focused()
    point(tab, key, "topic", "topic", fixed)
    expect(tab.locator("#summary")).to_contain_text(words["valid"])
    expect(tab.locator("#problems li")).to_have_count(0)
    expect(item(tab, f"nodes/topics/{key}").locator(":scope > .label")).to_contain_text(
        NAMES[fixed][language]
    )

    tab.select_option("#sim-language", language)
    tab.fill("#sim-keys", f"2 {key}")
    tab.click("#sim-form button[type=submit]")
    expect(tab.locator("#sim-steps li").nth(1)).to_contain_text(words["topics"])  # its text, not its id
    expect(tab.locator("#sim-route")).to_contain_text(fixed)  # each topic's queue has its name

    item(tab, "prompts/topics").locator(":scope > .label").click()  # its text heard, as TTS says it
    tab.locator("fieldset.prompt-language").nth(1).locator("button").first.click()  # Polish
    audio = tab.locator("fieldset.prompt-language audio").nth(1)
    expect(audio).to_have_js_property("readyState", 4)  # the WAV came and the browser can play it
    assert audio.evaluate("a => a.duration") > 0.5  # the line's CSP allows no string evaluated
    assert "/api/ivr/prompts/topics/pl/audio?source=draft" in audio.evaluate("a => a.currentSrc")

    expect(tab.locator("#publish")).to_be_hidden()  # publishing is from the review only
    tab.click("#review")
    expect(tab.locator("#review-out")).to_be_visible()
    expect(tab.locator("#unified")).to_contain_text(f"topic: {fixed}")
    [change] = tab.locator("#changes li").all()  # GET /api/ivr/diff: the one menu changed
    expect(change).to_contain_text(f"options.{key}.topic")
    expect(change.get_by_role("button")).to_have_text("topics")
    note = f"topics {key} -> {fixed} ({language})"
    tab.fill("#publish-note", note)
    tab.click("#publish")
    expect(tab.locator("#status")).to_contain_text(words["published"])
    expect(tab.locator("#review-out")).to_be_hidden()

    api = tab.context.request
    versions = api.get(f"{url}/api/ivr/versions").json()
    [active] = [v for v in versions if v["active"]]
    assert active["note"] == note and active["author"] == ADMIN
    live = yaml.safe_load(api.get(f"{url}/api/ivr/versions/active/yaml").text())
    assert live["menu"]["nodes"]["topics"]["options"][key] == {"action": "topic", "topic": fixed}
    expect(tab.locator("#live")).to_contain_text(str(active["number"]))

    other = {"ru": "pl", "pl": "en", "en": "ru"}[language]  # another language, no reload
    tab.select_option("#language", other)
    expect(tab.locator("h1")).to_have_text(WORDS[other]["h1"])
    expect(item(tab, f"nodes/topics/{key}").locator(":scope > .label")).to_contain_text(NAMES[fixed][other])
    expect(tab.locator("#form-h")).to_contain_text("topics")
    tab.context.close()
