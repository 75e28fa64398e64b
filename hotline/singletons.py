"""Two (or more) service instances on one PostgreSQL (issue 22, item 3): what each runs.

Every instance serves FastAGI (the dialplan tries the second instance's server when the first
one's walk ends without a route: dialplan/render.py ``agi_backup_urls``), follows every node's
AMI, keeps its own boards, and saves its version of every call it saw: the record store keeps
one row per call and folds the versions together (metrics/records/facts.py), and the IVR's
route travels on the channel, so the instance that did not walk the IVR records the topic too.

Work that must happen once for the whole line runs only in the leader, the instance holding a
PostgreSQL advisory lock (core/leader.py); another takes over within seconds of its death:

- retention of call records and of the audit log (deleting twice at once would only wait on
  each other's row locks, but one is enough);
- the burnout guard's recovery pauses and their ends: each instance keeps every operator's
  shift from AMI and shows the notices; the leader alone pauses, and a new leader ends on time
  the recovery pauses the previous one began (:meth:`agents.guard.BurnoutGuard.take_over`).

Left in every instance, on purpose: the records sweep (each instance's own open calls; the
store merges), following the live IVR version, the wallboard, the switchboard's expiry (each
instance must drop an ended redirect from its own memory; writing the end twice is harmless),
AMI's census and its hourly clearing of the answered-calls family (clearing twice loses
nothing: a call answered then was recorded by the instance that was up). Publishing is not a
loop: an admin's publish runs on the instance that took the request, and the other follows the
live version; two instances started at once on an empty database may each publish the seed
(two equal versions, harmless).

Known limit: a caller who hangs up in the IVR leaves no queue event, so only the instance that
walked the IVR records the call; if that instance dies before its record writer saved it (a
quarter of a second) and never starts again, that record is lost (its journal and its
in-flight calls are taken back when it starts again, metrics/records/writer.py, inflight.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from core.leader import Leadership
from hotline.audit import prune_forever
from metrics.records.retention import Retention, run_retention_forever

if TYPE_CHECKING:
    from hotline.app import Hotline

log = logging.getLogger("hotline")
Loop = Callable[[], Awaitable[None]]


class Singletons:
    """Starts the leader's loops when this instance takes the lead, cancels them when it loses it."""

    def __init__(self, leadership: Leadership, start: Callable[[str, Loop], asyncio.Task[None]]) -> None:
        self.leadership = leadership
        self._start = start
        self._loops: dict[str, Loop] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._on_lead: list[Callable[[], object]] = []
        leadership.listeners.append(self._changed)

    def add(self, name: str, loop: Loop) -> None:
        self._loops[name] = loop

    def on_lead(self, taken: Callable[[], object]) -> None:
        """``taken()`` runs each time this instance takes the lead."""
        self._on_lead.append(taken)

    @property
    def running(self) -> list[str]:
        return sorted(name for name, task in self._running.items() if not task.done())

    async def run(self) -> None:
        try:
            await self.leadership.run()
        finally:
            self._changed(False)

    def _changed(self, leading: bool) -> None:
        if leading:
            self._running = {name: self._start(name, loop) for name, loop in self._loops.items()}
            for taken in self._on_lead:
                taken()
            return
        for task in self._running.values():
            task.cancel()
        self._running = {}


def singletons(h: Hotline) -> Singletons:
    """The leader's work in the composition root's graph (hotline/app.py calls it once)."""
    found = Singletons(Leadership(h.engine), h.tasks.supervise)
    settings = h.settings
    keep = timedelta(days=settings.privacy.retention_days)
    found.add("retention", lambda: run_retention_forever(Retention(h.engine, keep), tasks=h.tasks))
    days = settings.privacy.audit_retention_days
    found.add("audit-retention", lambda: prune_forever(h.audit, days, h.tasks))
    h.guard.acts = lambda: found.leadership.leading
    found.on_lead(h.guard.take_over)
    return found
