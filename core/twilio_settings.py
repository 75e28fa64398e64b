"""``twilio:`` in hotline.yaml (issue 21): callers on a Twilio number walk the same IVR, served
as TwiML by the voice webhooks (ivr/twilio_api.py), and are handed to the operators on Asterisk
over SIP. Absent (the default): the webhooks answer 404."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def default_say_languages() -> dict[str, str]:
    """The IVR's language codes as Twilio's ``<Say language>`` spells them."""
    return {"ru": "ru-RU", "pl": "pl-PL", "en": "en-GB", "uk": "uk-UA", "de": "de-DE"}


class TwilioSettings(BaseModel):
    # The base URL Twilio calls (as configured on the number, e.g. https://hotline.example.org):
    # the signed URL of each webhook is rebuilt from it, and the prompts' audio is served under it.
    public_url: str = Field(pattern=r"^https?://[^\s?#]+$")
    # The account's auth token (or the webhook's signing key), alone in a file (a Docker secret).
    auth_token_file: Path
    # The hotline's SIP entry that callers leave the Twilio IVR by for the operators' queues,
    # e.g. sip:twilio@pbx.example.org;transport=tls (the route goes along as X- headers).
    sip_uri: str = Field(pattern=r"^sips?:[^\s?<>\"]+$")
    # Credentials Twilio answers that entry's digest challenge with: Asterisk's endpoint for
    # Twilio (pjsip.conf ``hotline-twilio``) takes no call without them.
    sip_username: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    sip_password_file: Path
    # Twilio's signalling addresses for the region (CIDR): when given, the endpoint takes calls
    # from these only (Twilio publishes them per edge location). Empty: any address that answers
    # the digest challenge.
    sip_sources: list[str] = Field(default_factory=list, max_length=64)
    # A TLS transport for Twilio (sip_uri ``;transport=tls``): the port, a certificate chain and
    # its key in PEM files (readable by Asterisk). None: Twilio reaches the UDP transport.
    tls_port: int | None = Field(None, ge=1, le=65535)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # The line's own number (E.164): the caller ID of referrals to partner lines, never the caller's.
    line_number: str = Field(pattern=r"^\+[1-9][0-9]{5,14}$")
    # play: prompts as <Play> of this service's own audio (the voice Asterisk plays);
    # say: as <Say> of the prompt's text in Twilio's voices (a recording is played still).
    speech: Literal["play", "say"] = "play"
    say_languages: dict[str, str] = Field(default_factory=default_say_languages)
    say_voices: dict[str, str] = Field(default_factory=dict)  # per language, e.g. {"ru": "Polly.Tatyana"}

    @field_validator("public_url")
    @classmethod
    def _base(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("say_languages", "say_voices")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        for language, said in value.items():
            if not _LANGUAGE.match(language) or not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", said):
                raise ValueError(f"twilio: {language!r}: {said!r} is not a language and a Twilio name")
        return value

    @field_validator("sip_sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        nets = []
        for source in value:
            try:
                nets.append(str(ipaddress.ip_network(source, strict=False)))
            except ValueError as exc:
                raise ValueError(f"twilio.sip_sources: {source!r} is not an address or network") from exc
        return nets

    @model_validator(mode="after")
    def _secrets_readable(self) -> TwilioSettings:
        """At start, not at the first call: a missing or empty file is a configuration error."""
        self.auth_token()
        self.sip_password()
        if self.tls_port is not None:
            for name, path in (("tls_cert_file", self.tls_cert_file), ("tls_key_file", self.tls_key_file)):
                if path is None:
                    raise ValueError(f"twilio.tls_port needs twilio.{name}")
                _secret(path, f"twilio.{name}")
        return self

    def auth_token(self) -> str:
        return _secret(self.auth_token_file, "twilio.auth_token_file")

    def sip_password(self) -> str:
        return _secret(self.sip_password_file, "twilio.sip_password_file")


def _secret(path: Path, what: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{what} {path}: {exc.strerror}") from exc
    if not value:
        raise ValueError(f"{what} {path} is empty")
    return value
