"""Twilio's voice webhooks on the wire (issue 21): the form each request posts, the signature
it carries (``X-Twilio-Signature``, checked with the ``twilio`` package's own validator), the
tokens that keep our audio URLs unguessable, and the TwiML answers. Nothing here knows the IVR.

A webhook's form holds the caller's number (``From``, ``Caller``) and name (``CallerName``):
it is parsed here and handed on whole to one caller, never logged nor kept."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.twiml.voice_response import Gather, VoiceResponse

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
MAX_FIELDS = 200  # Twilio's voice webhooks send a few dozen
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
ANONYMOUS = "anonymous"  # the From of the hand-over to Asterisk: no caller number leaves here


def form_fields(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as Twilio posts it (blank values kept: they
    are signed too, e.g. ``Digits=`` after silence); ValueError when it is not one."""
    text = body.decode("utf-8", errors="strict")
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS))


class Signatures:
    """Checks a webhook's signature against the URL Twilio called (rebuilt from the configured
    public URL: behind a proxy the request's own host and scheme are not the ones signed)."""

    def __init__(self, token: str, public_url: str) -> None:
        self._validator = RequestValidator(token)
        self._base = public_url.rstrip("/")

    def url(self, path: str, query: str = "") -> str:
        return f"{self._base}{path}?{query}" if query else f"{self._base}{path}"

    def valid(
        self,
        path: str,
        query: str,
        params: Mapping[str, str],
        signature: str | None,
        settings_header: str | None = None,
    ) -> bool:
        if not signature:
            return False
        algorithm = get_signature_algorithm(settings_header)
        try:
            return bool(self._validator.validate(self.url(path, query), dict(params), signature, algorithm))
        except (ValueError, TypeError):
            return False


class MediaTokens:
    """Unguessable tokens for URLs Twilio fetches without signing them (our prompts' audio):
    an HMAC of the URL's own parts under a key derived from the auth token, so every process
    of the line makes the same URL and nobody else can make one."""

    def __init__(self, token: str) -> None:
        self._key = hmac.new(token.encode("utf-8"), b"hotline twilio media", hashlib.sha256).digest()

    def token(self, *parts: str) -> str:
        mac = hmac.new(self._key, "\x00".join(parts).encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode("ascii")

    def valid(self, token: str, *parts: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8"), self.token(*parts).encode("ascii"))


# -- TwiML -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Play:
    url: str


@dataclass(frozen=True)
class Say:
    text: str
    language: str | None = None
    voice: str | None = None


Sound = Play | Say


def _sound(into: VoiceResponse | Gather, sound: Sound) -> None:
    if isinstance(sound, Play):
        into.play(sound.url)
    else:
        into.say(sound.text, language=sound.language, voice=sound.voice)


def gather(sounds: Sequence[Sound], action: str, timeout_seconds: int, num_digits: int = 1) -> str:
    """Play ``sounds`` (a key interrupts them) and post the key pressed, or nothing after
    ``timeout_seconds`` of silence, to ``action``."""
    response = VoiceResponse()
    asked = response.gather(
        input="dtmf",
        action=action,
        method="POST",
        num_digits=num_digits,
        timeout=max(1, timeout_seconds),
        action_on_empty_result=True,
    )
    for sound in sounds:
        _sound(asked, sound)
    return str(response)


def sip_uri(uri: str, headers: Mapping[str, str]) -> str:
    """``uri`` with ``headers`` (X- names) that Twilio puts into the INVITE."""
    if not headers:
        return uri
    return uri + "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in headers.items())


def dial_sip(
    sounds: Sequence[Sound],
    uri: str,
    headers: Mapping[str, str],
    username: str | None = None,
    password: str | None = None,
) -> str:
    """Play ``sounds``, then hand the caller to a SIP endpoint as ``anonymous``."""
    response = VoiceResponse()
    for sound in sounds:
        _sound(response, sound)
    dial = response.dial(caller_id=ANONYMOUS)
    dial.sip(sip_uri(uri, headers), username=username, password=password)
    response.hangup()
    return str(response)


def dial_number(sounds: Sequence[Sound], number: str, caller_id: str) -> str:
    """Play ``sounds``, then connect the caller to ``number`` showing ``caller_id``."""
    response = VoiceResponse()
    for sound in sounds:
        _sound(response, sound)
    response.dial(number, caller_id=caller_id)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
