"""Callers on a Twilio number (issue 21): the webhooks' parts, built from ``twilio:`` in the
settings (None without it: the routes answer 404)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.refusals import RefusalLog
from ivr.twilio_agi import TwilioHandOver
from ivr.twilio_api import TwilioChannel
from ivr.twilio_voice import HandOver, Speech, TwilioVoice
from metrics.live.refusals import Refusals
from telephony.twilio_wire import MediaTokens, Signatures

if TYPE_CHECKING:
    from hotline.app import Hotline


def twilio_channel(h: Hotline) -> TwilioChannel | None:
    settings = h.settings.twilio
    if settings is None:
        return None
    token = settings.auth_token()
    hand_over = HandOver(
        settings.sip_uri, settings.line_number, settings.sip_username, settings.sip_password()
    )
    speech = Speech(
        settings.public_url,
        MediaTokens(token),
        settings.speech,
        settings.say_languages,
        settings.say_voices,
    )
    voice = TwilioVoice(
        h.ivr_service.engine,
        h.assembler,
        h.assembler.caller_gone,
        lambda number: h.repeats.observe(number, datetime.now(UTC)),  # the number's only use
        hand_over,
        speech,
        reroute=h.switchboard.reroute,
    )
    refused = RefusalLog(
        "no valid X-Twilio-Signature", server="Twilio webhook", logger=logging.getLogger("hotline.twilio")
    )
    taken_over = TwilioHandOver(voice, h.assembler.rejoin, lambda: h.ivr_service.engine().document)
    signatures = Signatures(token, settings.public_url)
    return TwilioChannel(voice, signatures, h.ivr_service.studio, refused, taken_over)


def twilio_refusals(channel: TwilioChannel | None) -> Refusals:
    """For /metrics: ``hotline_refused_connections_total{port="twilio",reason="signature"}``."""
    return {} if channel is None else {("twilio", "signature"): channel.refusals.total}
