"""Bounded worker pools for planning: forecasts and rosters are CPU- and memory-heavy work that
must not fill the default thread pool (presence writes and the IVR's refresh use it) nor run
many at once.

``workers`` run at a time in a pool of their own; up to ``waiting`` more wait their turn; any
request beyond that is refused at once with a 429 and a Retry-After. The size of a roster's
model (operators x intervals x templates) is capped before it is admitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, TypeVar

from planning.service import PlanningError

T = TypeVar("T")
MAX_MODEL_SIZE = 1_000_000  # operators x intervals x templates; bench/roster.py's is 336,000
RETRY_AFTER_SECONDS = 30


class PlanningBusy(PlanningError):
    """Every worker of a planning pool is busy and its waiting line is full."""

    error_id = "planning_busy"
    status = 429
    headers: ClassVar[dict[str, str]] = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class WorkerPool:
    def __init__(self, workers: int = 1, waiting: int = 2, name: str = "roster") -> None:
        """``name``: what the pool makes (its threads' names, the 429's message)."""
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._name = name
        self._limit = workers + waiting
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Requests running or waiting."""
        return self._admitted

    async def run(self, work: Callable[[], T]) -> T:
        """``work``'s result, from the pool's own threads; PlanningBusy when it is full."""
        if self._admitted >= self._limit:
            raise PlanningBusy(
                f"{self._admitted} {self._name}s are being made or wait; try again in {RETRY_AFTER_SECONDS} s"
            )
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._admitted -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def model_size(operators: int, templates: int, days: int, interval_minutes: int) -> int:
    return operators * templates * days * (1440 // interval_minutes)
