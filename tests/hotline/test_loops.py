"""The service's own loops keep running through their dependencies' failures (logged once per
outage, counted on /metrics), and a fresh service's wallboard does not fail before the seed
IVR is published."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from core.db import migrate
from core.tasks import Backoff, TaskSupervisor
from hotline.app import Hotline
from hotline.loops import follow_ivr_forever, sweep_forever
from telephony.events import QueueMember, QueueSnapshot
from tests.conftest import make_settings


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


class FlakyIvr:
    """An IvrService whose database is away for the first ``failures`` refreshes."""

    def __init__(self, failures: int) -> None:
        self.failures, self.refreshes = failures, 0

    async def refresh(self) -> bool:
        self.refreshes += 1
        if self.refreshes <= self.failures:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return False


async def test_following_the_ivr_survives_a_database_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    tasks, ivr = TaskSupervisor(), FlakyIvr(failures=5)
    task = tasks.supervise(
        "ivr-follow",
        lambda: follow_ivr_forever(ivr, tasks, every=0.01, backoff=Backoff(0.01, 0.02)),  # type: ignore[arg-type]
    )
    await until(lambda: ivr.refreshes >= 8)
    assert tasks.failures["ivr-follow"] == 5 and tasks.restarts["ivr-follow"] == 0 and not task.done()
    assert caplog.text.count("reading the live IVR version failed (OperationalError") == 1
    assert "reading the live IVR version works again after 5 failed tries" in caplog.text
    await tasks.close()


class BrokenAssembler:
    def __init__(self) -> None:
        self.sweeps = 0

    def sweep(self) -> int:
        self.sweeps += 1
        raise RuntimeError("a bug")


class Repeats:
    def rotate_if_due(self) -> None:
        pass


async def test_a_failing_sweep_is_logged_once_and_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    tasks, assembler = TaskSupervisor(), BrokenAssembler()
    tasks.supervise("records-sweep", lambda: sweep_forever(assembler, Repeats(), tasks, every=0.01))  # type: ignore[arg-type]
    await until(lambda: assembler.sweeps >= 4)
    assert tasks.failures["records-sweep"] >= 4
    assert caplog.text.count("the records sweep failed (RuntimeError at test_loops.py") == 1
    await tasks.close()


async def test_a_fresh_services_wallboard_pushes_before_the_ivr_is_published(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """AMI logs in (and resyncs) before the seed IVR is published: the wallboard's push reads
    operators' wrap-up times, which come from the seed until an IVR version is live."""
    settings = make_settings(tmp_path, asterisk=[{"name": "local", "ami_secret": "s" * 24}])
    hotline = Hotline(settings)
    migrate(hotline.engine)
    stream = hotline.wallboard.subscribe()
    await anext(stream)
    worked = QueueMember(
        "local", datetime.now(UTC), "", "", "main", "op-x", "PJSIP/op-x", 1, False, "", False, 3, 1
    )
    hotline.fanout(QueueSnapshot("local", datetime.now(UTC), (), (worked,), ()))  # a member with calls taken
    pushed = await asyncio.wait_for(anext(stream), 2)
    assert '"operator": "op-x"' in pushed
    assert "wallboard push failed" not in caplog.text
    await stream.aclose()
    # The supervisor's figures are on /metrics, every known task at 0 until it fails.
    hotline.tasks.count_failure("retention")
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        text = (await client.get("/metrics/")).text
    assert 'hotline_task_failures_total{task="retention"} 1.0' in text
    assert 'hotline_task_failures_total{task="wallboard"} 0.0' in text
    assert (
        "# TYPE hotline_task_restarts_total counter" in text or "# TYPE hotline_task_restarts counter" in text
    )
    hotline.engine.dispose()
