"""Drive a caller's :class:`ivr.engine.Walk` over Twilio's voice webhooks (issue 21), as
ivr/handler.py does over FastAGI: each :class:`Ask` becomes a ``<Gather>`` of its prompts with
its timeout, the key each webhook brings is fed back to the walk (tries, silence and wrong keys
are the engine's), and the :class:`Route` becomes the hand-over to the operators' Asterisk
(``<Dial><Sip>`` with the route in X- headers, from ``anonymous``) or the referral (``<Dial>`` of
the partner line's number, shown the line's own number).

Between webhooks a call's walk is kept here, in memory, under our own call reference (a random
one: node ``twilio``); Twilio's CallSid leads to it and is forgotten when the call ends (its
status callback), or after :data:`STALE_SECONDS`. A call keeps the engine, so the version, it
started on. The caller's number goes to ``count_caller`` (the repeat-caller counter) and nowhere
else: it is not kept, logged nor reported."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.errors import DomainError
from core.types import CallRef
from ivr.engine import Ask, Engine, Route, RouteKind, Walk
from ivr.handler import Reroute
from ivr.observer import IvrObserver
from telephony import twilio_wire as wire
from telephony import variables as v

log = logging.getLogger("hotline.twilio")
NODE = "twilio"  # CallRef.node of the calls that came in on a Twilio number
STALE_SECONDS = 4 * 3600.0  # a call without its status callback is forgotten after this
MAX_CALLS = 10_000
KEYS = frozenset("0123456789*#")
# The route as the hand-over's SIP headers (asterisk-config reads them; README "Callers on a
# Twilio number"): no caller number among them.
HEADER_CALL = v.TWILIO_CALL_HEADER  # Asterisk knows a hand-over by it (pjsip.conf identify)
HEADER_QUEUE = "X-Hotline-Queue"
HEADER_PRIORITY = "X-Hotline-Priority"
HEADER_TOPIC = "X-Hotline-Topic"
HEADER_OVERFLOW_QUEUE = "X-Hotline-Overflow-Queue"
HEADER_OVERFLOW_AFTER = "X-Hotline-Overflow-After"
HEADER_OVERFLOW_WAITING = "X-Hotline-Overflow-Waiting"
HEADER_SURVEY = "X-Hotline-Survey"
HEADER_LANGUAGE = "X-Hotline-Language"
HEADER_FALLBACK = "X-Hotline-Fallback"

CallEnded = Callable[[CallRef, datetime], None]  # the caller's call ended: as a hangup would
CountCaller = Callable[[str], int | None]  # the caller's number -> calls from it in the window


def _now() -> datetime:
    return datetime.now(UTC)


def _as_walked(route: Route, _: object) -> Route:
    return route


@dataclass(frozen=True)
class HandOver:
    """Where the walk's routes lead: the hotline's SIP entry, and the line's own number."""

    sip_uri: str
    line_number: str
    sip_username: str | None = None
    sip_password: str | None = None


@dataclass(frozen=True)
class Speech:
    """How prompts are heard: ``play`` our audio from ``base_url``, or ``say`` their text (in
    the languages ``say_languages`` names; a recording, or another language, is played)."""

    base_url: str
    tokens: wire.MediaTokens
    speech: str = "play"
    say_languages: Mapping[str, str] = field(default_factory=dict)
    say_voices: Mapping[str, str] = field(default_factory=dict)

    def audio_url(self, version: int, prompt: str, language: str) -> str:
        token = self.tokens.token(str(version), prompt, language)
        return f"{self.base_url}/twilio/prompts/{version}/{prompt}/{language}/{token}.wav"


@dataclass(frozen=True)
class Handed:
    """A call handed over to Asterisk: its reference, and its route (None: the walk failed, the
    fallback queue takes it)."""

    ref: CallRef
    route: Route | None


@dataclass
class _Call:
    ref: CallRef
    walk: Walk
    step: Ask | None  # None once routed
    route: Route | None = None
    seen: float = 0.0
    fallback: bool = False  # the walk failed: handed to the fallback queue


def route_headers(route: Route, call: CallRef) -> dict[str, str]:
    """The queue route as the hand-over's headers (empty values left out)."""
    waiting = route.overflow_waiting_over
    headers = {
        HEADER_CALL: call.call_id,
        HEADER_QUEUE: route.queue or "",
        HEADER_PRIORITY: str(route.priority),
        HEADER_TOPIC: route.topic or "",
        HEADER_OVERFLOW_QUEUE: route.overflow_queue or "",
        HEADER_OVERFLOW_AFTER: str(route.overflow_after_seconds or ""),
        HEADER_OVERFLOW_WAITING: "" if waiting is None else str(waiting),
        HEADER_SURVEY: "1" if route.survey else "",
        HEADER_LANGUAGE: route.language,
    }
    return {name: value for name, value in headers.items() if value}


