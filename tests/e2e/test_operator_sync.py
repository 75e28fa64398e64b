"""An operator created while the real Asterisk's AMI is unreachable: the answer keeps the account
and shows its password once, the change waits, and when AMI is back the service applies it
(PJSIP reloaded): a softphone registers with the password shown at creation."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from sandbox.asterisk import Sandbox
from sandbox.scenarios import softphone_register_scenario
from tests.e2e.conftest import Service
from tests.e2e.test_convergence import ami_up, cut_ami
from tests.e2e.test_operators import finished, sipp

pytestmark = pytest.mark.asterisk

PHONE_PORT = 15131


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


@pytest.fixture
def ami_away(service: Service, e2e_settings: Settings, sandbox: Sandbox) -> Iterator[None]:
    """AMI off (manager.conf ``enabled = no``, reloaded; the service's session cut): the
    service's reconnects are refused until the original manager.conf is reloaded."""
    service.start()
    assert e2e_settings.asterisk[0].config_dir is not None
    manager = e2e_settings.asterisk[0].config_dir / "manager.conf"
    original = manager.read_text(encoding="utf-8")
    manager.write_text(re.sub(r"(?m)^enabled = yes$", "enabled = no", original), encoding="utf-8")
    try:
        sandbox.cli("manager reload")
        cut_ami(e2e_settings)
        wait_for(lambda: not ami_up(service), 10, "the service notices AMI is gone")
        time.sleep(2)  # a few refused reconnects
        assert not ami_up(service)
        yield
    finally:
        manager.write_text(original, encoding="utf-8")  # the failed apply rewrote it too
        sandbox.cli("manager reload")


def operator(service: Service, op: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(
        f"{service.url}/api/operators/{op}", headers=service.admin, timeout=10
    ).json()
    return found


def test_an_operator_made_while_ami_is_away_registers_once_it_is_back(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, ami_away: None
) -> None:
    body = {"id": "op-sync", "display_name": "Made while AMI was away", "skills": {"peer": 2}}
    made = httpx.post(f"{service.url}/api/operators", headers=service.admin, json=body, timeout=60)
    assert made.status_code == 201, made.text
    shown = made.json()
    password = shown["softphone"]["password"]
    assert password and shown["api_token"]
    assert shown["operator"]["asterisk"]["applied"] is False, shown["operator"]["asterisk"]
    assert operator(service, "op-sync")["asterisk"]["pending"]  # visible, not only in the answer
    health = httpx.get(f"{service.url}/healthz", headers=service.admin, timeout=5).json()
    assert health["asterisk"][0]["operator_changes_pending"] >= 1
    # AMI back (the fixture's teardown runs at the end; reload the original here)
    manager = e2e_settings.asterisk[0].config_dir / "manager.conf"  # type: ignore[operator]
    assert "enabled = yes" in manager.read_text(encoding="utf-8")
    sandbox.cli("manager reload")
    wait_for(lambda: ami_up(service), 60, "the service logs in to AMI again")
    wait_for(lambda: operator(service, "op-sync")["asterisk"]["applied"], 60, "the change applied")
    assert "op-sync" in sandbox.cli("pjsip show endpoints")
    with tempfile.TemporaryDirectory() as tmp:
        finished(sipp(e2e_settings, softphone_register_scenario("op-sync", password), Path(tmp), PHONE_PORT))
    later = operator(service, "op-sync")
    assert "password" not in str(later) and shown["api_token"] not in str(later)  # shown once
