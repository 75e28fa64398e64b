"""Issue 13 on the real Asterisk, SQLite: another process holds the database file's write lock
while calls end. Callers reach a human, records wait (on /metrics and /healthz) and are all
written once the lock is gone; the reports equal the records."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from core.settings import Settings
from sandbox.privacy_check import PrivacyCheck
from tests.e2e.calls import backlog, plan, report_equals_records
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk
MIX = [("11", None), ("11", None), ("", 1500), ("16", 8000)]  # answered, IVR, gone from a queue


def test_sqlite_locked_while_calls_end(service: Service, e2e_settings: Settings) -> None:
    """Another process holds the SQLite file's write lock for 30 s while calls end."""
    service.start()
    check = PrivacyCheck(e2e_settings, timeout=90)
    before = check.record_ids()
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        database = e2e_settings.database_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(database, timeout=10, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(60)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(15)
        began = time.monotonic()
        plans = [plan(keys, hangup_after_ms=ms) for keys, ms in MIX]
        completed, failed = asyncio.run(check.place(plans, base_port=28800))
        assert (completed, failed) == (len(plans), 0)
        time.sleep(max(0.0, began + 30 - time.monotonic()))
        pending, health = backlog(service)
        assert pending == health["pending"] == len(plans), health
    finally:
        release.set()
        holder.join()
    got = check.new_records(before, len(plans), timeout=90)
    assert len(got) == len(plans)
    report_equals_records(service, check.all_records())
