"""Background tasks that never die unobserved.

Every task the service starts is made here (a test greps the code base for any other
``create_task``/``ensure_future``):

- :meth:`TaskSupervisor.supervise`: a long-running task (a loop that should run as long as the
  service). An exception restarts it after a backoff (doubling with jitter, up to a maximum); the
  first failure of an outage is logged, later ones only counted, and once a restarted task has
  run ``healthy_after`` seconds the end of the outage is logged. A normal return ends it.
- :meth:`TaskSupervisor.spawn`: a fire-and-forget task. It is held until it ends (never garbage
  collected half-way); its exception is always logged and counted, so asyncio never has to say
  "Task exception was never retrieved".
- :func:`child`: a task its creator awaits (or cancels and awaits): the creator retrieves its
  outcome. Anything a creator forgets still reaches the loop's exception handler.
- :class:`Outage`: what a retry loop remembers of one dependency's outage: it logs the first
  failure and the recovery, and counts every failure under the task's name.
- :func:`exception_handler`: for ``loop.set_exception_handler`` (the composition root installs
  it): it logs the exception's type and where it was raised, never asyncio's message, which
  may hold a callback's arguments (a raw AMI event).

Logs name tasks and exception types only: an exception's text may carry what it was handed.
``failures`` and ``restarts`` (task name -> count) are what /metrics exposes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar, overload

from core.refusals import RefusalLog

log = logging.getLogger("hotline.tasks")
T = TypeVar("T")
ACCEPT_FAILED: Final = "socket.accept() out of system resource"  # asyncio's message
EVENT_LOOP: Final = "event-loop"  # the task label of what reaches the loop's exception handler
_ROOMS: Final = ("core", "exposition", "telephony", "privacy", "ivr", "agents", "dialplan", "metrics")
_ROOMS_ABOVE: Final = ("desk", "supervision", "planning", "wallboard", "sandbox", "hotline", "tests")
_OURS: Final = tuple(f"{Path(__file__).resolve().parents[1]}/{room}/" for room in _ROOMS + _ROOMS_ABOVE)


class Backoff:
    """Exponential delays with jitter: ``initial``, doubling up to ``maximum``; ``reset`` after a success."""

    def __init__(self, initial: float = 1.0, maximum: float = 60.0) -> None:
        self.initial, self.maximum = initial, maximum
        self._next = initial

    def next(self) -> float:
        delay = self._next * random.uniform(0.5, 1.0)
        self._next = min(self._next * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


def where(exc: BaseException) -> str:
    """Where ``exc`` was raised (file, line, function): the innermost frame of our own code,
    not a library's or the standard library's. Code, never data."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(_OURS)]
    if not (ours or frames):
        return "?"
    last = (ours or frames)[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__} at {where(exc)}"


class Outage:
    """One dependency's outage as a retry loop sees it: ``failed`` on every failed try (the
    first one is logged, each one counted), ``ok`` on a success (the end is logged)."""

    def __init__(self, task: str, what: str, logger: logging.Logger, count: Callable[[str], None]) -> None:
        self._task, self._what, self._log, self._count = task, what, logger, count
        self.failures = 0
        self._since = 0.0

    @property
    def down(self) -> bool:
        return self.failures > 0

    def failed(self, exc: BaseException) -> None:
        self._count(self._task)
        self.failures += 1
        if self.failures == 1:
            self._since = _now()
            self._log.error("%s failed (%s); retrying with backoff", self._what, describe(exc))
        else:
            self._log.debug("%s failed again (%s)", self._what, type(exc).__name__)

    def ok(self) -> None:
        if self.failures:
            took = _now() - self._since
            self._log.info("%s works again after %d failed tries in %.0f s", self._what, self.failures, took)
        self.failures = 0


