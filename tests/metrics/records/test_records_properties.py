"""Properties of the record assembler (hypothesis): calls of every shape, their IVR reports and
scrubbed queue events shuffled, lost and repeated; one record per call, never an exception,
and nothing lost once the assembler is swept and flushed."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.types import CallRef
from ivr.engine import Route, RouteKind, RouteReason
from metrics.records.assembler import CallAssembler
from metrics.records.record import CallRecord, Outcome
from telephony.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AmiEvent,
    Hangup,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NODES = ("local", "second")


class Shape(Enum):
    ANSWERED = "answered"
    ABANDONED_IN_QUEUE = "abandoned_in_queue"
    ABANDONED_IN_IVR = "abandoned_in_ivr"
    AFTER_HOURS = "after_hours"
    OVERFLOW_ANSWERED = "overflow_answered"
    IVR_FAILED_ANSWERED = "ivr_failed_answered"
    ROUTED_THEN_GONE = "routed_then_gone"


EXPECTED = {
    Shape.ANSWERED: Outcome.ANSWERED,
    Shape.ABANDONED_IN_QUEUE: Outcome.ABANDONED_IN_QUEUE,
    Shape.ABANDONED_IN_IVR: Outcome.ABANDONED_IN_IVR,
    Shape.AFTER_HOURS: Outcome.REFERRED,
    Shape.OVERFLOW_ANSWERED: Outcome.ANSWERED,
    Shape.IVR_FAILED_ANSWERED: Outcome.ANSWERED,
    Shape.ROUTED_THEN_GONE: Outcome.ABANDONED_IN_QUEUE,
}


@dataclass(frozen=True)
class Step:
    """One report or event of one call; ``opens`` when it alone makes the assembler keep a call."""

    call: CallRef
    at: datetime
    apply: Callable[[CallAssembler], None]
    opens: bool
    label: str

    def __repr__(self) -> str:
        return f"{self.call.call_id}@{(self.at - T0).total_seconds():g}s:{self.label}"


def _route(kind: RouteKind, queue: str | None, topic: str, after_hours: bool = False) -> Route:
    return Route(
        kind=kind,
        reason=RouteReason.AFTER_HOURS if after_hours else RouteReason.CHOSEN,
        language="ru",
        path="1,5" if after_hours else "1,1",
        nodes=("language", "root"),
        queue=queue,
        topic=topic,
        referral="legal-aid" if kind is RouteKind.REFERRAL else None,
        after_hours=after_hours,
    )


class CallScript:
    """Builds the in-order steps of one call of a given shape, as Asterisk and the IVR make them."""

    def __init__(self, node: str, index: int, shape: Shape) -> None:
        self.call = CallRef(node, f"{1700000000 + index}.{index}")
        self.start = T0 + timedelta(seconds=7 * index)
        self.shape = shape
        self.steps: list[Step] = []

    def _at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def ivr(
        self, seconds: float, label: str, apply: Callable[[CallAssembler, CallRef, datetime], None]
    ) -> None:
        at = self._at(seconds)
        self.steps.append(Step(self.call, at, lambda a: apply(a, self.call, at), True, label))

    def ami(self, event: AmiEvent, opens: bool = True) -> None:
        label = type(event).__name__
        self.steps.append(Step(self.call, event.at, lambda a: a.on_event(event), opens, label))  # type: ignore[attr-defined]

    def ids(self, seconds: float, leg: str = "") -> tuple[str, datetime, str, str]:
        uniqueid = self.call.call_id + leg
        return self.call.node, self._at(seconds), self.call.call_id, uniqueid

    def queue_answered(self, queue: str, joined: float, first_queue: str | None = None) -> None:
        if first_queue is not None:
            self.ami(QueueCallerJoin(*self.ids(joined), first_queue, 1, 1))
            self.ami(QueueCallerAbandon(*self.ids(joined + 5), first_queue, 1, 1, 5))
            joined += 5
        self.ami(QueueCallerJoin(*self.ids(joined), queue, 1, 1))
        self.ami(AgentCalled(*self.ids(joined, ".1"), queue, "sim-op"))
        self.ami(AgentConnect(*self.ids(joined + 2), queue, "sim-op", 2, 2))
        self.ami(QueueCallerLeave(*self.ids(joined + 2), queue, 1, 0))
        self.ami(AgentComplete(*self.ids(joined + 14), queue, "sim-op", 2, 12, "agent"))
        self.ami(Hangup(*self.ids(joined + 14, ".1"), 16), opens=False)
        self.ami(Hangup(*self.ids(joined + 14.5), 16), opens=False)

    def build(self) -> CallScript:
        self.ivr(0, "ivr_started", lambda a, c, at: a.ivr_started(c, at, "ru", "3"))
        shape = self.shape
        if shape is Shape.ABANDONED_IN_IVR:
            self.ivr(3, "ivr_hangup", lambda a, c, at: a.ivr_hangup(c, at, "1"))
            self.ami(Hangup(*self.ids(3), 16), opens=False)
        elif shape is Shape.AFTER_HOURS:
            route = _route(RouteKind.REFERRAL, None, "legal", after_hours=True)
            self.ivr(5, "ivr_routed", lambda a, c, at: a.ivr_routed(c, at, route))
            self.ami(Hangup(*self.ids(30), 16), opens=False)
        elif shape is Shape.IVR_FAILED_ANSWERED:
            self.ivr(4, "ivr_failed", lambda a, c, at: a.ivr_failed(c, at, "1"))
            self.queue_answered("main", 5)
        else:
            queue = "quiet" if shape is Shape.OVERFLOW_ANSWERED else "crisis"
            route = _route(RouteKind.QUEUE, queue, "crisis")
            self.ivr(5, "ivr_routed", lambda a, c, at: a.ivr_routed(c, at, route))
            self._after_route(shape)
        return self

    def _after_route(self, shape: Shape) -> None:
        if shape is Shape.ANSWERED:
            self.queue_answered("crisis", 6)
        elif shape is Shape.OVERFLOW_ANSWERED:
            self.queue_answered("main", 6, first_queue="quiet")
        elif shape is Shape.ABANDONED_IN_QUEUE:
            self.ami(QueueCallerJoin(*self.ids(6), "crisis", 1, 1))
            self.ami(QueueCallerAbandon(*self.ids(16), "crisis", 1, 1, 10))
            self.ami(Hangup(*self.ids(16), 16), opens=False)
        else:  # ROUTED_THEN_GONE
            self.ami(Hangup(*self.ids(5.5), 16), opens=False)


def run(steps: list[Step]) -> tuple[list[CallRecord], list[CallRecord]]:
    """Feed the steps; returns (records before sweeping, every record after sweep + flush)."""
    records: list[CallRecord] = []
    assembler = CallAssembler(records.append, clock=lambda: T0 + timedelta(days=2))
    for step in steps:
        step.apply(assembler)
    before = list(records)
    assembler.sweep()
    assembler.flush_all()
    assert assembler.open_calls == 0
    return before, records


shapes = st.lists(st.tuples(st.sampled_from(NODES), st.sampled_from(list(Shape))), min_size=1, max_size=6)


def scripts(drawn: list[tuple[str, Shape]]) -> list[CallScript]:
    return [CallScript(node, i, shape).build() for i, (node, shape) in enumerate(drawn)]


def interleaved(calls: list[CallScript]) -> list[Step]:
    return sorted((s for c in calls for s in c.steps), key=lambda s: s.at)


def without_id(record: CallRecord) -> CallRecord:
    return replace(record, id="")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes, st.randoms(use_true_random=False), st.data())
def test_shuffled_lost_and_repeated_events_never_raise_and_give_one_record_per_call(
    drawn: list[tuple[str, Shape]], rnd: random.Random, data: st.DataObject
) -> None:
    steps = interleaved(scripts(drawn))
    kept = [s for s in steps if data.draw(st.booleans().map(lambda lose: not lose or rnd.random() < 0.5))]
    repeated = [s for s in kept for _ in range(data.draw(st.integers(1, 3)))]
    rnd.shuffle(repeated)
    _, records = run(repeated)
    per_call = Counter((r.node, r.call_id) for r in records)
    assert all(n == 1 for n in per_call.values()), per_call
    opened = {(s.call.node, s.call.call_id) for s in repeated if s.opens}
    assert opened <= set(per_call), f"lost: {opened - set(per_call)}"
    for r in records:
        assert r.outcome is not Outcome.IN_PROGRESS


@settings(max_examples=200, deadline=None)
@given(shapes)
def test_events_in_order_give_the_right_outcome_complete(drawn: list[tuple[str, Shape]]) -> None:
    calls = scripts(drawn)
    before, records = run(interleaved(calls))
    assert len(before) == len(records) == len(calls)  # every call finished by its own events
    by_call = {(r.node, r.call_id): r for r in records}
    for c in calls:
        r = by_call[(c.call.node, c.call.call_id)]
        assert (r.outcome, r.complete) == (EXPECTED[c.shape], True), (c.shape, r)
        assert r.overflowed == (c.shape is Shape.OVERFLOW_ANSWERED)
        assert r.fallback == (c.shape is Shape.IVR_FAILED_ANSWERED)
        assert r.after_hours == (c.shape is Shape.AFTER_HOURS)
        assert not r.escalated
        if r.outcome is Outcome.ANSWERED:
            assert r.talk_seconds == 12.0 and r.wait_seconds is not None


@settings(max_examples=200, deadline=None)
@given(shapes, st.data())
def test_a_repeated_event_changes_no_record(drawn: list[tuple[str, Shape]], data: st.DataObject) -> None:
    """An event delivered twice (right after itself, as a resent message would be) is the same
    event: the records equal those of the run without repeats."""
    steps = interleaved(scripts(drawn))
    repeats = [s for s in steps for _ in range(data.draw(st.integers(1, 2), label=repr(s)))]
    _, clean = run(steps)
    _, twice = run(repeats)
    key = lambda r: (r.node, r.call_id)  # noqa: E731
    assert sorted(map(without_id, twice), key=key) == sorted(map(without_id, clean), key=key)


# Found by these properties and fixed in metrics/records/assembler.py: a repeated QueueCallerJoin after
# AgentConnect marked the call escalated; a repeated AgentConnect after AgentComplete added its
# talk time again at the hangup; a repeated ivr_routed after an overflow join put the first
# queue back.


def late_repeat(shape: Shape, repeated: str, before: str) -> tuple[CallRecord, CallRecord]:
    """The record of one call in order, and with the first ``repeated`` step delivered again
    just before its first ``before`` step."""
    steps = CallScript("local", 0, shape).build().steps
    i = next(n for n, s in enumerate(steps) if s.label == repeated)
    j = next(n for n, s in enumerate(steps) if s.label == before and n > i)
    [clean] = run(steps)[1]
    [late] = run([*steps[:j], steps[i], *steps[j:]])[1]
    return without_id(clean), without_id(late)


@pytest.mark.parametrize(
    ("shape", "repeated", "before"),
    [
        (Shape.ANSWERED, "QueueCallerJoin", "AgentComplete"),  # escalated: False -> True
        (Shape.ANSWERED, "AgentConnect", "Hangup"),  # talk_seconds: 12.0 -> 24.5
        (Shape.OVERFLOW_ANSWERED, "ivr_routed", "AgentComplete"),  # queue: main -> quiet
    ],
)
def test_known_late_repeats(shape: Shape, repeated: str, before: str) -> None:
    clean, late = late_repeat(shape, repeated, before)
    assert late == clean


@settings(max_examples=300, deadline=None)
@given(shapes, st.data())
def test_a_late_repeat_changes_no_record(drawn: list[tuple[str, Shape]], data: st.DataObject) -> None:
    """An event delivered again later, among the call's later events (before its hangup)."""
    calls = scripts(drawn)
    c = data.draw(st.sampled_from(calls), label="call")
    own = c.steps
    i = data.draw(st.integers(0, len(own) - 2), label="repeated")
    j = data.draw(st.integers(i + 1, len(own) - 1), label="inserted before")
    changed = [*own[:j], own[i], *own[j:]]
    others = [s for other in calls if other is not c for s in other.steps]
    _, clean = run(interleaved(calls))
    _, late = run(sorted(others, key=lambda s: s.at) + changed)
    key = lambda r: (r.node, r.call_id)  # noqa: E731
    assert sorted(map(without_id, late), key=key) == sorted(map(without_id, clean), key=key)
