"""The pages' catalogues (issue 19, item 3): Russian, Polish and English hold the same keys
with the same placeholders and the plural forms each language needs; every key a page uses
(t("…") in its scripts, data-i18n* in its HTML) is in them; a translated page's HTML has no text
outside a key, and its scripts write no English of their own."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from hotline.http import PAGES, STATIC

LANGUAGES = ("en", "ru", "pl")
# CLDR's plural forms for integers in each language.
PLURALS = {
    "en": {"one", "other"},
    "ru": {"one", "few", "many", "other"},
    "pl": {"one", "few", "many", "other"},
}
# Pages whose HTML and scripts are all through the catalogue; every page once issue 19 lands.
TRANSLATED_PAGES: tuple[str, ...] = (
    "operator",
    "wallboard",
    "reports",
    "admin",
    "planning",
    "operators",
    "ivr",
)
CALL = re.compile(r"""catalogue\(\s*"(\w+)",\s*""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
T_CALL = re.compile(r"""\bt\(\s*(["'])([\w.-]+)\1""")
ATTRIBUTE = re.compile(r"""data-i18n(?:-[\w-]+)?=(["'])([\w.-]+)\1""")
# English a script writes itself: text set to a literal, or a message shown as one.
OWN_ENGLISH = re.compile(r"""(?:textContent\s*=|\bsay\(|\bcell\()\s*(["'`])[A-Za-z][a-z]+ """)


def catalogues() -> dict[str, dict[str, dict[str, object]]]:
    """Each catalogue file's words by language: {file: {language: {key: text}}}."""
    out: dict[str, dict[str, dict[str, object]]] = {}
    decoder = json.JSONDecoder()
    for path in sorted(STATIC.glob("i18n-*.js")):
        text = path.read_text(encoding="utf-8")
        books: dict[str, dict[str, object]] = {}
        for call in CALL.finditer(text):
            # strict JSON: a stray comma or quote fails here, not in a browser
            books[call.group(1)], _ = decoder.raw_decode(text, call.end())
        out[path.name] = books
    return out


def catalogue(language: str) -> dict[str, object]:
    """Every file's words in this language; a key in two files is a mistake."""
    merged: dict[str, object] = {}
    for name, books in catalogues().items():
        twice = merged.keys() & books.get(language, {}).keys()
        assert not twice, f"{name} repeats {sorted(twice)}"
        merged |= books.get(language, {})
    return merged


def _placeholders(value: object) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {p for text in texts for p in PLACEHOLDER.findall(str(text))}


def test_every_file_speaks_every_language() -> None:
    files = catalogues()
    assert "i18n-common.js" in files
    for name, books in files.items():
        assert sorted(books) == sorted(LANGUAGES), name


def test_every_language_has_every_key_with_its_placeholders_and_plurals() -> None:
    books = {language: catalogue(language) for language in LANGUAGES}
    english = books["en"]
    for language, book in books.items():
        assert book.keys() == english.keys(), (language, sorted(book.keys() ^ english.keys()))
        for key, value in book.items():
            assert value not in ("", {}), (language, key)
            assert _placeholders(value) == _placeholders(english[key]), (language, key)
            if isinstance(value, dict):
                assert set(value) == PLURALS[language], (language, key, sorted(value))
            elif language != "en" and len(str(value)) > 3:
                assert value != english[key] or key.startswith("name."), f"{language} {key}: not translated"


def _used_keys() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for path in sorted(STATIC.glob("*.js")) + sorted(STATIC.glob("*.html")):
        if path.name.startswith("i18n"):  # the catalogues, and the comments of i18n.js
            continue
        text = path.read_text(encoding="utf-8")
        keys = {m.group(2) for m in T_CALL.finditer(text)} | {m.group(2) for m in ATTRIBUTE.finditer(text)}
        for key in keys:
            used.setdefault(key, set()).add(path.name)
    return used


def test_every_key_a_page_uses_is_in_the_catalogues() -> None:
    english = catalogue("en")
    missing = {key: sorted(files) for key, files in _used_keys().items() if key not in english}
    assert not missing, f"keys used but not in the catalogues: {missing}"


class _Text(HTMLParser):
    """Text outside any element that carries data-i18n (scripts and styles aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "link", "input", "br", "img", "hr"):
            return
        self.stack.append((tag, any(name == "data-i18n" for name, _ in attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                return

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text or not re.search(r"[A-Za-zА-яЁёĄĆĘŁŃÓŚŹŻąćęłńóśźż]", text):  # noqa: RUF001
            return  # symbols, numbers, punctuation
        if any(tag in ("script", "style") or keyed for tag, keyed in self.stack):
            return
        self.loose.append(text)


@pytest.mark.parametrize("page", TRANSLATED_PAGES)
def test_a_translated_pages_html_has_no_text_outside_a_key(page: str) -> None:
    parser = _Text()
    parser.feed((STATIC / f"{page}.html").read_text(encoding="utf-8"))
    assert parser.loose == []


@pytest.mark.parametrize("page", TRANSLATED_PAGES)
def test_a_translated_pages_scripts_write_no_english_of_their_own(page: str) -> None:
    scripts = [STATIC / f"{page}.js", *sorted(STATIC.glob(f"{page}-*.js"))]
    for script in scripts:
        found = OWN_ENGLISH.findall(script.read_text(encoding="utf-8"))
        assert not found, f"{script.name} writes text of its own instead of t(…)"


def test_the_checks_find_what_they_look_for() -> None:
    """The detectors on planted samples, so that passing is not seeing nothing."""
    parser = _Text()
    parser.feed('<p data-i18n="a.b">Sign in</p><p>Sign in</p><script>say("x")</script><b>–</b>')  # noqa: RUF001
    assert parser.loose == ["Sign in"]
    assert OWN_ENGLISH.search('node.textContent = "Signed in as ";')
    assert not OWN_ENGLISH.search('node.textContent = t("account.signed_in");')
    assert {m.group(2) for m in T_CALL.finditer("t(\"a.b\"); t('c-d.e', {n}); format(x)")} == {"a.b", "c-d.e"}
    assert {m.group(2) for m in ATTRIBUTE.finditer('<b data-i18n="x.y" data-i18n-placeholder="z">')} == {
        "x.y",
        "z",
    }


def test_every_page_is_translated() -> None:
    """A new page comes with its catalogue: no page is left in one language."""
    assert set(TRANSLATED_PAGES) == set(PAGES)
