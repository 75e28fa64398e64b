"""Last of the real-Asterisk tests: every synthetic caller number the others used is searched
for in every store (the privacy check's own scan, sandbox/privacy_check.py). None may be found."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from privacy.scanner import Scanner
from sandbox.privacy_check import NAME, PrivacyCheck
from tests.e2e.calls import NUMBERS
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk


def test_no_caller_number_reached_any_store(service: Service, e2e_settings: Settings) -> None:
    assert len(NUMBERS) >= 10, "runs after the call tests of this module"
    service.start()
    check = PrivacyCheck(e2e_settings)
    assert any(r["outcome"] == "answered" for r in check.all_records())
    report = check.scan(NUMBERS, [NAME])
    assert report.findings == [], "\n".join(report.lines())
    service.stop()  # what the service writes while stopping counts too
    scanner = Scanner(NUMBERS, [NAME])
    assert scanner.scan_files(check.file_roots()) == []
    # The scan itself can see a number where one is, in a spelling other than the dialled one.
    control = Path(e2e_settings.var_dir) / "log" / "control.txt"
    national = NUMBERS[0][-10:]
    control.write_text(f"leak 8 ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}")
    assert [f.needle for f in scanner.scan_files(check.file_roots())] == [NUMBERS[0]]
    control.unlink()
