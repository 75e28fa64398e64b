"""The burnout guard's recovery with its PostgreSQL stopped: the operator cannot even be read
while it is away, so the pause is tried again with backoff and lands (in Asterisk and in the
log) once the server is back. A private server (tests/pg_private.py) the test stops and starts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from core.db import make_engine, migrate
from tests.agents.test_guard import Desk, done

pg_private = pytest.importorskip("tests.pg_private")
private_postgres_server = pg_private.private_postgres_server
private_postgres = pg_private.private_postgres
pytestmark = pytest.mark.postgres  # private_postgres: a tests.pg_private.PrivatePostgres


async def test_the_recovery_pause_waits_for_a_stopped_postgresql(
    private_postgres: Any, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(private_postgres.create_database())
    migrate(engine)
    desk = Desk.on(engine, recovery_minutes=0.1)  # 6 s: the time the guard keeps trying
    caplog.set_level(logging.INFO)
    await asyncio.to_thread(private_postgres.stop)
    desk.guard.on_event(done(700, talk=660))
    await asyncio.sleep(1.0)
    assert desk.node.pauses() == []  # the operator could not be read: nothing sent yet
    assert desk.tasks.failures["burnout-guard"] >= 2
    await asyncio.to_thread(private_postgres.start)
    deadline = asyncio.get_running_loop().time() + 15
    while desk.node.pauses() != ["true", "false"]:
        assert asyncio.get_running_loop().time() < deadline, desk.node.pauses()
        await asyncio.sleep(0.1)
    assert await desk.written() == [("recovery", "guard", True)]
    assert caplog.text.count("burnout guard: recovery pause for op-anna failed (OperationalError") == 1
    assert "burnout guard: recovery pause for op-anna works again" in caplog.text
    assert "never retrieved" not in caplog.text
    await desk.guard.close()
    await desk.tasks.close()
    engine.dispose()
