"""Listen, whisper, barge on the real Asterisk (issue 17, items 1 and 2), proven with audio.

A sipp caller plays tone A (600 Hz), the operator's sipp softphone tone B (800 Hz), the
supervisor's sipp softphone tone C (1000 Hz). What Asterisk sends each party is captured on the
loopback interface (tests/e2e/audio.py) and measured per tone. One session goes through the
three modes (PATCH), then ends (DELETE):

- listen: C reaches neither the caller nor the operator;
- whisper: C reaches the operator only;
- barge: C reaches both;
- in every mode the supervisor hears A and B.

Also: the role operator and an admin's machine token (no softphone) are refused; the session's record and
the operator's notice; the supervisor's INVITE carries no caller number, header by header. A
second call: the role operator's feature code starts nothing; a senior's ``*45<operator>``
whispers (measured), key 4 on the senior's phone switches to listen (recorded as keys), and the
operator's page in headless Chromium says a supervisor is listening.

Ports: sipp's in 36000-37999 (media at base + 1000), the rest from the settings."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from core.settings import Settings
from sandbox.scenarios import (
    CallPlan,
    dtmf_pcap,
    scenario,
    softphone_answer_scenario,
    softphone_feature_scenario,
    softphone_register_scenario,
)
from sandbox.tones import tone_pcap
from tests.browser import ARGS as CHROMIUM_ARGS
from tests.browser import CHROMIUM, sign_in
from tests.e2e.audio import Capture, level, tone_share
from tests.e2e.calls import NUMBERS, plan, records
from tests.e2e.conftest import Service

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]  # own sipp ports: beside the rest

OPERATOR, SUPERVISOR, PLAIN = "op-sv-olga", "op-sv-senior", "op-sv-plain"
CALLER_PORT, OPERATOR_PORT, SUPERVISOR_PORT, PLAIN_PORT = 36010, 36110, 36210, 36310  # media: + 1000
MEDIA = {CALLER_PORT + 1000: "caller", OPERATOR_PORT + 1000: "operator", SUPERVISOR_PORT + 1000: "supervisor"}
KEY_AFTER_MS = 6000  # the supervisor presses 4 this long after answering a feature code's call
CALLER_PREFIX = "7900000"
TONES = {"caller": 600.0, "operator": 800.0, "supervisor": 1000.0}
SETTLE, WINDOW = 1.5, 2.5  # seconds after a mode change before measuring, and how long
PRESENT, ABSENT = 0.05, 0.01  # a tone's share of what a party hears


def _sipp(
    settings: Settings, scenario_text: str, cwd: Path, port: int, *extra: str
) -> subprocess.Popen[bytes]:
    path = cwd / f"scenario-{port}-{time.monotonic_ns()}.xml"
    path.write_text(scenario_text, encoding="ascii")
    return subprocess.Popen(
        ["sipp", f"127.0.0.1:{settings.sandbox.sip_port}", "-sf", str(path), "-p", str(port),
         "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(port + 1000), "-nostdin", *extra],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _finished(proc: subprocess.Popen[bytes], timeout: float = 30) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-2500:]
    return text


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def _playing(scenario_text: str, pcap: Path, after: str) -> str:
    """The scenario, playing ``pcap`` right after its (last) ``after`` element."""
    at = scenario_text.rindex(after) + len(after)
    play = f'\n<pause milliseconds="300"/>\n<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'
    return scenario_text[:at] + play + scenario_text[at:]


def _caller(settings: Settings, cwd: Path, caller: CallPlan, tone: Path) -> subprocess.Popen[bytes]:
    """A caller for the peer queue who, after the menu's keys, plays tone A until the end."""
    text = scenario(caller, 120_000, cwd).replace("[auto_media_port]", "[media_port]")
    text = _playing(text, tone, "</action></nop>")  # after the last key press
    injection = cwd / "caller.csv"
    injection.write_text(f"SEQUENTIAL\n{caller.number};{caller.name};\n", encoding="ascii")
    return _sipp(settings, text, cwd, CALLER_PORT, "-s", "8800", "-inf", str(injection), "-m", "1")