class TaskSupervisor:
    def __init__(self, healthy_after: float = 60.0) -> None:
        self.failures: Counter[str] = Counter()
        self.restarts: Counter[str] = Counter()
        self._healthy_after = healthy_after
        self._tasks: dict[asyncio.Task[Any], str] = {}

    # -- starting tasks ----------------------------------------------------------------------------
    def supervise(
        self, name: str, run: Callable[[], Awaitable[None]], backoff: Backoff | None = None
    ) -> asyncio.Task[None]:
        """Run ``run()`` until it returns; restart it with ``backoff`` after each exception."""
        self.failures[name] += 0  # shown at 0 from the start
        self.restarts[name] += 0
        return self._start(name, self._keep(name, run, backoff or Backoff()))

    def spawn(self, name: str, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Fire and forget: its exception is logged and counted under ``name``."""
        return self._start(name, coro)

    def outage(self, task: str, what: str, logger: logging.Logger) -> Outage:
        self.failures[task] += 0
        return Outage(task, what, logger, self.count_failure)

    def count_failure(self, task: str) -> None:
        self.failures[task] += 1

    @property
    def running(self) -> Mapping[asyncio.Task[Any], str]:
        return dict(self._tasks)

    async def close(self) -> None:
        """Cancel every task still running and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- internals ---------------------------------------------------------------------------------
    def _start(self, name: str, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks[task] = name
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        name = self._tasks.pop(task, task.get_name())
        if task.cancelled():
            return
        exc = task.exception()  # retrieved: asyncio has nothing left to complain about
        if exc is not None:
            self.count_failure(name)
            log.error("task %s failed: %s", name, describe(exc))

    async def _keep(self, name: str, run: Callable[[], Awaitable[None]], backoff: Backoff) -> None:
        outage = self.outage(name, f"task {name}", log)
        loop = asyncio.get_running_loop()
        healthy: asyncio.TimerHandle | None = None
        try:
            while True:
                try:
                    await run()
                    return
                except Exception as exc:
                    if healthy is not None:
                        healthy.cancel()
                    outage.failed(exc)
                await asyncio.sleep(backoff.next())
                self.restarts[name] += 1
                healthy = loop.call_later(self._healthy_after, _recovered, outage, backoff)
        finally:
            if healthy is not None:
                healthy.cancel()


def _recovered(outage: Outage, backoff: Backoff) -> None:
    outage.ok()
    backoff.reset()


@overload
def child(awaitable: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]: ...
@overload
def child(awaitable: Awaitable[T], name: str | None = None) -> asyncio.Future[T]: ...
def child(awaitable: Awaitable[T], name: str | None = None) -> asyncio.Future[T]:
    """A task whose creator awaits it (or cancels and then awaits it)."""
    future = asyncio.ensure_future(awaitable)
    if name is not None and isinstance(future, asyncio.Task):
        future.set_name(name)
    return future


def exception_handler(
    supervisor: TaskSupervisor,
) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """What the loop calls for an exception nobody retrieved (a task, a callback). asyncio's
    own accept out of descriptors calls it once a second per listening socket: that is said
    once per interval, with a count, not a line each time."""
    out_of_resources = RefusalLog("out of descriptors or memory", server="A listening socket's", logger=log)

    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith(ACCEPT_FAILED):
            out_of_resources.refused(_port_of(context.get("socket")))
            return
        supervisor.count_failure(EVENT_LOOP)
        exc = context.get("exception")
        future = context.get("future") or context.get("task")
        task = f" in task {future.get_name()[:60]}" if isinstance(future, asyncio.Task) else ""
        if isinstance(exc, BaseException):
            log.error("unhandled in the event loop%s: %s", task, describe(exc))
        else:
            log.error("unhandled in the event loop%s: no exception given", task)

    return handle


def _port_of(sock: Any) -> str:
    try:
        return f"port {sock.getsockname()[1]}"
    except (AttributeError, OSError, IndexError, TypeError):
        return "a socket"


def _now() -> float:
    return time.monotonic()
