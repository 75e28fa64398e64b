"""The wallboard's Server-Sent Events: a snapshot first, then one per change."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from metrics.live.board import QueueBoard
from telephony.events import QueueCallerJoin
from tests.metrics.reports.test_api import wallboard
from wallboard.api import _events


async def test_the_stream_sends_a_snapshot_then_one_per_change() -> None:
    board = QueueBoard()
    hub = wallboard(board)
    frames = _events(hub)
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
    frames = _events(hub)
    await asyncio.wait_for(anext(frames), 1)
    reading = asyncio.ensure_future(anext(frames))
    await asyncio.sleep(0.01)
    hub.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(reading, 1)
    assert hub.subscribers == 0