def wait_for(check: Callable[[], Any], timeout: float = 20, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what} not reached in {timeout} s"
        time.sleep(0.2)
    return result


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def parties(service: Service, e2e_settings: Settings) -> Iterator[dict[str, Any]]:
    """The operator (peer queue, alone in it) and a senior, both with registered softphones."""
    service.start()
    made = {}
    accounts = ((OPERATOR, "operator", {"peer": 3}), (SUPERVISOR, "senior", {}), (PLAIN, "operator", {}))
    for who, role, skills in accounts:
        body = {"id": who, "display_name": who, "role": role, "skills": skills}
        created = httpx.post(f"{service.url}/api/operators", headers=service.admin, json=body, timeout=30)
        assert created.status_code == 201, created.text
        made[who] = created.json()
    for other in httpx.get(f"{service.url}/api/operators", headers=service.admin).json():
        if other["id"] != OPERATOR and other["state"]["queues"]:
            out = httpx.post(f"{service.url}/api/operators/{other['id']}/logout", headers=service.admin)
            assert out.status_code == 200, out.text
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for who, port in ((OPERATOR, OPERATOR_PORT), (SUPERVISOR, SUPERVISOR_PORT), (PLAIN, PLAIN_PORT)):
            password = made[who]["softphone"]["password"]
            _finished(
                _sipp(e2e_settings, softphone_register_scenario(who, password), tmp, port, "-aa", "-m", "1")
            )
        password = made[OPERATOR]["softphone"]["password"]
        login = softphone_feature_scenario(OPERATOR, password, "*41")
        _finished(_sipp(e2e_settings, login, tmp, OPERATOR_PORT + 3, "-aa", "-m", "1"))
    yield made
    out = httpx.post(f"{service.url}/api/operators/{OPERATOR}/logout", headers=service.admin)
    assert out.status_code == 200, out.text  # later tests' calls never ring this softphone, gone


def _invite(cwd: Path) -> str:
    [log] = list(cwd.glob("*_messages.log"))
    found = re.search(r"(INVITE sip:.*?)\r?\n\r?\n", log.read_text(errors="replace"), re.S)
    assert found, "no INVITE reached the supervisor's phone"
    return found.group(1)


def _no_caller_number(text: str, where: str) -> None:
    digits = [re.sub(r"\D", "", n) for n in NUMBERS]
    for line in text.splitlines():
        flat = re.sub(r"\D", "", line)
        assert CALLER_PREFIX not in flat, f"a caller's number in {where}: {line.split(':')[0]}"
        assert not any(d[-7:] in flat for d in digits), f"{where}: {line.split(':')[0]}"


def _measure(capture: Capture, start: float) -> dict[str, dict[str, float]]:
    """Each party's share of each tone over the window, and the level it heard."""
    end = start + WINDOW
    wait_for(lambda: time.monotonic() >= end + 0.3, WINDOW + 5, "the window's end")
    out = {}
    for party in TONES:
        heard = capture.heard(party, start, end)
        out[party] = {source: tone_share(heard, f) for source, f in TONES.items()}
        out[party]["level"], out[party]["packets"] = level(heard), float(len(heard))
    return out


@contextmanager
def a_call(
    settings: Settings, service: Service, token: str, tmp: Path, pcaps: dict[str, Path]
) -> Iterator[Capture]:
    """The caller (tone A) talking to the operator (tone B), what Asterisk sends every party
    captured; afterwards the operator leaves the call and the caller must have done well. The
    operator's softphone stays up for Asterisk's qualify and is stopped after the call (a
    softphone that answered a qualify meanwhile does not always stop by itself)."""
    answering = softphone_answer_scenario(forbidden=CALLER_PREFIX, stop_after_call=False)
    operator = _sipp(
        settings, _playing(answering, pcaps["operator"], '<recv request="ACK"/>'), tmp,
        OPERATOR_PORT, "-aa", "-m", "1000",
    )  # fmt: skip
    me, status = _bearer(token), f"{service.url}/api/operators/{OPERATOR}"
    rtp = range(settings.sandbox.rtp_start, settings.sandbox.rtp_end + 1)
    caller = None
    before = len(records(service, 0))
    try:
        wait_for(lambda: httpx.get(status, headers=me).json()["state"]["status"] == "available", 40)
        with Capture(rtp, MEDIA) as capture:
            caller = _caller(settings, tmp, plan("18", hangup_after_ms=90_000), pcaps["caller"])  # ru, peer
            wait_for(lambda: httpx.get(status, headers=me).json()["state"]["status"] == "on_call", 40)
            yield capture
        left = httpx.post(f"{status}/leave", headers=me, timeout=15)
        assert left.status_code == 200, left.text
        _finished(caller, 30)
        # The call's record is saved before the next test looks at records (wrap-up, the writer).
        assert len(records(service, before + 1, timeout=60)) > before, "the call left no record"
    finally:
        for proc in (operator, *([caller] if caller else [])):
            _kill(proc)


def _tones(tmp: Path) -> dict[str, Path]:
    pcaps = {party: tmp / f"tone-{party}.pcap" for party in TONES}
    for k, (party, freq) in enumerate(TONES.items()):
        pcaps[party].write_bytes(tone_pcap(freq, 60, ssrc=0x53555000 + k))
    return pcaps


