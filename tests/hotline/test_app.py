"""The composition root's wiring of the record writer: its journal under var_dir, and the
backlog of records not saved yet on /healthz, /metrics and the wallboard."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import httpx

from core.db import migrate
from hotline.app import Hotline
from tests.accounts import make_admin
from tests.conftest import make_settings
from tests.metrics.records.test_writer import record

ADMIN_TOKEN = "a" * 24
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_records_not_saved_yet_show_on_healthz_metrics_and_the_wallboard(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, asterisk=[{"name": "local", "ami_secret": "s" * 24}])
    hotline = Hotline(settings)
    migrate(hotline.engine)
    make_admin(hotline.engine, ADMIN_TOKEN)
    locker = sqlite3.connect(settings.var_dir / "hotline.sqlite3", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the file: 5 s of busy wait, then an outage
    hotline.writer.submit(record("1.1"))
    await asyncio.wait_for(hotline.writer.wait_until(lambda b: b.outage and b.pending == 1), 30)
    [segment] = (settings.var_dir / "records").glob("journal-*.jsonl")
    assert stat.S_IMODE(segment.stat().st_mode) == 0o600 and '"call_id":"1.1"' in segment.read_text()
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        health = (await client.get("/healthz", headers=ADMIN)).json()
        assert health["records"]["pending"] == 1 and health["records"]["oldest_pending_seconds"] >= 0
        text = (await client.get("/metrics/")).text
        assert "hotline_records_pending 1.0" in text and "hotline_records_saved_total 0.0" in text
        assert hotline.wallboard.snapshot()["records"]["pending"] == 1
        locker.execute("ROLLBACK")  # the file is free again: the next try saves the record
        await asyncio.wait_for(hotline.writer.wait_until(lambda b: b.pending == 0), 30)
        health = (await client.get("/healthz", headers=ADMIN)).json()
        assert health["records"] == {"pending": 0, "oldest_pending_seconds": 0.0}
        text = (await client.get("/metrics/")).text
        assert "hotline_records_pending 0.0" in text and "hotline_records_saved_total 1.0" in text
    assert [r.call_id for r in hotline.store.list()] == ["1.1"]
    assert list((settings.var_dir / "records").glob("journal-*.jsonl")) == []
    await hotline.writer.close()
    locker.close()
    hotline.engine.dispose()
