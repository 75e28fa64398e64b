"""A server behind NAT with a provider's SIP trunk (``sip:`` in hotline.yaml): what pjsip.conf
and the dialplan say, read back with pyst2's parser. The README's worked trunk example is the
``trunk`` below."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, SettingsError
from dialplan.check import ConfigCheckError, check, read
from dialplan.render import render, server_target, write
from ivr.document import IvrDocument
from tests.conftest import make_settings

DOCKER_NET = ("172.28.0.0/16",)


def _trunk(tmp_path: Path, **changes: object) -> dict[str, object]:
    password = tmp_path / "sip_trunk_password"
    password.write_text("pw-from-a-file\n", encoding="utf-8")
    trunk: dict[str, object] = {
        "name": "provider",
        "host": "sip.provider.example",
        "username": "hotline-4930123456",
        "password_file": str(password),
        "match": ["203.0.113.0/24", "198.51.100.7"],
        "did": "+4930123456",
    }
    return {**trunk, **changes}


def _sip(tmp_path: Path, **trunk: object) -> dict[str, object]:
    return {
        "external_address": "198.51.100.20",
        "external_port": 5060,
        "rtp_start": 10000,
        "rtp_end": 10199,
        "trunk": _trunk(tmp_path, **trunk),
    }


def _render(settings: Settings, document: IvrDocument, out: Path) -> Path:
    write(render(settings, server_target(settings, DOCKER_NET), document), out)
    check(out, document.queue_names())
    return out


def test_nat_addresses_and_rtp_range(tmp_path: Path, document: IvrDocument) -> None:
    settings = make_settings(tmp_path, sip=_sip(tmp_path))
    etc = _render(settings, document, tmp_path / "etc")
    transport = dict(read(etc / "pjsip.conf")["transport-udp"])
    assert transport["bind"] == "0.0.0.0:5060"
    assert transport["external_signaling_address"] == "198.51.100.20"
    assert transport["external_media_address"] == "198.51.100.20"
    assert transport["external_signaling_port"] == "5060"
    assert transport["local_net"] == "172.28.0.0/16"  # the permitted networks by default
    rtp = dict(read(etc / "rtp.conf")["general"])
    assert (rtp["rtpstart"], rtp["rtpend"]) == ("10000", "10199")


def test_the_trunk_registers_and_only_its_did_enters(tmp_path: Path, document: IvrDocument) -> None:
    settings = make_settings(tmp_path, sip=_sip(tmp_path))
    etc = _render(settings, document, tmp_path / "etc")
    sections = [(name, dict(items)) for name, items in _sections(etc / "pjsip.conf")]
    by_type = {(name, values["type"]): values for name, values in sections if "type" in values}
    matches = [v for name, items in _sections(etc / "pjsip.conf") for k, v in items if k == "match"]
    assert matches == ["203.0.113.0/24", "198.51.100.7/32"]  # the trunk's, and nothing else
    registration = by_type[("provider", "registration")]
    assert registration["server_uri"] == "sip:sip.provider.example:5060"
    assert registration["client_uri"] == "sip:hotline-4930123456@sip.provider.example"
    assert registration["contact_user"] == "+4930123456"
    assert by_type[("provider-auth", "auth")]["password"] == "pw-from-a-file"
    endpoint = by_type[("provider", "endpoint")]
    assert (endpoint["context"], endpoint["outbound_auth"]) == ("hotline-trunk", "provider-auth")
    assert ("hotline-callers", "identify") not in by_type  # no network but the trunk's calls in
    assert (etc / "pjsip.conf").stat().st_mode & 0o077 == 0
    extens = [v for k, v in read(etc / "extensions.conf")["hotline-trunk"] if k == "exten"]
    assert extens == [
        "+4930123456,1,Goto(hotline-entry,s,1)",
        "_[+0-9].,1,Hangup(1)",
        "s,1,Goto(hotline-entry,s,1)",
    ]


def test_a_trunk_routed_by_address_needs_no_registration(tmp_path: Path, document: IvrDocument) -> None:
    sip = _sip(tmp_path, registers=False, username=None, password_file=None)
    etc = _render(make_settings(tmp_path, sip=sip), document, tmp_path / "etc")
    text = (etc / "pjsip.conf").read_text(encoding="utf-8")
    assert "type = registration" not in text and "provider-auth" not in text


def test_without_a_trunk_the_permitted_networks_call_in(tmp_path: Path, document: IvrDocument) -> None:
    etc = _render(make_settings(tmp_path), document, tmp_path / "etc")
    assert dict(read(etc / "pjsip.conf")["hotline-callers"])["match"] == "172.28.0.0/16"
    assert "external_signaling_address" not in (etc / "pjsip.conf").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ({"did": "49 30 123"}, "did"),
        ({"match": ["not-a-net"]}, "not an address"),
        ({"host": "sip.example;transport=tcp"}, "host"),
        ({"password_file": None}, "password_file"),
        ({"name": "hotline-in"}, "trunk name"),
    ],
)
def test_bad_trunk_settings_are_refused(tmp_path: Path, change: dict[str, object], fault: str) -> None:
    with pytest.raises(SettingsError, match=fault):
        make_settings(tmp_path, sip=_sip(tmp_path, **change))


def test_a_password_that_reads_as_syntax_is_refused_unnamed(tmp_path: Path, document: IvrDocument) -> None:
    settings = make_settings(tmp_path, sip=_sip(tmp_path))
    Path(str(_trunk(tmp_path)["password_file"])).write_text("pw;x\n", encoding="utf-8")
    with pytest.raises(ConfigCheckError, match=r"pjsip\.conf") as err:
        render(settings, server_target(settings, DOCKER_NET), document)
    assert "pw;x" not in str(err.value)


def _sections(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every section in order, repeated names kept apart (pjsip.conf repeats them by type)."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            out.append((line[1:-1], []))
        elif "=" in line and out:
            key, value = (p.strip() for p in line.split("=", 1))
            out[-1][1].append((key, value))
    return out
