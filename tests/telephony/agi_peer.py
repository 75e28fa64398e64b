"""Test helpers for FastAGI: a scripted fake Asterisk over real TCP and a recording handler."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar

from telephony.agi import AgiRequest
from telephony.agi_channel import AgiChannel

WAIT = 2.0  # seconds; only reached when a test is about to fail

SYNTHETIC_CALLER = "+79000000001"
SYNTHETIC_DNID = "+79000000002"

HEADERS: dict[str, str] = {
    "agi_network": "yes",
    "agi_network_script": "crisis-menu",
    "agi_request": "agi://127.0.0.1/crisis-menu",
    "agi_channel": f"PJSIP/{SYNTHETIC_CALLER}-00000001",
    "agi_language": "ru",
    "agi_type": "PJSIP",
    "agi_uniqueid": "1700000000.42",
    "agi_version": "22.10.1",
    "agi_callerid": SYNTHETIC_CALLER,
    "agi_calleridname": SYNTHETIC_CALLER,
    "agi_callingpres": "0",
    "agi_dnid": SYNTHETIC_DNID,
    "agi_rdnis": SYNTHETIC_CALLER,
    "agi_context": "hotline",
    "agi_extension": SYNTHETIC_DNID,
    "agi_priority": "2",
    "agi_enhanced": "0.0",
    "agi_accountcode": SYNTHETIC_CALLER,
    "agi_threadid": "140000000000000",
    "agi_arg_1": "ru",
    "agi_arg_2": "night",
}


class FakeAsterisk:
    """The Asterisk side of one FastAGI connection: sends headers and replies, reads commands."""

    opened: ClassVar[list[FakeAsterisk]] = []

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, headers: Mapping[str, str] | None = HEADERS) -> FakeAsterisk:
        """Connect; send ``headers`` and the blank line unless headers is None."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = cls(reader, writer)
        cls.opened.append(peer)
        if headers is not None:
            await peer.send(*(f"{key}: {value}" for key, value in headers.items()), "")
        return peer

    async def send(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\n" for line in lines).encode())
        await self.writer.drain()

    async def expect_command(self) -> str:
        """Read the next command line the server wrote."""
        raw = await asyncio.wait_for(self.reader.readline(), WAIT)
        assert raw.endswith(b"\n"), f"no command line, got {raw!r}"
        return raw.decode().rstrip("\n")

    async def reply(self, *lines: str) -> str:
        """Read one command, answer it with ``lines`` and return the command."""
        command = await self.expect_command()
        await self.send(*lines)
        return command

    async def read_until_closed(self) -> bytes:
        """Everything the server still writes before it closes the connection."""
        try:
            return await asyncio.wait_for(self.reader.read(), WAIT)
        except ConnectionResetError:
            return b""

    @classmethod
    async def close_all(cls) -> None:
        """Close every connection opened so far (test teardown)."""
        while cls.opened:
            await cls.opened.pop().close()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


Script = Callable[[AgiChannel], Awaitable[object]]


class Probe:
    """A handler that runs ``script`` on each channel and records what happened."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script
        self.requests: list[AgiRequest] = []
        self.result: object = None
        self.error: BaseException | None = None
        self.hungup_after = False
        self.started = asyncio.Event()
        self._finished: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, request: AgiRequest, channel: AgiChannel) -> None:
        self.requests.append(request)
        self.started.set()
        try:
            if self.script is not None:
                self.result = await self.script(channel)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.hungup_after = channel.hungup
            self._finished.put_nowait(None)

    async def finished(self) -> None:
        """Wait until one more session has left the handler."""
        await asyncio.wait_for(self._finished.get(), WAIT)
