"""Asterisk's side of callers on a Twilio number (``twilio:`` in hotline.yaml): the endpoint for
Twilio, its TLS transport and its context, read back with pyst2's parser; nothing of it without
``twilio:``. The real hand-over is tests/e2e/test_twilio_hand_over.py."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.settings import Settings
from dialplan.check import ConfigCheckError, check, read
from dialplan.render import render, server_target, write
from dialplan.render_twilio import TLS_CERT_FILE, TLS_KEY_FILE
from ivr.document import IvrDocument
from tests.conftest import make_settings

DOCKER_NET = ("172.28.0.0/16",)
PASSWORD = "twilio-digest-secret"


def twilio(tmp_path: Path, **changes: object) -> dict[str, object]:
    for name, text in (
        ("token", "auth token"),
        ("sip-password", PASSWORD),
        ("cert.pem", "CERT"),
        ("key.pem", "KEY"),
    ):
        (tmp_path / name).write_text(text + "\n", encoding="utf-8")
    fields: dict[str, object] = {
        "public_url": "https://hotline.example.org",
        "auth_token_file": str(tmp_path / "token"),
        "sip_uri": "sip:twilio@pbx.example.org;transport=tls",
        "sip_username": "twilio",
        "sip_password_file": str(tmp_path / "sip-password"),
        "line_number": "+48221234567",
    }
    return {**fields, **changes}


def rendered(settings: Settings, document: IvrDocument, out: Path) -> Path:
    write(render(settings, server_target(settings, DOCKER_NET), document), out)
    check(out, document.queue_names())
    return out


def test_without_twilio_nothing_of_it_is_rendered(tmp_path: Path, document: IvrDocument) -> None:
    etc = rendered(make_settings(tmp_path), document, tmp_path / "etc")
    pjsip = read(etc / "pjsip.conf")
    assert dict(pjsip["global"])["endpoint_identifier_order"] == "username,ip"
    assert "hotline-twilio" not in pjsip and "transport-tls" not in pjsip
    assert "hotline-twilio" not in read(etc / "extensions.conf")
    assert not (etc / TLS_CERT_FILE).exists()


def test_the_endpoint_for_twilio_is_known_by_the_call_reference_and_takes_no_call_without_credentials(
    tmp_path: Path, document: IvrDocument
) -> None:
    settings = make_settings(tmp_path, twilio=twilio(tmp_path))
    etc = rendered(settings, document, tmp_path / "etc")
    pjsip = read(etc / "pjsip.conf")
    # The header identifier comes before the callers' networks: a hand-over never enters the IVR again.
    assert dict(pjsip["global"])["endpoint_identifier_order"] == "username,header,ip"
    items = pjsip["hotline-twilio"]  # endpoint and identify, merged by name
    endpoint = dict(items)
    assert (endpoint["context"], endpoint["auth"]) == ("hotline-twilio", "hotline-twilio-auth")
    assert (endpoint["trust_id_inbound"], endpoint["send_pai"], endpoint["send_rpid"]) == ("no", "no", "no")
    assert endpoint["match_header"] == "X-Hotline-Call: /^[0-9a-f]{32}$/"
    assert ("match", "203.0.113.1/32") not in items and "deny" not in endpoint  # no sources: any address
    auth = dict(pjsip["hotline-twilio-auth"])
    assert (auth["username"], auth["password"]) == ("twilio", PASSWORD)
    assert stat.S_IMODE((etc / "pjsip.conf").stat().st_mode) == 0o600
    assert "transport-tls" not in pjsip
    dialplan = read(etc / "extensions.conf")
    steps = [value for key, value in dialplan["hotline-twilio"] if key in ("exten", "same")]
    agi = next(step for step in steps if "AGI(" in step)
    assert agi.startswith("n,AGI(agi://") and "/twilio," in agi
    assert "${FILTER(0-9a-f,${PJSIP_HEADER(read,X-Hotline-Call)})}" in agi  # only our reference gets in
    assert any("CALLERID(all)=anonymous" in step for step in steps)
    assert steps[-1] == "n,Goto(hotline-queue,s,1)"
    assert "res_pjsip_header_funcs.so" in [v for k, v in read(etc / "modules.conf")["modules"] if k == "load"]


def test_twilio_s_addresses_and_a_tls_transport(tmp_path: Path, document: IvrDocument) -> None:
    fields = twilio(
        tmp_path,
        sip_sources=["54.172.60.0/30", "54.244.51.1"],
        tls_port=5061,
        tls_cert_file=str(tmp_path / "cert.pem"),
        tls_key_file=str(tmp_path / "key.pem"),
    )
    settings = make_settings(tmp_path, twilio=fields, sip={"external_address": "198.51.100.20"})
    etc = rendered(settings, document, tmp_path / "etc")
    pjsip = read(etc / "pjsip.conf")
    items = pjsip["hotline-twilio"]
    assert [v for k, v in items if k == "permit"] == ["54.172.60.0/30", "54.244.51.1/32"]
    assert [v for k, v in items if k == "match"] == ["54.172.60.0/30", "54.244.51.1/32"]
    assert ("deny", "0.0.0.0/0.0.0.0") in items
    tls = dict(pjsip["transport-tls"])
    assert (tls["protocol"], tls["bind"], tls["method"]) == ("tls", "0.0.0.0:5061", "tlsv1_2")
    assert (tls["cert_file"], tls["priv_key_file"]) == (
        f"/etc/asterisk/{TLS_CERT_FILE}",
        f"/etc/asterisk/{TLS_KEY_FILE}",
    )
    assert tls["external_signaling_address"] == "198.51.100.20"
    assert ((etc / TLS_CERT_FILE).read_text(), (etc / TLS_KEY_FILE).read_text()) == ("CERT\n", "KEY\n")
    assert stat.S_IMODE((etc / TLS_KEY_FILE).stat().st_mode) == 0o600


def test_a_password_that_would_read_as_syntax_is_refused_without_showing_it(
    tmp_path: Path, document: IvrDocument
) -> None:
    settings = make_settings(tmp_path, twilio=twilio(tmp_path))
    (tmp_path / "sip-password").write_text("secret;[x]\n", encoding="utf-8")
    with pytest.raises(
        ConfigCheckError, match=r"pjsip\.conf: refused a value in 'password = <value>'"
    ) as refused:
        render(settings, server_target(settings, DOCKER_NET), document)
    assert "secret" not in str(refused.value)


def test_a_twilio_hand_over_goes_to_the_second_instance_when_the_first_sets_no_route(
    tmp_path: Path, document: IvrDocument
) -> None:
    settings = make_settings(
        tmp_path, twilio=twilio(tmp_path), agi={"backup_host": "10.0.0.2", "backup_port": 4574}
    )
    etc = rendered(settings, document, tmp_path / "etc")
    steps = [
        value for key, value in read(etc / "extensions.conf")["hotline-twilio"] if key in ("exten", "same")
    ]
    calls = [i for i, step in enumerate(steps) if "AGI(" in step]
    assert len(calls) == 2
    first, second = calls
    assert "/twilio," in steps[first] and steps[second].startswith("n,AGI(agi://10.0.0.2:4574/twilio,")
    assert steps[first + 1] == 'n,GotoIf($["${HOTLINE_IVR_RESULT}" != ""]?routed)'  # routed: not again
    assert (
        steps[second + 1]
        == 'n(routed),GotoIf($["${HOTLINE_IVR_RESULT}" != "queue"]?hotline-entry,s,fallback)'
    )
