"""The wallboard acts (issue 17, items 3 and 4) against the real service and the sandbox Asterisk,
in headless Chromium: a shift lead pauses an operator (a real account on a sipp softphone) from
the wallboard and Asterisk's own queue state shows the pause with its reason, then resumes them;
both actions are in the record as the lead's. The operator asks for a debrief from their own
page; the request appears on the lead's wallboard, the lead starts it (Asterisk shows the
operator paused for a debrief) and closes it with an outcome (the pause ends)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from core.settings import Settings
from sandbox.asterisk import Sandbox
from sandbox.scenarios import softphone_answer_scenario, softphone_register_scenario
from tests.browser import ARGS as CHROMIUM_ARGS
from tests.browser import CHROMIUM
from tests.browser import sign_in as sign_in_as
from tests.e2e.calls import place, plan, records
from tests.e2e.conftest import Service
from tests.e2e.test_operators import finished, peer_operator, tmp  # noqa: F401  (fixture)
from tests.e2e.test_wallboard import wait_until

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]  # own sipp ports: beside the rest

PHONE = 38100  # the operator's softphone (its media port +1000): inside 38000-39999
LEAD_PHONE = 38200  # the shift lead's own softphone, which a listen calls
CALLERS = 38300  # the caller of the listen test (sipp's base; media +1000)
CALLER_PREFIX = "7900000"
OPERATOR, LEAD = "op-wbact", "op-wblead"
WITHIN = 15.0  # seconds for Asterisk's state to show an action (the machine is shared and loaded)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def softphone(
    settings: Settings, scenario: str, folder: Path, port: int, *extra: str
) -> subprocess.Popen[bytes]:
    """One sipp softphone; media at port+1000, so both stay inside this test's port range."""
    path = folder / f"scenario-{port}-{time.monotonic_ns()}.xml"
    path.write_text(scenario, encoding="ascii")
    return subprocess.Popen(
        ["sipp", f"127.0.0.1:{settings.sandbox.sip_port}", "-sf", str(path), "-p", str(port),
         "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(port + 1000), "-m", "1", "-nostdin",
         "-aa", *extra],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def member_lines(sandbox: Sandbox, operator: str) -> list[str]:
    """Asterisk's own view: the operator's line in every queue of `queue show`."""
    return [line for line in sandbox.cli("queue show").splitlines() if f"(PJSIP/{operator})" in line]


def asterisk_shows(sandbox: Sandbox, check: Callable[[list[str]], bool], what: str) -> list[str]:
    deadline = time.monotonic() + WITHIN
    while True:
        lines = member_lines(sandbox, OPERATOR)
        if lines and check(lines):
            return lines
        assert time.monotonic() < deadline, f"Asterisk never showed {what}: {lines}"
        time.sleep(0.2)


def paused_for(reason: str) -> Callable[[list[str]], bool]:
    return lambda lines: all(re.search(rf"\(paused:{reason}\b", line) for line in lines)


def unpaused(lines: list[str]) -> bool:
    return not any("paused" in line for line in lines)


@pytest.fixture(scope="module")
def people(service: Service) -> Iterator[dict[str, Any]]:
    """An operator of the peer queue and a shift lead, made through the API; at the end the
    operator is logged out and every debrief request of theirs closed, whatever happened."""
    operator = peer_operator(service, OPERATOR, "WB Operator")
    body = {"id": LEAD, "display_name": "WB Lead", "role": "shift_lead"}
    lead = httpx.post(f"{service.url}/api/operators", headers=service.admin, json=body, timeout=30)
    assert lead.status_code == 201, lead.text
    yield {"operator": operator, "lead": lead.json()}
    open_ones = httpx.get(f"{service.url}/api/debriefs", params={"open": "true"}, headers=service.admin)
    for d in open_ones.json():
        httpx.post(f"{service.url}/api/debriefs/{d['id']}/close", headers=service.admin, json={}, timeout=30)
    out = httpx.post(f"{service.url}/api/operators/{OPERATOR}/logout", headers=service.admin, timeout=30)
    assert out.status_code == 200, out.text


def sign_in(page: Page, url: str, person: dict[str, Any]) -> None:
    """The person signs in on the wallboard with the one-time password the admin handed over."""
    page.goto(f"{url}/wallboard/")
    sign_in_as(page, person["operator"]["id"], person["password"])
    expect(page.locator("#link")).to_have_text("live", timeout=10_000)


def recorded(service: Service, token: str) -> list[tuple[str, str, str | None, str | None, str]]:
    got = httpx.get(
        f"{service.url}/api/wallboard/actions", params={"operator": OPERATOR}, headers=bearer(token)
    )
    assert got.status_code == 200, got.text
    return [(r["by"], r["action"], r["operator"], r["target"], r["result"]) for r in reversed(got.json())]


def test_a_lead_pauses_and_resumes_from_the_wallboard_and_closes_a_debrief(
    service: Service,
    e2e_settings: Settings,
    sandbox: Sandbox,
    people: dict[str, Any],
    tmp: Path,  # noqa: F811
) -> None:
    phone, op_token = people["operator"]["softphone"], people["operator"]["api_token"]
    lead_token = people["lead"]["api_token"]
    finished(softphone(e2e_settings, softphone_register_scenario(OPERATOR, phone["password"]), tmp, PHONE))
    login = httpx.post(f"{service.url}/api/operators/{OPERATOR}/login", headers=bearer(op_token), timeout=30)
    assert login.status_code == 200, login.text
    asterisk_shows(sandbox, unpaused, "the operator in their queues")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            board = browser.new_page()
            sign_in(board, service.url, people["lead"])
            row = board.locator(f'#operators tr[data-operator="{OPERATOR}"]')
            expect(row).to_be_visible(timeout=10_000)
            board.select_option("#lead-reason", "supervision")
            row.locator("button.pause").click()
            expect(board.locator(".message")).to_contain_text(f"{OPERATOR} paused", timeout=10_000)
            asterisk_shows(sandbox, paused_for("supervision"), "the pause with its reason")
            expect(row.locator("td").nth(1)).to_contain_text("paused (supervision)", timeout=10_000)
            row.locator("button.resume").click()
            asterisk_shows(sandbox, unpaused, "the pause ended")
            assert recorded(service, lead_token)[-2:] == [
                (LEAD, "pause", OPERATOR, "supervision", "ok"),
                (LEAD, "resume", OPERATOR, None, "ok"),
            ]
            pauses = httpx.get(
                f"{service.url}/api/operators/{OPERATOR}/pauses", headers=bearer(op_token)
            ).json()
            assert (pauses[0]["reason"], pauses[0]["source"]) == ("supervision", "shift_lead")
            assert pauses[0]["ended_at"] is not None
            expect(board.locator("#actions tbody tr").first).to_contain_text("resume", timeout=15_000)
            _debrief(service, sandbox, browser.new_page(), board, people["operator"], lead_token)
        finally:
            browser.close()


def _debrief(
    service: Service, sandbox: Sandbox, desk: Page, board: Page, operator: dict[str, Any], lead_token: str
) -> None:
    """Asked on the operator's page, seen, started and closed on the lead's wallboard."""
    op_token = operator["api_token"]
    desk.goto(f"{service.url}/operator/")
    sign_in_as(desk, OPERATOR, operator["password"])
    expect(desk.locator("#debrief-form")).to_be_visible(timeout=10_000)
    desk.fill("#debrief-note", "call back on +7 900 000 00 17")  # refused: a phone number
    desk.click("#debrief-ask")
    expect(desk.locator(".message")).to_contain_text("phone number", timeout=10_000)
    desk.fill("#debrief-note", "a hard call, I would like to talk it through")
    desk.click("#debrief-ask")
    expect(desk.locator("#debrief-state")).to_contain_text("You asked for a debrief", timeout=10_000)
    row = board.locator("#debriefs tbody tr", has_text=OPERATOR)
    expect(row).to_contain_text("a hard call", timeout=10_000)
    row.locator("button.start").click()
    asterisk_shows(sandbox, paused_for("debrief"), "the debrief pause")
    expect(desk.locator("#debrief-state")).to_contain_text(f"started by {LEAD}", timeout=10_000)
    expect(row).to_contain_text(f"started by {LEAD}", timeout=10_000)
    row.locator("input.outcome").fill("talked it through; back on the line")
    row.locator("button.close").click()
    asterisk_shows(sandbox, unpaused, "the debrief pause ended with it")
    expect(board.locator("#debriefs-none")).to_be_visible(timeout=10_000)
    wait_until(board, "document.querySelectorAll('#debriefs tbody tr').length === 0", 10)
    [closed, *_] = httpx.get(
        f"{service.url}/api/operators/{OPERATOR}/debriefs", headers=bearer(op_token)
    ).json()
    assert (closed["state"], closed["started_by"], closed["closed_by"], closed["paused"]) == (
        "closed",
        LEAD,
        LEAD,
        True,
    )
    assert closed["outcome"] == "talked it through; back on the line" and closed["note"].startswith(
        "a hard call"
    )
    assert [a[1:] for a in recorded(service, lead_token)[-2:]] == [
        ("debrief_start", OPERATOR, f"debrief {closed['id']}", "ok"),
        ("debrief_close", OPERATOR, f"debrief {closed['id']}", "ok"),
    ]
    expect(desk.locator("#debrief-state")).to_contain_text(f"closed by {LEAD}", timeout=10_000)


def _supervision_exists(service: Service) -> bool:
    document = httpx.get(f"{service.url}/openapi.json", timeout=10).json()
    return "post" in document["paths"].get("/api/supervision", {})


def _status(service: Service, token: str) -> str:
    got = httpx.get(f"{service.url}/api/operators/{OPERATOR}", headers=bearer(token), timeout=10)
    return str(got.json()["state"]["status"])


def _wait(check: Callable[[], Any], what: str, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.2)
    return found


def test_a_lead_starts_a_listen_from_the_wallboard(
    service: Service,
    e2e_settings: Settings,
    people: dict[str, Any],
    tmp: Path,  # noqa: F811
) -> None:
    """The Listen button calls POST /api/supervision (the supervision room's); the lead's own
    softphone rings and answers, and the session names the lead as the supervisor."""
    service.start()
    if not _supervision_exists(service):
        pytest.skip("POST /api/supervision (the supervision room) is not in this build yet")
    operator, lead = people["operator"], people["lead"]
    op_token, lead_token = operator["api_token"], lead["api_token"]
    answering = softphone_answer_scenario(forbidden=CALLER_PREFIX, stop_after_call=True)
    phones = []
    for who, port, made in ((OPERATOR, PHONE, operator), (LEAD, LEAD_PHONE, lead)):
        register = softphone_register_scenario(who, made["softphone"]["password"])
        finished(softphone(e2e_settings, register, tmp, port))
        phones.append(softphone(e2e_settings, answering, tmp, port, "-m", "1000"))
    sessions = f"{service.url}/api/supervision"
    try:
        login = httpx.post(
            f"{service.url}/api/operators/{OPERATOR}/login", headers=bearer(op_token), timeout=30
        )
        assert login.status_code == 200, login.text
        _wait(lambda: _status(service, op_token) == "available", "the operator available")
        with sync_playwright() as p, ThreadPoolExecutor(1) as pool:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                board = browser.new_page()
                sign_in(board, service.url, lead)
                caller = pool.submit(place, e2e_settings, [plan("18", hangup_after_ms=20_000)], CALLERS)
                listen = board.locator(f'#operators tr[data-operator="{OPERATOR}"] button.listen')
                expect(listen).to_be_enabled(timeout=30_000)  # the operator is on the call
                listen.click()
                expect(board.locator(".message")).to_contain_text(f"Listening to {OPERATOR}", timeout=15_000)

                def active() -> dict[str, Any] | None:
                    got = httpx.get(sessions, headers=service.admin, params={"operator": OPERATOR}).json()
                    return next((s for s in got["sessions"] if s["state"] == "active"), None)

                session = _wait(active, "the lead's softphone answering the listen", 20)
                assert (session["supervisor"], session["mode"]) == (LEAD, "listen")
                ended = httpx.delete(f"{sessions}/{session['id']}", headers=bearer(lead_token), timeout=15)
                assert ended.status_code == 200, ended.text
                caller.result(timeout=60)
            finally:
                browser.close()
        _debrief_about_the_call(service, op_token, lead_token)
    finally:
        for phone in phones:
            if phone.poll() is None:
                phone.kill()
            phone.communicate()


def _debrief_about_the_call(service: Service, op_token: str, lead_token: str) -> None:
    """Right after the call, the operator asks for a debrief about it (its record id, as the
    desk shows it: the record may still be on its way to the database); a lead closes it."""
    desk = httpx.get(f"{service.url}/api/operators/{OPERATOR}/call", headers=bearer(op_token)).json()
    assert desk["call"] is not None, desk
    record_id = desk["call"]["record_id"]
    url = f"{service.url}/api/operators/{OPERATOR}/debriefs"
    asked = httpx.post(url, headers=bearer(op_token), json={"record_id": record_id}, timeout=15)
    assert asked.status_code == 201 and asked.json()["record_id"] == record_id, asked.text
    close = f"{service.url}/api/debriefs/{asked.json()['id']}/close"
    closed = httpx.post(close, headers=bearer(lead_token), json={"outcome": "a short talk"}, timeout=15)
    assert closed.status_code == 200 and closed.json()["state"] == "closed", closed.text
    # The call's record saved before the next test counts records (wrap-up, then the writer).
    _wait(lambda: any(r["id"] == record_id for r in records(service, 0)), "the call's record", 60)