def test_listen_whisper_barge_reach_whom_they_should(
    service: Service, e2e_settings: Settings, parties: dict[str, Any]
) -> None:
    operator_token = parties[OPERATOR]["api_token"]
    me, senior = _bearer(operator_token), _bearer(parties[SUPERVISOR]["api_token"])
    url = f"{service.url}/api/supervision"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        pcaps = _tones(tmp)
        sup_dir = tmp / "supervisor"
        sup_dir.mkdir()
        answering = softphone_answer_scenario(forbidden=CALLER_PREFIX, stop_after_call=True)
        supervisor = _sipp(
            e2e_settings, _playing(answering, pcaps["supervisor"], '<recv request="ACK"/>'), sup_dir,
            SUPERVISOR_PORT, "-aa", "-m", "1000", "-trace_msg",
        )  # fmt: skip
        try:
            with a_call(e2e_settings, service, operator_token, tmp, pcaps) as capture:
                listen = {"operator": OPERATOR, "mode": "listen"}
                refused = httpx.post(url, headers=me, json=listen)
                assert (refused.status_code, refused.json()["error_id"]) == (403, "forbidden"), refused.text
                admin = httpx.post(url, headers=service.admin, json=listen)
                assert (admin.status_code, admin.json()["error_id"]) == (409, "supervisor_needs_softphone")
                started = httpx.post(url, headers=senior, json=listen, timeout=15)
                assert started.status_code == 201, started.text
                session = started.json()
                assert set(session) >= {
                    "id",
                    "operator",
                    "supervisor",
                    "mode",
                    "state",
                    "started_at",
                    "ended_at",
                }
                assert (session["operator"], session["supervisor"]) == (OPERATOR, SUPERVISOR)
                one = f"{url}/{session['id']}"
                wait_for(lambda: httpx.get(one, headers=senior).json()["state"] == "active", 20, "answered")
                notice = wait_for(lambda: httpx.get(url, headers=me).json()["notice"], 5, "the notice")
                assert notice["mode"] == "listen"
                measured = {"listen": _measure(capture, time.monotonic() + SETTLE)}
                for mode in ("whisper", "barge"):
                    switched = httpx.patch(one, headers=senior, json={"mode": mode}, timeout=15)
                    assert switched.status_code == 200 and switched.json()["mode"] == mode, switched.text
                    measured[mode] = _measure(capture, time.monotonic() + SETTLE)
                assert httpx.get(url, headers=me).json()["notice"]["mode"] == "barge"
                ended = httpx.delete(one, headers=senior, timeout=15)
                assert ended.status_code == 200, ended.text
                _finished(supervisor)  # its BYE came: the session's call is over
        finally:
            _kill(supervisor)
        invite = _invite(sup_dir)
    _print(measured)
    for mode, heard in measured.items():
        assert heard["supervisor"]["caller"] > PRESENT and heard["supervisor"]["operator"] > PRESENT, mode
        assert heard["caller"]["operator"] > PRESENT and heard["operator"]["caller"] > PRESENT, mode
    assert measured["listen"]["caller"]["supervisor"] < ABSENT
    assert measured["listen"]["operator"]["supervisor"] < ABSENT
    assert measured["whisper"]["operator"]["supervisor"] > PRESENT
    assert measured["whisper"]["caller"]["supervisor"] < ABSENT
    assert measured["barge"]["operator"]["supervisor"] > PRESENT
    assert measured["barge"]["caller"]["supervisor"] > PRESENT
    # The supervisor's phone saw "Supervision", never the caller.
    _no_caller_number(invite, "the supervisor's INVITE")
    from_header = next(line for line in invite.splitlines() if line.lower().startswith("from:"))
    assert "Supervision" in from_header, from_header
    # The record: three modes, ended through the API; the operator sees it now, with no notice.
    record = httpx.get(f"{url}/{session['id']}", headers=service.admin).json()
    assert [m["mode"] for m in record["modes"]] == ["listen", "whisper", "barge"], record
    assert (record["state"], record["ended_how"], record["origin"]) == ("ended", "ended", "api")
    assert record["ended_at"] is not None and record["answered_at"] is not None
    mine = httpx.get(url, headers=me).json()
    assert mine["notice"] is None and session["id"] in [s["id"] for s in mine["sessions"]]
    _no_store_holds_a_caller_number(service, e2e_settings)


def _print(measured: dict[str, dict[str, dict[str, float]]]) -> None:
    print("\nshare of each tone in what each party heard (and RMS level, packets):")
    for mode, heard in measured.items():
        for party, shares in heard.items():
            print(
                f"  {mode:8} {party:10} A {shares['caller']:.3f}  B {shares['operator']:.3f}  "
                f"C {shares['supervisor']:.3f}  level {shares['level']:.0f}  packets {shares['packets']:.0f}"
            )


