"""The bench's callers: a process of their own that places the calls and times them.

Kept out of the engine's process, so that the engine's event loop serves the IVR alone (as in
production) and a busy engine loop cannot delay the clock that measures it. Calls are AMI
``Originate`` (Async) of ``Local/s@<ivr>/n`` with the caller's context on the other leg; a call
is timed from the originate sent to its ``BenchDone`` user event. Nothing from an event is
logged; four headers are read.
"""

from __future__ import annotations

import asyncio
import resource
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Final

from ivr_sandbox import CALLER_CONTEXT, CALLER_USER, DONE_EVENT, IVR_CONTEXT

from telephony.ami_wire import WireAction, WireManager, wire_logger

_NEVER: Final = 10**9  # seconds: panoramisk's own Ping and reconnect timers never fire
QUIET: Final = {"ping_delay": _NEVER, "ping_interval": _NEVER, "reconnect_timeout": _NEVER}


@dataclass(frozen=True)
class Plan:
    calls: int
    concurrency: int
    rounds: int
    caller: str
    ramp: float
    timeout: float


@dataclass(frozen=True)
class RoundRequest:
    variant: str
    number: int


@dataclass
class Call:
    """One call as the caller saw it; times are ``time.perf_counter()`` (CLOCK_MONOTONIC,
    the same clock in every process of the machine)."""

    sent: float = 0.0
    answered: float | None = None  # the OriginateResponse: the IVR leg answered
    done: float | None = None  # BenchDone heard
    failure: str | None = None
    call_id: str = ""  # the headers of BenchDone
    queue: str = ""
    result: str = ""
    agi: str = ""
    session: tuple[float, float] | None = None  # engine: its IVR handler's start, end


@dataclass(frozen=True)
class RoundReply:
    calls: list[Call]
    cpu_seconds: float  # this process's CPU time during the round


async def ami_login(manager: WireManager, user: str, secret: str) -> None:
    await manager.open(5)
    login = {"Action": "Login", "Username": user, "Secret": secret, "Events": "on"}
    reply = await asyncio.wait_for(manager.send_action(WireAction(login)), 5)
    if not getattr(reply, "success", False):
        raise ConnectionError(f"AMI user {user!r} could not log in")


class Callers:
    """Places calls with AMI Originate (Async) and hears their BenchDone user events."""

    def __init__(self, port: int, secret: str) -> None:
        self._port = port
        self._secret = secret
        self._waiting: dict[str, tuple[Call, asyncio.Future[None]]] = {}
        self._manager: WireManager | None = None
        self.callback_errors = 0

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        manager = WireManager(
            lambda: None, host="127.0.0.1", port=self._port, loop=loop, log=wire_logger(), **QUIET
        )
        manager.register_event("UserEvent", self._on_user_event)
        await ami_login(manager, CALLER_USER, self._secret)
        self._manager = manager

    def expect(self, tag: str, call: Call) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[tag] = (call, future)
        return future

    def forget(self, tag: str) -> None:
        self._waiting.pop(tag, None)

    async def originate(self, ivr: str, caller: str, tag: str, limit: float) -> bool:
        """True once the IVR leg answered (the OriginateResponse of the Async originate)."""
        assert self._manager is not None
        action = WireAction(
            {
                "Action": "Originate",
                "Channel": f"Local/s@{ivr}/n",
                "Context": caller,
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "Variable": f"BENCHID={tag}",
            }
        )
        try:
            replies = await asyncio.wait_for(self._manager.send_action(action), limit)
        except (TimeoutError, ConnectionError):
            self._manager.forget(action)
            return False
        last = replies[-1] if isinstance(replies, list) and replies else replies
        # Not ``.success``: panoramisk calls every event a success, a failed OriginateResponse too.
        return hasattr(last, "get") and last.get("Response") == "Success"

    def _on_user_event(self, _manager: Any, message: Any) -> None:
        """panoramisk callback: tiny and total."""
        try:
            if message.get("UserEvent") != DONE_EVENT:
                return
            waiting = self._waiting.pop(str(message.get("BenchId", "")), None)
            if waiting is None or waiting[1].done():
                return
            call, future = waiting
            call.done = time.perf_counter()
            call.call_id, call.queue, call.result, call.agi = (
                str(message.get(k, "")) for k in ("Call", "Queue", "Result", "Agi")
            )
            future.set_result(None)
        except Exception:
            self.callback_errors += 1

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()


async def place_round(callers: Callers, plan: Plan, request: RoundRequest) -> list[Call]:
    """``plan.calls`` calls, ``plan.concurrency`` in flight: a new one as one ends. The first
    ones are spread over ``plan.ramp`` seconds, so calls do not move in waves."""
    calls = [Call() for _ in range(plan.calls)]
    slots = asyncio.Semaphore(plan.concurrency)
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for index, call in enumerate(calls):
        await slots.acquire()
        if index < plan.concurrency:
            await _sleep_until(start + index * plan.ramp / plan.concurrency)
        tag = f"{request.variant[0]}{request.number}-{index}"
        tasks.append(asyncio.create_task(_one(callers, plan, request.variant, tag, call, slots)))
    await asyncio.gather(*tasks)
    return calls


async def _one(
    callers: Callers, plan: Plan, variant: str, tag: str, call: Call, slots: asyncio.Semaphore
) -> None:
    heard = callers.expect(tag, call)
    call.sent = time.perf_counter()
    try:
        if not await callers.originate(IVR_CONTEXT[variant], CALLER_CONTEXT[plan.caller], tag, plan.timeout):
            call.failure = "originate"
            return
        call.answered = time.perf_counter()
        try:
            await asyncio.wait_for(heard, plan.timeout)
        except TimeoutError:
            call.failure = "no BenchDone"
    finally:
        callers.forget(tag)
        slots.release()


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def serve(conn: Connection, plan: Plan, port: int, secret: str) -> None:
    """The callers' process: a RoundRequest in, a RoundReply (or an error text) out; None ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine's process stops this one
    asyncio.run(_serve(conn, plan, port, secret))


async def _serve(conn: Connection, plan: Plan, port: int, secret: str) -> None:
    callers = Callers(port, secret)
    try:
        await callers.connect()
    except (OSError, TimeoutError) as exc:
        conn.send(f"the callers' AMI connection failed: {exc}")
        return
    conn.send("ready")
    try:
        while (request := await asyncio.to_thread(conn.recv)) is not None:
            before = _cpu_seconds()
            calls = await place_round(callers, plan, request)
            conn.send(RoundReply(calls, _cpu_seconds() - before))
    finally:
        callers.close()
