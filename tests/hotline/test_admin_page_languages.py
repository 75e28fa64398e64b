"""The administration page and the shared sign-in in Russian and Polish (issue 19, item 3), in
headless Chromium against the real composed app over SQLite: ?lang= picks the language, the
sign-in's words and its refusal come from i18n-common.js, the page's from i18n-admin.js, times
are written as the language writes them, an API error is in its words when the catalogue has
them, the page fits a phone; the header's picker switches without a reload (what the scripts
wrote is redrawn) and keeps the choice with the account, which the next sign-in takes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import chromium
from tests.hotline.test_sign_in_page import ADMIN, served, sign_in

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

WORDS = {
    "ru": {
        "account": "Учётная запись",
        "failed": "Неверное имя, пароль или код.",
        "h1": "Голосовое меню линии",
        "live": "действующая версия: ",
        "role": "администратор",
        "made": "Токен nightly-export создан.",
        "revoke": "Отозвать",
        "audit": "цепочка аудита цела: ",
        "csrf": "Проверка сеанса страницы не прошла: обновите страницу и повторите.",
        "date": r"\d{1,2} [а-я]{3,4}\.? \d{4}",  # noqa: RUF001
    },
    "pl": {
        "account": "Konto",
        "failed": "Nieprawidłowa nazwa, hasło lub kod.",
        "h1": "Menu głosowe linii",
        "live": "obowiązująca wersja: ",
        "role": "administrator",
        "made": "Token nightly-export utworzony.",
        "revoke": "Cofnij",
        "audit": "łańcuch audytu nienaruszony: ",
        "csrf": "Kontrola sesji strony nie powiodła się: odśwież stronę i spróbuj ponownie.",
        "date": r"\d{1,2} [a-ząćęłńóśźż]{3} \d{4}",
    },
}


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    yield from served(tmp_path)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened(browser: Browser, url: str, query: str = "") -> Page:
    tab = browser.new_context(locale="en-GB", timezone_id="UTC").new_page()
    tab.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    tab.goto(f"{url}/admin/{query}")
    expect(tab.locator("#sign-in")).to_be_visible()
    return tab


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_the_admin_page_speaks_the_language_asked_and_switches_without_a_reload(
    browser: Browser, url: str, language: str
) -> None:
    words = WORDS[language]
    tab = opened(browser, url, f"?lang={language}")
    expect(tab.locator("html")).to_have_attribute("lang", language)
    expect(tab.locator("#sign-in label").first).to_contain_text(words["account"])
    sign_in(tab, ADMIN, "not the password")
    expect(tab.locator("#sign-in-note")).to_have_text(words["failed"])
    sign_in(tab, ADMIN)
    expect(tab.locator("#app")).to_be_visible()
    expect(tab.locator("h1")).to_have_text(words["h1"])
    expect(tab.locator("#live")).to_contain_text(words["live"])
    expect(tab.locator("#account-name")).to_have_text(f"{ADMIN} ({ADMIN}, {words['role']})")

    tab.fill("#token-name", "nightly-export")
    tab.check('#token-scopes input[value="operators:read"]')
    tab.click("#token-form button[type=submit]")
    expect(tab.locator("#status")).to_have_text(words["made"])
    tab.click("#once-done")
    row = tab.locator("#tokens tbody tr").first
    created = row.locator("td").nth(3)  # as the language writes a time
    expect(created).to_have_text(re.compile(words["date"]))
    expect(row.locator("button.revoke")).to_have_text(words["revoke"])
    tab.click("#audit-verify")
    expect(tab.locator("#audit-verdict")).to_contain_text(words["audit"])
    # an API error in the language when the catalogue has words for it, else the API's detail
    error = "describe({error_id: '%s', message: 'the detail', details: []})"
    assert tab.evaluate(error % "csrf_failed") == words["csrf"]
    assert tab.evaluate(error % "no_such_error") == "the detail"
    tab.set_viewport_size({"width": 375, "height": 800})  # a phone: the longer words still fit
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    tab.set_viewport_size({"width": 1400, "height": 900})

    tab.evaluate("window.stayed = true")
    tab.select_option("#language", "en")
    expect(tab.locator("h1")).to_have_text("Hotline IVR")
    expect(tab.locator("#live")).to_contain_text("live version: ")
    expect(tab.locator("#account-name")).to_have_text(f"{ADMIN} ({ADMIN}, admin)")
    expect(created).to_have_text(re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}"))
    expect(row.locator("button.revoke")).to_have_text("Revoke")
    expect(tab.locator("#token-form button[type=submit]")).to_have_text("Create token")
    expect(tab.locator("#audit-verdict")).to_contain_text("audit chain intact: ")
    assert tab.evaluate("window.stayed") is True  # the same page: no reload
    assert tab.url.endswith("/admin/?lang=en")  # a reload keeps the choice
    tab.context.close()


def test_a_language_chosen_is_kept_with_the_account_and_taken_at_the_next_sign_in(
    browser: Browser, url: str
) -> None:
    tab = opened(browser, url)
    sign_in(tab, ADMIN)
    expect(tab.locator("#account")).to_be_visible()
    expect(tab.locator("h1")).to_have_text("Hotline IVR")
    with tab.expect_response(lambda r: r.url.endswith("/api/session/language") and r.ok):
        tab.select_option("#language", "pl")
    expect(tab.locator("h1")).to_have_text(WORDS["pl"]["h1"])
    tab.context.close()

    other = opened(browser, url)  # another browser, English by its own setting
    expect(other.locator("#sign-in button[type=submit]")).to_have_text("Sign in")
    sign_in(other, ADMIN)
    expect(other.locator("h1")).to_have_text(WORDS["pl"]["h1"])
    expect(other.locator("#language")).to_have_value("pl")
    expect(other.locator("#sign-out")).to_have_text("Wyloguj się")
    other.context.close()
