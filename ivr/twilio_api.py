"""Twilio's voice webhooks (issue 21): ``POST /twilio/voice`` (a new call), ``POST
/twilio/gather`` (a key, or silence), ``POST /twilio/status`` (status callbacks), and the
prompts' audio Twilio plays (``GET /twilio/prompts/...``, an unguessable URL).

Public (Twilio has no session), so every webhook must carry a valid ``X-Twilio-Signature``:
unsigned or wrongly signed requests are refused with 403 and counted (``RefusalLog``: /metrics
``hotline_refused_connections_total{port="twilio"}``); a webhook's body is never logged. Without
``twilio:`` in the settings every route answers 404. Not in the OpenAPI document: Twilio's
interface, answered in TwiML."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response

from core.errors import DomainError
from core.refusals import RefusalLog
from ivr.listen import prompt_audio
from ivr.prompts import PromptStudio
from ivr.service import NotFound
from ivr.twilio_agi import TwilioHandOver
from ivr.twilio_voice import TwilioVoice
from telephony import twilio_wire as wire

TWIML = "application/xml"
WAV = "audio/wav"


class TwilioNotConfigured(DomainError):
    error_id = "twilio_not_configured"
    status = 404


class TwilioSignatureRefused(DomainError):
    error_id = "twilio_signature_refused"
    status = 403


@dataclass(frozen=True)
class TwilioChannel:
    """What the webhooks need, built by the composition root when ``twilio:`` is set."""

    voice: TwilioVoice
    signatures: wire.Signatures
    studio: PromptStudio
    refusals: RefusalLog
    hand_over: TwilioHandOver  # the FastAGI ``twilio`` script: Asterisk takes the caller over


def _twiml(text: str) -> Response:
    return Response(text, media_type=TWIML, headers={"Cache-Control": "no-store"})


def twilio_router(channel: TwilioChannel | None) -> APIRouter:
    router = APIRouter(prefix="/twilio", include_in_schema=False)

    def configured() -> TwilioChannel:
        if channel is None:
            raise TwilioNotConfigured("this line takes no calls on a Twilio number")
        return channel

    async def signed(request: Request) -> tuple[TwilioChannel, dict[str, str]]:
        """The webhook's form, once its signature is Twilio's; never logged."""
        ch = configured()
        try:
            form: dict[str, str] | None = wire.form_fields(await request.body())
        except (ValueError, UnicodeDecodeError):
            form = None
        headers = request.headers
        valid = form is not None and ch.signatures.valid(
            request.url.path,
            request.url.query,
            form,
            headers.get(wire.SIGNATURE_HEADER),
            headers.get(wire.SIGNATURE_SETTINGS_HEADER),
        )
        if not valid or form is None:
            ch.refusals.refused(request.client.host if request.client else "unknown")
            raise TwilioSignatureRefused("the request does not carry a valid X-Twilio-Signature")
        return ch, form

    @router.post("/voice")
    async def voice(request: Request) -> Response:
        """A call to the line's Twilio number: the first menu."""
        ch, form = await signed(request)
        caller = form.get("From") or form.get("Caller") or ""  # counted as a repeat caller, only
        return _twiml(ch.voice.voice(form.get("CallSid", ""), caller))

    @router.post("/gather")
    async def gather(request: Request) -> Response:
        """The key the caller pressed (``Digits``), or none after the menu's timeout."""
        ch, form = await signed(request)
        query = request.query_params
        answer = ch.voice.gather(
            form.get("CallSid", ""), query.get("call", ""), query.get("step", ""), form.get("Digits", "")
        )
        return _twiml(answer)

    @router.post("/status")
    async def status(request: Request) -> Response:
        """A status callback (``CallStatus``): a call over is forgotten and its record settled."""
        ch, form = await signed(request)
        ch.voice.status(form.get("CallSid", ""), form.get("CallStatus", ""))
        return Response(status_code=204)

    @router.get("/prompts/{version}/{prompt_id}/{language}/{token}.wav")
    async def audio(version: str, prompt_id: str, language: str, token: str) -> Response:
        """A prompt of a version a call is on; the URL's token is ours, so not guessable."""
        ch = configured()
        if not version.isdigit() or not ch.voice.speech.tokens.valid(token, version, prompt_id, language):
            raise NotFound("no such prompt audio")
        engine = ch.voice.engine_of(int(version))
        if engine is None:
            raise NotFound("no call is on this version")
        wav = await asyncio.to_thread(prompt_audio, ch.studio, engine.document, prompt_id, language)
        return Response(wav, media_type=WAV, headers={"Cache-Control": "private, max-age=86400"})

    return router
