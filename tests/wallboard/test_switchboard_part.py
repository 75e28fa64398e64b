"""The wallboard's ``switchboard`` part: the redirects in force and their expiry, in the snapshot
and pushed to open streams when one begins or ends (ivr/switchboard.py)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.db import make_engine, migrate
from ivr.switchboard import Switchboard
from ivr.switchboard_store import SwitchboardStore
from metrics.live.board import QueueBoard
from metrics.records.levels import ServiceLevels
from tests.conftest import seed_document
from wallboard.service import Wallboard, WallboardSources

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_the_snapshot_shows_each_redirect_and_a_change_is_pushed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(engine)
    doc = seed_document()
    board = Switchboard(SwitchboardStore(engine), lambda: doc, lambda: NOW)
    wall = Wallboard(
        WallboardSources(
            QueueBoard(), doc.queue_names, list, lambda: ServiceLevels({}), clock=lambda: NOW,
            switchboard=board.snapshot,
        ),
        coalesce=0.01,
    )  # fmt: skip
    board.listen(wall.changed)
    assert wall.snapshot()["switchboard"] == []
    stream = wall.subscribe()
    assert json.loads(await anext(stream))["switchboard"] == []
    made = await board.start("crisis", None, "crisis-team", timedelta(minutes=10), "op-lead")
    pushed = json.loads(await asyncio.wait_for(anext(stream), 5))
    assert pushed["switchboard"] == [
        {
            "id": made.id,
            "queue": "crisis",
            "target_queue": None,
            "target_referral": "crisis-team",
            "started_by": "op-lead",
            "started_at": NOW.isoformat(),
            "expires_at": (NOW + timedelta(minutes=10)).isoformat(),
            "seconds_left": 600.0,
        }
    ]
    await board.end(made.id, "op-lead")
    assert json.loads(await asyncio.wait_for(anext(stream), 5))["switchboard"] == []
    await stream.aclose()
    engine.dispose()
