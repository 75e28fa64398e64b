"""The wallboard's Server-Sent Events: a snapshot first, then one per change; the stream ends
when the service stops, and when its token no longer admits it (through the composition root's
app: the shift lead deactivated, their token reset, their role changed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.db import migrate
from hotline.app import Hotline
from metrics.live.board import QueueBoard
from telephony.events import QueueCallerJoin
from tests.accounts import make_admin
from tests.conftest import make_settings
from tests.hotline.test_loops import until
from tests.metrics.reports.test_api import wallboard
from wallboard.api import _events

ADMIN_TOKEN = "a" * 24
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Admitted:
    """Stands in for the guard asked again: True ``times`` times, then False."""

    def __init__(self, times: int = 10**9) -> None:
        self.left = times
        self.asked = 0

    async def __call__(self) -> bool:
        self.asked += 1
        self.left -= 1
        return self.left >= 0


async def test_the_stream_sends_a_snapshot_then_one_per_change() -> None:
    board = QueueBoard()
    hub = wallboard(board)
    frames = _events(hub, Admitted())
    first = await asyncio.wait_for(anext(frames), 1)
    assert first.startswith("event: snapshot\ndata: ")
    assert json.loads(first.split("data: ", 1)[1])["queues"][0]["waiting"] == 0
    join = QueueCallerJoin("local", datetime.now(UTC), "c1", "u1", "crisis", 1, 1)
    board.on_event(join)
    hub.on_event(join)
    second = json.loads((await asyncio.wait_for(anext(frames), 1)).split("data: ", 1)[1])
    assert [(q["queue"], q["waiting"]) for q in second["queues"]] == [("crisis", 1), ("legal", 0)]
    await frames.aclose()
    assert hub.subscribers == 0


async def test_a_stopping_service_ends_every_stream() -> None:
    hub = wallboard(QueueBoard())
    frames = _events(hub, Admitted())
    await asyncio.wait_for(anext(frames), 1)
    reading = asyncio.ensure_future(anext(frames))
    await asyncio.sleep(0.01)
    hub.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reading, 1)
    assert hub.subscribers == 0


async def _refused() -> bool:
    raise RuntimeError("the question itself failed")


@pytest.mark.parametrize("admitted", [Admitted(times=2), _refused], ids=["revoked", "cannot-tell"])
async def test_a_stream_ends_once_its_token_no_longer_admits_it(admitted: Callable[[], Any]) -> None:
    hub = wallboard(QueueBoard())
    frames = _events(hub, admitted, every=0.01)
    await asyncio.wait_for(anext(frames), 1)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(frames), 30)
    assert hub.subscribers == 0
    if isinstance(admitted, Admitted):
        assert admitted.asked == 3  # admitted twice, ended at the first no


Change = tuple[str, str, dict[str, Any] | None]
CHANGES: dict[str, Change] = {
    "deactivated": ("PATCH", "/api/operators/lead-1", {"active": False}),
    "token-reset": ("POST", "/api/operators/lead-1/credentials", None),
    "demoted": ("PATCH", "/api/operators/lead-1", {"role": "senior"}),
}


@pytest.fixture
async def hotline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hotline]:
    monkeypatch.setattr("wallboard.api.RECHECK_SECONDS", 0.05)
    settings = make_settings(tmp_path, asterisk=[{"name": "local", "ami_secret": "s" * 24}])
    app = Hotline(settings)
    migrate(app.engine)
    make_admin(app.engine, ADMIN_TOKEN)
    yield app
    app.wallboard.close()
    await app.writer.close()
    app.engine.dispose()


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
async def test_a_shift_leads_stream_ends_when_an_admin_revokes_them(hotline: Hotline, change: Change) -> None:
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", timeout=60) as client:
        body = {"id": "lead-1", "display_name": "Lead", "role": "shift_lead"}
        created = await client.post("/api/operators", json=body, headers=ADMIN)
        lead = {"Authorization": "Bearer " + created.json()["api_token"]}
        # The ASGI transport answers once the app has sent the whole body: when the stream ends.
        streaming = asyncio.ensure_future(client.get("/api/wallboard/stream", headers=lead))
        try:
            await until(lambda: hotline.wallboard.subscribers == 1, within=30)
            method, path, payload = change
            assert (await client.request(method, path, json=payload, headers=ADMIN)).status_code == 200
            response = await asyncio.wait_for(streaming, 30)
        finally:
            hotline.wallboard.close()  # ends a stream left open by a failure, so the test ends
        assert response.status_code == 200 and response.text.startswith("event: snapshot\ndata: ")
        assert (await client.get("/api/wallboard", headers=lead)).status_code in (401, 403)
