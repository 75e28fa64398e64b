"""The operators page (issue 19, item 1) in headless Chromium against the real composed app over
SQLite (no Asterisk; two people's presence fed to the board as Asterisk's events would): an
admin adds a person with skills, sees the one-time credentials once (a copyable softphone
configuration equal to the API's answer and a QR code that a reader decodes back to the
provisioning address), edits role and skills, resets the second factor (a lost phone), makes
new credentials, deactivates and reactivates; a shift lead sees the same list read only; the
filters and who is online now; the page at 375 px has no horizontal scroll; every control has a
label and the dialogs work with the keyboard."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from agents.directory import OperatorDirectory, Role
from core.db import migrate
from hotline.app import Hotline
from ivr.document import IvrDocument
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from telephony.events import QueueMemberAdded
from tests.accounts import make_person
from tests.browser import chromium, serving, sign_in
from tests.conftest import make_settings
from tests.qr import qr_texts

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

PASSWORD = "correct horse battery"
ADMIN, LEAD = "adm-eva", "lead-ida"
# Already there: Boris on the phones, Vera paused, Gleb logged out; Dina left.
PEOPLE = {
    "op-boris": ("Boris", Role.OPERATOR, {"crisis": 2}),
    "op-vera": ("Vera", Role.SENIOR, {"violence-home": 3, "crisis": 1}),
    "op-gleb": ("Gleb", Role.OPERATOR, {"addiction": 1}),
    "op-dina": ("Dina", Role.OPERATOR, {}),
}


def joined(member: str, queue: str, paused_reason: str = "") -> QueueMemberAdded:
    """What Asterisk says when a member logs in to a queue."""
    return QueueMemberAdded(
        "local", datetime.now(UTC), "", "", queue, member, f"PJSIP/{member}", 1,
        bool(paused_reason), paused_reason, False, 0,
    )  # fmt: skip


async def _nothing(_: IvrDocument) -> None:
    return None


async def live_seed(hotline: Hotline) -> None:
    """The demo IVR live, as a fresh install publishes it (here without an Asterisk to reload)."""
    settings = hotline.settings
    publisher = IvrService(
        hotline.ivr_store, PromptStudio(settings.prompts_dir), _nothing, settings.asterisk_prompts_dir
    )
    await publisher.start(settings.ivr_seed)
    await hotline.ivr_service.start(settings.ivr_seed)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("operators-page")
    hotline = Hotline(make_settings(tmp, asterisk=[{"name": "local", "ami_secret": "s" * 24}]))
    migrate(hotline.engine)
    with ThreadPoolExecutor(1) as aside:  # playwright's own loop may run in this thread
        aside.submit(asyncio.run, live_seed(hotline)).result()
    for person, role in ((ADMIN, Role.ADMIN), (LEAD, Role.SHIFT_LEAD)):
        make_person(hotline.engine, person, PASSWORD, role)
    directory = OperatorDirectory(hotline.engine)
    for person, (name, role, skills) in PEOPLE.items():
        directory.create(person, name, role, skills)
    directory.update("op-dina", None, None, None, False)
    hotline.operators.on_event(joined("op-boris", "crisis"))
    hotline.operators.on_event(joined("op-vera", "crisis", "break"))
    with serving(hotline.app) as served:
        yield served
    hotline.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened(browser: Browser, url: str, person: str, **context: Any) -> Page:
    tab = browser.new_context(**context).new_page()
    tab.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    tab.on("dialog", lambda d: d.accept())  # the confirmations
    tab.goto(f"{url}/operators/")
    sign_in(tab, person, PASSWORD)
    expect(tab.locator("#app")).to_be_visible()
    return tab


def row(tab: Page, person: str) -> Any:
    return tab.locator(f'#operators tbody tr[data-id="{person}"]')


def uri(softphone: dict[str, Any]) -> str:
    user, password = quote(softphone["username"], safe=""), quote(softphone["password"], safe="")
    host, port, transport = softphone["server"], softphone["port"], softphone["transport"]
    return f"sip:{user}:{password}@{host}:{port};transport={transport}"


def secrets_shown(tab: Page, made: dict[str, Any]) -> None:
    """The one-time answer on the page, as the API gave it, and a QR code that says the same."""
    expect(tab.locator("#secrets")).to_be_visible()
    expect(tab.locator("#secrets-h")).to_have_text(f"Credentials of {made['operator']['id']}")
    expect(tab.locator("#secrets-once")).to_contain_text("Shown once, never again")
    expect(tab.locator("#secret-password")).to_have_text(made["password"])
    expect(tab.locator("#secret-api-token")).to_have_text(made["api_token"])
    phone = made["softphone"]
    lines = [
        f"Server: {phone['server']}",
        f"Port: {phone['port']}",
        f"Transport: {phone['transport']}",
        f"User name: {phone['username']}",
        f"Authentication user: {phone['username']}",
        f"Realm (domain): {phone['realm']}",
        f"Password: {phone['password']}",
    ]
    assert tab.locator("#secret-softphone").text_content() == "\n".join(lines)
    expect(tab.locator("#secret-uri")).to_have_text(uri(phone))
    qr = tab.locator("#secrets-qr svg.qr")
    expect(qr).to_have_attribute("role", "img")
    assert qr_texts(qr.screenshot()) == [uri(phone)]


def closed_and_forgotten(tab: Page) -> None:
    expect(tab.locator("#secrets")).to_be_hidden()
    for part in ("#secret-password", "#secret-softphone", "#secrets-qr svg"):
        # the secrets left the page (the dialog's close event runs a moment after it hides)
        expect(tab.locator(part)).to_have_count(0)


def test_an_admin_adds_edits_resets_and_deactivates_a_person(browser: Browser, url: str) -> None:
    tab = opened(browser, url, ADMIN, permissions=["clipboard-read", "clipboard-write"])
    tab.fill("#add-id", "op-anna")
    tab.fill("#add-name", "Anna K.")
    tab.select_option("#add-role", "senior")
    skills = tab.locator("#add-skills")
    expect(skills).to_contain_text("Crisis and suicidal thoughts")  # the topics by name
    skills.get_by_label("Crisis and suicidal thoughts").select_option("3")
    skills.locator('select[name="addiction"]').select_option("1")
    adding = tab.expect_response(lambda r: r.url.endswith("/api/operators") and r.request.method == "POST")
    with adding as answer:
        tab.click("#add-form button[type=submit]")
    made = answer.value.json()
    assert made["operator"]["skills"] == {"crisis": 3, "addiction": 1}
    assert made["operator"]["role"] == "senior"
    secrets_shown(tab, made)
    tab.get_by_role("button", name="Copy: One-time sign-in password").click()
    expect(tab.locator("#secrets-copied")).to_have_text("Copied: One-time sign-in password.")
    assert tab.evaluate("navigator.clipboard.readText()") == made["password"]
    tab.click("#secrets-done")
    closed_and_forgotten(tab)
    expect(tab.locator("#status")).to_have_text("op-anna added. Hand them the credentials below.")
    anna = row(tab, "op-anna")
    expect(anna).to_contain_text("senior")
    expect(anna).to_contain_text("crisis (when logged in)")  # the queues the skills lead to

    newcomer = browser.new_context().new_page()  # the one-time password signs in
    newcomer.goto(f"{url}/operator/")
    sign_in(newcomer, "op-anna", made["password"])
    expect(newcomer.locator("#account-name")).to_contain_text("op-anna")
    newcomer.context.close()

    anna.get_by_role("button", name="Edit: Anna K. (op-anna)").click()
    expect(tab.locator("#edit")).to_be_visible()
    expect(tab.locator("#edit-name")).to_have_value("Anna K.")
    tab.fill("#edit-name", "Anna Kowalska")
    tab.select_option("#edit-role", "operator")
    tab.locator('#edit-skills select[name="crisis"]').select_option("0")
    tab.locator('#edit-skills select[name="violence-home"]').select_option("2")
    tab.click("#edit-form button[type=submit]")
    expect(tab.locator("#edit")).to_be_hidden()
    expect(tab.locator("#status")).to_have_text("op-anna saved.")
    saved = tab.request.get(f"{url}/api/operators/op-anna").json()
    assert (saved["display_name"], saved["role"], saved["skills"]) == (
        "Anna Kowalska",
        "operator",
        {"addiction": 1, "violence-home": 2},
    )
    expect(anna.locator("td").nth(1)).to_have_text("operator")

    anna.locator("button.second-factor").click()  # a lost phone
    expect(tab.locator("#status")).to_have_text(
        "op-anna sets up a new authenticator app at their next sign-in."
    )

    with tab.expect_response(lambda r: r.url.endswith("/op-anna/credentials")) as again:
        anna.locator("button.credentials").click()
    secrets_shown(tab, again.value.json())
    assert again.value.json()["password"] != made["password"]
    tab.keyboard.press("Escape")  # the keyboard closes it too
    closed_and_forgotten(tab)

    anna.locator("button.deactivate").click()
    expect(tab.locator("#status")).to_have_text("op-anna deactivated; their sessions ended.")
    expect(anna).to_have_count(0)  # the deactivated are hidden unless asked for
    assert tab.request.get(f"{url}/api/operators/op-anna").json()["active"] is False
    tab.check("#filter-inactive")
    expect(anna).to_contain_text("deactivated")
    anna.locator("button.reactivate").click()
    expect(tab.locator("#status")).to_have_text("op-anna reactivated.")
    assert tab.request.get(f"{url}/api/operators/op-anna").json()["active"] is True
    tab.context.close()


def test_a_shift_lead_sees_the_list_read_only(browser: Browser, url: str) -> None:
    tab = opened(browser, url, LEAD)
    expect(row(tab, "op-vera")).to_contain_text("Vera")
    expect(tab.locator("#read-only")).to_have_text("You can see the list; only admins add or change people.")
    expect(tab.locator("#add")).to_be_hidden()
    expect(tab.locator("#operators th.actions")).to_be_hidden()
    assert tab.locator("#app button:visible").all_text_contents() == ["Clear filters"]  # nothing to change
    tab.context.close()


def test_filters_and_who_is_online_now(browser: Browser, url: str) -> None:
    tab = opened(browser, url, LEAD)
    expect(tab.locator("#online-count")).to_have_text("2 online")
    expect(tab.locator("#online li")).to_have_text(
        ["● Boris (op-boris): available", "❚❚ Vera (op-vera): paused (break)"]
    )
    expect(tab.locator("#online-summary")).to_have_text("Logged in: 1 available, 1 paused (break).")
    boris = row(tab, "op-boris")
    expect(boris.locator("td.state")).to_have_text("● available")  # a sign and words, not a colour
    expect(boris.locator("td").nth(3)).to_have_text("crisis")  # the queue Boris is in now
    expect(row(tab, "op-dina")).to_have_count(0)

    def shown() -> list[str]:
        return [i for i in tab.locator("#operators tbody tr").evaluate_all("rs => rs.map(r => r.dataset.id)")]

    tab.select_option("#filter-state", "online")
    expect(tab.locator("#operators tbody tr")).to_have_count(2)
    assert shown() == ["op-boris", "op-vera"]
    tab.select_option("#filter-role", "senior")
    expect(tab.locator("#operators tbody tr")).to_have_count(1)
    expect(tab.locator("#shown")).to_have_text(re.compile(r"^1 of \d+ shown\.$"))
    tab.click("#filter-clear")
    tab.select_option("#filter-topic", "crisis")
    expect(tab.locator("#operators tbody tr")).to_have_count(2)
    assert set(shown()) >= {"op-boris", "op-vera"} and "op-gleb" not in shown()
    tab.click("#filter-clear")
    tab.fill("#filter-text", "GLE")
    expect(tab.locator("#operators tbody tr")).to_have_count(1)
    expect(row(tab, "op-gleb").locator("td.state")).to_have_text("○ logged out")
    tab.fill("#filter-text", "dina")
    expect(tab.locator("#operators tbody tr")).to_have_count(0)
    tab.check("#filter-inactive")
    expect(row(tab, "op-dina")).to_contain_text("deactivated")
    tab.context.close()


def no_sideways_scroll(tab: Page) -> None:
    width = tab.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width


def test_a_phone_at_375_px_scrolls_no_sideways(browser: Browser, url: str, tmp_path: Path) -> None:
    tab = opened(browser, url, ADMIN, viewport={"width": 375, "height": 740})
    expect(row(tab, "op-vera")).to_be_visible()
    no_sideways_scroll(tab)
    tab.screenshot(path=tmp_path / "operators-375.png", full_page=True)
    row(tab, "op-gleb").locator("button.credentials").click()
    expect(tab.locator("#secrets-qr svg")).to_be_visible()
    no_sideways_scroll(tab)
    box = tab.locator("#secrets").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    tab.click("#secrets-done")
    tab.context.close()


UNLABELLED = """() => [...document.querySelectorAll(':is(main, dialog) :is(input, select, button)')]
  .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
  && !c.getAttribute('aria-labelledby') && !(c.tagName === 'BUTTON' && c.textContent.trim()))
  .map((c) => c.id || c.name || c.outerHTML)"""


def test_every_control_has_a_label_and_the_dialogs_take_the_keyboard(browser: Browser, url: str) -> None:
    tab = opened(browser, url, ADMIN)
    expect(row(tab, "op-gleb")).to_be_visible()
    assert tab.evaluate(UNLABELLED) == []
    edit = row(tab, "op-gleb").locator('button[data-action="edit"]')
    edit.focus()
    tab.keyboard.press("Enter")
    expect(tab.locator("#edit")).to_be_visible()
    assert tab.evaluate(UNLABELLED) == []  # the skills' selects too
    expect(tab.locator("#edit-skills select").first).to_have_accessible_name(re.compile(r"\w"))
    tab.keyboard.press("Escape")
    expect(tab.locator("#edit")).to_be_hidden()
    tab.context.close()
