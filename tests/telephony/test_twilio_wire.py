"""Twilio's webhooks on the wire (issue 21): the form as Twilio posts it, the signature checked
with the twilio package's own algorithm (signed here with ``RequestValidator.compute_signature``),
the audio URLs' tokens, and the TwiML of a menu, a hand-over and a referral."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from core.twilio_settings import TwilioSettings
from telephony import twilio_wire as wire

TOKEN = "12345678901234567890123456789012"
BASE = "https://hotline.example.org"
FORM = {
    "CallSid": "CA0123456789abcdef0123456789abcdef",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+79000001234",
    "To": "+48221234567",
    "CallStatus": "ringing",
    "Direction": "inbound",
    "Digits": "",
}


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def test_the_form_keeps_blank_values_and_refuses_what_is_not_a_form() -> None:
    assert wire.form_fields(urlencode(FORM).encode()) == FORM
    assert wire.form_fields(b"") == {}
    with pytest.raises(ValueError):
        wire.form_fields(b"not a form")
    with pytest.raises(ValueError):
        wire.form_fields("&".join(f"k{n}=v" for n in range(wire.MAX_FIELDS + 1)).encode())
    with pytest.raises(UnicodeDecodeError):
        wire.form_fields(b"From=\xff")


def test_a_signature_is_checked_against_the_public_url_path_query_and_every_field() -> None:
    signatures = wire.Signatures(TOKEN, BASE + "/")
    url = f"{BASE}/twilio/gather?call=abc&step=2"
    good = sign(url, FORM)
    assert signatures.valid("/twilio/gather", "call=abc&step=2", FORM, good)
    assert signatures.valid(
        "/twilio/gather", "call=abc&step=2", FORM, sign(f"{BASE}:443/twilio/gather?call=abc&step=2", FORM)
    )
    refused = [
        ("/twilio/gather", "call=abc&step=3", FORM, good),  # another step
        ("/twilio/voice", "call=abc&step=2", FORM, good),  # another path
        ("/twilio/gather", "call=abc&step=2", {**FORM, "Digits": "1"}, good),  # a field changed
        ("/twilio/gather", "call=abc&step=2", {**FORM, "Extra": ""}, good),  # a field added
        ("/twilio/gather", "call=abc&step=2", FORM, sign(url, FORM, "another token" * 3)),
        ("/twilio/gather", "call=abc&step=2", FORM, None),
        ("/twilio/gather", "call=abc&step=2", FORM, ""),
        ("/twilio/gather", "call=abc&step=2", FORM, "not base64 at all"),
    ]
    for path, query, form, signature in refused:
        assert not signatures.valid(path, query, form, signature), (path, query, signature)


def test_a_sha256_signature_is_checked_when_the_request_says_so() -> None:
    signatures = wire.Signatures(TOKEN, BASE)
    url = f"{BASE}/twilio/voice"
    sha256 = str(RequestValidator(TOKEN).compute_signature(url, FORM, "HMAC_SHA256"))
    assert signatures.valid(
        "/twilio/voice", "", FORM, sha256, "key=webhooks_sharedkey_x,algorithm=HMAC_SHA256"
    )
    assert not signatures.valid("/twilio/voice", "", FORM, sha256)  # read as SHA-1
    assert not signatures.valid("/twilio/voice", "", FORM, sha256, "algorithm=MD5")


def test_media_tokens_are_the_same_for_every_process_and_bound_to_their_parts() -> None:
    tokens = wire.MediaTokens(TOKEN)
    token = tokens.token("3", "greeting", "ru")
    assert token == wire.MediaTokens(TOKEN).token("3", "greeting", "ru")
    assert tokens.valid(token, "3", "greeting", "ru")
    assert not tokens.valid(token, "4", "greeting", "ru")
    assert not tokens.valid(token, "3", "greeting", "pl")
    assert not wire.MediaTokens("another token").valid(token, "3", "greeting", "ru")
    mac = hmac.new(TOKEN.encode(), b"3\x00greeting\x00ru", hashlib.sha256).digest()  # not the token itself
    assert token != base64.urlsafe_b64encode(mac[:18]).decode()


def test_a_menu_is_a_gather_that_posts_silence_too() -> None:
    sounds = [wire.Play(f"{BASE}/a.wav"), wire.Say("Привет", "ru-RU", "Polly.Tatyana")]
    root = ET.fromstring(wire.gather(sounds, f"{BASE}/twilio/gather?call=x&step=0", 5))
    [gather] = root
    assert gather.tag == "Gather"
    assert gather.attrib == {
        "input": "dtmf",
        "action": f"{BASE}/twilio/gather?call=x&step=0",
        "method": "POST",
        "numDigits": "1",
        "timeout": "5",
        "actionOnEmptyResult": "true",
    }
    play, say = gather
    assert (play.tag, play.text) == ("Play", f"{BASE}/a.wav")
    assert (say.tag, say.text, say.attrib) == (
        "Say",
        "Привет",
        {"language": "ru-RU", "voice": "Polly.Tatyana"},
    )


def test_the_hand_over_is_anonymous_with_the_route_in_x_headers() -> None:
    headers = {"X-Hotline-Queue": "crisis", "X-Hotline-Topic": "a b&c"}
    twiml = wire.dial_sip(
        [wire.Play(f"{BASE}/n.wav")], "sip:twilio@pbx.example.org;transport=tls", headers, "u", "p"
    )
    play, dial, hangup = ET.fromstring(twiml)
    assert (play.tag, dial.tag, hangup.tag) == ("Play", "Dial", "Hangup")
    assert dial.attrib == {"callerId": "anonymous"}
    [sip] = dial
    assert sip.attrib == {"username": "u", "password": "p"}
    assert (
        sip.text
        == "sip:twilio@pbx.example.org;transport=tls?X-Hotline-Queue=crisis&X-Hotline-Topic=a%20b%26c"
    )


def test_a_referral_shows_the_lines_own_number() -> None:
    dial, hangup = ET.fromstring(wire.dial_number([], "+74950000001", "+48221234567"))
    assert (dial.tag, dial.text, dial.attrib, hangup.tag) == (
        "Dial",
        "+74950000001",
        {"callerId": "+48221234567"},
        "Hangup",
    )


def test_the_settings_refuse_a_token_file_that_cannot_be_read(tmp_path: Path) -> None:
    token = tmp_path / "token"
    password = tmp_path / "sip-password"
    password.write_text("sip secret\n")
    fields = {
        "public_url": BASE + "/",
        "sip_uri": "sip:twilio@pbx.example.org",
        "line_number": "+48221234567",
        "sip_username": "twilio",
        "sip_password_file": password,
    }
    for content in (None, "  \n"):
        if content is not None:
            token.write_text(content)
        with pytest.raises(ValueError, match=r"twilio\.auth_token_file"):
            TwilioSettings(auth_token_file=token, **fields)
    token.write_text(TOKEN + "\n")
    settings = TwilioSettings(auth_token_file=token, **fields)
    assert (settings.auth_token(), settings.public_url, settings.sip_password()) == (
        TOKEN,
        BASE,
        "sip secret",
    )
    for wrong in (
        {"sip_uri": "sip:a@b?X-Hotline-Queue=x"},
        {"line_number": "0800"},
        {"public_url": "ftp://x"},
        {"sip_username": None},  # Asterisk's endpoint for Twilio takes no call without credentials
        {"sip_password_file": tmp_path / "absent"},
        {"sip_sources": ["54.172.60.0/30", "not a network"]},
        {"tls_port": 5061},  # without a certificate and key
    ):
        with pytest.raises(ValueError):
            TwilioSettings(auth_token_file=token, **{**fields, **wrong})


def test_the_settings_take_twilio_s_sources_and_a_tls_transport(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN)
    (tmp_path / "pw").write_text("pw")
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    settings = TwilioSettings(
        public_url=BASE,
        auth_token_file=tmp_path / "token",
        sip_uri="sip:twilio@pbx.example.org;transport=tls",
        line_number="+48221234567",
        sip_username="twilio",
        sip_password_file=tmp_path / "pw",
        sip_sources=["54.172.60.1", "54.244.51.0/30"],
        tls_port=5061,
        tls_cert_file=tmp_path / "cert.pem",
        tls_key_file=tmp_path / "key.pem",
    )
    assert settings.sip_sources == ["54.172.60.1/32", "54.244.51.0/30"]
    with pytest.raises(ValueError, match=r"twilio\.tls_key_file"):
        TwilioSettings(**{**settings.model_dump(), "tls_key_file": tmp_path / "absent.pem"})
