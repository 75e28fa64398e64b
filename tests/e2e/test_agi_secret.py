"""FastAGI sessions carry the secret the dialplan passes (issue 14, item 4): a real call still
goes through the IVR; a local process speaking FastAGI like Asterisk, without the secret or
with a wrong one, runs no handler and leaves no record."""

from __future__ import annotations

import socket
import time

import pytest

from core.settings import Settings
from tests.e2e.calls import place, plan, records
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk


def _forged_session(settings: Settings, args: list[str]) -> bytes:
    """What the service writes to a FastAGI client sending an ``ivr`` request like Asterisk's."""
    headers = [
        "agi_network: yes",
        "agi_network_script: ivr",
        f"agi_request: agi://127.0.0.1:{settings.agi.port}/ivr",
        "agi_channel: PJSIP/hotline-callers-00000999",
        "agi_language: en",
        "agi_uniqueid: 1700000999.1",
        "agi_callerid: +79000009999",
        *(f"agi_arg_{n}: {value}" for n, value in enumerate(args, start=1)),
    ]
    with socket.create_connection(("127.0.0.1", settings.agi.port), timeout=5) as sock:
        sock.sendall(("\n".join(headers) + "\n\n").encode())
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    return received


def _logs(service: Service, settings: Settings) -> str:
    """The service's output and its log file."""
    files = [service.log_file, settings.log_file]
    return "".join(f.read_text(errors="replace") for f in files if f is not None and f.exists())


def test_a_real_call_goes_through_the_ivr_with_the_secret(service: Service, e2e_settings: Settings) -> None:
    service.start()
    secret = e2e_settings.agi.secret_value()
    assert secret
    etc = e2e_settings.asterisk[0].config_dir
    assert etc is not None
    extensions = etc / "extensions.conf"
    assert extensions.stat().st_mode & 0o777 == 0o600
    assert f",{secret},${{CHANNEL(linkedid)}}" in extensions.read_text(encoding="utf-8")
    before = {r["id"] for r in records(service, 0)}
    place(e2e_settings, [plan("21")], base=28100)
    got = [r for r in records(service, len(before) + 1) if r["id"] not in before]
    assert [(r["language"], r["topic"], r["queue"], r["outcome"]) for r in got] == [
        ("en", "crisis", "crisis", "answered")
    ]
    assert secret not in _logs(service, e2e_settings)


def test_a_fastagi_session_without_the_secret_runs_nothing(service: Service, e2e_settings: Settings) -> None:
    service.start()
    before = {r["id"] for r in records(service, 0)}
    node = e2e_settings.asterisk[0].name
    for args in (["1700000999.1", node], ["not-the-secret", "1700000999.1", node], []):
        assert _forged_session(e2e_settings, args) == b""  # no command: no handler ran
    time.sleep(2)
    assert [r for r in records(service, 0) if r["id"] not in before] == []
    assert e2e_settings.log_file is not None  # the service's output repeats its log lines
    assert e2e_settings.log_file.read_text(errors="replace").count("refused: missing or wrong secret") == 1
    assert "not-the-secret" not in _logs(service, e2e_settings)
