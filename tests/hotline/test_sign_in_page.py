"""Signing in on the pages (issue 18) in headless Chromium against the real composed app over
SQLite (no Asterisk): a password and sign-out, a wrong password then a lockout with its wait,
the second factor's set-up when the line requires it and a sign-in with its code, a change
without the CSRF token refused, and a kiosk wallboard paired from an admin's link that survives
a browser restart and stops when the admin revokes it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from agents.directory import Role
from agents.passwords import totp
from core.db import migrate
from core.settings import AccountSettings
from hotline.app import Hotline
from tests.accounts import make_person
from tests.browser import ARGS, CHROMIUM, chromium, serving
from tests.conftest import make_settings

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

PASSWORD = "correct horse battery"
ADMIN, LEAD = "adm-eva", "lead-ida"


def served(tmp: Path, **accounts: Any) -> Iterator[str]:
    settings = make_settings(tmp, asterisk=[{"name": "local", "ami_secret": "s" * 24}], accounts=accounts)
    hotline = Hotline(settings)
    migrate(hotline.engine)
    for person, role in ((ADMIN, Role.ADMIN), (LEAD, Role.SHIFT_LEAD)):
        make_person(hotline.engine, person, PASSWORD, role, AccountSettings(**accounts))
    with serving(hotline.app) as url:
        yield url
    hotline.engine.dispose()


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    yield from served(tmp_path)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened(browser: Browser, url: str, page: str, permissions: list[str] | None = None) -> Page:
    tab = browser.new_context(permissions=permissions or []).new_page()
    tab.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    tab.goto(f"{url}/{page}/")
    expect(tab.locator("#sign-in")).to_be_visible()
    return tab


def sign_in(tab: Page, person: str, password: str = PASSWORD, code: str | None = None) -> None:
    tab.fill("#sign-in-id", person)
    tab.fill("#sign-in-password", password)
    if code is not None:
        tab.fill("#sign-in-code", code)
    tab.click("#sign-in button[type=submit]")


def test_a_password_signs_in_the_session_survives_a_reload_and_sign_out_ends_it(
    browser: Browser, url: str
) -> None:
    tab = opened(browser, url, "planning")
    sign_in(tab, LEAD)
    expect(tab.locator("#account-name")).to_have_text(f"{LEAD} ({LEAD}, shift lead)")
    expect(tab.locator("#app")).to_be_visible()
    expect(tab.locator("#sign-in")).to_be_hidden()
    [cookie] = tab.context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (
        "hotline_session",
        True,
        True,
        "Strict",
    )
    assert tab.evaluate("sessionStorage.length + localStorage.length") == 0  # nothing kept in the page
    assert tab.evaluate("document.cookie") == ""  # and the cookie out of scripts' reach
    tab.reload()
    expect(tab.locator("#app")).to_be_visible()  # the browser's session is taken up again
    expect(tab.locator("#account-name")).to_contain_text(LEAD)
    tab.click("#sign-out")
    expect(tab.locator("#sign-in")).to_be_visible()
    expect(tab.locator("#sign-in-note")).to_have_text("You are signed out.")
    expect(tab.locator("#app")).to_be_hidden()
    tab.reload()
    expect(tab.locator("#sign-in")).to_be_visible()  # ended on the server, not only hidden
    expect(tab.locator("#app")).to_be_hidden()
    tab.context.close()


def test_an_ended_session_shows_the_form_again_with_why(browser: Browser, url: str) -> None:
    tab = opened(browser, url, "admin")
    sign_in(tab, ADMIN)
    expect(tab.locator("#app")).to_be_visible()
    other = browser.new_context().new_page()  # the same person elsewhere changes the password
    other.goto(f"{url}/planning/")
    sign_in(other, ADMIN)
    expect(other.locator("#status")).to_have_text("Signed in.")
    other.click("#change-password")
    other.fill("#password-current", PASSWORD)
    other.fill("#password-new", "short")
    other.fill("#password-repeat", "short")
    other.click("#password-form button[type=submit]")
    expect(other.locator("#password-note")).to_contain_text("too weak")
    other.fill("#password-new", "a new horse battery")
    other.fill("#password-repeat", "a new horse battery")
    other.click("#password-form button[type=submit]")
    expect(other.locator("#password-dialog")).to_be_hidden()
    expect(other.locator("#status")).to_have_text("Password changed; your sessions elsewhere have ended.")
    other.context.close()
    tab.click("#audit-load")  # the first tab's next call finds its session ended
    expect(tab.locator("#sign-in-note")).to_have_text("Your session has ended: sign in again.")
    expect(tab.locator("#app")).to_be_hidden()
    sign_in(tab, ADMIN, "a new horse battery")
    expect(tab.locator("#app")).to_be_visible()
    tab.context.close()


def test_a_page_not_for_the_role_says_so_and_keeps_the_sign_out(browser: Browser, tmp_path: Path) -> None:
    for url in served(tmp_path):
        tab = opened(browser, url, "admin")
        sign_in(tab, LEAD)
        expect(tab.locator("#status")).to_contain_text("This page is not for your role")
        expect(tab.locator("#app")).to_be_hidden()
        expect(tab.locator("#sign-out")).to_be_visible()
        tab.context.close()


def test_a_wrong_password_then_a_lockout_with_its_wait(browser: Browser, tmp_path: Path) -> None:
    for url in served(tmp_path, lockout_after=2, lockout_seconds=3):
        tab = opened(browser, url, "planning")
        for _ in range(2):
            sign_in(tab, LEAD, "not the password")
            expect(tab.locator("#sign-in-note")).to_have_text("The name, the password or the code is wrong.")
            tab.locator("#sign-in-note").evaluate("n => { n.textContent = '' }")
        sign_in(tab, LEAD)  # the right password, but the account waits now
        note = tab.locator("#sign-in-note")
        expect(note).to_have_text(
            re.compile(r"^Too many failed sign-ins: this account waits\. Try again in [1-3] s\.$")
        )
        expect(tab.locator("#sign-in button[type=submit]")).to_be_disabled()
        expect(note).to_have_text("You may try again.", timeout=6000)
        expect(tab.locator("#sign-in button[type=submit]")).to_be_enabled()
        sign_in(tab, LEAD)
        expect(tab.locator("#app")).to_be_visible()
        tab.context.close()


def test_the_second_factor_is_set_up_when_required_then_asked_at_sign_in(
    browser: Browser, tmp_path: Path
) -> None:
    for url in served(tmp_path, totp_roles=["shift_lead"]):
        tab = opened(browser, url, "planning")
        sign_in(tab, LEAD)
        expect(tab.locator("#enrol")).to_be_visible()
        expect(tab.locator("#app")).to_be_hidden()
        secret = tab.locator("#enrol-secret").text_content() or ""
        expect(tab.locator("#enrol-uri")).to_have_text(re.compile(rf"^otpauth://totp/.*secret={secret}"))
        tab.fill("#enrol-code", "000000" if totp(secret) != "000000" else "111111")
        tab.click("#enrol-form button[type=submit]")
        expect(tab.locator("#enrol-note")).to_contain_text("This code does not match")
        tab.fill("#enrol-code", totp(secret))
        tab.click("#enrol-form button[type=submit]")
        expect(tab.locator("#enrol")).to_be_hidden()
        expect(tab.locator("#app")).to_be_visible()
        tab.click("#sign-out")
        sign_in(tab, LEAD)  # the password alone is not enough any more
        expect(tab.locator("#sign-in-code-box")).to_be_visible()
        expect(tab.locator("#sign-in-note")).to_have_text("Enter the code your authenticator app shows.")
        expect(tab.locator("#app")).to_be_hidden()
        sign_in(tab, LEAD, code=totp(secret, time.time() + 30))  # the next step's: a code works once
        expect(tab.locator("#app")).to_be_visible()
        expect(tab.locator("#sign-in-code-box")).to_be_hidden()
        tab.context.close()


def test_a_change_without_the_csrf_token_is_refused(url: str) -> None:
    signed = httpx.post(f"{url}/api/session", json={"id": ADMIN, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    cookie = {"Cookie": f"hotline_session={signed.cookies['hotline_session']}"}  # Secure: sent by hand
    csrf = signed.json()["csrf"]
    body = {"id": "op-new", "display_name": "New", "role": "operator"}
    refused = httpx.post(f"{url}/api/operators", json=body, headers=cookie)
    assert (refused.status_code, refused.json()["error_id"]) == (403, "csrf_failed")
    wrong = httpx.post(f"{url}/api/operators", json=body, headers={**cookie, "X-CSRF-Token": csrf[::-1]})
    assert (wrong.status_code, wrong.json()["error_id"]) == (403, "csrf_failed")
    assert httpx.get(f"{url}/api/operators", headers=cookie).status_code == 200  # a read needs none
    made = httpx.post(f"{url}/api/operators", json=body, headers={**cookie, "X-CSRF-Token": csrf})
    assert made.status_code == 201 and made.json()["password"]


def test_the_admin_page_shows_a_token_once_and_sends_people_to_the_operators_page(
    browser: Browser, url: str
) -> None:
    tab = opened(browser, url, "admin", ["clipboard-read", "clipboard-write"])
    tab.on("dialog", lambda d: d.accept())
    sign_in(tab, ADMIN)
    tab.click("#operators-link")  # people and their credentials: tests/hotline/test_operators_page.py
    expect(tab).to_have_url(f"{url}/operators/")
    expect(tab.locator("#add")).to_be_visible()  # the same session: an admin's page at once
    tab.go_back()
    expect(tab.locator("#app")).to_be_visible()
    once = tab.locator("#once")

    tab.fill("#token-name", "directory-sync")
    tab.check('#token-scopes input[value="operators:read"]')
    tab.click("#token-form button[type=submit]")
    token = tab.locator("#once-token").text_content() or ""
    assert token.startswith("hlt_")
    tab.locator("#once-token + button.copy").click()
    expect(tab.locator("#once-copied")).to_have_text("Copied.")
    assert tab.evaluate("navigator.clipboard.readText()") == token
    tab.click("#once-done")
    expect(once).to_be_hidden()
    expect(tab.locator("#once-token")).to_have_count(0)  # gone from the page (on the close event)
    machine = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{url}/api/operators", headers=machine).status_code == 200
    assert httpx.get(f"{url}/api/tokens", headers=machine).status_code == 403  # not its scope
    row = tab.locator("#tokens tbody tr").first
    expect(row).to_contain_text("directory-sync")
    expect(row).to_contain_text("operators:read")
    row.locator("button.revoke").click()
    expect(row).to_contain_text("revoked")
    assert httpx.get(f"{url}/api/operators", headers=machine).status_code == 401
    tab.context.close()


def test_a_kiosk_wallboard_survives_a_browser_restart_until_revoked(
    browser: Browser, url: str, tmp_path: Path
) -> None:
    admin = opened(browser, url, "admin")
    admin.on("dialog", lambda d: d.accept())
    sign_in(admin, ADMIN)
    admin.fill("#kiosk-label", "lounge TV")
    admin.click("#kiosk-form button[type=submit]")
    link = admin.locator("#once-link").text_content() or ""
    assert re.fullmatch(rf"{url}/wallboard#pair=[\w-]+", link), link
    admin.click("#once-done")
    expect(admin.locator("#kiosks tbody tr")).to_contain_text(["waiting to be paired"])

    profile = tmp_path / "tv-profile"
    tv = browser.browser_type.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=ARGS)
    board = tv.new_page()
    board.goto(link)
    kiosk_board(board, url)
    tv.close()  # the TV is switched off and on again

    tv = browser.browser_type.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=ARGS)
    board = tv.pages[0] if tv.pages else tv.new_page()
    board.goto(f"{url}/wallboard/")
    kiosk_board(board, url)
    admin.reload()
    expect(admin.locator("#kiosks tbody tr")).to_contain_text(["paired"])
    admin.locator("#kiosks tbody tr button.revoke").click()
    expect(admin.locator("#status")).to_have_text("Kiosk lounge TV revoked.")
    expect(board.locator("#sign-in")).to_be_visible(timeout=15_000)  # its stream ends, then it is refused
    expect(board.locator("#sign-in-note")).to_contain_text("kiosk session has ended")
    expect(board.locator("#app")).to_be_hidden()
    tv.close()
    admin.context.close()


def kiosk_board(board: Page, url: str) -> None:
    """The wallboard shows, as a kiosk: live, no sign-in, no lead's buttons, no code in the address."""
    expect(board.locator("#link")).to_have_text("live", timeout=10_000)
    expect(board.locator("#app")).to_be_visible()
    assert board.url == f"{url}/wallboard/"
    expect(board.locator("#sign-in")).to_be_hidden()
    expect(board.locator("#account")).to_be_hidden()
    for lead_only in ("#lead-reason", "#switchboard", "th.act"):
        expect(board.locator(lead_only).first).to_be_hidden()
    [cookie] = board.context.cookies()
    assert cookie["expires"] > time.time() + 100 * 86_400  # a persistent cookie: accounts.kiosk_days
