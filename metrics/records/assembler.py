"""One record per call, assembled from the IVR's reports and the queue events.

Nothing here ever holds a caller number: the IVR reports only topics and paths, and AMI events
arrive already scrubbed (telephony/events.py). A call ends with the caller's own hangup: after
an operator hangs up the caller may still rate the call or be handed to a senior, so the
operator's AgentComplete only adds talk time. A call whose final event never comes is finished
by :meth:`CallAssembler.sweep` and marked incomplete, never lost.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Protocol

from core.types import CallRef
from ivr.engine import Route, RouteKind
from metrics.records.facts import apply_route, record_id
from metrics.records.handovers import Handovers
from metrics.records.record import CallRecord, Outcome
from telephony.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AmiEvent,
    BaseEvent,
    Hangup,
    LiveCalls,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
)

RecordSink = Callable[[CallRecord], None]


@dataclass(frozen=True)
class OpenCall:
    """Everything the assembler knows of a call in progress: enough to continue it elsewhere."""

    record: CallRecord
    seen: datetime  # its last report or event
    talking: datetime | None = None  # answered, and that leg not completed yet: since when
    completed: datetime | None = None  # the last operator leg's end


class CallKeeper(Protocol):
    """Told of every change of a call in progress (metrics/records/inflight.py keeps them on disk)."""

    def keep(self, state: OpenCall) -> None: ...

    def drop(self, call: CallRef) -> None: ...


class _NoKeeper:
    def keep(self, state: OpenCall) -> None:
        pass

    def drop(self, call: CallRef) -> None:
        pass


def _now() -> datetime:
    return datetime.now(UTC)


class CallAssembler:
    """Folds IVR reports and queue events into call records; hands finished ones to ``sink``.
    ``wrapup_for(queue)`` gives a queue's wrap-up seconds (the operator's after-call work). A call
    gone on to another node of the line stays one record (metrics/records/handovers.py)."""

    def __init__(
        self,
        sink: RecordSink,
        clock: Callable[[], datetime] = _now,
        stale_after: timedelta = timedelta(hours=6),
        remember_finished: int = 10_000,
        wrapup_for: Callable[[str], float | None] = lambda _queue: None,
        settle_after: timedelta = timedelta(minutes=15),
        keeper: CallKeeper | None = None,
    ) -> None:
        self._sink = sink
        self._keeper = keeper or _NoKeeper()
        self._clock = clock
        self._stale_after = stale_after
        self._settle_after = settle_after
        self._wrapup_for = wrapup_for
        self._open: dict[CallRef, CallRecord] = {}
        self._seen: dict[CallRef, datetime] = {}  # last report or event of each open call
        self._talking: dict[CallRef, datetime] = {}  # answered and not completed yet: since when
        self._completed: dict[CallRef, datetime] = {}  # the last operator leg's end
        self._finished: OrderedDict[CallRef, None] = OrderedDict()
        self._remember = remember_finished
        self._handovers = Handovers(remember_finished)  # calls gone on to another node

    @property
    def open_calls(self) -> int:
        return len(self._open)

    def open_record(self, call: CallRef) -> CallRecord | None:
        """A copy of an open call's record so far (the operator's desk reads it)."""
        record = self._open.get(self._handovers.began(call))
        return None if record is None else dataclasses.replace(record)

    def topic_of(self, call: CallRef) -> str | None:
        record = self._open.get(self._handovers.began(call))
        return record.topic if record else None

    # -- IVR reports (ivr.observer.IvrObserver) -----------------------------------------------
    def ivr_started(
        self, call: CallRef, at: datetime, language: str, menu_version: str, repeat_count: int | None = None
    ) -> None:
        if r := self._draft(call, at):
            r.language, r.menu_version, r.repeat_count = language or None, menu_version, repeat_count
            self._keep(call)

    def ivr_routed(self, call: CallRef, at: datetime, route: Route) -> None:
        if (r := self._draft(call, at)) is None:
            return
        r.ivr_ended_at, r.path, r.topic, r.route_reason = at, route.path, route.topic, route.reason.value
        r.priority, r.language, r.after_hours = route.priority, route.language, route.after_hours
        r.referral, r.switchboarded_from = route.referral, route.switchboarded_from
        if r.queue_entered_at is None:  # else a report repeated after the join: the queue knows better
            # A referral is finished when the caller hangs up (see _on_hangup), unless the partner
            # line did not answer and the dialplan put the caller in our queue instead.
            r.queue = None if route.kind is RouteKind.REFERRAL else route.queue
        self._keep(call)

    def ivr_hangup(self, call: CallRef, at: datetime, path: str) -> None:
        if r := self._draft(call, at):
            r.ivr_ended_at, r.ended_at, r.path = at, at, path
            self._finish(call, Outcome.ABANDONED_IN_IVR)

    def ivr_failed(self, call: CallRef, at: datetime, path: str) -> None:
        if r := self._draft(call, at):
            r.ivr_ended_at, r.path, r.fallback = at, path, True
            self._keep(call)

    def surveyed(self, call: CallRef, at: datetime, score: int) -> None:
        """The caller rated the call (1-5) after the operator hung up."""
        if 1 <= score <= 5 and (r := self._draft(call := self._handovers.began(call), at)):
            r.survey_score = score
            self._keep(call)

    def handed_on(self, call: CallRef, how: str) -> None:
        """The operator's desk acted on the call (desk/control.py): ``transfer_warm``,
        ``transfer_blind``, ``conference`` or ``emergency``; other actions change nothing."""
        r = self._open.get(call)
        if r is None:
            return
        if how == "emergency":
            r.emergency = True
        elif how == "conference":
            r.conferenced = True
        elif how.startswith("transfer_"):
            r.transferred = how.removeprefix("transfer_")
        self._keep(call)

    def rejoin(self, was: CallRef, now: CallRef) -> bool:
        """The call ``was`` goes on as ``now`` (a Twilio caller handed to Asterisk: ivr/twilio_agi.py),
        its record with it: one record per call. False when ``was`` is not open or ``now`` known."""
        if was not in self._open or now in self._open or now in self._finished:
            return False
        record = self._open.pop(was)
        record.node, record.call_id = now.node, now.call_id
        self._open[now], self._seen[now] = record, self._seen.pop(was)
        for held in (self._talking, self._completed):
            held.update({now: held.pop(was)} if was in held else {})
        self._keeper.drop(was)
        self._keep(now)
        return True

    # -- queue events ---------------------------------------------------------------------------
    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, LiveCalls):
            self._settle_gone(event)
            return
        event = self._handovers.follow(event)
        handler = self._handlers.get(type(event))
        if handler is not None and isinstance(event, BaseEvent) and event.call_id:
            handler(self, event)
            self._keep(CallRef(event.node, event.call_id))

    def _on_join(self, e: QueueCallerJoin) -> None:
        call = CallRef(e.node, e.call_id)
        if (r := self._draft(call, e.at)) is None:
            return
        apply_route(r, e.route)  # the IVR walked on another service instance: its route from the channel
        if r.answered_at is not None:
            # After an answer: an operator handed the caller on (an escalation, unless the desk
            # transferred it), unless this is the first join repeated (before the answer).
            r.escalated = r.escalated or (e.at > r.answered_at and r.transferred is None)
            return
        _queued(r)
        r.overflowed = r.overflowed or (r.queue is not None and r.queue != e.queue)
        r.queue = e.queue
        if r.queue_entered_at is None:
            r.queue_entered_at = e.at

    def _waited(self, r: CallRecord, at: datetime, hold_seconds: int) -> float:
        """Time in queues: from the first queue entry, so an overflow's second queue adds to the
        first (Asterisk's HoldTime counts only the queue the caller is in now)."""
        if r.queue_entered_at is None:
            return float(hold_seconds)
        return round(max(float(hold_seconds), (at - r.queue_entered_at).total_seconds()), 3)

    def _on_connect(self, e: AgentConnect) -> None:
        call = CallRef(e.node, e.call_id)
        if (r := self._draft(call, e.at)) is None:
            return
        done = self._completed.get(call)
        if done is not None and e.at <= done:
            return  # a leg already completed, reported again
        self._talking[call] = e.at
        if r.answered_at is None:  # the first operator is the call's; a senior's leg adds talk
            _queued(r)
            r.queue, r.answered_at, r.operator = e.queue, e.at, e.member or None
            r.wait_seconds = self._waited(r, e.at, e.hold_seconds)

    def _on_complete(self, e: AgentComplete) -> None:
        call = CallRef(e.node, e.call_id)
        if (r := self._draft(call, e.at)) is None:
            return
        if self._talking.pop(call, None) is None and r.answered_at is not None:
            return  # this leg was counted already (a repeated event)
        self._completed[call] = e.at
        if r.answered_at is None:  # the connect event was lost
            _queued(r)
            r.queue, r.answered_at, r.operator = e.queue, e.at, e.member or None
            r.wait_seconds = float(e.hold_seconds)
        r.talk_seconds = (r.talk_seconds or 0.0) + float(e.talk_seconds)
        if r.wrapup_seconds is None:
            r.wrapup_seconds = self._wrapup_for(e.queue)

    def _on_in_queue(self, e: QueueCallerLeave | AgentCalled) -> None:
        """Events that show the caller was in a queue: enough to keep the call, should its join
        be lost (then its entry is known no earlier than this event)."""
        if (r := self._draft(CallRef(e.node, e.call_id), e.at)) and r.answered_at is None:
            _queued(r)
            r.queue = r.queue or e.queue
            if r.queue_entered_at is None:
                r.queue_entered_at = e.at

    def _on_abandon(self, e: QueueCallerAbandon) -> None:
        """Left the queue unanswered: hung up, or timed out to an overflow queue (app_queue
        reports both as an abandon). The caller's Hangup, or a new join, tells which."""
        if (r := self._draft(CallRef(e.node, e.call_id), e.at)) and r.answered_at is None:
            _queued(r)
            r.queue, r.wait_seconds = e.queue, self._waited(r, e.at, e.hold_seconds)

    def _on_hangup(self, e: Hangup) -> None:
        """The caller's own channel hung up: the call ends."""
        if e.uniqueid == e.call_id:  # not another leg of the call
            self.caller_gone(CallRef(e.node, e.call_id), e.at)

    def caller_gone(self, call: CallRef, at: datetime) -> None:
        """The caller's own call ended (the Hangup of its channel; the status callback of a
        call on a Twilio number, ivr/twilio_voice.py): the record ends."""
        if call not in self._open:
            return  # a call already recorded
        r = self._open[call]
        self._seen[call] = at
        r.ended_at = at
        if since := self._talking.pop(call, None):  # hung up while talking, before AgentComplete
            r.talk_seconds = round((r.talk_seconds or 0.0) + (at - since).total_seconds(), 3)
        self._finish(call, self._outcome_at_hangup(r, at))

    def _outcome_at_hangup(self, r: CallRecord, at: datetime) -> Outcome:
        if r.answered_at is not None:
            return Outcome.ANSWERED
        if r.queue_entered_at is not None:
            r.wait_seconds = self._waited(r, at, 0)
            return Outcome.ABANDONED_IN_QUEUE
        if r.referral:
            return Outcome.REFERRED
        if r.ivr_ended_at is None:
            r.ivr_ended_at = at
            return Outcome.ABANDONED_IN_IVR
        r.wait_seconds = 0.0  # routed to a queue, gone before joining it: not served
        return Outcome.ABANDONED_IN_QUEUE

    _handlers: ClassVar[dict[type, Callable[[CallAssembler, AmiEvent], None]]] = {
        QueueCallerJoin: _on_join,  # type: ignore[dict-item]
        AgentConnect: _on_connect,  # type: ignore[dict-item]
        AgentComplete: _on_complete,  # type: ignore[dict-item]
        QueueCallerAbandon: _on_abandon,  # type: ignore[dict-item]
        QueueCallerLeave: _on_in_queue,  # type: ignore[dict-item]
        AgentCalled: _on_in_queue,  # type: ignore[dict-item]
        Hangup: _on_hangup,  # type: ignore[dict-item]
    }

    # -- bookkeeping ----------------------------------------------------------------------------
    def _draft(self, call: CallRef, at: datetime) -> CallRecord | None:
        """The open record of the call, made on its first report; None once it is recorded
        (a late or repeated event)."""
        if call in self._finished:
            return None
        record = self._open.get(call)
        if record is None:
            record = self._open[call] = CallRecord(record_id(call), call.node, call.call_id, at)
        self._seen[call] = at
        return record

    def _keep(self, call: CallRef) -> None:
        record = self._open.get(call)
        if record is not None:
            state = OpenCall(record, self._seen[call], self._talking.get(call), self._completed.get(call))
            self._keeper.keep(state)

    def restore(self, calls: list[OpenCall]) -> int:
        """Take back calls a previous process had open (metrics/records/inflight.py); returns
        how many. Their next events continue them; AMI's census settles the ones gone."""
        taken = 0
        for state in calls:
            call = CallRef(state.record.node, state.record.call_id)
            if call in self._open or call in self._finished:
                continue
            self._open[call], self._seen[call] = state.record, state.seen
            if state.talking is not None:
                self._talking[call] = state.talking
            if state.completed is not None:
                self._completed[call] = state.completed
            taken += 1
        return taken

    def _settle_gone(self, live: LiveCalls) -> None:
        """Calls of this node that Asterisk no longer has (they ended while nobody listened:
        a restart, an AMI outage) are recorded as incomplete, answered if Asterisk noted an
        answer meanwhile; calls seen after the census was asked for are left to their own events."""
        gone = [
            call
            for call, seen in self._seen.items()
            if call.node == live.node and call.call_id not in live.call_ids and seen < live.at
        ]
        for call in gone:
            record = self._open[call]
            if answered := call.call_id in live.answered:  # noted by the dialplan as it was answered
                _queued(record)  # answered with no route from the IVR: the dialplan's fallback took it
            self._finish(call, Outcome.ANSWERED if answered else _outcome_when_gone(record), complete=False)

    def _finish(self, call: CallRef, outcome: Outcome, complete: bool = True) -> None:
        record = self._open.pop(call, None)
        self._seen.pop(call, None)
        self._talking.pop(call, None)
        self._completed.pop(call, None)
        if record is None:
            return
        self._keeper.drop(call)
        self._finished[call] = None
        while len(self._finished) > self._remember:
            self._finished.popitem(last=False)
        record.outcome, record.complete = outcome, complete
        self._sink(record)

    def sweep(self) -> int:
        """Finish calls whose last event is long past as incomplete; returns how many. A call
        an operator finished settles sooner: only the caller's hangup event is missing."""
        now = self._clock()
        stale = [
            call
            for call, seen in self._seen.items()
            if seen < now - self._stale_after
            or (seen < now - self._settle_after and self._settled(self._open[call]))
        ]
        for call in stale:
            self._finish(call, Outcome.ANSWERED if self._open[call].answered_at else Outcome.FAILED, False)
        return len(stale)

    def _settled(self, record: CallRecord) -> bool:
        return record.talk_seconds is not None and CallRef(record.node, record.call_id) not in self._talking

    def flush_all(self) -> int:
        """Nothing is lost: open calls are recorded as incomplete (a service without a keeper,
        at shutdown; with one, calls in progress stay kept for the next process instead)."""
        calls = list(self._open)
        for call in calls:
            self._finish(call, Outcome.ANSWERED if self._open[call].answered_at else Outcome.FAILED, False)
        return len(calls)


def _queued(r: CallRecord) -> None:
    """The call shows up in a queue: without an IVR route before, the dialplan took its
    fallback path (the IVR never answered, failed, or its process was gone)."""
    r.fallback = r.fallback or r.ivr_ended_at is None


def _outcome_when_gone(r: CallRecord) -> Outcome:
    """How a call ended that Asterisk no longer has, judged by where it was last seen (when
    it ended is not known: the record stays incomplete)."""
    if r.answered_at is not None:
        return Outcome.ANSWERED
    if r.queue_entered_at is not None:
        return Outcome.ABANDONED_IN_QUEUE
    if r.referral:
        return Outcome.REFERRED
    return Outcome.ABANDONED_IN_IVR if r.ivr_ended_at is None else Outcome.ABANDONED_IN_QUEUE
