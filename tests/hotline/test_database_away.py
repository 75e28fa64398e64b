"""A read that needs the database while it is away answers 503 database_unavailable with a
Retry-After (not a 500), and the same read works once it is back. The database goes away for
real: the SQLite file's folder is moved, so no connection can be opened (the e2e outage test
does the same with a stopped PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import httpx

from core.db import make_engine, migrate
from hotline.app import Hotline
from tests.accounts import make_admin
from tests.conftest import make_settings

TOKEN = "a" * 24
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def test_a_read_with_the_database_away_is_a_503_to_try_again(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    url = f"sqlite:///{folder / 'hotline.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    make_admin(engine, TOKEN)
    engine.dispose()
    settings = make_settings(tmp_path, database_url=url, asterisk=[{"name": "local", "ami_secret": "s" * 24}])
    hotline = Hotline(settings)
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        assert (await client.get("/api/calls", headers=ADMIN)).status_code == 200
        hotline.engine.dispose()  # no pooled connection left open on the file
        folder.rename(tmp_path / "db-away")
        away = await client.get("/api/calls", headers=ADMIN)
        assert away.status_code == 503, away.text
        assert away.json()["error_id"] == "database_unavailable" and away.headers["Retry-After"] == "5"
        assert away.headers["Content-Type"] == "application/problem+json"
        (tmp_path / "db-away").rename(folder)
        assert (await client.get("/api/calls", headers=ADMIN)).status_code == 200
    hotline.engine.dispose()
