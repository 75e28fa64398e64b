"""A FastAGI server on a free port for each test, closed with its fake Asterisk peers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from telephony.fastagi import FastAgiServer
from tests.telephony.agi_peer import WAIT, FakeAsterisk, Probe

StartServer = Callable[..., Awaitable[FastAgiServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    started: list[FastAgiServer] = []

    async def start(handler: Any, **options: Any) -> FastAgiServer:
        server = FastAgiServer(handler, port=0, **options)
        await server.start()
        started.append(server)
        return server

    yield start
    await FakeAsterisk.close_all()
    for server in started:
        await server.close()


async def wait_idle(server: FastAgiServer) -> None:
    """Wait until no session is running (a spinning session never gets here)."""
    deadline = time.monotonic() + WAIT
    while server.active_sessions:
        assert time.monotonic() < deadline, "session did not end"
        await asyncio.sleep(0.01)


async def assert_still_serves(server: FastAgiServer, probe: Probe) -> None:
    """A fresh connection after a failure is served: the handler sees its request."""
    before = len(probe.requests)
    peer = await FakeAsterisk.connect(server.port)
    await peer.close()
    await probe.finished()
    assert len(probe.requests) == before + 1
