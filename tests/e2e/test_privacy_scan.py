"""Last of the real-Asterisk tests: every synthetic caller number the others used is searched
for in every store. None may be found."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hotline.privacy import needles_for, scan_files, scan_text
from hotline.sandbox import Sandbox
from hotline.settings import Settings
from tests.e2e.calls import NAME, NUMBERS
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk


def test_no_caller_number_reached_any_store(
    service: Service, e2e_settings: Settings, sandbox: Sandbox
) -> None:
    assert len(NUMBERS) >= 10, "runs after the call tests of this module"
    needles = [n for number in NUMBERS for n in needles_for(number)] + [NAME]
    service.start()
    texts = {
        "/api/calls": httpx.get(
            f"{service.url}/api/calls", params={"limit": 1000}, headers=service.admin
        ).text,
        "/metrics": httpx.get(f"{service.url}/metrics/").text,
        "/healthz": httpx.get(f"{service.url}/healthz").text,
    }
    service.stop()
    assert '"outcome":"answered"' in texts["/api/calls"]
    findings = [f for where, text in texts.items() for f in scan_text(where, text, needles)]
    stores = [e2e_settings.var_dir, sandbox.directory]
    findings += scan_files(stores, needles)
    assert findings == []
    # The scan itself can see a number where one is.
    control = Path(e2e_settings.var_dir) / "control.txt"
    control.write_text(f"leak {NUMBERS[0].lstrip('+')}", encoding="utf-8")
    assert scan_files(stores, needles), "the scanner must find a planted number"
    control.unlink()
