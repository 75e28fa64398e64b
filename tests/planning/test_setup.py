"""What the planning page starts from, in the composed app: the line's configured time zone
(metrics.timezone, not a zone of the code's choosing) and the active people a roster can use,
from the operator directory."""

from __future__ import annotations

from pathlib import Path

import httpx

from agents.directory import Role
from core.db import make_engine, migrate
from hotline.app import Hotline
from hotline.http import create_app
from planning.api import planning_router
from tests.accounts import authenticator, make_admin
from tests.conftest import make_settings
from tests.planning.test_api import START, seed

TOKEN = "setup-admin-t0ken"


async def test_setup_gives_the_configured_zone_and_the_active_people(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, metrics={"timezone": "Europe/Warsaw"})
    hotline = Hotline(settings)
    migrate(hotline.engine)
    make_admin(hotline.engine, TOKEN)
    directory = hotline.directory
    directory.create("op-anna", "Anna", Role.OPERATOR, {"crisis": 2})
    directory.create("op-lead", "Lena", Role.SHIFT_LEAD, {})
    directory.create("op-gone", "Gone", Role.OPERATOR, {})
    directory.update("op-gone", active=False)
    transport = httpx.ASGITransport(app=hotline.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
            response = await client.get("/api/planning/setup", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        hotline.engine.dispose()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Europe/Warsaw"
    assert body["operators"] == [
        {"id": "admin", "display_name": "Administrator", "role": "admin"},
        {"id": "op-anna", "display_name": "Anna", "role": "operator"},
        {"id": "op-lead", "display_name": "Lena", "role": "shift_lead"},
    ]


async def test_a_plan_that_names_no_zone_is_made_in_the_lines(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(engine)
    seed(engine, weeks=1)
    guard = authenticator(engine, admin_token=TOKEN).guard({Role.ADMIN}, "planning")
    app = create_app([planning_router(engine, guard, timezone="Europe/Warsaw")])
    plan = {"start": START.isoformat(), "days": 1, "history_weeks": 1}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
            line = (await client.post("/api/planning/forecast", json=plan, headers=headers)).json()
            asked = {**plan, "timezone": "Asia/Almaty"}
            other = (await client.post("/api/planning/forecast", json=asked, headers=headers)).json()
    finally:
        engine.dispose()
    assert line["timezone"] == "Europe/Warsaw" and line["intervals"][0] == "2026-11-23T00:00:00+01:00"
    assert other["timezone"] == "Asia/Almaty" and other["intervals"][0] == "2026-11-23T00:00:00+05:00"
