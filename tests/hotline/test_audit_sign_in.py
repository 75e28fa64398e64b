"""Signing in leaves its trace (issue 18): each sign-in, each failure, a kiosk paired, a token
made or revoked, a person's sessions ended, with the right actor, and never a password, a
token or a code in an entry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents import passwords
from agents.directory import Role
from core.db import migrate
from hotline.app import Hotline
from tests.accounts import make_admin
from tests.conftest import make_settings

TOKEN = "a" * 24
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "a long enough passphrase"


@pytest.fixture
async def hotline(tmp_path: Path) -> AsyncIterator[Hotline]:
    app = Hotline(make_settings(tmp_path, asterisk=[{"name": "local", "ami_secret": "s" * 24}]))
    migrate(app.engine)
    make_admin(app.engine, TOKEN)
    app.directory.create("op-anna", "Anna", Role.OPERATOR, {})
    app.people.accounts.set_password("op-anna", PASSWORD)
    yield app
    await app.writer.close()
    await app.audit.close()
    app.engine.dispose()


async def _entries(hotline: Hotline) -> list[dict[str, Any]]:
    await hotline.audit.flush()
    return await asyncio.to_thread(hotline.audit.store.entries)


async def test_sign_ins_failures_tokens_and_kiosks_are_entries_with_their_actor(hotline: Hotline) -> None:
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        failed = await client.post("/api/session", json={"id": "op-anna", "password": "the wrong one!"})
        assert failed.status_code == 401
        signed = await client.post("/api/session", json={"id": "op-anna", "password": PASSWORD})
        anna = {
            "Cookie": f"hotline_session={signed.cookies['hotline_session']}",
            "X-CSRF-Token": signed.json()["csrf"],
        }
        secret = (await client.post("/api/session/second-factor", headers=anna)).json()["secret"]
        code = passwords.totp(secret)
        assert (
            await client.put("/api/session/second-factor", json={"code": code}, headers=anna)
        ).status_code == 200
        assert (await client.delete("/api/session", headers=anna)).status_code == 204
        made = await client.post(
            "/api/tokens", json={"name": "backup", "scopes": ["records:read"]}, headers=ADMIN
        )
        token = made.json()["token"]
        assert (
            await client.delete(f"/api/tokens/{made.json()['about']['id']}", headers=ADMIN)
        ).status_code == 200
        issued = (await client.post("/api/kiosks", json={"label": "hall TV"}, headers=ADMIN)).json()
        assert (await client.post("/api/kiosks/pair", json={"code": issued["code"]})).status_code == 204
        reset = await client.post("/api/operators/op-anna/credentials", headers=ADMIN)
        assert reset.status_code == 200
    got = await _entries(hotline)
    seen = [(e["actor"], e["action"], e["status"]) for e in got]
    assert seen == [
        ("anonymous", "POST /api/session", 401),
        ("op-anna", "POST /api/session", 200),
        ("op-anna", "POST /api/session/second-factor", 200),
        ("op-anna", "PUT /api/session/second-factor", 200),
        ("op-anna", "DELETE /api/session", 204),
        ("admin", "POST /api/tokens", 201),
        ("admin", "DELETE /api/tokens/{token_id}", 200),
        ("admin", "POST /api/kiosks", 201),
        ("kiosk:hall TV", "POST /api/kiosks/pair", 204),
        ("admin", "POST /api/operators/{operator_id}/credentials", 200),
    ]
    assert got[0]["details"] == {"account": "op-anna"}  # who was tried, from where: the address
    assert got[5]["details"]["scopes"] == ["records:read"] and got[5]["details"]["name"] == "backup"
    assert got[-1]["details"] == {"sessions_ended": 0} and got[-1]["target"] == "operator_id=op-anna"
    text = json.dumps(got)
    for secret_value in (PASSWORD, "the wrong one!", secret, code, token, issued["code"], TOKEN):
        assert secret_value not in text
    assert signed.cookies["hotline_session"] not in text and reset.json()["password"] not in text


async def test_sign_ins_refused_before_their_check_do_not_flood_the_log(hotline: Hotline) -> None:
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        for _ in range(40):  # ten failures, then thirty throttled
            await client.post("/api/session", json={"id": "op-anna", "password": "the wrong one!"})
        for _ in range(20):
            assert (await client.post("/api/session", content=b"{}")).status_code == 422
    got = await _entries(hotline)
    checked = [e for e in got if e["action"] == "POST /api/session"]
    assert len(checked) == 10 and {e["status"] for e in checked} <= {401, 429}
    refused = [e for e in got if e["action"] == "auth.refused"]
    assert len(refused) == 1  # the other fifty: counted in the next entry of the minute
    assert len(got) == 11
