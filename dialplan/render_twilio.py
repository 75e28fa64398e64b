"""Asterisk's side of callers on a Twilio number (``twilio:`` in hotline.yaml, issue 21): the
endpoint Twilio's ``<Dial><Sip>`` reaches (pjsip.conf ``hotline-twilio``), and the files of its
TLS transport.

The endpoint is known by the INVITE's ``X-Hotline-Call`` (our call reference, 32 hex digits:
the ``header`` identifier, ahead of the callers' networks) or, when ``twilio.sip_sources`` are
given, by Twilio's addresses; it takes no call without the digest credentials of
``twilio.sip_username`` / ``sip_password_file``, and with sources, none from anywhere else. Its
context (extensions.conf ``hotline-twilio``) asks the FastAGI ``twilio`` script for the route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.settings import Settings
from telephony import variables as v

# PJSIP_HEADER(read,...): the hand-over's X-Hotline-Call (the dialplan), its route (ivr/twilio_agi.py).
TWILIO_MODULES: tuple[str, ...] = ("res_pjsip_header_funcs.so",)
TLS_CERT_FILE = "hotline-twilio-tls.crt"
TLS_KEY_FILE = "hotline-twilio-tls.key"  # a secret: written 0600 (render.SECRET_FILES)
# How the endpoint knows a hand-over (pjsip.conf identify match_header): our reference only.
CALL_HEADER_MATCH = f"{v.TWILIO_CALL_HEADER}: /^[0-9a-f]{{32}}$/"


@dataclass(frozen=True)
class TwilioEntry:
    endpoint: str
    context: str
    username: str
    password: str  # read from twilio.sip_password_file; pjsip.conf is 0600
    sources: tuple[str, ...]
    tls_port: int | None


def twilio_context(settings: Settings, agi_bases: list[str]) -> dict[str, Any]:
    """The templates' ``twilio`` (None without ``twilio:``) and the names they use with it;
    ``agi_bases``: the service instances' FastAGI addresses, the first tried first."""
    names = {
        "call_header": v.TWILIO_CALL_HEADER,
        "header_match": CALL_HEADER_MATCH,
        "cert_file": TLS_CERT_FILE,
        "key_file": TLS_KEY_FILE,
    }
    return {
        "twilio": twilio_entry(settings),
        "twilio_names": names,
        "twilio_agi_urls": [f"{base}/{v.AGI_TWILIO_SCRIPT}" for base in agi_bases],
    }


def twilio_entry(settings: Settings) -> TwilioEntry | None:
    t = settings.twilio
    if t is None:
        return None
    return TwilioEntry(
        v.TWILIO_ENDPOINT,
        v.CONTEXT_TWILIO,
        t.sip_username,
        t.sip_password(),
        tuple(t.sip_sources),
        t.tls_port,
    )


def twilio_files(settings: Settings) -> dict[str, str]:
    """The TLS transport's certificate chain and key, copied beside the configuration (so a
    chrooted or containerised Asterisk reads them where it reads pjsip.conf)."""
    t = settings.twilio
    if t is None or t.tls_port is None or t.tls_cert_file is None or t.tls_key_file is None:
        return {}
    return {
        TLS_CERT_FILE: t.tls_cert_file.read_text(encoding="utf-8"),
        TLS_KEY_FILE: t.tls_key_file.read_text(encoding="utf-8"),
    }
