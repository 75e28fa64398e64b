"""No task dies unobserved: a supervised task is restarted after a failure, a fire-and-forget
task's exception is logged and counted, and nothing reaches asyncio's "never retrieved"."""

from __future__ import annotations

import asyncio
import gc
import logging
import re

import pytest

from core.tasks import EVENT_LOOP, Backoff, TaskSupervisor, exception_handler
from tests.conftest import ROOT
from tests.test_architecture import ROOMS

SECRET_TEXT = "+79000000001"  # what an exception's text may carry: never logged


class Flaky:
    """Fails ``failures`` times (with a caller number in its text), then runs until cancelled."""

    def __init__(self, failures: int) -> None:
        self.failures, self.starts = failures, 0
        self.running = asyncio.Event()

    async def __call__(self) -> None:
        self.starts += 1
        if self.starts <= self.failures:
            raise RuntimeError(f"caller {SECRET_TEXT} broke it")
        self.running.set()
        await asyncio.Event().wait()


async def test_a_failed_task_is_logged_once_and_restarted_with_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSupervisor(healthy_after=0.1)
    flaky = Flaky(failures=3)
    caplog.set_level(logging.DEBUG, logger="hotline.tasks")
    task = tasks.supervise("sweep", flaky, Backoff(initial=0.01, maximum=0.02))
    await asyncio.wait_for(flaky.running.wait(), 5)
    assert (flaky.starts, tasks.failures["sweep"], tasks.restarts["sweep"]) == (4, 3, 3)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and re.fullmatch(
        r"task sweep failed \(RuntimeError at test_tasks.py:\d+ in __call__\); retrying with backoff",
        errors[0],
    ), errors
    await asyncio.sleep(0.2)  # healthy for healthy_after: the outage's end is logged
    assert "task sweep works again after 3 failed tries" in caplog.text
    assert SECRET_TEXT not in caplog.text
    await tasks.close()
    assert task.cancelled() and not tasks.running


async def test_a_supervised_task_that_returns_is_done_and_one_that_is_cancelled_stops() -> None:
    tasks = TaskSupervisor()
    done = tasks.supervise("once", lambda: asyncio.sleep(0))
    await done
    assert tasks.restarts["once"] == 0 and tasks.failures["once"] == 0
    forever = tasks.supervise("forever", lambda: asyncio.sleep(3600))
    await asyncio.sleep(0)
    forever.cancel()
    with pytest.raises(asyncio.CancelledError):
        await forever
    assert tasks.failures["forever"] == 0


async def _fails() -> None:
    raise KeyError(SECRET_TEXT)


async def test_a_spawned_tasks_exception_is_logged_and_counted_never_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSupervisor()
    caplog.set_level(logging.DEBUG)  # asyncio's own logger included
    task = tasks.spawn("guard-recovery", _fails())
    del task  # nobody holds it but the supervisor, nobody awaits it
    await asyncio.sleep(0.01)
    gc.collect()  # where asyncio would say "Task exception was never retrieved"
    await asyncio.sleep(0.01)
    assert tasks.failures["guard-recovery"] == 1
    assert "task guard-recovery failed: KeyError at test_tasks.py" in caplog.text
    assert "never retrieved" not in caplog.text and SECRET_TEXT not in caplog.text
    assert not [r for r in caplog.records if r.name == "asyncio"]


async def test_the_loops_handler_logs_the_type_only_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    """What escapes every guard (a callback of a library, a task made elsewhere) reaches the
    loop's handler: its message (a callback's repr, with its arguments) is never logged."""
    tasks = TaskSupervisor()
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(exception_handler(tasks))
    caplog.set_level(logging.DEBUG)
    try:

        def callback(event: dict[str, str]) -> None:
            raise ValueError(event["CallerIDNum"])

        loop.call_soon(callback, {"CallerIDNum": SECRET_TEXT})
        orphan = asyncio.ensure_future(_fails())  # made outside the supervisor, never awaited
        await asyncio.sleep(0.01)
        del orphan
        gc.collect()
        await asyncio.sleep(0.01)
    finally:
        loop.set_exception_handler(previous)
    assert tasks.failures[EVENT_LOOP] == 2
    assert "unhandled in the event loop: ValueError at test_tasks.py" in caplog.text
    assert re.search(r"unhandled in the event loop in task Task-\d+: KeyError", caplog.text)
    assert SECRET_TEXT not in caplog.text and "never retrieved" not in caplog.text


def test_backoff_doubles_with_jitter_up_to_its_maximum_and_resets() -> None:
    backoff = Backoff(initial=1.0, maximum=4.0)
    delays = [backoff.next() for _ in range(5)]
    for delay, bound in zip(delays, [1, 2, 4, 4, 4], strict=True):
        assert bound / 2 <= delay <= bound
    backoff.reset()
    assert backoff.next() <= 1.0


TASK_MAKERS = re.compile(r"\b(create_task|ensure_future)\(")
SERVICE_ROOMS = tuple(room for room in ROOMS if room != "sandbox")  # the service never runs sandbox/


def test_every_task_of_the_service_is_made_by_core_tasks() -> None:
    """A task made anywhere else could die with nobody told: use TaskSupervisor.supervise
    (long-running), .spawn (fire and forget) or core.tasks.child (awaited by its creator)."""
    found = []
    for room in SERVICE_ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            if path == ROOT / "core" / "tasks.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if TASK_MAKERS.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)