def _no_store_holds_a_caller_number(service: Service, settings: Settings) -> None:
    everything = httpx.get(f"{service.url}/api/supervision", headers=service.admin).text
    _no_caller_number(everything, "the supervision API")
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT * FROM supervision_sessions").fetchall()
        rows += db.execute("SELECT * FROM supervision_modes").fetchall()
    _no_caller_number("\n".join(map(str, rows)), "the supervision tables")


def _code_call(user: str, password: str, code: str, tone: Path | None = None, key: Path | None = None) -> str:
    """A softphone dialling a supervision code (``*45op-x``); with ``tone`` it plays it once
    answered, with ``key`` (a DTMF pcap) it presses that key KEY_AFTER_MS later."""
    text = softphone_feature_scenario(user, password, code[:3]).replace(f"sip:{code[:3]}@", f"sip:{code}@")
    after = "CSeq: 2 ACK\n]]></send>"
    if key is not None:
        play = f'<nop><action><exec play_pcap_audio="{key}"/></action></nop>'
        press = f'<pause milliseconds="{KEY_AFTER_MS}"/>{play}'
        at = text.rindex(after) + len(after)
        text = text[:at] + "\n" + press + text[at:]
    return text if tone is None else _playing(text, tone, after)


def test_a_seniors_feature_code_then_keys_on_the_phone_and_the_operators_page(
    service: Service, e2e_settings: Settings, parties: dict[str, Any]
) -> None:
    url = f"{service.url}/api/supervision"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        pcaps = _tones(tmp)
        key = tmp / "key-4.pcap"
        key.write_bytes(dtmf_pcap(0, "4"))
        with a_call(e2e_settings, service, parties[OPERATOR]["api_token"], tmp, pcaps) as capture:
            plain = _code_call(PLAIN, parties[PLAIN]["softphone"]["password"], f"*44{OPERATOR}")
            _finished(
                _sipp(e2e_settings, plain, tmp, PLAIN_PORT, "-aa", "-m", "1")
            )  # the error tone, the end
            none = httpx.get(url, headers=service.admin, params={"supervisor": PLAIN}).json()["sessions"]
            assert none == []  # the role operator's code started nothing
            password = parties[SUPERVISOR]["softphone"]["password"]
            code = _code_call(SUPERVISOR, password, f"*45{OPERATOR}", pcaps["supervisor"], key)
            phone = _sipp(e2e_settings, code, tmp, SUPERVISOR_PORT, "-aa", "-m", "1")
            try:
                active = {"supervisor": SUPERVISOR, "since": _since()}

                def answered() -> dict[str, Any] | None:
                    found = httpx.get(url, headers=service.admin, params=active).json()["sessions"]
                    return next((s for s in found if s["state"] == "active"), None)

                session = wait_for(answered, 20, "the code's session")
                whisper = _measure(capture, time.monotonic() + 1.0)
                page = _operators_page(service, OPERATOR, parties[OPERATOR]["password"])
                one = f"{url}/{session['id']}"
                keyed = wait_for(
                    lambda: httpx.get(one, headers=service.admin).json()["mode"] == "listen", 20, "key 4"
                )
                assert keyed
                ended = httpx.delete(one, headers=service.admin, timeout=15)
                assert ended.status_code == 200, ended.text
                _finished(phone)
            finally:
                _kill(phone)
    _print({"whisper (*45)": whisper})
    assert whisper["operator"]["supervisor"] > PRESENT and whisper["caller"]["supervisor"] < ABSENT
    assert whisper["supervisor"]["caller"] > PRESENT and whisper["supervisor"]["operator"] > PRESENT
    record = httpx.get(one, headers=service.admin).json()
    assert (record["origin"], record["ended_how"]) == ("code", "ended")
    assert [(m["mode"], m["via"]) for m in record["modes"]] == [("whisper", "code"), ("listen", "keys")]
    print(f"the operator's page said: {page!r}")
    assert page.startswith("A supervisor is listening"), page
    _no_store_holds_a_caller_number(service, e2e_settings)


def _since() -> str:
    return (datetime.now(UTC) - timedelta(seconds=60)).isoformat()


def _operators_page(service: Service, operator: str, password: str) -> str:
    """The notice, as the operator's page in headless Chromium shows it, the operator signed in."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="en-GB")
            page.goto(f"{service.url}/operator/")
            sign_in(page, operator, password)
            page.wait_for_selector("#supervised:not([hidden])", timeout=10_000)
            return str(page.locator("#supervised").text_content())
        finally:
            browser.close()
