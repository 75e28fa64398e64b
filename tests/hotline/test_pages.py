"""The five pages share one common.js and common.css: each page loads them before its own
script and stylesheet, no page keeps its own copy of what they hold, every page has the same
sign-in form, and every page shows an API problem's ``detail`` (RFC 9457) and treats an ended
session or a role it is not for alike (headless Chromium against the real HTTP shell and the real
routes of signing in, no Asterisk)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from playwright.sync_api import Browser, Page, expect

from agents.directory import Role
from core.db import make_engine, migrate
from core.errors import DomainError, where
from hotline.http import PAGES, STATIC, create_app
from tests.accounts import make_person, sign_in_routes
from tests.browser import chromium, serving, sign_in

COMMON_JS, COMMON_CSS = STATIC / "common.js", STATIC / "common.css"
DECLARED = re.compile(r"^(?:async\s+)?(?:function\s*\*?|const|let|var|class)\s+([\w$]+)", re.MULTILINE)
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
DETAIL = "the record store is unavailable"
PERSON, PASSWORD = "adm-page", "a page's passphrase"
SIGN_IN_IDS = (
    "sign-in",
    "sign-in-id",
    "sign-in-password",
    "sign-in-code-box",
    "sign-in-code",
    "sign-in-note",
)
ACCOUNT_IDS = ("account", "account-name", "change-password", "sign-out")
# A page's parts with a script of their own, loaded after the page's script.
PARTS = {"wallboard": ["/static/switchboard.js"]}  # switchboarding (issue 17, item 5)
PARTS["operator"] = ["/static/debrief.js"]  # debrief requests (issue 17, item 3)
PARTS["operator"].append("/static/supervision.js")  # a supervisor is listening (issue 17, items 1, 2)
PARTS["planning"] = ["/static/planning-roster.js"]  # the roster's form and calendars (issue 19, item 5)
PARTS["ivr"] = ["/static/ivr-forms.js", "/static/ivr-review.js"]  # the IVR editor's parts (issue 19, item 2)
# The catalogues' code and shared words, then the page's own words when it has them (issue 19, item 3).
I18N = ["/static/i18n.js", "/static/i18n-common.js"]
# Vendored libraries, loaded before the page's script; their own code, so not held to the rules above.
VENDORED = {"operators": ["/static/qrcode-generator.js"]}  # the softphone's QR code (issue 19, item 1)


def declared(script: Path) -> set[str]:
    """The names a script declares at its top level."""
    return set(DECLARED.findall(script.read_text()))


def squash(text: str) -> str:
    return " ".join(text.split())


def rules(sheet: Path) -> set[tuple[str, str]]:
    """A stylesheet's rules as (selector, declarations), whitespace and comments normalised."""
    text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.DOTALL)
    return {(squash(sel), squash(body).rstrip(";")) for sel, body in RULE.findall(text)}


@pytest.mark.parametrize("page", PAGES)
async def test_each_page_loads_the_common_assets_before_its_own(page: str) -> None:
    transport = httpx.ASGITransport(app=create_app([]))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        html = (await client.get(f"/{page}/")).text
    common_css = html.index('<link rel="stylesheet" href="/static/common.css">')
    own_css = html.index(f'<link rel="stylesheet" href="/static/{page}.css">')
    common_js = html.index('<script src="/static/common.js"></script>')
    own_js = html.index(f'<script src="/static/{page}.js"></script>')
    assert common_css < own_css and common_js < own_js
    scripts = [*I18N, *[f"/static/i18n-{page}.js"] * (STATIC / f"i18n-{page}.js").exists()]  # words first
    scripts += ["/static/common.js", *VENDORED.get(page, []), f"/static/{page}.js", *PARTS.get(page, [])]
    assert re.findall(r'<script src="([^"]+)"', html) == scripts
    assert re.findall(r'<link [^>]*href="([^"]+)"', html) == ["/static/common.css", f"/static/{page}.css"]
    assert all(link.startswith("/") for link in re.findall(r'<a [^>]*href="([^"]+)"', html))  # other pages
    assert "http" not in html.replace('lang="en"', "")  # nothing from outside the service
    assert html.count('class="message"') == 1  # the one message area say() writes to
    for part in (*SIGN_IN_IDS, *ACCOUNT_IDS):  # the one sign-in common.js drives
        assert html.count(f'id="{part}"') == 1, part
    assert 'id="token"' not in html


async def test_the_common_assets_are_served() -> None:
    transport = httpx.ASGITransport(app=create_app([]))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        script, sheet = await client.get("/static/common.js"), await client.get("/static/common.css")
    assert script.status_code == sheet.status_code == 200
    assert "javascript" in script.headers["content-type"] and "text/css" in sheet.headers["content-type"]
    assert script.text == COMMON_JS.read_text() and sheet.text == COMMON_CSS.read_text()


def test_common_js_holds_the_shared_helpers() -> None:
    shared = {"$", "element", "cell", "svgElement", "say", "describe", "fail", "ApiError", "request"}
    signing = {"api", "session", "signIn", "signedIn", "signOut", "refused", "turnedAway", "isSignedIn"}
    assert shared | signing <= declared(COMMON_JS)


