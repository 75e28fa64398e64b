"""What the planning page starts from, in the composed app: the line's configured time zone
(metrics.timezone, not a zone of the code's choosing) and the active people a roster can use,
from the operator directory."""

from __future__ import annotations

from pathlib import Path

import httpx

from agents.directory import Role
from core.db import migrate
from hotline.app import Hotline
from tests.accounts import make_admin
from tests.conftest import make_settings

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
