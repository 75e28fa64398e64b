"""Callers on a Twilio number, handed over to the operators' Asterisk (issue 21): the webhooks are
driven as Twilio drives them (forms signed with the twilio package's own algorithm, synthetic
numbers in From, Caller and CallerName), and the INVITE Twilio's ``<Dial><Sip>`` would send is
played by sipp with the route's X- headers, answering the digest challenge of Asterisk's
endpoint for Twilio. Each call must reach its queue with its priority (the channel's QUEUE_PRIO
in Asterisk itself) and overflow, be answered, and leave one record: the webhook side's walk and
the Asterisk side's queue, under the Asterisk call. The numbers join the final privacy scan."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from twilio.request_validator import RequestValidator

from core.settings import Settings
from sandbox.asterisk import Sandbox
from sandbox.privacy_check import PrivacyCheck
from sandbox.twilio_leg import hand_over_scenario
from tests.e2e.calls import NAME, NUMBERS, records
from tests.e2e.conftest import (
    PORT_OFFSET,
    TWILIO_SIP_PASSWORD,
    TWILIO_SIP_USER,
    TWILIO_TLS_PORT,
    TWILIO_TOKEN,
    Service,
)

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]
SIPP_PORT = 43100 + PORT_OFFSET  # and +2.. for its media; apart from every other test's


def number() -> str:
    made = f"+7900000{len(NUMBERS) + 1:04d}"
    NUMBERS.append(made)  # the final privacy scan looks for it everywhere
    return made


def signed(service: Service, path: str, form: dict[str, str]) -> httpx.Response:
    url = f"{service.url}{path}"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    return httpx.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)


def call_form(sid: str, caller: str, **more: str) -> dict[str, str]:
    """A voice webhook's form as Twilio posts it (the caller's number in three fields)."""
    return {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "From": caller,
        "Caller": caller,
        "CallerName": f"{NAME} {len(NUMBERS):03d}",
        "To": "+48221234567",
        **more,
    }


def walk(service: Service, sid: str, caller: str, keys: str) -> ET.Element:
    """The call's first webhook, then one key per menu: the TwiML that ends the walk."""
    answer = signed(service, "/twilio/voice", call_form(sid, caller))
    for key in keys:
        assert answer.status_code == 200, answer.text
        [gather] = [e for e in ET.fromstring(answer.text) if e.tag == "Gather"]
        action = urlsplit(gather.attrib["action"])
        path = f"{action.path}?{action.query}"
        answer = signed(service, path, call_form(sid, caller, Digits=key))
    assert answer.status_code == 200, answer.text
    return ET.fromstring(answer.text)


def hand_over(twiml: ET.Element) -> dict[str, str]:
    """The ``<Dial callerId="anonymous"><Sip>`` the walk ended with: its headers."""
    [dial] = [e for e in twiml if e.tag == "Dial"]
    assert dial.attrib["callerId"] == "anonymous"
    uri = urlsplit(dial[0].text or "")
    return dict(parse_qsl(uri.query))