def test_no_script_keeps_a_secret_in_the_page() -> None:
    """The session is an HttpOnly cookie: no token in storage, no Authorization header."""
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        for kept in ("sessionStorage", "localStorage", "Authorization", "document.cookie"):
            assert kept not in text, f"{script.name}: {kept}"


@pytest.mark.parametrize("page", PAGES)
def test_no_page_script_keeps_its_own_copy(page: str) -> None:
    script = STATIC / f"{page}.js"
    assert declared(script) & declared(COMMON_JS) == set()
    text = script.read_text()
    # One fetch wrapper, one sign-in: only common.js calls fetch() and keeps the token.
    for own in ("fetch(", "sessionStorage", "Authorization", "document.createElement", "createElementNS"):
        assert own not in text, f"{page}.js: {own}"


@pytest.mark.parametrize("part", [p for parts in PARTS.values() for p in parts])
def test_a_parts_script_declares_nothing_at_the_top_and_keeps_no_copy(part: str) -> None:
    """It shares the page's global scope: everything it declares stays inside its function."""
    script = STATIC / part.removeprefix("/static/")
    assert declared(script) == set()
    text = script.read_text()
    for own in ("fetch(", "sessionStorage", "Authorization", "document.createElement", "createElementNS"):
        assert own not in text, f"{part}: {own}"


@pytest.mark.parametrize("page", PAGES)
def test_no_page_stylesheet_repeats_a_common_rule(page: str) -> None:
    assert rules(STATIC / f"{page}.css") & rules(COMMON_CSS) == set()


# --- In the browser: problem details and refusals, the same on every page ------------------


class Unavailable(DomainError):
    error_id = "store_unavailable"
    status = 503


class Refused(DomainError):
    error_id = "unauthorized"
    status = 401


class NotForYou(DomainError):
    error_id = "forbidden"
    status = 403


def failing_router() -> APIRouter:
    """The first call each page makes on sign-in, answered with a problem."""
    router = APIRouter()

    async def unavailable() -> None:
        raise Unavailable(DETAIL, where("query.start", "not a date"))

    async def refused() -> None:
        raise Refused("this session has ended: sign in again")

    async def not_for_you() -> None:
        raise NotForYou("this needs the role admin, shift_lead; you are operator")

    for path in ("/api/ivr/versions", "/api/me", "/api/reports"):
        router.add_api_route(path, unavailable, methods=["GET"])
    router.add_api_route("/api/wallboard/stream", refused, methods=["GET"])
    router.add_api_route("/api/planning/now", not_for_you, methods=["GET"])
    return router


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('pages') / 'hotline.sqlite3'}")
    migrate(engine)
    make_person(engine, PERSON, PASSWORD, Role.ADMIN)
    with serving(create_app([sign_in_routes(engine), failing_router()])) as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def open_and_sign_in(browser: Browser, url: str, page: str) -> Page:
    tab = browser.new_context().new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{url}/{page}/")
    sign_in(tab, PERSON, PASSWORD)
    expect(tab.locator("#sign-in-password")).to_have_value("")  # taken: the session began
    assert errors == []
    return tab


@pytest.mark.parametrize(
    ("page", "area", "shown"),
    [
        ("admin", "#status", DETAIL),  # the details go to the list of problems
        ("reports", "#status", f"{DETAIL} (query.start: not a date)"),
        ("operator", "#message", f"{DETAIL} (query.start: not a date)"),
    ],
)
def test_a_problem_shows_its_detail(browser: Browser, served: str, page: str, area: str, shown: str) -> None:
    tab = open_and_sign_in(browser, served, page)
    expect(tab.locator(area)).to_have_text(shown)
    expect(tab.locator(area)).to_have_class(re.compile(r"\bbad\b"))
    if page == "admin":
        expect(tab.locator("#issues")).to_have_text("query.start: not a date")
    assert tab.evaluate("sessionStorage.length + localStorage.length") == 0  # the cookie holds it
    tab.context.close()


def test_an_ended_session_shows_the_sign_in_form_with_why(browser: Browser, served: str) -> None:
    tab = open_and_sign_in(browser, served, "wallboard")
    expect(tab.locator("#sign-in-note")).to_have_text("Your session has ended: sign in again.")
    expect(tab.locator("#app")).to_be_hidden()
    expect(tab.locator("#sign-in")).to_be_visible()
    expect(tab.locator("#account")).to_be_hidden()
    tab.context.close()


def test_a_page_not_for_the_role_says_so_and_keeps_the_sign_out(browser: Browser, served: str) -> None:
    tab = open_and_sign_in(browser, served, "planning")
    expect(tab.locator("#status")).to_have_text(
        "This page is not for your role (this needs the role admin, shift_lead; you are operator)."
        " Sign out to sign in as someone else."
    )
    expect(tab.locator("#app")).to_be_hidden()
    expect(tab.locator("#sign-out")).to_be_visible()
    tab.click("#sign-out")
    expect(tab.locator("#sign-in")).to_be_visible()
    tab.context.close()
