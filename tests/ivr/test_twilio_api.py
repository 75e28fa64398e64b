"""Callers on a Twilio number (issue 21) in the app the composition root builds: webhooks signed
as Twilio signs them (the twilio package's own ``compute_signature``) walk the shipped demo menu
to the hand-over of its route, the prompts' audio is served to Twilio only under its token,
status callbacks settle the records, unsigned or wrongly signed requests are 403 and counted on
/metrics, and the synthetic numbers sent in From, Caller, CallerName and the status callbacks
are found nowhere: not in the log, the records, /metrics, the answers or the var directory."""

from __future__ import annotations

import dataclasses
import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from twilio.request_validator import RequestValidator

from core.db import migrate
from core.types import CallRef
from hotline.app import Hotline
from hotline.http import install_problems
from ivr.engine import RouteKind
from ivr.twilio_api import twilio_router
from ivr.twilio_voice import NODE
from metrics.records.record import CallRecord, Outcome
from tests.conftest import make_settings
from tests.hotline.test_problems import _publisher
from tests.ivr.test_lines import every_path
from tests.problems import problem_of

TOKEN = "f" * 32
BASE = "https://hotline.example.org"
SIP = "sip:twilio@pbx.example.org;transport=tls"
LINE_NUMBER = "+48221234567"
NUMBERS = ("+79000001234", "+79000005678", "+79000009012")  # synthetic callers (+7900000xxxx)
ACCOUNT = "AC" + "0" * 32


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sounds")  # the demo's prompts are spoken once for the module


