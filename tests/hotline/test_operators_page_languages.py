"""The operators page in Russian and Polish (issue 19, item 3), in headless Chromium against the
same composed app as tests/hotline/test_operators_page.py: ?lang= picks the language, the page's
words come from i18n-operators.js, states, pause reasons and roles are named in it, and the
skills show the topics' names from the live IVR in the page's language (English where the
document has none in it); the header's picker switches without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser import sign_in
from tests.hotline.test_operators_page import LEAD, PASSWORD, browser, row, url

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

__all__ = ["browser", "url"]  # the fixtures, shared with the operators page's test

WORDS = {
    "ru": {
        "h1": "Операторы",
        "count": "В сети: 2",  # noqa: RUF001
        "online": ["● Boris (op-boris): свободен", "❚❚ Vera (op-vera): на паузе (перерыв)"],
        "role": "оператор",
        "skills": "Кризис и суицидальные мысли: 2",
        "filter": "Сбросить фильтры",
    },
    "pl": {
        "h1": "Konsultanci",
        "count": "Zalogowani: 2",
        "online": ["● Boris (op-boris): dostępny", "❚❚ Vera (op-vera): pauza (przerwa)"],
        "role": "konsultant",
        "skills": "Crisis and suicidal thoughts: 2",  # the demo document names topics in ru and en
        "filter": "Wyczyść filtry",
    },
}


@pytest.mark.parametrize("language", ["ru", "pl"])
def test_the_operators_page_speaks_the_language_asked_and_switches_without_a_reload(
    browser: Browser, url: str, language: str
) -> None:
    words = WORDS[language]
    tab = browser.new_context(locale="en-GB").new_page()
    tab.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    tab.goto(f"{url}/operators/?lang={language}")
    sign_in(tab, LEAD, PASSWORD)
    expect(tab.locator("#app")).to_be_visible()
    expect(tab.locator("h1")).to_have_text(words["h1"])
    expect(tab.locator("#online-count")).to_have_text(words["count"])
    expect(tab.locator("#online li")).to_have_text(words["online"])
    boris = row(tab, "op-boris")
    expect(boris.locator("td").nth(1)).to_have_text(words["role"])
    expect(boris.locator("td").nth(4)).to_have_text(words["skills"])
    expect(tab.locator("#filter-clear")).to_have_text(words["filter"])

    tab.evaluate("window.stayed = true")
    tab.select_option("#language", "en")
    expect(tab.locator("h1")).to_have_text("Operators")
    expect(tab.locator("#online-count")).to_have_text("2 online")
    expect(boris.locator("td").nth(1)).to_have_text("operator")
    expect(boris.locator("td").nth(4)).to_have_text("Crisis and suicidal thoughts: 2")
    expect(tab.locator("#filter-state option").nth(1)).to_have_text("online now")
    assert tab.evaluate("window.stayed") is True  # the same page: no reload
    tab.context.close()
