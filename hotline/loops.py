"""The service's own periodic loops, supervised by the composition root: the records sweep and
following the live IVR version. A failed round never ends a loop: the first failure of an
outage is logged (its exception type and where), its end too, every failure counted on
/metrics (``hotline_task_failures_total{task}``)."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from core.tasks import Backoff, TaskSupervisor
from ivr.service import IvrService
from metrics.records.assembler import CallAssembler
from privacy.repeat import RepeatCallers

log = logging.getLogger("hotline")
SWEEP_INTERVAL_SECONDS: Final = 60.0
IVR_REFRESH_SECONDS: Final = 2.0
IVR_REFRESH_MAX_SECONDS: Final = 30.0  # the database away: the refresh backs off up to this


async def sweep_forever(
    assembler: CallAssembler,
    repeats: RepeatCallers,
    tasks: TaskSupervisor,
    every: float = SWEEP_INTERVAL_SECONDS,
) -> None:
    """Calls without a final event are recorded as incomplete; an old repeat-caller key goes."""
    outage = tasks.outage("records-sweep", "the records sweep", log)
    while True:
        await asyncio.sleep(every)
        try:
            if swept := assembler.sweep():
                log.warning("%d calls without a final event recorded as incomplete", swept)
            repeats.rotate_if_due()  # a quiet line must not keep an old key
        except Exception as exc:
            outage.failed(exc)
        else:
            outage.ok()


async def follow_ivr_forever(
    ivr: IvrService,
    tasks: TaskSupervisor,
    every: float = IVR_REFRESH_SECONDS,
    backoff: Backoff | None = None,
) -> None:
    """Follow the live IVR version (another process may publish); slower while the database
    does not answer."""
    outage = tasks.outage("ivr-follow", "reading the live IVR version", log)
    backoff = backoff or Backoff(every, IVR_REFRESH_MAX_SECONDS)
    while True:
        await asyncio.sleep(backoff.next() if outage.down else every)
        try:
            await ivr.refresh()
        except Exception as exc:
            outage.failed(exc)
        else:
            outage.ok()
            backoff.reset()