@dataclass
class Line:
    client: httpx.AsyncClient
    hotline: Hotline
    records: list[CallRecord]
    answers: list[str] = field(default_factory=list)

    async def post(
        self, url: str, form: dict[str, str], signature: str | None = "sign", **headers: str
    ) -> httpx.Response:
        """``url`` as Twilio calls it (the public URL); signed unless told otherwise."""
        if signature == "sign":
            signature = RequestValidator(TOKEN).compute_signature(url, form)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        parts = urlsplit(url)
        response = await self.client.post(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
        self.answers.append(response.text)
        return response

    async def get(self, url: str) -> httpx.Response:
        response = await self.client.get(urlsplit(url).path)
        self.answers.append(repr(response.headers))
        return response


def call_form(sid: str, number: str, **more: str) -> dict[str, str]:
    """As Twilio's voice webhook posts it (its documented parameters)."""
    return {
        "CallSid": sid,
        "AccountSid": ACCOUNT,
        "From": number,
        "To": LINE_NUMBER,
        "Caller": number,
        "Called": LINE_NUMBER,
        "CallerName": f"Caller {number}",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "FromCountry": "RU",
        **more,
    }


@pytest.fixture
async def line(tmp_path: Path, sounds: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Line]:
    token = tmp_path / "twilio-auth-token"
    token.write_text(TOKEN + "\n")
    (tmp_path / "twilio-sip-password").write_text("sip password\n")
    node = {"name": "local", "ami_secret": "s" * 24, "config_dir": str(tmp_path / "etc"), "layout": "sandbox"}
    twilio = {
        "public_url": BASE + "/",
        "auth_token_file": str(token),
        "sip_uri": SIP,
        "line_number": LINE_NUMBER,
        "sip_username": "twilio",
        "sip_password_file": str(tmp_path / "twilio-sip-password"),
    }
    settings = make_settings(tmp_path, prompts_dir=str(sounds), asterisk=[node], twilio=twilio)
    hotline = Hotline(settings)
    migrate(hotline.engine)
    await _publisher(hotline).start(settings.ivr_seed)
    await hotline.ivr_service.start(settings.ivr_seed)
    records: list[CallRecord] = []
    submit = hotline.writer.submit
    monkeypatch.setattr(hotline.writer, "submit", lambda r: (records.append(r), submit(r))[1])
    transport = httpx.ASGITransport(app=hotline.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", timeout=60) as client:
        yield Line(client, hotline, records)
    hotline.engine.dispose()


def root(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)


async def walk(line: Line, sid: str, number: str, keys: tuple[str, ...]) -> ET.Element:
    """A call from ``number`` pressing ``keys``, one Gather at a time; the last TwiML."""
    twiml = root(await line.post(f"{BASE}/twilio/voice", call_form(sid, number)))
    for key in keys:
        [gather] = twiml
        assert gather.tag == "Gather"
        twiml = root(await line.post(gather.attrib["action"], call_form(sid, number, Digits=key)))
    return twiml


def headers_of(dial: ET.Element) -> dict[str, str]:
    uri, _, query = (dial[0].text or "").partition("?")
    assert uri == SIP
    return {k: unquote(v) for k, v in (p.split("=", 1) for p in query.split("&"))}


async def test_a_call_walks_the_menu_to_its_queue_with_the_route_and_its_record(line: Line) -> None:
    service = line.hotline.ivr_service
    doc, at = service.engine().document, service.now()
    path = next(
        p for p in every_path(doc, at) if p.end.kind is RouteKind.QUEUE and p.end.topic and "#" not in p.keys
    )
    first = await walk(line, "CA-queue", NUMBERS[0], ())
    for play in first[0]:  # our own audio, under its token only
        audio = await line.get(play.text or "")
        assert (audio.status_code, audio.content[:4], audio.headers["content-type"]) == (
            200,
            b"RIFF",
            "audio/wav",
        )
        *head, language, token = (play.text or "").split("/")
        for forged_url in ("/".join([*head, "xx", token]), "/".join([*head, language, "A" * 24 + ".wav"])):
            forged = await line.get(forged_url)
            assert (forged.status_code, problem_of(forged)["error_id"]) == (404, "ivr_not_found")
    await line.post(f"{BASE}/twilio/voice", call_form("CA-queue", NUMBERS[0]))  # retried: same call
    twiml = await walk(line, "CA-queue-2", NUMBERS[0], path.keys)
    route = service.simulate(list(path.keys), at).route
    assert route is not None
    [dial] = [e for e in twiml if e.tag == "Dial"]
    headers = headers_of(dial)
    assert dial.attrib["callerId"] == "anonymous"
    assert (headers["X-Hotline-Queue"], headers["X-Hotline-Topic"]) == (route.queue, route.topic)
    assert headers["X-Hotline-Priority"] == str(route.priority)
    record = line.hotline.assembler.open_record(CallRef(NODE, headers["X-Hotline-Call"]))
    assert record is not None
    assert (record.queue, record.topic, record.path) == (route.queue, route.topic, route.path)
    assert (record.menu_version, record.repeat_count) == (
        str(service.engine().version),
        2,
    )  # the retry counts not
    assert (
        await line.post(f"{BASE}/twilio/status", call_form("CA-queue-2", NUMBERS[0], CallStatus="completed"))
    ).status_code == 204
    # Asterisk never took this one over (tests/e2e/test_twilio_hand_over.py plays that): gone
    # before a queue, with its route.
    [ended] = [r for r in line.records if r.call_id == headers["X-Hotline-Call"]]
    assert (ended.node, ended.outcome, ended.topic, ended.queue) == (
        NODE,
        "abandoned_in_queue",
        route.topic,
        route.queue,
    )


async def test_a_caller_gone_in_the_ivr_is_abandoned_there(line: Line) -> None:
    await walk(line, "CA-gone", NUMBERS[1], ("",))
    status = call_form(
        "CA-gone",
        NUMBERS[1],
        CallStatus="completed",
        CallDuration="12",
        Timestamp="Mon, 07 Dec 2026 23:00:00 +0000",
    )
    assert (await line.post(f"{BASE}/twilio/status", status)).status_code == 204
    [record] = line.records
    assert (record.node, record.outcome, record.path, record.complete) == (
        NODE,
        Outcome.ABANDONED_IN_IVR,
        "",
        True,
    )
    assert line.hotline.twilio is not None and line.hotline.twilio.voice.calls == 0


async def test_unsigned_or_wrongly_signed_requests_are_refused_and_counted(line: Line) -> None:
    form = call_form("CA-bad", NUMBERS[2])
    other = RequestValidator("another token").compute_signature(f"{BASE}/twilio/voice", form)
    elsewhere = RequestValidator(TOKEN).compute_signature("https://attacker.example/twilio/voice", form)
    tries: list[tuple[str, dict[str, str], str | None]] = [
        (f"{BASE}/twilio/voice", form, None),
        (f"{BASE}/twilio/voice", form, ""),
        (f"{BASE}/twilio/voice", form, other),
        (f"{BASE}/twilio/voice", form, elsewhere),
        (
            f"{BASE}/twilio/gather?call=x&step=0",
            form,
            RequestValidator(TOKEN).compute_signature(f"{BASE}/twilio/gather?call=x&step=1", form),
        ),
        (
            f"{BASE}/twilio/status",
            {**form, "CallStatus": "completed"},
            RequestValidator(TOKEN).compute_signature(f"{BASE}/twilio/status", form),
        ),
    ]
    for url, sent, signature in tries:
        response = await line.post(url, sent, signature)
        assert (response.status_code, problem_of(response)["error_id"]) == (
            403,
            "twilio_signature_refused",
        ), url
    not_a_form = await line.client.post(
        "/twilio/voice", content=b"\xff\xfe", headers={"X-Twilio-Signature": other}
    )
    assert not_a_form.status_code == 403
    metrics = (await line.client.get("/metrics/")).text
    assert 'hotline_refused_connections_total{port="twilio",reason="signature"} 7.0' in metrics
    assert line.hotline.twilio is not None and line.hotline.twilio.voice.calls == 0
    assert line.records == [] and line.hotline.assembler.open_calls == 0


async def test_without_twilio_settings_the_webhooks_are_not_there() -> None:
    app = FastAPI()
    install_problems(app)
    app.include_router(twilio_router(None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hotline") as client:
        for method, url in (
            ("POST", "/twilio/voice"),
            ("POST", "/twilio/status"),
            ("GET", "/twilio/prompts/1/p/ru/x.wav"),
        ):
            response = await client.request(method, url)
            assert (response.status_code, problem_of(response)["error_id"]) == (404, "twilio_not_configured")


def _forms(number: str) -> list[str]:
    digits = number.lstrip("+")
    return [number, digits, digits[1:], quote_plus(number)]


def quote_plus(number: str) -> str:
    return urlencode({"n": number})[2:]  # '+' as a form sends it: %2B


async def test_the_callers_numbers_are_found_nowhere(
    line: Line, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    service = line.hotline.ivr_service
    paths = list(every_path(service.engine().document, service.now()))
    queued = next(p for p in paths if p.end.kind is RouteKind.QUEUE and "#" not in p.keys)
    referred = next((p for p in paths if p.end.kind is RouteKind.REFERRAL and "#" not in p.keys), None)
    await walk(line, "CA-p1", NUMBERS[0], queued.keys)
    await walk(line, "CA-p2", NUMBERS[1], ("",))
    if referred is not None:
        await walk(line, "CA-p3", NUMBERS[2], referred.keys)
    for n, sid in enumerate(("CA-p1", "CA-p2", "CA-p3")):
        for status in ("ringing", "completed"):
            form = call_form(sid, NUMBERS[n], CallStatus=status, CallerName=f"Name {NUMBERS[(n + 1) % 3]}")
            assert (await line.post(f"{BASE}/twilio/status", form)).status_code == 204
    await line.post(
        f"{BASE}/twilio/voice", call_form("CA-bad", NUMBERS[2]), "forged"
    )  # refused: not logged either
    line.hotline.assembler.flush_all()
    assert len(line.records) >= 2
    places: dict[str, str] = {
        "log": caplog.text + "".join(repr(r.args) for r in caplog.records),
        "records": repr([dataclasses.asdict(r) for r in line.records]),
        "metrics": (await line.client.get("/metrics/")).text,
        "answers": "".join(line.answers),
        "webhooks' memory": repr(vars(line.hotline.twilio.voice)) if line.hotline.twilio else "",
    }
    var_dir = line.hotline.settings.var_dir
    places |= {
        str(p): p.read_bytes().decode("utf-8", "replace")
        for p in var_dir.rglob("*")
        if p.is_file() and p.suffix != ".sqlite3"
    }
    with line.hotline.engine.connect() as db:
        places["database"] = (
            repr(db.exec_driver_sql("SELECT * FROM call_records").fetchall()) if _has_records(db) else ""
        )
    for where, text in places.items():
        for number in NUMBERS:
            for form in _forms(number):
                assert form not in text, f"{form} found in {where}"


def _has_records(db: Any) -> bool:
    return bool(db.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = 'call_records'").fetchall())
