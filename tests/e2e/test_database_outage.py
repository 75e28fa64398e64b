"""Issue 13 on the real Asterisk: the database goes away while real calls come and end.

A service on a private PostgreSQL (stopped and started by the test) takes over from the session's
SQLite one for this module. Callers reach a human while the database is away; their records wait
(on /metrics and /healthz) and are all written, once each, when it returns; the reports, read
from the 15-minute cells, equal the records (tests/e2e/test_database_locked.py: SQLite)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from core.settings import Settings, load_settings
from sandbox.privacy_check import NAME, PrivacyCheck
from tests.e2e.calls import NUMBERS, backlog, plan, report_equals_records
from tests.e2e.conftest import Service
from tests.pg_private import PrivatePostgres

pytestmark = pytest.mark.asterisk

# (keys, caller hangs up after ms) -> how many: answered, hung up in the IVR, gone from a queue
MIX: dict[tuple[str, int | None], int] = {("11", None): 3, ("", None): 1, ("", 1500): 2, ("16", 8000): 2}


@pytest.fixture(scope="module")
def pg_service(
    service: Service, e2e_config: Path, e2e_settings: Settings, private_postgres_server: PrivatePostgres
) -> Iterator[tuple[Service, Settings, PrivatePostgres]]:
    """The same hotline (ports, var dir, Asterisk) on a private PostgreSQL, for this module."""
    service.stop()
    private_postgres_server.start()
    data = yaml.safe_load(e2e_config.read_text(encoding="utf-8"))
    data["database_url"] = private_postgres_server.create_database()
    path = e2e_config.with_name("hotline-postgres.yaml")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    pg = Service(path, service.log_file)  # its own admin and token, in its own database
    pg.start(timeout=60)
    try:
        yield pg, load_settings(path), private_postgres_server
    finally:
        pg.stop()
        private_postgres_server.start()


def _mix() -> list[Any]:
    return [plan(keys, hangup_after_ms=ms) for (keys, ms), n in MIX.items() for _ in range(n)]


def _outage(
    pg_service: tuple[Service, Settings, PrivatePostgres], seconds: float, base_port: int, waves: int = 1
) -> None:
    svc, settings, pg = pg_service
    check = PrivacyCheck(settings, timeout=90)
    before = check.record_ids()
    pg.stop()
    began = time.monotonic()
    # A read that needs the database says so: a 503 to try again, not a 500.
    away = httpx.get(f"{svc.url}/api/calls", headers=svc.admin, timeout=30)
    assert away.status_code == 503 and away.json()["error_id"] == "database_unavailable", away.text
    assert away.headers["Retry-After"] == "5"
    placed = 0
    for wave in range(waves):  # calls come and end all through the outage
        time.sleep(max(0.0, began + wave * seconds / waves - time.monotonic()))
        plans = _mix()
        completed, failed = asyncio.run(check.place(plans, base_port=base_port + 200 * wave))
        assert (completed, failed) == (len(plans), 0), "a caller did not reach a human"
        placed += len(plans)
        time.sleep(2)  # the last records are handed to the writer
        pending, health = backlog(svc)
        assert pending == placed and health["pending"] == placed, (pending, health)
    assert time.monotonic() - began < seconds, "the calls took longer than the outage"
    time.sleep(began + seconds - time.monotonic())
    print(f"PostgreSQL away {time.monotonic() - began:.0f} s, {placed} calls ended meanwhile")
    pg.start()
    got = check.new_records(before, placed, timeout=90)
    assert len(got) == placed  # one each (the store keeps one row per call), none lost
    assert backlog(svc)[0] == 0
    report_equals_records(svc, check.all_records())
    report = check.scan(NUMBERS, [NAME])  # the PostgreSQL database too
    assert not report.findings, "\n".join(report.lines())


def test_postgres_away_for_a_minute(pg_service: tuple[Service, Settings, PrivatePostgres]) -> None:
    _outage(pg_service, 60, 28000)


@pytest.mark.beside  # ten minutes of waiting: `make test` runs it beside the rest
def test_postgres_away_for_ten_minutes(pg_service: tuple[Service, Settings, PrivatePostgres]) -> None:
    # Its callers' sipp ports (44000.., media 45000..) lie apart from every other test's: it
    # runs beside them (the ports of 30000.. met another test's media ports, and calls failed).
    _outage(pg_service, 600, 44000, waves=3)
