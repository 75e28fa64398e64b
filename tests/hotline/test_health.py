"""/healthz: the public answer says only ok or degraded and the versions; the details (nodes,
their errors with host and port, records waiting, operators' changes waiting) only for an
admin's or a shift lead's token (issue 14, item 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import Request

from agents.auth import Principal, Unauthorized
from agents.directory import Role
from agents.exceptions import Forbidden
from core.db import migrate
from hotline import __version__
from hotline.app import Hotline
from hotline.http import create_app
from tests.accounts import make_admin
from tests.conftest import make_settings

ADMIN_TOKEN = "a" * 24
DETAILS = {
    "status": "degraded",
    "agi": {"listening": True},
    "ivr": {"version": 3},
    "records": {"pending": 2, "oldest_pending_seconds": 4.0},
    "asterisk": [{"node": "local", "last_error": "connect to 10.0.0.7:5038 refused"}],
}


async def lead_only(request: Request, _: object, __: object) -> Principal:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if token == "lead":
        return Principal("op-lead", Role.SHIFT_LEAD, operator=True)
    if token == "operator":
        raise Forbidden("this needs the role admin, shift_lead; you are operator")
    raise Unauthorized("this token is not valid")


def client(ok: bool = False) -> httpx.AsyncClient:
    app = create_app(
        [], health=lambda: (dict(DETAILS, status="ok" if ok else "degraded"), ok), staff=lead_only
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hotline")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_public_answer_holds_the_status_and_versions_only() -> None:
    async with client(ok=True) as c:
        ok = await c.get("/healthz")
    async with client() as c:
        degraded = await c.get("/healthz")
    assert (ok.status_code, ok.json()) == (
        200,
        {"status": "ok", "version": __version__, "ivr": {"version": 3}},
    )
    assert degraded.status_code == 503 and degraded.json()["error_id"] == "degraded"
    assert {k: degraded.json().get(k) for k in ("version", "ivr")} == {
        "version": __version__,
        "ivr": {"version": 3},
    }
    for answer in (ok, degraded):
        assert not {"agi", "asterisk", "records"} & answer.json().keys()
        assert "5038" not in answer.text and "local" not in answer.text


async def test_a_shift_lead_sees_the_details() -> None:
    async with client() as c:
        answer = await c.get("/healthz", headers=bearer("lead"))
    body: dict[str, Any] = answer.json()
    assert answer.status_code == 503 and body["version"] == __version__
    assert {k: body[k] for k in ("agi", "records", "asterisk")} == {
        k: DETAILS[k] for k in ("agi", "records", "asterisk")
    }


async def test_an_operators_token_is_refused_and_a_wrong_one_too() -> None:
    async with client(ok=True) as c:
        operator = await c.get("/healthz", headers=bearer("operator"))
        wrong = await c.get("/healthz", headers=bearer("nonsense"))
    assert (operator.status_code, operator.json()["error_id"]) == (403, "forbidden")
    assert (wrong.status_code, wrong.json()["error_id"]) == (401, "unauthorized")
    assert "asterisk" not in operator.text + wrong.text


async def test_the_service_hides_its_nodes_from_the_public_and_shows_them_to_an_admin(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        asterisk=[{"name": "local", "ami_host": "10.0.0.7", "ami_port": 5038, "ami_secret": "s" * 24}],
    )
    hotline = Hotline(settings)
    migrate(hotline.engine)
    make_admin(hotline.engine, ADMIN_TOKEN)
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as c:
        public = await c.get("/healthz")
        staff = await c.get("/healthz", headers=bearer(ADMIN_TOKEN))
    assert public.status_code == staff.status_code == 503  # AMI not logged in: no node here
    assert public.json().keys() <= {"type", "title", "status", "detail", "error_id", "version", "ivr"}
    assert "local" not in public.text and "10.0.0.7" not in public.text
    assert staff.json()["asterisk"][0]["node"] == "local" and "records" in staff.json()
