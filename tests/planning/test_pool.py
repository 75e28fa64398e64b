"""The roster pool: its own threads, one at a time, a bounded waiting line, then 429."""

from __future__ import annotations

import asyncio
import threading

import pytest

from planning.pool import MAX_MODEL_SIZE, PlanningBusy, WorkerPool, model_size


async def test_work_runs_in_the_pools_own_threads_one_at_a_time() -> None:
    pool = WorkerPool(workers=1, waiting=3)
    running: list[int] = []
    most = 0
    lock = threading.Lock()

    def work() -> str:
        nonlocal most
        with lock:
            running.append(1)
            most = max(most, len(running))
        threading.Event().wait(0.05)
        with lock:
            running.pop()
        return threading.current_thread().name

    names = await asyncio.gather(*(pool.run(work) for _ in range(4)))
    assert most == 1 and all(name.startswith("roster") for name in names)
    assert pool.admitted == 0
    pool.close()


async def test_beyond_the_waiting_line_a_request_is_refused_with_retry_after() -> None:
    pool = WorkerPool(workers=1, waiting=1)
    release = threading.Event()
    first = asyncio.ensure_future(pool.run(release.wait))
    second = asyncio.ensure_future(pool.run(release.wait))
    await asyncio.sleep(0.01)
    with pytest.raises(PlanningBusy) as refused:
        await pool.run(release.wait)
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "30"}
    release.set()
    assert await first and await second and pool.admitted == 0
    assert await pool.run(lambda: 1) == 1  # admitted again once the line has room
    pool.close()


def test_the_model_size_is_operators_times_templates_times_intervals() -> None:
    assert model_size(50, 5, 28, 30) == 50 * 5 * 28 * 48 < MAX_MODEL_SIZE
    assert model_size(500, 30, 28, 15) > MAX_MODEL_SIZE
