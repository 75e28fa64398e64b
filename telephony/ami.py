"""One supervised AMI connection per Asterisk node, on top of panoramisk's ``Manager``.

panoramisk 1.4 is used for the wire protocol only; this module owns the lifecycle: a fresh
``Manager`` per attempt and no panoramisk reconnect (a lost link wakes the supervisor, which
retries with exponential backoff and jitter); a checked login; a checked heartbeat Ping
instead of panoramisk's unchecked one (a half-open link is noticed within
``heartbeat_interval + action_timeout``); a ``QueueStatus`` resync after every login.
panoramisk logs whole events and actions, so its records go to ``hotline.ami.wire`` and are
reduced to a fixed text. ``hotline.ami`` names the node, states and error types only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from core.errors import DomainError
from core.tasks import child
from telephony.ami_wire import WireAction, WireManager, header, wire_logger
from telephony.census import FORGET_EVERY_S, CensusRefused, forget_answered, take_census
from telephony.events import AmiEvent, LiveCalls, QueueSnapshot
from telephony.scrub import SUBSCRIBED_EVENTS, parse_event, snapshot_from

log = logging.getLogger("hotline.ami")

ACTION_LOGIN: Final = "Login"
ACTION_PING: Final = "Ping"
ACTION_QUEUE_STATUS: Final = "QueueStatus"
_NEVER: Final = 10**9  # seconds: panoramisk's own Ping and reconnect timers never fire
_FAILURES_LOGGED: Final = 10  # then one failed event in _FAILURE_LOG_EVERY is logged
_FAILURE_LOG_EVERY: Final = 1000
_QUIET: Final = {"ping_delay": _NEVER, "ping_interval": _NEVER, "reconnect_timeout": _NEVER}


@dataclass(frozen=True)
class AmiEndpoint:
    name: str
    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    connect_timeout: float = 5.0
    action_timeout: float = 5.0
    heartbeat_interval: float = 10.0  # Ping each interval; no reply in action_timeout: dead
    backoff_initial: float = 0.5  # exponential with jitter, reset after a successful login
    backoff_max: float = 30.0


class AmiUnavailable(DomainError):
    """An AMI node could not do what was asked: says which node and what failed."""

    error_id = "ami_unavailable"
    status = 503

    def __init__(self, node: str, reason: str) -> None:
        super().__init__(f"AMI node {node!r}: {reason}", {"node": node})
        self.node = node
        self.reason = reason


class AmiLoginFailed(AmiUnavailable):
    error_id = "ami_login_failed"


@dataclass(frozen=True)
class NodeStatus:
    """``since``: when the current (connected, logged_in) state began."""

    node: str
    connected: bool
    logged_in: bool
    since: datetime | None
    last_error: str | None
    reconnects: int  # connection attempts after the first
    events_total: int  # events (snapshots included) handed to on_event
    last_event_at: datetime | None
    events_failed: int = 0  # events whose parsing or on_event raised


@dataclass(eq=False)
class _Link:
    manager: WireManager
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    logged_in: bool = False
    was_logged_in: bool = False


class AmiNode:
    """Supervises the AMI connection to one Asterisk node and delivers scrubbed events."""

    def __init__(
        self,
        endpoint: AmiEndpoint,
        on_event: Callable[[AmiEvent], None],
        on_status: Callable[[NodeStatus], None] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._on_event = on_event
        self._on_status = on_status
        self._wire = wire_logger()
        self._link: _Link | None = None
        self._session_task: asyncio.Future[None] | None = None
        self._logged_in, self._wake = asyncio.Event(), asyncio.Event()
        self._finished: asyncio.Event | None = None  # set once run() has returned
        self._stopping = False
        self._state = (False, False)  # (connected, logged_in)
        self._since: float | None = None
        self._last_error: str | None = None
        self._reconnects = self._events_total = self._events_failed = 0
        self._down_tries = 0  # failed attempts of the current outage
        self._last_event_at: float | None = None

    @property
    def name(self) -> str:
        return self._endpoint.name

    @property
    def status(self) -> NodeStatus:
        return NodeStatus(
            self.name,
            *self._state,
            _datetime(self._since),
            self._last_error,
            self._reconnects,
            self._events_total,
            _datetime(self._last_event_at),
            self._events_failed,
        )

    async def run(self) -> None:
        """Connect, log in, resync, heartbeat; reconnect with backoff until :meth:`stop`.

        Never raises except CancelledError. A stopped node stays stopped; a second
        concurrent ``run()`` returns at once; one after a run that raised starts again.
        """
        if self._stopping:
            return
        if self._finished is not None and not self._finished.is_set():
            log.warning("%s: run() called twice; ignored", self.name)
            return
        self._finished = asyncio.Event()
        try:
            await self._supervise()
        finally:
            self._finished.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._link is not None:
            self._link.lost.set()
        if self._session_task is not None:
            self._session_task.cancel()
        if self._finished is not None:
            await self._finished.wait()

    async def send(self, action: Mapping[str, str], *, first_reply: bool = False) -> Any:
        """Send one action; its reply (a Message, or a list for event-list actions).
        ``first_reply``: the first message is the whole answer (an async Originate, whose
        OriginateResponse event this AMI user does not subscribe to)."""
        link = self._link
        if link is None or not link.logged_in:
            raise AmiUnavailable(self.name, f"{_action_name(action)}: not logged in")
        if link.lost.is_set():
            raise AmiUnavailable(self.name, f"{_action_name(action)}: connection closed")
        return await self._request(link, action, first_reply)

    async def resync(self) -> QueueSnapshot:
        """QueueStatus, parsed into a snapshot that is also handed to ``on_event``."""
        replies = await self.send({"Action": ACTION_QUEUE_STATUS})
        if not isinstance(replies, list):
            reason = f"{ACTION_QUEUE_STATUS} refused ({header(replies, 'Message', 80)})"
            raise AmiUnavailable(self.name, reason)
        snapshot = snapshot_from(replies, self.name)
        counts = len(snapshot.params), len(snapshot.members), len(snapshot.entries)
        log.info("%s: resync: %d queues, %d members, %d waiting", self.name, *counts)
        try:
            self._deliver(snapshot)
        except Exception as exc:
            self._count_failure("QueueSnapshot", exc)
        return snapshot

    async def census(self) -> LiveCalls:
        """Calls up and answered meanwhile (telephony/census.py), also handed to ``on_event``."""
        live = await take_census(self.send, self.name)  # CensusRefused, AmiUnavailable
        log.info("%s: census: %d up, %d answered noted", self.name, len(live.call_ids), len(live.answered))
        try:
            self._deliver(live)
        except Exception as exc:
            self._count_failure("LiveCalls", exc)
        return live

    async def _census_once(self) -> None:
        """A census that fails leaves the link up: calls are then settled by the sweep."""
        try:
            await self.census()
        except (AmiUnavailable, CensusRefused) as exc:
            log.warning("%s: census failed: %s", self.name, exc.reason)

    async def wait_logged_in(self, timeout: float) -> None:  # noqa: ASYNC109 - the agreed API
        if not await _wait_event(self._logged_in, timeout):
            raise AmiUnavailable(self.name, f"not logged in within {timeout:g}s")

    async def _supervise(self) -> None:
        delay = self._endpoint.backoff_initial
        while not self._stopping:
            if await self._attempt():
                delay = self._endpoint.backoff_initial
            if self._stopping:
                return
            await self._pause(delay)
            delay = min(delay * 2, self._endpoint.backoff_max)
            self._reconnects += 1

    async def _attempt(self) -> bool:
        """One connection's life; True if it got as far as a login."""
        link = self._link = _Link(self._new_manager())
        task = self._session_task = child(self._session(link))
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self._stopping or (current is not None and current.cancelling()):
                raise
        except AmiUnavailable as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"AMI node {self.name!r}: unexpected {type(exc).__name__}")
        finally:
            self._session_task = None
        return link.was_logged_in

    async def _pause(self, delay: float) -> None:
        pause = delay * random.uniform(0.5, 1.0)
        log.debug("%s: reconnecting in %.2fs", self.name, pause)
        await _wait_event(self._wake, pause)

    def _new_manager(self) -> WireManager:
        ep, loop = self._endpoint, asyncio.get_running_loop()
        manager = WireManager(
            lambda: self._link_lost(manager),
            **_QUIET,
            **{"host": ep.host, "port": ep.port, "log": self._wire, "loop": loop, "events": "on"},
        )
        for name in SUBSCRIBED_EVENTS:
            manager.register_event(name, self._on_message)
        return manager

    def _link_lost(self, manager: WireManager) -> None:
        link = self._link
        if link is not None and link.manager is manager:
            link.lost.set()

    async def _session(self, link: _Link) -> None:
        try:
            await self._open(link)
            await self._login(link)
            await self.resync()
            await self._census_once()
            await self._heartbeat(link)
        finally:
            self._drop(link)

    async def _open(self, link: _Link) -> None:
        where = f"{self._endpoint.host}:{self._endpoint.port}"
        limit = self._endpoint.connect_timeout
        (log.debug if self._down_tries else log.info)("%s: connecting to %s", self.name, where)
        try:
            await link.manager.open(limit)
        except TimeoutError:
            reason = f"connect to {where}: no answer in {limit:g}s"
            raise AmiUnavailable(self.name, reason) from None
        except OSError as exc:
            reason = f"connect to {where} failed ({type(exc).__name__})"
            raise AmiUnavailable(self.name, reason) from None
        self._set_state(connected=True, logged_in=False)

    async def _login(self, link: _Link) -> None:
        ep = self._endpoint
        login = {"Action": ACTION_LOGIN, "Username": ep.username, "Secret": ep.secret}
        reply = await self._request(link, {**login, "Events": "on"})
        if not getattr(reply, "success", False):
            reason = f"login refused ({header(reply, 'Message', 80)})"
            raise AmiLoginFailed(self.name, reason)
        link.logged_in = link.was_logged_in = True
        if self._down_tries:
            log.info("%s: back after %d failed attempts", self.name, self._down_tries)
            self._down_tries = 0
        self._logged_in.set()
        self._set_state(connected=True, logged_in=True)

    async def _heartbeat(self, link: _Link) -> None:
        forget_at = time.monotonic() + FORGET_EVERY_S
        while not await _wait_event(link.lost, self._endpoint.heartbeat_interval):
            await self.send({"Action": ACTION_PING})
            if time.monotonic() >= forget_at:
                forget_at = time.monotonic() + FORGET_EVERY_S
                await forget_answered(self.send, self.name)
        if not self._stopping:
            raise AmiUnavailable(self.name, "connection closed by peer")

    def _drop(self, link: _Link) -> None:
        link.logged_in = False
        link.lost.set()
        link.manager.close()
        if self._link is link:
            self._link = None
        self._logged_in.clear()
        self._set_state(connected=False, logged_in=False)

    async def _request(self, link: _Link, action: Mapping[str, str], first_reply: bool = False) -> Any:
        name, limit = _action_name(action), self._endpoint.action_timeout
        request = WireAction(dict(action))
        whole = False if first_reply else None  # panoramisk's as_list: False, the first message
        try:
            return await asyncio.wait_for(link.manager.send_action(request, as_list=whole), limit)
        except TimeoutError:
            link.manager.forget(request)
            raise AmiUnavailable(self.name, f"{name}: no reply in {limit:g}s") from None
        except ConnectionError:
            raise AmiUnavailable(self.name, f"{name}: connection closed") from None

    def _on_message(self, _manager: Any, message: Any) -> None:
        """panoramisk callback: sync, tiny and total (a raising callback kills the link)."""
        try:
            event = parse_event(message, self._endpoint.name)
            if event is not None:
                self._deliver(event)
        except Exception as exc:
            self._count_failure(header(message, "Event", 40), exc)

    def _deliver(self, event: AmiEvent) -> None:
        """Count and hand over; on_event's exception goes to the caller's guard."""
        self._events_total += 1
        self._last_event_at = time.time()
        self._on_event(event)

    def _count_failure(self, name: str, exc: Exception) -> None:
        self._events_failed += 1
        failed = self._events_failed
        if failed <= _FAILURES_LOGGED or failed % _FAILURE_LOG_EVERY == 0:
            error = type(exc).__name__
            log.warning("%s: %s event dropped (%s), %d so far", self.name, name, error, failed)

    def _set_state(self, *, connected: bool, logged_in: bool) -> None:
        if (connected, logged_in) == self._state and self._since is not None:
            return
        self._state = (connected, logged_in)
        self._since = time.time()
        state = "logged in" if logged_in else "connected" if connected else "disconnected"
        log.info("%s: %s", self.name, state)
        self._notify()

    def _fail(self, reason: str) -> None:
        self._last_error, self._down_tries = reason, self._down_tries + 1
        if self._down_tries == 1:  # once per outage; every attempt shows in the status
            log.warning("%s: link down: %s; reconnecting with backoff", self.name, reason)
        self._notify()

    def _notify(self) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(self.status)
        except Exception as exc:
            log.warning("%s: on_status failed (%s)", self.name, type(exc).__name__)


async def _wait_event(event: asyncio.Event, seconds: float) -> bool:
    if event.is_set():
        return True
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


def _datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _action_name(action: Mapping[str, str]) -> str:
    return str(action.get("Action") or action.get("action") or "?")[:40]