def sipp(settings: Settings, scenario: str, tmp: Path, port: int) -> subprocess.Popen[bytes]:
    path = tmp / f"twilio-{port}.xml"
    path.write_text(scenario, encoding="ascii")
    return subprocess.Popen(
        ["sipp", f"127.0.0.1:{settings.sandbox.sip_port}", "-sf", str(path), "-p", str(port),
         "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(port + 2), "-m", "1", "-nostdin", "-aa"],
        cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def finished(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    assert proc.returncode == 0, out.decode(errors="replace")[-2500:]


def queue_priority(sandbox: Sandbox, timeout: float = 15) -> str:
    """QUEUE_PRIO of the call on Asterisk's endpoint for Twilio, read from Asterisk while it is
    in a queue (answered or waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        channels = [line.split("!")[0] for line in sandbox.cli("core show channels concise").splitlines()]
        for channel in (c for c in channels if c.startswith("PJSIP/hotline-twilio-")):
            shown = sandbox.cli(f"core show channel {channel}")
            if "Application: Queue" in shown or "Queue(" in shown:
                found = re.search(r"^\s*QUEUE_PRIO=(\d+)\s*$", shown, re.MULTILINE)
                if found:
                    return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no call from Twilio reached a queue")


def new_records(service: Service, before: int, count: int) -> list[dict[str, Any]]:
    body = records(service, before + count, timeout=40)
    return sorted(body, key=lambda r: r["started_at"])[-count:] if len(body) >= before + count else body


def test_callers_handed_over_from_twilio_reach_their_queue_with_priority_and_overflow_as_one_record(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, tmp_path: Path
) -> None:
    service.start()
    before = len(records(service, 0))
    # Russian, crisis (priority 10); Russian, the slow topic (an unstaffed queue that overflows
    # to main after 5 s): the routes' headers as Twilio will send them.
    crisis_caller, slow_caller = number(), number()
    crisis = hand_over(walk(service, "CA" + "1" * 32, crisis_caller, "11"))
    slow = hand_over(walk(service, "CA" + "2" * 32, slow_caller, "16"))
    assert (crisis["X-Hotline-Queue"], crisis["X-Hotline-Priority"], crisis["X-Hotline-Topic"]) == (
        "crisis",
        "10",
        "crisis",
    )
    assert (slow["X-Hotline-Overflow-Queue"], slow["X-Hotline-Overflow-After"]) == ("main", "5")
    for headers in (crisis, slow):
        assert not any(
            caller in value for value in headers.values() for caller in (crisis_caller, slow_caller)
        )

    # Without the digest credentials Asterisk takes nothing, the reference notwithstanding.
    refused = sipp(e2e_settings, hand_over_scenario(crisis, TWILIO_SIP_USER, ""), tmp_path, SIPP_PORT + 20)
    finished(refused)

    leg = sipp(
        e2e_settings, hand_over_scenario(crisis, TWILIO_SIP_USER, TWILIO_SIP_PASSWORD), tmp_path, SIPP_PORT
    )
    assert queue_priority(sandbox) == "10"  # Asterisk's own: the caller goes before lower topics
    finished(leg)
    finished(
        sipp(
            e2e_settings,
            hand_over_scenario(slow, TWILIO_SIP_USER, TWILIO_SIP_PASSWORD),
            tmp_path,
            SIPP_PORT + 10,
        )
    )
    for sid, caller in (("CA" + "1" * 32, crisis_caller), ("CA" + "2" * 32, slow_caller)):
        status = call_form(sid, caller, CallStatus="completed", CallDuration="9")
        assert signed(service, "/twilio/status", status).status_code == 204  # after Asterisk's end

    got = new_records(service, before, 2)
    assert len(got) == 2, got
    first, second = got
    node = e2e_settings.asterisk[0].name
    assert (first["node"], first["topic"], first["queue"], first["priority"]) == (
        node,
        "crisis",
        "crisis",
        10,
    )
    assert (first["outcome"], first["path"], first["language"], first["repeat_count"]) == (
        "answered",
        "1,1",
        "ru",
        1,
    )
    assert first["menu_version"] and first["fallback"] is False
    assert (second["node"], second["topic"], second["queue"], second["overflowed"]) == (
        node,
        "slow",
        "main",
        True,
    )
    assert second["outcome"] == "answered" and second["wait_seconds"] >= 5
    assert len(records(service, 0)) == before + 2  # one record per call: nothing under node "twilio"
    assert not [r for r in records(service, 0) if r["node"] == "twilio"]
    # Neither number nor name went anywhere: database, logs, metrics, API, Asterisk's files (the
    # session's last scan looks again, for every test's numbers).
    report = PrivacyCheck(e2e_settings).scan([crisis_caller, slow_caller], [NAME])
    assert report.findings == [], "\n".join(report.lines())


def test_a_hand_over_the_service_does_not_know_is_routed_by_its_headers_or_to_the_fallback_queue(
    service: Service, e2e_settings: Settings, tmp_path: Path
) -> None:
    """A service restarted between Twilio's webhook and its INVITE: the headers' queue, if the
    live menu has it, else the fallback queue: a person either way."""
    service.start()
    before = len(records(service, 0))
    unknown = {"X-Hotline-Call": "ab" * 16, "X-Hotline-Queue": "loss", "X-Hotline-Priority": "99"}
    gone = {"X-Hotline-Call": "cd" * 16, "X-Hotline-Queue": "no-such-queue", "X-Hotline-Priority": "3"}
    for port, headers in ((SIPP_PORT + 30, unknown), (SIPP_PORT + 40, gone)):
        finished(
            sipp(
                e2e_settings,
                hand_over_scenario(headers, TWILIO_SIP_USER, TWILIO_SIP_PASSWORD),
                tmp_path,
                port,
            )
        )
    got = new_records(service, before, 2)
    assert [(r["queue"], r["outcome"], r["fallback"]) for r in got] == [
        ("loss", "answered", True),  # no walk known: the record says the IVR's route was not ours
        ("main", "answered", True),
    ]


def test_twilio_reaches_asterisk_over_tls_with_the_rendered_certificate(
    e2e_settings: Settings, sandbox: Sandbox
) -> None:
    """The transport ``twilio.tls_port`` renders is up in Asterisk and shows our certificate."""
    shown = sandbox.cli("pjsip show transport transport-tls")
    assert re.search(r"protocol\s*:\s*tls", shown) and f":{TWILIO_TLS_PORT}" in shown, shown
    twilio = e2e_settings.twilio
    assert twilio is not None and twilio.tls_cert_file is not None
    context = ssl.create_default_context(cafile=str(twilio.tls_cert_file))
    context.check_hostname = False  # a self-signed certificate for 127.0.0.1
    raw = socket.create_connection(("127.0.0.1", TWILIO_TLS_PORT), timeout=10)
    with context.wrap_socket(raw) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        served = tls.getpeercert(binary_form=True)
    expected = ssl.PEM_cert_to_DER_cert(twilio.tls_cert_file.read_text(encoding="utf-8"))
    assert served == expected