class TwilioVoice:
    """The three webhooks' work, without HTTP: each returns the TwiML to answer with."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        observer: IvrObserver,
        ended: CallEnded,
        count_caller: CountCaller,
        hand_over: HandOver,
        speech: Speech,
        clock: Callable[[], datetime] = _now,
        reroute: Reroute = _as_walked,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._observer = observer
        self._ended = ended
        self._count = count_caller
        self._hand_over = hand_over
        self._speech = speech
        self._clock = clock
        self._reroute = reroute
        self._monotonic = monotonic
        self._calls: OrderedDict[str, _Call] = OrderedDict()  # CallSid -> the call's walk
        self._sids: dict[str, str] = {}  # our call reference -> CallSid
        self._said: dict[int, dict[str, tuple[str, str]]] = {}  # version -> path -> (prompt, language)

    @property
    def calls(self) -> int:
        return len(self._calls)

    @property
    def speech(self) -> Speech:
        return self._speech

    # -- the webhooks ---------------------------------------------------------------------------
    def voice(self, sid: str, caller: str) -> str:
        """A new call: its walk starts on the live version. ``caller``: the number, counted only."""
        known = self._calls.get(sid)
        if known is not None:  # the webhook tried again: the same answer
            return self._answer(known)
        self._forget_stale()
        try:
            engine = self._engine()  # one version per call: it finishes on the one it started on
        except DomainError:  # no IVR version live (yet): a person all the same
            return self._lost()
        started = self._clock()
        walk = engine.walk(started)
        call = _Call(CallRef(NODE, uuid.uuid4().hex), walk, None, seen=self._monotonic())
        self._observer.ivr_started(call.ref, started, walk.language, str(engine.version), self._count(caller))
        self._calls[sid] = call
        self._sids[call.ref.call_id] = sid
        try:
            call.step = walk.start()
        except Exception as exc:
            self._failed(call, exc)
        while len(self._calls) > MAX_CALLS:
            self._sids.pop(self._calls.popitem(last=False)[1].ref.call_id, None)
        return self._answer(call)

    def gather(self, sid: str, ref: str, step: str, digits: str) -> str:
        """The key pressed (``''``: none) at the walk's step ``step`` (how many answers it had)."""
        call = self._calls.get(sid)
        if call is None or call.ref.call_id != ref:
            return self._lost()
        call.seen = self._monotonic()
        if call.step is None or step != str(call.walk.answers):
            return self._answer(call)  # a request repeated, or late: the step as it stands
        pressed = "".join(k for k in digits if k in KEYS)[: call.step.max_digits]
        try:
            walked = call.walk.answer("" if pressed == "#" else pressed)  # '#' ends the input
            route = self._reroute(walked, call.walk.engine.document) if isinstance(walked, Route) else None
        except Exception as exc:
            self._failed(call, exc)
            return self._answer(call)
        if isinstance(walked, Ask):
            call.step = walked
        else:
            call.step, call.route = None, route
            assert route is not None
            self._observer.ivr_routed(call.ref, self._clock(), route)
        return self._answer(call)

    def _failed(self, call: _Call, exc: Exception) -> None:
        """The walk failed: the caller goes to the fallback queue, as the dialplan sends a
        caller whose FastAGI IVR failed; the record says so."""
        log.error("a Twilio caller's IVR walk failed (%s): handed to the fallback queue", type(exc).__name__)
        call.step, call.route, call.fallback = None, None, True
        self._observer.ivr_failed(call.ref, self._clock(), call.walk.path)

    def status(self, sid: str, status: str) -> None:
        """A status callback: once the call is over, its CallSid is forgotten; a caller gone in
        the IVR is abandoned there. Any other call ends here unless Asterisk took it over (the
        hand-over's AGI re-keyed its record to the Asterisk call, :meth:`handed`): a referral
        ends referred, a caller whose hand-over never reached Asterisk abandoned before the queue."""
        if status not in wire.FINAL_STATUSES:
            return
        call = self._calls.pop(sid, None)
        if call is None:
            return
        self._sids.pop(call.ref.call_id, None)
        at = self._clock()
        if call.route is None and not call.fallback:
            self._observer.ivr_hangup(call.ref, at, call.walk.path)
        else:
            self._ended(call.ref, at)  # nothing left to end when Asterisk took the record over

    def handed(self, call_id: str) -> Handed | None:
        """The call that left the Twilio IVR as ``call_id`` (our reference, the hand-over's
        ``X-Hotline-Call``), as Asterisk takes it over: None when not known here."""
        sid = self._sids.get(call_id)
        call = None if sid is None else self._calls.get(sid)
        if call is None or (call.route is None and not call.fallback):
            return None
        if call.route is not None and call.route.kind is RouteKind.REFERRAL and call.route.referral_number:
            return None  # dialled by Twilio itself
        call.seen = self._monotonic()
        return Handed(call.ref, None if call.fallback else call.route)

    def engine_of(self, version: int) -> Engine | None:
        """The engine of ``version`` if the live one or a call in progress has it (audio)."""
        try:
            live: Engine | None = self._engine()
        except DomainError:
            live = None
        if live is not None and live.version == version:
            return live
        return next((c.walk.engine for c in self._calls.values() if c.walk.engine.version == version), None)

    # -- answers ----------------------------------------------------------------------------------
    def _answer(self, call: _Call) -> str:
        if call.fallback:
            return self._lost(call.ref)
        if call.step is not None:
            ask = call.step
            action = f"{self._speech.base_url}/twilio/gather?call={call.ref.call_id}&step={call.walk.answers}"
            sounds = self._sounds(call.walk.engine, ask.prompts)
            return wire.gather(sounds, action, math.ceil(ask.timeout_ms / 1000), ask.max_digits)
        route = call.route
        assert route is not None
        sounds = self._sounds(call.walk.engine, route.announce)
        if route.kind is RouteKind.REFERRAL and route.referral_number:
            return wire.dial_number(sounds, route.referral_number, self._hand_over.line_number)
        return self._dial(sounds, route_headers(route, call.ref))

    def _dial(self, sounds: Sequence[wire.Sound], headers: Mapping[str, str]) -> str:
        h = self._hand_over
        return wire.dial_sip(sounds, h.sip_uri, headers, h.sip_username, h.sip_password)

    def _lost(self, call: CallRef | None = None) -> str:
        """A call not known here (the service restarted mid-call), no IVR to walk, or a walk
        that failed: the caller goes to a person at once, as the dialplan's fallback takes a
        caller whose IVR failed. It goes with a call reference all the same (a fresh one when
        not known): Asterisk knows a hand-over from Twilio by it."""
        if call is None:
            log.warning("a Twilio call was handed to the fallback queue: not known here, or no IVR live")
        try:
            queue = self._engine().document.fallback_queue
        except DomainError:
            queue = ""
        reference = call.call_id if call else uuid.uuid4().hex
        headers = {HEADER_FALLBACK: "1", HEADER_QUEUE: queue, HEADER_CALL: reference}
        return self._dial((), {k: v for k, v in headers.items() if v})

    def _sounds(self, engine: Engine, played: Sequence[str]) -> list[wire.Sound]:
        """The prompts (Asterisk's paths) as Twilio plays them; Asterisk's own sounds
        (``core:``) have no audio on this side and are left out."""
        said = self._said_of(engine)
        sounds: list[wire.Sound] = []
        for path in played:
            if (found := said.get(path)) is None:
                continue
            prompt, language = found
            source = engine.document.prompts.get(prompt, {}).get(language)
            s = self._speech
            said_in = s.say_languages.get(language)  # a language Twilio cannot say: our audio
            if s.speech == "say" and source is not None and source.text and said_in:
                sounds.append(wire.Say(source.text, said_in, s.say_voices.get(language)))
            else:
                sounds.append(wire.Play(s.audio_url(engine.version, prompt, language)))
        return sounds

    def _said_of(self, engine: Engine) -> dict[str, tuple[str, str]]:
        said = self._said.get(engine.version)
        if said is None:
            if len(self._said) > 8:
                self._said.clear()
            said = self._said[engine.version] = {path: key for key, path in engine.prompt_paths.items()}
        return said

    def _forget_stale(self) -> None:
        """Calls whose status callback never came (a number without one configured): their
        records are settled by the assembler's own sweep."""
        limit = self._monotonic() - STALE_SECONDS
        for sid in [sid for sid, call in self._calls.items() if call.seen < limit]:
            self._sids.pop(self._calls.pop(sid).ref.call_id, None)
