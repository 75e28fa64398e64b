"""Last of the real-Asterisk tests: `hotline privacy-check` as users run it (the wheel installed
without extras, tests/installed.py) places its own synthetic calls and finds none of their
numbers; then its scan (sandbox/privacy_check.py) looks for every synthetic caller number the
other tests used too, in every store. None may be found."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from privacy.scanner import Scanner
from sandbox.privacy_check import DEFAULT_SHAPES, NAME, PrivacyCheck, synthetic_number
from tests.e2e.calls import NUMBERS
from tests.e2e.conftest import Service
from tests.installed import Installed

pytestmark = pytest.mark.asterisk

FIRST = 9001  # the check's own numbers, +79000009001 on: apart from those of tests.e2e.calls


def test_the_installed_privacy_check_finds_no_number(
    service: Service, e2e_config: Path, installed: Installed, tmp_path: Path
) -> None:
    service.start()
    calls = len(DEFAULT_SHAPES)  # one caller of each kind
    args = ("--config", str(e2e_config), "privacy-check", "--calls", str(calls), "--first", str(FIRST))
    done = installed.run(*args, cwd=tmp_path, timeout=300)
    NUMBERS.extend(synthetic_number(n) for n in range(FIRST, FIRST + calls))  # scanned again below
    output = done.stdout + done.stderr
    # 0: one new record per call, nothing found. (A caller who means to hang up at 9 s may count
    # as failed here, where the simulated operators hang up after 3 s.)
    assert done.returncode == 0, output
    assert f"calls: {calls} placed" in done.stdout and f"records: {calls} (" in done.stdout, output
    assert "no caller number or name found anywhere" in done.stdout, output
    assert "HTTP Request" not in output  # no client logging a line per request


def test_no_caller_number_reached_any_store(service: Service, e2e_settings: Settings) -> None:
    assert len(NUMBERS) >= 6, "runs after the call tests of this package"
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


@pytest.mark.beside
def test_no_caller_number_reached_any_store_beside(service: Service, e2e_settings: Settings) -> None:
    """The same scan, last in make test's second pytest: its callers reached its own Asterisk and
    service (the IVR editor's calls, the five lines', the database outage's)."""
    test_no_caller_number_reached_any_store(service, e2e_settings)
