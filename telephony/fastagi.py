"""The FastAGI server: accepts Asterisk's connections (only from configured addresses), reads
the request headers within limits, and runs one handler per call. Handler bugs are contained;
a caller hanging up at any moment ends only that session. The wire protocol is in agi.py."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import ipaddress
import logging

from core.refusals import RefusalLog
from telephony.agi import AgiError, AgiHangup, AgiProtocolError, AgiRequest, CallerCounter, read_request
from telephony.agi_channel import AgiChannel, AgiHandler

logger = logging.getLogger("hotline.agi")
_CLOSE_TIMEOUT = 1.0
_LINGER_TIMEOUT = 5.0
# Calls arrive in bursts (a campaign on the radio, a shift change): asyncio's default backlog of
# 100 would drop connections beyond it, and Asterisk retries a dropped SYN only after a second.
_BACKLOG = 1024


def _secret_matches(presented: str, secret: bytes) -> bool:
    """Constant time whatever the presented value, its length included (both are hashed)."""
    given = hashlib.sha256(presented.encode("utf-8", errors="replace")).digest()
    return hmac.compare_digest(given, hashlib.sha256(secret).digest())


def _normalize_ip(text: str) -> str:
    """Canonical form of an IP address; IPv4-mapped IPv6 becomes plain IPv4."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _peer_ip(writer: asyncio.StreamWriter) -> str:
    try:
        return _normalize_ip(str(writer.get_extra_info("peername")[0]))
    except (TypeError, IndexError, ValueError):
        return "unknown"


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    """Close a connection, ignoring errors; abort it if it does not close promptly."""
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await writer.wait_closed()
    except Exception:
        writer.transport.abort()


class FastAgiServer:
    """Accept FastAGI connections and run ``handler(request, channel)`` for each."""

    def __init__(
        self,
        handler: AgiHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        allowed_peers: frozenset[str] | None = None,
        header_timeout: float = 5.0,
        max_header_lines: int = 128,
        max_line_bytes: int = 4096,
        command_timeout: float = 300.0,
        caller_counter: CallerCounter | None = None,
        secret: str | None = None,
    ) -> None:
        """``secret``: every session must present it as its first AGI argument (the dialplan
        passes it); it is removed before the handler sees the request. None: no check."""
        self._handler = handler
        self._secret = None if secret is None else secret.encode("utf-8")
        self.refused_peers = RefusalLog("peer not allowed", logger=logger)
        self.refused_secrets = RefusalLog("missing or wrong secret", logger=logger)
        self._counter = caller_counter
        self._host = host
        self._requested_port = port
        self._allowed = None if allowed_peers is None else frozenset(map(_normalize_ip, allowed_peers))
        self._header_timeout = header_timeout
        self._max_header_lines = max_header_lines
        self._max_line_bytes = max_line_bytes
        self._command_timeout = command_timeout
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[object]] = set()
        self._closing = False
        self._sessions_total = 0
        self._errors_total = 0

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FastAGI server already started")
        self._server = await asyncio.start_server(
            self._accept, self._host, self._requested_port, limit=self._max_line_bytes, backlog=_BACKLOG
        )
        logger.info("FastAGI listening on port %d", self.port)

    async def close(self, grace: float = 0.0) -> int:
        """Stop listening at once (a new call then takes the dialplan's path to a human), let
        running sessions finish for up to ``grace`` seconds, cancel the rest and wait for
        them; returns how many were cut short."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        sessions = [task for task in self._sessions if task is not current]
        if sessions and grace > 0:
            _, sessions_left = await asyncio.wait(sessions, timeout=grace)
            sessions = list(sessions_left)
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        return len(sessions)

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("FastAGI server not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    @property
    def sessions_total(self) -> int:
        return self._sessions_total

    @property
    def errors_total(self) -> int:
        return self._errors_total

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer_ip(writer)
        task = asyncio.current_task()
        if task is None or not self._admit(peer):
            await _close_writer(writer)
            return
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)
        self._sessions_total += 1
        try:
            await self._session(reader, writer, peer)
        finally:
            await _close_writer(writer)

    def _admit(self, peer: str) -> bool:
        if self._closing:
            return False
        if self._allowed is not None and peer not in self._allowed:
            self.refused_peers.refused(peer)
            return False
        return True

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        request = await self._read_request(reader, peer)
        if request is None:
            return
        request = self._authenticated(request)
        if request is None:
            return
        channel = AgiChannel(reader, writer, command_timeout=self._command_timeout)
        await self._run_handler(request, channel)
        if channel.ended:  # let Asterisk close first: our close then cannot reset its last reply
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_LINGER_TIMEOUT):
                    await channel.linger()

    def _authenticated(self, request: AgiRequest) -> AgiRequest | None:
        """The request without its secret argument, or None (refused, counted) when it lacks it."""
        if self._secret is None:
            return request
        presented = request.args[0] if request.args else ""
        if not _secret_matches(presented, self._secret):
            self.refused_secrets.refused(request.peer)
            return None
        return dataclasses.replace(request, args=request.args[1:])

    async def _read_request(self, reader: asyncio.StreamReader, peer: str) -> AgiRequest | None:
        try:
            async with asyncio.timeout(self._header_timeout):
                return await read_request(reader, peer, self._max_header_lines, self._counter)
        except (TimeoutError, AgiProtocolError) as exc:
            reason = "header timeout" if isinstance(exc, TimeoutError) else str(exc)
            self._errors_total += 1
            logger.info("FastAGI session from %s closed: %s", peer, reason)
            return None

    async def _run_handler(self, request: AgiRequest, channel: AgiChannel) -> None:
        try:
            await self._handler(request, channel)
        except AgiHangup:
            logger.debug("FastAGI script %s: caller hung up", request.script)
        except AgiError as exc:
            self._errors_total += 1
            logger.warning("FastAGI script %s stopped: %s", request.script, exc)
        except Exception:
            self._errors_total += 1
            logger.exception("FastAGI handler for script %s failed", request.script)
