"""The IVR walked over Twilio's webhooks (issue 21, ivr/twilio_voice.py), without HTTP: for every
path of the test menu and of each shipped line, open and closed, the TwiML walk asks what the
engine asks (the same timeouts, digits, prompts) and ends at the route ivr/service.py's simulate
gives: the hand-over's headers, or the referral's number shown the line's own number. The
records hear what the FastAGI IVR tells them; a call keeps its version; the caller's number
goes to the counter only."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from core.db import make_engine
from core.types import CallRef
from ivr.codec import from_yaml
from ivr.document import IvrDocument
from ivr.engine import Ask, Engine, Route, RouteKind
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from ivr.store import IvrStore
from ivr.twilio_voice import NODE, Handed, HandOver, Speech, TwilioVoice, route_headers
from telephony.twilio_wire import MediaTokens
from tests.conftest import ROOT, seed_document
from tests.ivr.test_lines import LINES, TIMES, Walked, document, every_path

BASE = "https://hotline.example.org"
LINE_NUMBER = "+48221234567"
SIP = "sip:twilio@pbx.example.org;transport=tls"
CALLER = "+79000001234"
MONDAY_10 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


@dataclass
class Observer:
    """What the record assembler would hear, and the callers counted."""

    heard: list[tuple[str, Any]] = field(default_factory=list)
    ended: list[CallRef] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)

    def ivr_started(
        self, call: CallRef, at: datetime, language: str, version: str, repeat: int | None = None
    ) -> None:
        self.heard.append(("started", (call, language, version, repeat)))

    def ivr_routed(self, call: CallRef, at: datetime, route: Route) -> None:
        self.heard.append(("routed", (call, route)))

    def ivr_hangup(self, call: CallRef, at: datetime, path: str) -> None:
        self.heard.append(("hangup", (call, path)))

    def ivr_failed(self, call: CallRef, at: datetime, path: str) -> None:
        self.heard.append(("failed", (call, path)))

    def call_ended(self, call: CallRef, at: datetime) -> None:
        self.ended.append(call)

    def count(self, number: str) -> int:
        self.counted.append(number)
        return len(self.counted)


def engine_of(doc: IvrDocument, version: int = 1) -> Engine:
    labels = {(p, lang): f"{lang}/{p}" for p, by_lang in doc.prompts.items() for lang in by_lang}
    return Engine(version, doc, labels)


def make_voice(
    engines: list[Engine], at: datetime = MONDAY_10, speech: str = "play"
) -> tuple[TwilioVoice, Observer]:
    observer = Observer()
    voice = TwilioVoice(
        lambda: engines[-1],
        observer,
        observer.call_ended,
        observer.count,
        HandOver(SIP, LINE_NUMBER),
        Speech(BASE, MediaTokens("token"), speech, {"ru": "ru-RU"}),
        clock=lambda: at,
    )
    return voice, observer


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> IvrService:
    """Only its simulate of a draft is used: nothing is stored, nothing spoken."""

    async def nothing(_: IvrDocument) -> None:
        return None

    tmp = tmp_path_factory.mktemp("twilio")
    return IvrService(IvrStore(make_engine("sqlite://")), PromptStudio(tmp), nothing, Path("/srv/sounds"))


def gathered(twiml: str) -> ET.Element:
    [gather] = ET.fromstring(twiml)
    assert gather.tag == "Gather", twiml
    return gather


def step_of(gather: ET.Element) -> tuple[str, str]:
    query = parse_qs(urlsplit(gather.attrib["action"]).query)
    return query["call"][0], query["step"][0]


def played(gather: ET.Element) -> list[str]:
    """The prompts of a Gather as '<language>/<prompt>' (the labels the engine was built with)."""
    out = []
    for sound in gather:
        parts = urlsplit(sound.text or "").path.split("/")  # /twilio/prompts/<v>/<prompt>/<lang>/<token>.wav
        out.append(f"{parts[5]}/{parts[4]}")
    return out


def wrong_key(ask: Ask) -> str:
    """A key the menu does not offer, as Twilio sends it: '#' never comes (it ends a Gather's
    input, as it ends GET DATA's on Asterisk: silence), so the paths' '#' becomes another."""
    return next(k for k in "*9876543210" if k not in ask.escape)


def walk_over_twilio(
    voice: TwilioVoice, keys: tuple[str, ...], engine: Engine, at: datetime
) -> tuple[str, list[str]]:
    """The webhooks' walk, checked step by step against the engine's own; and the keys sent."""
    reference = engine.walk(at)
    step: Ask | Route = reference.start()
    twiml = voice.voice("CA-1", CALLER)
    sent = []
    for key in keys:
        assert isinstance(step, Ask)
        key = wrong_key(step) if key == "#" else key
        sent.append(key)
        gather = gathered(twiml)
        assert gather.attrib["timeout"] == str(math.ceil(step.timeout_ms / 1000))
        assert gather.attrib["numDigits"] == str(step.max_digits)
        assert played(gather) == list(step.prompts)
        ref, at_step = step_of(gather)
        twiml = voice.gather("CA-1", ref, at_step, key)
        step = reference.answer(key)
    assert isinstance(step, Route)
    return twiml, sent


def check_route(twiml: str, route: Route, call: CallRef) -> None:
    root = ET.fromstring(twiml)
    dial = root.find("Dial")
    assert dial is not None, twiml
    announced = [s.text for s in root if s.tag == "Play"]
    assert len(announced) == len(route.announce)
    if route.kind is RouteKind.REFERRAL:
        assert (dial.text, dial.attrib["callerId"]) == (route.referral_number, LINE_NUMBER)
        return
    assert dial.attrib["callerId"] == "anonymous"
    [sip] = dial
    uri, _, query = (sip.text or "").partition("?")
    assert uri == SIP
    headers = {name: unquote(value) for name, value in (p.split("=", 1) for p in query.split("&"))}
    assert headers == route_headers(route, call)
    assert headers["X-Hotline-Queue"] == route.queue and headers["X-Hotline-Priority"] == str(route.priority)
    assert CALLER.lstrip("+") not in twiml


def paths(doc: IvrDocument, at: datetime) -> list[Walked]:
    found = list(every_path(doc, at))
    assert len(found) >= 5
    return found


@pytest.mark.parametrize("at", TIMES, ids=["open", "closed"])
@pytest.mark.parametrize("line", ["tests/menu.yaml", "hotline-ivr.yaml", *LINES])
def test_every_path_ends_at_the_route_the_simulation_gives(
    line: str, at: datetime, service: IvrService
) -> None:
    """Every shipped document (the demo, the five lines) and the rich test menu."""
    if line.endswith(".yaml"):
        doc = (
            seed_document()
            if line == "tests/menu.yaml"
            else from_yaml((ROOT / line).read_text(encoding="utf-8"))
        )
    else:
        doc = document(line)
    engine = engine_of(doc)
    for path in paths(doc, at):
        voice, observer = make_voice([engine], at)
        twiml, keys = walk_over_twilio(voice, path.keys, engine, at)
        simulated = service.simulate(keys, at, doc=doc).route
        assert simulated is not None
        (started, (call, language, version, repeat)), (routed, (same, route)) = observer.heard
        assert (started, routed, same, version, repeat) == ("started", "routed", call, "1", 1)
        assert language == doc.default_language
        assert call.node == NODE and CALLER not in call.call_id
        assert route == simulated, path.keys
        check_route(twiml, route, call)


def test_a_call_keeps_the_version_it_started_on() -> None:
    doc = seed_document()
    engines = [engine_of(doc, 1)]
    voice, _ = make_voice(engines)
    first = gathered(voice.voice("CA-1", CALLER))
    engines.append(engine_of(doc, 2))  # published meanwhile
    ref, step = step_of(first)
    second = gathered(voice.gather("CA-1", ref, step, "5"))  # not an option: the menu again
    assert all("/twilio/prompts/1/" in (s.text or "") for s in second)
    assert all("/twilio/prompts/2/" in (s.text or "") for s in gathered(voice.voice("CA-2", CALLER)))
    assert voice.engine_of(1) is engines[0] and voice.engine_of(2) is engines[1]
    voice.status("CA-1", "completed")
    assert voice.engine_of(1) is None and voice.engine_of(3) is None


def test_a_repeated_webhook_does_not_walk_twice_and_an_unknown_call_goes_to_a_person() -> None:
    voice, observer = make_voice([engine_of(seed_document())])
    first = voice.voice("CA-1", CALLER)
    assert voice.voice("CA-1", CALLER) == first  # Twilio tried again
    ref, step = step_of(gathered(first))
    after = voice.gather("CA-1", ref, step, "5")
    assert voice.gather("CA-1", ref, step, "5") == after  # the same step repeated: not a second key
    lost = [voice.gather("CA-1", "another", step, "5"), voice.gather("CA-9", ref, step, "1")]
    for twiml in lost:  # a person, with a fresh reference Asterisk knows the hand-over by
        [dial] = [e for e in ET.fromstring(twiml) if e.tag == "Dial"]
        head, fresh = (dial[0].text or "").rsplit("=", 1)
        assert head == f"{SIP}?X-Hotline-Fallback=1&X-Hotline-Queue=main&X-Hotline-Call"
        assert re.fullmatch("[0-9a-f]{32}", fresh) and fresh != ref and voice.handed(fresh) is None
    assert [kind for kind, _ in observer.heard] == ["started"]
    assert observer.counted == [CALLER]  # counted once, at the call's start


def test_status_callbacks_settle_the_call_where_it_ended() -> None:
    doc = seed_document()
    at, referral = next(
        (at, p) for at in TIMES for p in every_path(doc, at) if p.end.kind is RouteKind.REFERRAL
    )
    queued = next(p for p in every_path(doc, at) if p.end.kind is RouteKind.QUEUE)
    engine = engine_of(doc)
    voice, observer = make_voice([engine], at)
    twiml = voice.voice("CA-ivr", CALLER)
    ref, step = step_of(gathered(twiml))
    voice.gather("CA-ivr", ref, step, "5")
    voice.status("CA-ivr", "in-progress")  # not over yet
    assert voice.calls == 1
    voice.status("CA-ivr", "completed")
    assert observer.heard[-1] == ("hangup", (CallRef(NODE, ref), "5"))  # abandoned in the IVR, its path
    for sid, path in (("CA-ref", referral), ("CA-queue", queued)):
        voice.voice(sid, CALLER)
        twiml = voice.voice(sid, CALLER)
        for key in path.keys:
            twiml = voice.gather(sid, *step_of(gathered(twiml)), key)
    routed = [c for kind, (c, *_) in observer.heard if kind == "routed"]
    assert voice.handed(routed[0].call_id) is None  # a referral is not handed to Asterisk
    handed = voice.handed(routed[1].call_id)
    assert handed is not None and handed.ref == routed[1] and handed.route is not None
    assert handed.route.queue == queued.end.queue and handed.route.topic == queued.end.topic
    assert voice.handed(ref) is None and voice.handed("0" * 32) is None  # over, or never here
    voice.status("CA-ref", "completed")
    assert observer.ended == routed[:1]  # referred: over
    # Handed to Asterisk: the assembler ends it only if Asterisk never took its record over.
    voice.status("CA-queue", "completed")
    assert observer.ended == routed and voice.calls == 0
    assert voice.handed(routed[1].call_id) is None  # forgotten with its CallSid
    voice.status("CA-queue", "completed")  # again: nothing left to do
    assert observer.ended == routed


def test_hash_ends_the_input_as_on_asterisk() -> None:
    """'#' is a Gather's finishOnKey and GET DATA's terminator: posted alone, it is silence."""
    doc = seed_document()
    heard = []
    for key in ("#", ""):
        voice, _ = make_voice([engine_of(doc)])
        first = gathered(voice.voice("CA-1", CALLER))
        heard.append(played(gathered(voice.gather("CA-1", *step_of(first), key))))
    assert heard[0] == heard[1]


def test_prompts_may_be_said_in_twilios_voices() -> None:
    doc = seed_document()
    voice, _ = make_voice([engine_of(doc)], speech="say")
    gather = gathered(voice.voice("CA-1", CALLER))
    entry = doc.menu.nodes[doc.menu.entry]
    said, played = gather
    assert (said.tag, said.text) == ("Say", doc.prompts[entry.prompt]["ru"].text)
    assert said.attrib["language"] == "ru-RU"
    assert played.tag == "Play"  # English is not in the say_languages of this test: our audio


def test_a_walk_that_fails_hands_the_caller_to_the_fallback_queue() -> None:
    """As the dialplan takes a caller whose FastAGI IVR failed; the record says so."""

    def broken(route: Route, doc: IvrDocument) -> Route:
        raise RuntimeError("a switchboard that fails")

    observer = Observer()
    voice = TwilioVoice(
        lambda: engine_of(seed_document()),
        observer,
        observer.call_ended,
        observer.count,
        HandOver(SIP, LINE_NUMBER),
        Speech(BASE, MediaTokens("token")),
        clock=lambda: MONDAY_10,
        reroute=broken,
    )
    twiml = voice.voice("CA-1", CALLER)
    for _ in range(20):  # silence until the walk ends at its route, which the reroute breaks
        if ET.fromstring(twiml)[0].tag != "Gather":
            break
        twiml = voice.gather("CA-1", *step_of(gathered(twiml)), "")
    [dial] = [e for e in ET.fromstring(twiml) if e.tag == "Dial"]
    call = observer.heard[0][1][0]
    assert dial[0].text == f"{SIP}?X-Hotline-Fallback=1&X-Hotline-Queue=main&X-Hotline-Call={call.call_id}"
    assert observer.heard[-1][0] == "failed"
    assert voice.gather("CA-1", call.call_id, "0", "1") == twiml  # stays handed over
    assert voice.handed(call.call_id) == Handed(call, None)  # to the fallback queue
    voice.status("CA-1", "completed")
    assert observer.heard[-1][0] == "failed" and observer.ended == [call] and voice.calls == 0
