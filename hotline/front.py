"""The HTTP side's front door (issue 14, item 1). HTTP shares its process with the call path
(FastAGI, AMI, the record writer); nothing an HTTP client does may take what that path needs.

- Descriptors: the soft ``RLIMIT_NOFILE`` is raised to the hard limit at start, and HTTP may
  hold at most ``max_connections`` sockets, never more than leaves ``RESERVED_FDS`` to the call
  path. (Before: 1,100 half-open requests under ``ulimit -n 1024`` took every descriptor, and
  FastAGI could accept no call.)
- Our own accept loop takes one connection at a time and counts it before a protocol exists:
  over the cap, in all or from one address, it is reset at once. (asyncio's own accept takes up
  to ``backlog`` sockets per wake-up, before anything could refuse one.)
- A request's head must arrive within ``header_timeout_seconds`` of the connection or of the
  previous response; a response sent before the request's body ended closes the connection (the
  rest is never read). Bodies' own caps and idle timeout are hotline/bodies.py's.
- Every refusal is counted for /metrics and logged once per interval (core/refusals.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import resource
import socket
import struct
from collections.abc import Iterator, Mapping
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from core.refusals import RefusalLog
from core.settings import HttpSettings
from core.tasks import child
from hotline.lifecycle import HTTP_STOP_SECONDS
from metrics.live.refusals import Refusals
from telephony.fastagi import FastAgiServer

log = logging.getLogger("hotline.http")
# Descriptors HTTP leaves to the rest of the process: FastAGI sessions (one per call in the
# IVR), AMI, the database pool, the journal, logs, Asterisk's rendered configuration.
RESERVED_FDS = 256
MIN_CONNECTIONS = 8
_BACKLOG = 128
_OPEN_FILES_IF_UNLIMITED = 65536
_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset, no TIME_WAIT


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard one; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _OPEN_FILES_IF_UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    return int(soft) if soft != resource.RLIM_INFINITY else _OPEN_FILES_IF_UNLIMITED


def http_capacity(wanted: int, fd_limit: int) -> int:
    """The connections HTTP may hold: what the settings ask, within what leaves the reserve."""
    return max(MIN_CONNECTIONS, min(wanted, fd_limit - RESERVED_FDS - 2 * MIN_CONNECTIONS))


def _address(peer: Any) -> str:
    try:
        address = ipaddress.ip_address(str(peer[0]))
    except (TypeError, IndexError, ValueError):
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


class ConnectionGuard:
    """Counts the HTTP connections held, in all and per address, and the refusals."""

    def __init__(self, total: int, per_peer: int) -> None:
        self.total = total
        self.per_peer = per_peer
        self.open = 0
        self._by_peer: dict[str, int] = {}
        self._refusals = {
            "connections": RefusalLog(f"{total} connections held already", server="HTTP", logger=log),
            "per_peer": RefusalLog(
                f"{per_peer} connections from this address already", server="HTTP", logger=log
            ),
            "header_timeout": RefusalLog("no request head in time", server="HTTP", logger=log),
            "accept_failed": RefusalLog(
                "the process is out of descriptors or memory", server="HTTP", logger=log
            ),
        }

    def admit(self, peer: str) -> bool:
        if self.open >= self.total:
            self.refused("connections", peer)
            return False
        held = self._by_peer.get(peer, 0)
        if held >= self.per_peer:
            self.refused("per_peer", peer)
            return False
        self.open += 1
        self._by_peer[peer] = held + 1
        return True

    def release(self, peer: str) -> None:
        self.open -= 1
        held = self._by_peer.pop(peer, 1) - 1
        if held > 0:
            self._by_peer[peer] = held

    def refused(self, reason: str, peer: str) -> None:
        self._refusals[reason].refused(peer)

    def refusals(self) -> Mapping[str, int]:
        """Refusals so far by reason (``hotline_http_refused_total``)."""
        return {reason: refusals.total for reason, refusals in self._refusals.items()}


class GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline on each request's head, a connection closed
    when its response went out before its body came in, and its slot returned when it ends."""

    def __init__(self, *, guard: ConnectionGuard, peer: str, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._guard, self._peer, self._header_timeout = guard, peer, header_timeout
        self._head_due: asyncio.TimerHandle | None = None
        self._released = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        self.release()
        super().connection_lost(exc)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._guard.release(self._peer)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_arrived()

    def on_response_complete(self) -> None:
        body_unread = self.conn.their_state is h11.SEND_BODY
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if body_unread:
            self.transport.close()  # after what is written; the rest of the body is never read
        elif self.conn.their_state is h11.IDLE:
            self._await_head()

    def _await_head(self) -> None:
        self._head_arrived()
        self._head_due = self.loop.call_later(self._header_timeout, self._head_late)

    def _head_arrived(self) -> None:
        if self._head_due is not None:
            self._head_due.cancel()
            self._head_due = None

    def _head_late(self) -> None:
        self._head_due = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._guard.refused("header_timeout", self._peer)
            self.transport.abort()


class HttpServer(uvicorn.Server):
    """uvicorn serving through the front door above. It does not own the signals either: the
    service's own handlers stop it in order, and nothing re-raises the signal afterwards."""

    def __init__(self, app: Any, settings: HttpSettings, fd_limit: int) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                http="h11",
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=HTTP_STOP_SECONDS,
            )
        )
        self.settings = settings
        self.guard = ConnectionGuard(
            http_capacity(settings.max_connections, fd_limit), settings.max_connections_per_peer
        )
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        listener = socket.create_server(
            (self.settings.host, self.settings.port),
            family=socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET,
            backlog=_BACKLOG,
        )
        listener.setblocking(False)
        self._listener = listener
        await super().startup(sockets=[])  # the app's lifespan; uvicorn itself listens nowhere
        self._accepting = child(self._accept_forever(listener), name="http-accept")

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("HTTP server not started")
        return int(self._listener.getsockname()[1])

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        if self._listener is not None:
            self._listener.close()
        await super().shutdown(sockets)

    async def _accept_forever(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, peer = await loop.sock_accept(listener)
            except OSError as exc:
                if exc.errno not in _RESOURCE_ERRORS:
                    continue  # the client gave up before we took it (ECONNABORTED)
                self.guard.refused("accept_failed", "-")
                await asyncio.sleep(0.5)
                continue
            address = _address(peer)
            if not self.guard.admit(address):
                with contextlib.suppress(OSError):
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
                conn.close()
                continue
            await self._take(conn, address)

    async def _take(self, conn: socket.socket, address: str) -> None:
        protocol = GuardedH11(
            guard=self.guard,
            peer=address,
            header_timeout=self.settings.header_timeout_seconds,
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
        )
        try:
            await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, conn)
        except OSError:
            protocol.release()
            conn.close()


def refusals(agi: FastAgiServer, http: HttpServer | None) -> Refusals:
    """Both ports' refusals for /metrics (``http`` is None until the service serves)."""
    agi_refused = {("agi", "peer"): agi.refused_peers.total, ("agi", "secret"): agi.refused_secrets.total}
    http_refused = {} if http is None else http.guard.refusals()
    return agi_refused | {("http", reason): n for reason, n in http_refused.items()}
