"""The HTTP front door (issue 14, item 1), served for real on a loopback port with raw sockets
as clients: connection caps in all and per address, a deadline on each request's head, a
refused body never read, the open-files limit raised, and what HTTP may hold within it."""

from __future__ import annotations

import asyncio
import logging
import resource
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from core.settings import HttpSettings
from hotline.front import RESERVED_FDS, HttpServer, http_capacity

HEAD = b"GET /hello HTTP/1.1\r\nHost: hotline\r\n\r\n"


async def hello(_: Request) -> Response:
    return PlainTextResponse("hello")


async def refuse(_: Request) -> Response:  # answers without reading the body, as a 401 does
    return PlainTextResponse("no", status_code=401)


async def slow(_: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for n in range(6):
            await asyncio.sleep(0.25)
            yield f"tick {n}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


APP = Starlette(
    routes=[Route("/hello", hello), Route("/refuse", refuse, methods=["POST"]), Route("/slow", slow)]
)


@dataclass
class Front:
    server: HttpServer

    async def connect(self, source: str = "127.0.0.1") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.server.port, local_addr=(source, 0))

    async def get(self, source: str = "127.0.0.1") -> bytes:
        reader, writer = await self.connect(source)
        writer.write(HEAD.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n"))
        try:
            return await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()

    async def settled(self, open_: int) -> None:
        """Until the server holds ``open_`` connections (accepting happens on its own time)."""
        await until(lambda: self.server.guard.open == open_)


Start = Callable[..., Awaitable[Front]]


async def until(condition: Callable[[], bool], within: float = 5) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within the time given")


@pytest.fixture
async def front() -> AsyncIterator[Start]:
    servers: list[tuple[HttpServer, asyncio.Task[None]]] = []

    async def start(**http: object) -> Front:
        server = HttpServer(APP, HttpSettings(host="127.0.0.1", port=0, **http), fd_limit=4096)  # type: ignore[arg-type]
        task = asyncio.create_task(server.serve())
        await until(lambda: server.started)
        servers.append((server, task))
        return Front(server)

    yield start
    for server, task in servers:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def ended(reader: asyncio.StreamReader, within: float) -> bytes:
    """What the server sent until it closed or reset the connection (fails if it did not)."""
    try:
        return await asyncio.wait_for(reader.read(), within)
    except ConnectionResetError:
        return b""


async def test_beyond_the_cap_from_one_address_a_connection_is_reset_and_others_are_served(
    front: Start, caplog: pytest.LogCaptureFixture
) -> None:
    f = await front(max_connections_per_peer=3)
    held = [await f.connect() for _ in range(3)]
    await f.settled(3)
    caplog.set_level(logging.WARNING, "hotline.http")
    extra = [await f.connect() for _ in range(20)]
    for reader, _ in extra:
        assert await ended(reader, 2) == b""
    assert (await f.get("127.0.0.2")).endswith(b"hello")  # another address is served meanwhile
    assert f.server.guard.refusals()["per_peer"] == 20
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1  # said once
    for _, writer in held[:1]:
        writer.close()
    await f.settled(2)
    assert (await f.get()).endswith(b"hello")  # the slot came back
    for _, writer in held[1:] + extra:
        writer.close()


async def test_beyond_the_cap_in_all_no_address_gets_more(front: Start) -> None:
    f = await front(max_connections=8, max_connections_per_peer=100)
    held = [await f.connect(f"127.0.0.{2 + n}") for n in range(8)]
    await f.settled(8)
    reader, writer = await f.connect("127.0.0.99")
    assert await ended(reader, 2) == b""
    assert f.server.guard.refusals()["connections"] == 1
    for _, w in [*held, (reader, writer)]:
        w.close()
    await f.settled(0)
    assert (await f.get()).endswith(b"hello")


async def test_a_head_that_does_not_arrive_in_time_is_cut_off_even_when_dribbled(front: Start) -> None:
    f = await front(header_timeout_seconds=0.6)
    silent, _ = await f.connect()
    dribbling, dribbling_w = await f.connect()
    for byte in HEAD[:-2]:  # a byte every 50 ms: data keeps coming, the head never completes
        if dribbling_w.is_closing():
            break
        dribbling_w.write(bytes([byte]))
        await asyncio.sleep(0.05)
        if dribbling.at_eof():
            break
    assert await ended(silent, 2) == b""
    assert await ended(dribbling, 2) == b""
    assert f.server.guard.refusals()["header_timeout"] == 2
    await f.settled(0)


async def test_the_deadline_is_for_the_head_not_for_a_long_answer_nor_a_kept_alive_request(
    front: Start,
) -> None:
    f = await front(header_timeout_seconds=0.5)
    reader, writer = await f.connect()
    writer.write(HEAD.replace(b"/hello", b"/slow"))
    answer = b""
    async with asyncio.timeout(5):
        while b"tick 5" not in answer:  # 1.5 s of answer, three times the deadline
            answer += await reader.read(4096)
    writer.write(HEAD)  # the same connection, kept alive: a new head, in time
    async with asyncio.timeout(5):
        while not answer.endswith(b"hello"):
            answer += await reader.read(4096)
    assert await ended(reader, 3) == b""  # then silence: this head's deadline cuts it off
    assert f.server.guard.refusals()["header_timeout"] == 1


async def test_an_answer_before_the_body_ended_closes_the_connection_unread(front: Start) -> None:
    f = await front()
    reader, writer = await f.connect()
    writer.write(b"POST /refuse HTTP/1.1\r\nHost: hotline\r\nContent-Length: 52428800\r\n\r\n" + b"x" * 65536)
    answer = await ended(reader, 3)
    assert answer.startswith(b"HTTP/1.1 401") and answer.endswith(b"no")
    writer.close()
    await f.settled(0)


def test_http_takes_what_the_settings_ask_within_what_leaves_the_reserve() -> None:
    assert http_capacity(512, 65536) == 512
    assert http_capacity(512, 1024) == 512  # 1024 - 256 reserved leaves room for 512
    assert http_capacity(2000, 1024) == 1024 - RESERVED_FDS - 16
    assert http_capacity(512, 200) == 8  # a tiny limit still serves a page, and says so


def test_the_open_files_limit_is_raised_to_the_hard_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    script = (
        "from hotline.front import raise_fd_limit; import resource; "
        "print(raise_fd_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    expected = 65536 if hard == resource.RLIM_INFINITY else hard
    assert [int(n) for n in out] == [expected, expected]
