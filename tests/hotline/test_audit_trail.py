"""The audit trail of the HTTP API (hotline/audit.py) through the composed app: every change and
every sensitive read leaves one entry with the right actor, role, address, route and status; an
ordinary read leaves none; refused tokens are counted, not flooded; admins alone read, export and
verify the log; `hotline audit verify` names a tampered entry."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text

from core.audit import AuditEntry
from core.db import migrate
from hotline.app import Hotline
from hotline.audit import AuditTrail, client_address, networks
from hotline.cli import main
from tests.accounts import make_admin
from tests.conftest import ROOT, make_settings

TOKEN = "a" * 24
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def _entries(hotline: Hotline) -> list[dict[str, Any]]:
    await hotline.audit.flush()
    return await asyncio.to_thread(hotline.audit.store.entries)


@pytest.fixture
def hotline(tmp_path: Path) -> Any:
    settings = make_settings(
        tmp_path,
        asterisk=[{"name": "local", "ami_secret": "s" * 24}],
        http={"trusted_proxies": ["127.0.0.1"]},
    )
    app = Hotline(settings)
    migrate(app.engine)
    make_admin(app.engine, TOKEN)  # the admin account "admin", whose own token is TOKEN
    yield app
    app.engine.dispose()


async def test_changes_and_sensitive_reads_leave_one_entry_each(hotline: Hotline) -> None:
    transport = httpx.ASGITransport(app=hotline.app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        made = await client.post(
            "/api/operators",
            json={"id": "op-audit", "display_name": "Audit", "role": "operator"},
            headers={**ADMIN, "X-Forwarded-For": "198.51.100.7"},
        )
        assert made.status_code == 201, made.text
        token = made.json()["api_token"]
        operator = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/operators", headers=ADMIN)).status_code == 200  # ordinary read
        assert (await client.get("/api/operators/op-audit", headers=operator)).status_code == 200
        changed = await client.patch("/api/operators/op-audit", json={"display_name": "Aud"}, headers=ADMIN)
        assert changed.status_code == 200
        exported = await client.get("/api/calls/export", params={"format": "csv"}, headers=ADMIN)
        assert exported.status_code == 200
        refused = await client.patch("/api/operators/op-audit", json={"display_name": "X"}, headers=operator)
        assert refused.status_code == 403
        assert (await client.get("/api/audit", headers=operator)).status_code == 403
        got = await _entries(hotline)
    brief = [(e["actor"], e["role"], e["action"], e["target"], e["status"]) for e in got]
    assert brief == [
        ("admin", "admin", "POST /api/operators", "", 201),
        ("admin", "admin", "PATCH /api/operators/{operator_id}", "operator_id=op-audit", 200),
        ("admin", "admin", "GET /api/calls/export", "", 200),
        ("op-audit", "operator", "PATCH /api/operators/{operator_id}", "operator_id=op-audit", 403),
        ("op-audit", "operator", "GET /api/audit", "", 403),
    ]
    assert got[0]["address"] == "198.51.100.7"  # forwarded by a trusted proxy
    assert got[1]["address"] == "127.0.0.1"  # no X-Forwarded-For: the proxy itself
    assert got[1]["details"] == {"changed": {"display_name": {"before": "Audit", "after": "Aud"}}}
    assert got[2]["details"] == {"query": {"format": "csv"}}
    assert all(token not in str(e) and TOKEN not in str(e) for e in got)  # never a token


async def test_refused_tokens_are_counted_not_flooded(hotline: Hotline) -> None:
    transport = httpx.ASGITransport(app=hotline.app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        for _ in range(5):
            bad = await client.post("/api/ivr/validate", headers={"Authorization": "Bearer wrong"})
            assert bad.status_code == 401
        assert (await client.get("/api/calls", headers={"Authorization": "Bearer nope"})).status_code == 401
        got = await _entries(hotline)
    assert [(e["actor"], e["action"], e["address"], e["status"]) for e in got] == [
        ("anonymous", "auth.refused", "203.0.113.9", 401)
    ]


def test_refusals_after_the_interval_carry_the_count() -> None:
    recorded: list[AuditEntry] = []
    now = [0.0]
    trail = AuditTrail(lambda _s, _r, _send: None, recorded.append, clock=lambda: now[0])  # type: ignore[arg-type,return-value]
    scope: dict[str, Any] = {"client": ("192.0.2.1", 1), "headers": [], "method": "GET", "path": "/api/x"}
    for _ in range(4):
        trail._after(scope, 401)
    now[0] = 61.0
    trail._after(scope, 401)
    assert [e.details for e in recorded] == [{}, {"refused_since_last_entry": 3}]


def test_the_client_address_behind_proxies() -> None:
    proxies = networks(["10.0.0.0/8", "127.0.0.1"])

    def scope(peer: str, forwarded: str | None) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return {"client": (peer, 1), "headers": headers}

    assert client_address(scope("192.0.2.5", "198.51.100.1"), proxies) == "192.0.2.5"  # not a proxy: ignored
    assert client_address(scope("127.0.0.1", "198.51.100.1, 10.1.2.3"), proxies) == "198.51.100.1"
    assert client_address(scope("127.0.0.1", None), proxies) == "127.0.0.1"
    assert client_address(scope("127.0.0.1", "not-an-ip"), proxies) == "not-an-ip"
    assert client_address(scope("192.0.2.5", None), ()) == "192.0.2.5"


async def test_admins_read_export_and_verify_and_the_cli_names_a_tampered_entry(
    hotline: Hotline, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        for n in range(3):
            made = await client.post(
                "/api/operators",
                json={"id": f"op-v{n}", "display_name": "V", "role": "operator"},
                headers=ADMIN,
            )
            assert made.status_code == 201
        await hotline.audit.flush()
        page = await client.get("/api/audit", params={"action": "/api/operators", "limit": 2}, headers=ADMIN)
        assert [e["seq"] for e in page.json()] == [1, 2]
        rest = await client.get("/api/audit", params={"after": 2}, headers=ADMIN)
        assert rest.json()[0]["seq"] == 3
        exported = await client.get("/api/audit/export", headers=ADMIN)
        rows = list(csv.reader(io.StringIO(exported.text)))
        assert rows[0][:3] == ["seq", "at", "actor"] and len(rows) >= 4
        assert (await client.get("/api/audit/verify", headers=ADMIN)).json()["ok"] is True
        await hotline.audit.flush()
    data = yaml.safe_load((ROOT / "hotline.yaml").read_text(encoding="utf-8"))
    data.update(var_dir=str(hotline.settings.var_dir), database_url=hotline.settings.database_url)
    config = tmp_path / "hotline.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["--config", str(config), "audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    with hotline.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET target = 'operator_id=op-x' WHERE seq = 2"))
    assert main(["--config", str(config), "audit", "verify"]) == 1
    assert "entry 2 was changed after it was written (POST /api/operators)" in capsys.readouterr().err
