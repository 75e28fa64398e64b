"""One record per call, assembled from the IVR's reports and the queue events.

Nothing here ever holds a caller number: the IVR reports only topics and paths, and AMI events
arrive already scrubbed (telephony/events.py). A call is finished by its terminal event
(operator hung up, caller abandoned, caller left the IVR); a call whose terminal event never
comes is finished by :meth:`CallAssembler.sweep` and marked incomplete, never lost.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from ivr.engine import Route, RouteKind
from ivr.observer import CallRef
from telephony.events import (
    AgentComplete,
    AgentConnect,
    AmiEvent,
    BaseEvent,
    Hangup,
    QueueCallerAbandon,
    QueueCallerJoin,
)


class Outcome(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED_IN_IVR = "abandoned_in_ivr"
    ABANDONED_IN_QUEUE = "abandoned_in_queue"
    REFERRED = "referred"
    FAILED = "failed"


@dataclass(frozen=True)
class CallRecord:
    id: str
    node: str
    call_id: str
    started_at: datetime
    ivr_ended_at: datetime | None = None
    queue_entered_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    language: str | None = None
    menu_version: str | None = None
    path: str = ""
    topic: str | None = None
    queue: str | None = None
    route_reason: str | None = None
    fallback: bool = False
    outcome: Outcome = Outcome.IN_PROGRESS
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    operator: str | None = None
    complete: bool = True
    priority: int = 0
    after_hours: bool = False
    referral: str | None = None
    overflowed: bool = False


RecordSink = Callable[[CallRecord], None]


def _now() -> datetime:
    return datetime.now(UTC)


class CallAssembler:
    """Folds IVR reports and queue events into call records; hands finished ones to ``sink``."""

    def __init__(
        self,
        sink: RecordSink,
        clock: Callable[[], datetime] = _now,
        stale_after: timedelta = timedelta(hours=6),
        remember_finished: int = 10_000,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._stale_after = stale_after
        self._open: dict[CallRef, CallRecord] = {}
        self._finished: OrderedDict[CallRef, None] = OrderedDict()
        self._remember = remember_finished

    @property
    def open_calls(self) -> int:
        return len(self._open)

    # -- IVR reports (ivr.observer.IvrObserver) -----------------------------------------------
    def ivr_started(self, call: CallRef, at: datetime, language: str, menu_version: str) -> None:
        self._update(call, at, language=language or None, menu_version=menu_version)

    def ivr_routed(self, call: CallRef, at: datetime, route: Route) -> None:
        self._update(
            call,
            at,
            ivr_ended_at=at,
            path=route.path,
            topic=route.topic,
            queue=route.queue,
            route_reason=route.reason.value,
            priority=route.priority,
            language=route.language,
            after_hours=route.after_hours,
            referral=route.referral,
        )
        if route.kind is RouteKind.REFERRAL:
            # Finished when the caller hangs up (see _on_hangup), unless the partner line did
            # not answer and the dialplan put the caller in our queue instead.
            self._update(call, at, queue=None)

    def ivr_hangup(self, call: CallRef, at: datetime, path: str) -> None:
        self._update(call, at, ivr_ended_at=at, ended_at=at, path=path)
        self._finish(call, Outcome.ABANDONED_IN_IVR)

    def ivr_failed(self, call: CallRef, at: datetime, path: str) -> None:
        self._update(call, at, ivr_ended_at=at, path=path, fallback=True)

    # -- queue events ---------------------------------------------------------------------------
    def on_event(self, event: AmiEvent) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None and isinstance(event, BaseEvent) and event.call_id:
            handler(self, event)

    def _on_join(self, e: QueueCallerJoin) -> None:
        call = CallRef(e.node, e.call_id)
        record = self._open.get(call)
        entered = record.queue_entered_at if record and record.queue_entered_at else e.at
        # No IVR route before the queue: the dialplan took its fallback path.
        fallback = record is None or record.fallback or record.ivr_ended_at is None
        overflowed = record is not None and (
            record.overflowed or (record.queue is not None and record.queue != e.queue)
        )
        self._update(
            call,
            e.at,
            queue=e.queue,
            queue_entered_at=entered,
            fallback=fallback,
            overflowed=overflowed,
        )

    def _waited(self, call: CallRef, at: datetime, hold_seconds: int) -> float:
        """Time in queues: from the first queue entry, so an overflow's second queue adds to the
        first (Asterisk's HoldTime counts only the queue the caller is in now)."""
        record = self._open.get(call)
        entered = record.queue_entered_at if record else None
        if entered is None:
            return float(hold_seconds)
        return round(max(float(hold_seconds), (at - entered).total_seconds()), 3)

    def _on_connect(self, e: AgentConnect) -> None:
        call = CallRef(e.node, e.call_id)
        self._update(
            call,
            e.at,
            queue=e.queue,
            answered_at=e.at,
            wait_seconds=self._waited(call, e.at, e.hold_seconds),
            operator=e.member or None,
        )

    def _on_complete(self, e: AgentComplete) -> None:
        call = CallRef(e.node, e.call_id)
        record = self._open.get(call)
        waited = record.wait_seconds if record and record.wait_seconds is not None else float(e.hold_seconds)
        self._update(
            call,
            e.at,
            queue=e.queue,
            ended_at=e.at,
            talk_seconds=float(e.talk_seconds),
            wait_seconds=waited,
            operator=e.member or None,
        )
        self._finish(call, Outcome.ANSWERED)

    def _on_abandon(self, e: QueueCallerAbandon) -> None:
        """Left the queue unanswered: hung up, or timed out to an overflow queue (app_queue
        reports both as an abandon). The caller's Hangup, or a new join, tells which."""
        call = CallRef(e.node, e.call_id)
        self._update(call, e.at, queue=e.queue, wait_seconds=self._waited(call, e.at, e.hold_seconds))

    def _on_hangup(self, e: Hangup) -> None:
        """The caller's own channel hung up: whatever has not ended the call yet ends it now."""
        call = CallRef(e.node, e.call_id)
        record = self._open.get(call)
        if e.uniqueid != e.call_id or record is None:
            return  # another leg of the call, or a call already recorded
        if record.answered_at is not None:
            talk = record.talk_seconds
            if talk is None:
                talk = round((e.at - record.answered_at).total_seconds(), 3)
            self._update(call, e.at, ended_at=e.at, talk_seconds=talk)
            self._finish(call, Outcome.ANSWERED)
        elif record.queue_entered_at is not None:
            self._update(call, e.at, ended_at=e.at, wait_seconds=self._waited(call, e.at, 0))
            self._finish(call, Outcome.ABANDONED_IN_QUEUE)
        elif record.referral:
            self._update(call, e.at, ended_at=e.at)
            self._finish(call, Outcome.REFERRED)
        elif record.ivr_ended_at is None:
            self._update(call, e.at, ended_at=e.at, ivr_ended_at=e.at)
            self._finish(call, Outcome.ABANDONED_IN_IVR)
        else:  # routed to a queue, gone before joining it: waited no time, but was not served
            self._update(call, e.at, ended_at=e.at, wait_seconds=0.0)
            self._finish(call, Outcome.ABANDONED_IN_QUEUE)

    _handlers: ClassVar[dict[type, Callable[[CallAssembler, AmiEvent], None]]] = {
        QueueCallerJoin: _on_join,  # type: ignore[dict-item]
        AgentConnect: _on_connect,  # type: ignore[dict-item]
        AgentComplete: _on_complete,  # type: ignore[dict-item]
        QueueCallerAbandon: _on_abandon,  # type: ignore[dict-item]
        Hangup: _on_hangup,  # type: ignore[dict-item]
    }

    # -- bookkeeping ----------------------------------------------------------------------------
    def _update(self, call: CallRef, at: datetime, **changes: object) -> None:
        if call in self._finished:
            return  # late or repeated event for a call already recorded
        record = self._open.get(call)
        if record is None:
            record = CallRecord(id=uuid.uuid4().hex, node=call.node, call_id=call.call_id, started_at=at)
        self._open[call] = replace(record, **changes)  # type: ignore[arg-type]

    def _finish(self, call: CallRef, outcome: Outcome, complete: bool = True) -> None:
        record = self._open.pop(call, None)
        if record is None:
            return
        self._finished[call] = None
        while len(self._finished) > self._remember:
            self._finished.popitem(last=False)
        self._sink(replace(record, outcome=outcome, complete=complete))

    def sweep(self) -> int:
        """Finish calls silent for longer than ``stale_after`` as incomplete; returns how many."""
        limit = self._clock() - self._stale_after
        stale = [c for c, r in self._open.items() if _last_seen(r) < limit]
        for call in stale:
            record = self._open[call]
            outcome = Outcome.ANSWERED if record.answered_at else Outcome.FAILED
            self._finish(call, outcome, complete=False)
        return len(stale)

    def flush_all(self) -> int:
        """On shutdown: nothing is lost; open calls are recorded as incomplete."""
        calls = list(self._open)
        for call in calls:
            record = self._open[call]
            self._finish(call, Outcome.ANSWERED if record.answered_at else Outcome.FAILED, False)
        return len(calls)


def _last_seen(record: CallRecord) -> datetime:
    stamps = [record.started_at, record.ivr_ended_at, record.queue_entered_at, record.answered_at]
    return max(s for s in stamps if s is not None)
