"""Switchboarding (issue 17, item 5): a shift lead sends a queue's NEW callers to another queue
or to a partner line (a referral of the IVR document) for a set time, without a restart.

- The routing decision (the FastAGI IVR, ivr/handler.py) asks :meth:`Switchboard.reroute` once
  per caller: an in-memory view, never a database call. A caller whose walk ends at a redirected
  queue goes to the target instead, and the route says where from (``switchboarded_from``, kept
  in the call record). Callers already waiting in the queue stay; a partner line is dialled as
  the IVR's referrals are (anonymous, a human here when it does not answer).
- A redirect ends by itself at its planned end (the view compares the time, so the end is exact
  to the call; :meth:`run` then writes the end down) or early (:meth:`end`). At most one active
  redirect per queue; none to itself, none in a loop (A to B while B to A) nor in a chain (A to
  B while B goes elsewhere, or X to A while A is sent on): a caller is redirected once.
- Every redirect is kept (ivr/switchboard_store.py); writes run off the event loop. A restart
  reloads the open ones (:meth:`load`), their expiry computed from the stored times.
- When the Python service is down, Asterisk's dialplan sends callers to the default queue:
  a redirect does not hold then (nor does the rest of the IVR).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.errors import DomainError, where
from core.tasks import TaskSupervisor
from ivr.document import IvrDocument
from ivr.engine import Route, RouteKind
from ivr.referrals import open_at
from ivr.switchboard_store import Redirect, SwitchboardStore

log = logging.getLogger("hotline.switchboard")
MIN_DURATION = timedelta(seconds=15)
MAX_DURATION = timedelta(hours=24)


def _now() -> datetime:
    return datetime.now(UTC)


class SwitchboardError(DomainError):
    error_id = "switchboard_error"
    status = 400


class UnknownQueue(SwitchboardError):
    error_id = "queue_not_found"
    status = 404


class UnknownReferral(SwitchboardError):
    error_id = "referral_not_found"
    status = 404


class RedirectToItself(SwitchboardError):
    error_id = "switchboard_to_itself"
    status = 422


class RedirectLoop(SwitchboardError):
    error_id = "switchboard_loop"
    status = 409


class RedirectChain(SwitchboardError):
    error_id = "switchboard_chain"
    status = 409


class AlreadyRedirected(SwitchboardError):
    error_id = "switchboard_active"
    status = 409


class RedirectNotFound(SwitchboardError):
    error_id = "switchboard_not_found"
    status = 404


class RedirectNotActive(SwitchboardError):
    error_id = "switchboard_not_active"
    status = 409


class SwitchboardUnavailable(SwitchboardError):
    """The database did not take the change: nothing changed for callers."""

    error_id = "switchboard_unavailable"
    status = 503


def describe(redirect: Redirect) -> str:
    return f"queue '{redirect.queue}' goes to '{redirect.target}' until {redirect.planned_end.isoformat()}"


class Switchboard:
    """``document``: the live IVR document (queues and referrals are checked against it, and a
    partner line's number read from it per caller). Whoever :meth:`listen` s is told after every
    start, end and expiry (the wallboard pushes a new snapshot). One process per database: a
    second service on the same database would learn another's redirects only when it starts."""

    def __init__(
        self,
        store: SwitchboardStore,
        document: Callable[[], IvrDocument],
        clock: Callable[[], datetime] = _now,
        tasks: TaskSupervisor | None = None,
    ) -> None:
        self._store = store
        self._document = document
        self._clock = clock
        self._active: dict[str, Redirect] = {}  # queue -> its open redirect (maybe just expired)
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._outage = (tasks or TaskSupervisor()).outage("switchboard", "switchboard expiry", log)

    def listen(self, on_change: Callable[[], None]) -> None:
        self._listeners.append(on_change)

    def now(self) -> datetime:
        return self._clock()

    def document(self) -> IvrDocument:
        return self._document()

    # -- the routing decision (on the event loop, per caller) -----------------------------------
    def reroute(self, route: Route, document: IvrDocument) -> Route:
        """The route a new caller takes: ``route`` itself, unless its queue is redirected now.
        A target gone from ``document`` (the caller's IVR version), or a partner line closed by
        its hours, leaves the caller in their own queue."""
        if route.kind is not RouteKind.QUEUE or route.queue is None:
            return route
        redirect = self._active.get(route.queue)
        now = self._clock()
        if redirect is None or not redirect.active(now):
            return route
        if redirect.target_referral is not None:
            referral = document.referral(redirect.target_referral)
            if referral is None or not open_at(document, referral, now):
                return route
            return dataclasses.replace(
                route,
                kind=RouteKind.REFERRAL,
                queue=None,
                referral=referral.id,
                referral_number=referral.number,
                overflow_queue=None,
                overflow_after_seconds=None,
                overflow_waiting_over=None,
                survey=False,
                switchboarded_from=route.queue,
            )
        target = redirect.target_queue
        if target is None or document.queue(target) is None:
            return route
        changes: dict[str, Any] = {"queue": target, "switchboarded_from": route.queue}
        if route.overflow_queue == target:  # no overflow into the queue the caller is in
            changes.update(overflow_queue=None, overflow_after_seconds=None, overflow_waiting_over=None)
        return dataclasses.replace(route, **changes)

    def active(self) -> list[Redirect]:
        """The redirects in force now, by queue."""
        now = self._clock()
        return sorted((r for r in self._active.values() if r.active(now)), key=lambda r: r.queue)

    def snapshot(self) -> list[dict[str, Any]]:
        """The wallboard's ``switchboard`` part: each redirect in force and when it ends."""
        now = self._clock()
        return [
            {
                "id": r.id,
                "queue": r.queue,
                "target_queue": r.target_queue,
                "target_referral": r.target_referral,
                "started_by": r.started_by,
                "started_at": r.started_at.isoformat(),
                "expires_at": r.planned_end.isoformat(),
                "seconds_left": round((r.planned_end - now).total_seconds(), 1),
            }
            for r in self.active()
        ]

    # -- changes (from the API; the database off the loop) --------------------------------------
    async def load(self) -> int:
        """At start: what an earlier process left open, past ends written down first."""
        async with self._lock:
            await self._write(self._store.expire, self._clock())
            self._active = {r.queue: r for r in await self._write(self._store.open)}
        if self._active:
            log.info("switchboard: %d redirects in force: %s", len(self._active), self._names())
        return len(self._active)

    async def start(
        self,
        queue: str,
        target_queue: str | None,
        target_referral: str | None,
        duration: timedelta,
        by: str,
    ) -> Redirect:
        async with self._lock:
            await self._expire_locked()
            self._check(queue, target_queue, target_referral)
            now = self._clock()
            end = now + min(max(duration, MIN_DURATION), MAX_DURATION)
            made: Redirect = await self._write(
                self._store.add, queue, target_queue, target_referral, by, now, end
            )
            self._active[queue] = made
        log.info("switchboard: %s (by %s)", describe(made), by)
        self._changed()
        return made

    async def end(self, redirect_id: int, by: str) -> Redirect:
        async with self._lock:
            await self._expire_locked()
            found = next((r for r in self._active.values() if r.id == redirect_id), None)
            if found is None:
                stored = await self._write(self._store.get, redirect_id)
                if stored is None:
                    raise RedirectNotFound(f"redirect {redirect_id} does not exist", where("id", "unknown"))
                state = stored.state(self._clock())
                raise RedirectNotActive(
                    f"redirect {redirect_id} has {state} already", {"id": redirect_id, "state": state}
                )
            ended = await self._write(self._store.end, redirect_id, self._clock(), by)
            self._active.pop(found.queue, None)
        log.info("switchboard: queue '%s' back to its own callers (ended by %s)", found.queue, by)
        self._changed()
        return ended if isinstance(ended, Redirect) else found

    async def recent(self, limit: int = 50) -> list[Redirect]:
        found: list[Redirect] = await self._write(self._store.recent, limit)
        return found

    async def run(self, tick: float = 1.0) -> None:
        """Writes down each redirect's end when it passes (routing stopped at that instant)."""
        while True:
            await asyncio.sleep(tick)
            if not any(not r.active(self._clock()) for r in self._active.values()):
                continue
            try:
                async with self._lock:
                    await self._expire_locked()
            except SwitchboardUnavailable as exc:
                self._outage.failed(exc.__cause__ or exc)
            else:
                self._outage.ok()

    # -- internals ------------------------------------------------------------------------------
    async def _expire_locked(self) -> None:
        now = self._clock()
        if any(not r.active(now) for r in self._active.values()):
            for gone in await self._write(self._store.expire, now):
                log.info("switchboard: redirect of queue '%s' expired", gone.queue)
            self._active = {q: r for q, r in self._active.items() if r.active(now)}
            self._changed()

    def _check(self, queue: str, target_queue: str | None, target_referral: str | None) -> None:
        doc = self._document()
        if doc.queue(queue) is None:
            raise UnknownQueue(
                f"queue '{queue}' does not exist", where("queue", "not in the live IVR document")
            )
        if target_queue is not None and doc.queue(target_queue) is None:
            raise UnknownQueue(
                f"queue '{target_queue}' does not exist",
                where("target_queue", "not in the live IVR document"),
            )
        if target_referral is not None and doc.referral(target_referral) is None:
            raise UnknownReferral(
                f"referral '{target_referral}' does not exist",
                where("target_referral", "not in the live IVR document's referrals"),
            )
        if target_queue == queue:
            raise RedirectToItself(
                f"queue '{queue}' cannot be redirected to itself", where("target_queue", "the same queue")
            )
        self._check_free(queue, target_queue)

    def _check_free(self, queue: str, target_queue: str | None) -> None:
        now = self._clock()
        mine = self._active.get(queue)
        if mine is not None and mine.active(now):
            raise AlreadyRedirected(
                f"queue '{queue}' is redirected already ({describe(mine)}): end that redirect first",
                {"id": mine.id, "target": mine.target, "until": mine.planned_end.isoformat()},
            )
        onward = self._active.get(target_queue) if target_queue else None
        if onward is not None and onward.active(now):
            error = RedirectLoop if onward.target_queue == queue else RedirectChain
            raise error(
                f"'{queue}' to '{target_queue}' refused: {describe(onward)}",
                where("target_queue", f"redirected itself (redirect {onward.id})"),
            )
        into = next((r for r in self._active.values() if r.target_queue == queue and r.active(now)), None)
        if into is not None:
            raise RedirectChain(
                f"queue '{queue}' takes the callers of another queue now ({describe(into)})",
                where("queue", f"the target of redirect {into.id}"),
            )

    async def _write(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(call, *args)
        except SQLAlchemyError as exc:
            raise SwitchboardUnavailable(
                "the database did not take the change; nothing changed for callers"
            ) from exc

    def _changed(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # a listener never stops a change
                log.exception("switchboard listener failed")

    def _names(self) -> str:
        return ", ".join(describe(r) for r in self._active.values())
