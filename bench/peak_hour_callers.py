"""The peak-hour bench's callers: AMI Originate (Async) of ``Local/s@hotline-entry/n`` on each
node, the caller's leg in the bench's ``peak-caller`` context (hears the menu start, presses its
topic's key, waits with the music and the announcements). A caller whose patience runs out
before an operator answers is hung up by the bench (AMI ``Hangup``); an answered one ends when
the simulated operator hangs up. Every call's end arrives as the ``PeakGone`` user event of its
hangup handler.

Each node's connection (the bench's own AMI user) also measures the AMI event lag: Asterisk's
``Timestamp`` header (``timestampevents = yes``) against the moment the event is read here.
Nothing from an event is logged; a few headers are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any, Final

from peak_hour_line import (
    BENCH_EVENTS,
    BENCH_USER,
    CALLER_CONTEXT,
    ENTRY_CONTEXT,
    GONE_EVENT,
    KEY_WEIGHTS,
    PROBE_CONTEXT,
    PROBE_QUEUE,
)

from telephony.ami_wire import WireAction, WireManager, wire_logger

_NEVER: Final = 10**9  # seconds: panoramisk's own Ping and reconnect timers never fire
QUIET: Final = {"ping_delay": _NEVER, "ping_interval": _NEVER, "reconnect_timeout": _NEVER}
ORIGINATE_LIMIT: Final = 120.0  # seconds for an Originate's OriginateResponse (Asterisk busy)
ENDS_AFTER: Final = 180.0  # a call not gone this long after its patience and talk: "never ended"


@dataclass(frozen=True)
class Plan:
    callers: int  # in flight at once
    seconds: float  # callers start during this long; then the calls in flight drain
    patience: tuple[float, float]  # a caller waits this long (uniform) for an operator
    talk: float  # the simulated operators' hold time
    ramp: float  # the first ``callers`` calls start spread over this long
    seed: int = 22


@dataclass
class Call:
    """One call as the bench saw it; times are ``time.perf_counter()``."""

    tag: str
    node: str
    key: str
    patience: float
    sent: float = 0.0
    answered: float | None = None  # the OriginateResponse: the IVR leg answered
    gone: float | None = None  # PeakGone heard
    call_id: str = ""  # the caller leg's Uniqueid: the call's Linkedid
    channel: str = ""
    connected: bool = False  # AgentConnect heard
    hung_up: bool = False  # the bench hung up: patience ran out
    failure: str | None = None


@dataclass
class NodeLink:
    """One node's AMI connection of the bench's own user."""

    node: str
    port: int
    secret: str
    lags: list[float] = field(default_factory=list)  # seconds, every event with a Timestamp
    probe_events: list[tuple[float, int]] = field(default_factory=list)  # (Timestamp, count)
    callback_errors: int = 0
    _manager: WireManager | None = None
    _waiting: dict[str, tuple[Call, asyncio.Future[None]]] = field(default_factory=dict)
    _by_id: dict[str, Call] = field(default_factory=dict)

    async def connect(self) -> None:
        manager = WireManager(
            lambda: None,
            host="127.0.0.1",
            port=self.port,
            loop=asyncio.get_running_loop(),
            log=wire_logger(),
            **QUIET,
        )
        for name in BENCH_EVENTS:
            manager.register_event(name, self._on_event)
        await manager.open(5)
        login = {"Action": "Login", "Username": BENCH_USER, "Secret": self.secret, "Events": "on"}
        reply = await asyncio.wait_for(manager.send_action(WireAction(login)), 5)
        if not getattr(reply, "success", False):
            raise ConnectionError(f"node {self.node}: the bench's AMI user could not log in")
        self._manager = manager

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()

    def expect(self, call: Call) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[call.tag] = (call, future)
        return future

    def forget(self, call: Call) -> None:
        self._waiting.pop(call.tag, None)
        self._by_id.pop(call.call_id, None)

    async def originate(self, channel: str, variables: list[str], **leg: str) -> Any:
        """The OriginateResponse (or None when none came in time)."""
        assert self._manager is not None
        fields = {"Action": "Originate", "Channel": channel, "Async": "true", "Variable": variables, **leg}
        action = WireAction(fields)
        try:
            replies = await asyncio.wait_for(self._manager.send_action(action), ORIGINATE_LIMIT)
        except (TimeoutError, ConnectionError):
            self._manager.forget(action)
            return None
        return replies[-1] if isinstance(replies, list) and replies else replies

    async def call(self, call: Call) -> bool:
        reply = await self.originate(
            f"Local/s@{ENTRY_CONTEXT}/n",
            [f"PEAKID={call.tag}"],
            Context=CALLER_CONTEXT,
            Exten="s",
            Priority="1",
        )
        # Not ``.success``: panoramisk calls every event a success, a failed OriginateResponse too.
        if not (hasattr(reply, "get") and reply.get("Response") == "Success"):
            return False
        call.call_id, call.channel = str(reply.get("Uniqueid", "")), str(reply.get("Channel", ""))
        self._by_id[call.call_id] = call
        return True

    async def hangup(self, channel: str) -> None:
        assert self._manager is not None
        action = WireAction({"Action": "Hangup", "Channel": channel})
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(self._manager.send_action(action), 10)

    async def probe(self, hold: float) -> None:
        """One caller in the probe queue for ``hold`` seconds (Wait on the other leg)."""
        await self.originate(
            f"Local/s@{PROBE_CONTEXT}/n", ["PEAKID=probe"], Application="Wait", Data=f"{hold:g}"
        )

    def _on_event(self, _manager: Any, message: Any) -> None:
        """panoramisk callback: tiny and total."""
        try:
            now = time.time()
            stamp = message.get("Timestamp")
            if stamp:
                self.lags.append(now - float(stamp))
            name = message.get("Event")
            if name in ("QueueCallerJoin", "QueueCallerLeave"):
                if message.get("Queue") == PROBE_QUEUE and stamp:
                    self.probe_events.append((float(stamp), int(message.get("Count", 0))))
            elif name == "AgentConnect":
                found = self._by_id.get(str(message.get("Linkedid", "")))
                if found is not None:
                    found.connected = True
            elif name == "UserEvent" and message.get("UserEvent") == GONE_EVENT:
                waiting = self._waiting.get(str(message.get("PeakId", "")))
                if waiting is not None and not waiting[1].done():
                    waiting[0].gone = time.perf_counter()
                    waiting[1].set_result(None)
        except Exception:
            self.callback_errors += 1


async def place_calls(links: list[NodeLink], plan: Plan, phase: str) -> list[Call]:
    """Callers start while ``plan.seconds`` last, ``plan.callers`` in flight: a new one as one
    ends, spread over the links in turn. Then every call in flight is waited for."""
    rng = random.Random(plan.seed)
    keys, weights = list(KEY_WEIGHTS), list(KEY_WEIGHTS.values())
    slots = asyncio.Semaphore(plan.callers)
    calls: list[Call] = []
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    end = start + plan.seconds
    while (left := end - time.perf_counter()) > 0:
        try:
            await asyncio.wait_for(slots.acquire(), left)
        except TimeoutError:
            break
        index = len(calls)
        if index < plan.callers:
            await _sleep_until(start + index * plan.ramp / plan.callers)
        key = rng.choices(keys, weights)[0]
        link = links[index % len(links)]
        call = Call(f"{key}{phase}-{index}", link.node, key, rng.uniform(*plan.patience))
        calls.append(call)
        tasks.append(asyncio.create_task(_one(link, call, plan, slots)))
    await asyncio.gather(*tasks)
    return calls


async def _one(link: NodeLink, call: Call, plan: Plan, slots: asyncio.Semaphore) -> None:
    gone = link.expect(call)
    call.sent = time.perf_counter()
    impatience: asyncio.TimerHandle | None = None
    try:
        if not await link.call(call):
            call.failure = "originate"
            return
        call.answered = time.perf_counter()
        impatience = asyncio.get_running_loop().call_later(call.patience, _give_up, link, call)
        try:
            await asyncio.wait_for(gone, call.patience + plan.talk + ENDS_AFTER)
        except TimeoutError:
            call.failure = "never ended"
            await link.hangup(call.channel)
    finally:
        if impatience is not None:
            impatience.cancel()
        link.forget(call)
        slots.release()


_hangups: set[asyncio.Task[None]] = set()


def _give_up(link: NodeLink, call: Call) -> None:
    """Patience ran out: hang up unless an operator answered (or the call already ended)."""
    if call.connected or call.gone is not None:
        return
    call.hung_up = True
    task = asyncio.create_task(link.hangup(call.channel))
    _hangups.add(task)
    task.add_done_callback(_hangups.discard)


async def probe_loop(link: NodeLink, every: float = 2.0, hold: float = 1.0) -> None:
    """The wallboard probe: a caller joins the probe queue every ``every`` s, leaves after ``hold``."""
    probes: set[asyncio.Task[None]] = set()
    while True:
        task = asyncio.create_task(link.probe(hold))
        probes.add(task)
        task.add_done_callback(probes.discard)
        await asyncio.sleep(every)


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
