"""A call that goes on to another node of the line (overflow between regions) is one record: the
receiving node's events, under its own call id, continue the record of the node it began on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.types import CallRef
from ivr.engine import Route, RouteKind, RouteReason
from metrics.records.assembler import CallAssembler
from metrics.records.record import CallRecord, Outcome
from telephony.events import (
    AgentComplete,
    AgentConnect,
    AmiEvent,
    Handover,
    Hangup,
    QueueCallerAbandon,
    QueueCallerJoin,
)

T0 = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
ON_A = CallRef("a", "1796694712.0")
ON_B = CallRef("b", "1796694719.0")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def assembler() -> tuple[CallAssembler, list[CallRecord]]:
    out: list[CallRecord] = []
    return CallAssembler(out.append, clock=lambda: at(0)), out


def routed(a: CallAssembler, call: CallRef = ON_A) -> None:
    a.ivr_started(call, at(0), "ru", "1")
    route = Route(
        RouteKind.QUEUE,
        RouteReason.CHOSEN,
        "ru",
        "2",
        ("root",),
        queue="support-a",
        topic="support",
        priority=7,
    )
    a.ivr_routed(call, at(3), route)


def handed(a: CallAssembler, s: float, here: CallRef = ON_B, began: CallRef = ON_A) -> None:
    a.on_event(Handover(here.node, at(s), here.call_id, here.call_id, began.node, began.call_id))


def on(call: CallRef, cls: type[AmiEvent], s: float, *fields: object) -> AmiEvent:
    return cls(call.node, at(s), call.call_id, call.call_id, *fields)  # type: ignore[call-arg]


def test_an_overflow_answered_on_another_node_is_one_record_of_the_first() -> None:
    a, out = assembler()
    routed(a)
    a.on_event(on(ON_A, QueueCallerJoin, 3, "support-a", 1, 1))
    a.on_event(on(ON_A, QueueCallerAbandon, 8, "support-a", 1, 1, 5))
    handed(a, 8.1)
    a.on_event(on(ON_B, QueueCallerJoin, 8.1, "support-b", 1, 1))
    a.on_event(on(ON_B, AgentConnect, 8.2, "support-b", "sim-support-b-1", 0, 0))
    assert a.topic_of(ON_B) == "support"  # the operator's desk on node b sees the call's topic
    a.on_event(on(ON_B, AgentComplete, 14.2, "support-b", "sim-support-b-1", 0, 6, "agent"))
    a.surveyed(ON_B, at(15), 4)  # node b's survey, under node b's call id
    a.on_event(Hangup("b", at(15.5), ON_B.call_id, ON_B.call_id, 16))  # node b's leg: not the caller's
    assert out == []
    a.on_event(Hangup("a", at(15.6), ON_A.call_id, ON_A.call_id, 16))  # the caller's own channel
    [r] = out
    assert (r.node, r.call_id, r.topic, r.outcome) == ("a", ON_A.call_id, "support", Outcome.ANSWERED)
    assert (r.queue, r.overflowed, r.operator, r.survey_score) == ("support-b", True, "sim-support-b-1", 4)
    assert (r.wait_seconds, r.talk_seconds) == (5.2, 6.0)


def test_late_events_of_either_node_make_no_second_record() -> None:
    a, out = assembler()
    routed(a)
    handed(a, 4)
    a.on_event(on(ON_B, QueueCallerJoin, 4, "support-b", 1, 1))
    a.on_event(Hangup("a", at(6), ON_A.call_id, ON_A.call_id, 16))
    a.on_event(on(ON_B, QueueCallerAbandon, 6.1, "support-b", 1, 1, 2))
    a.on_event(Hangup("b", at(6.2), ON_B.call_id, ON_B.call_id, 16))
    assert len(out) == 1 and a.open_calls == 0
    assert (out[0].outcome, out[0].queue) == (Outcome.ABANDONED_IN_QUEUE, "support-b")


def test_a_second_hop_still_continues_the_call_where_it_began() -> None:
    """b -> a (the topic's queue lives on a) -> b (its overflow): three ids, one call."""
    a, out = assembler()
    back_on_b = CallRef("b", "1796694730.4")
    routed(a, ON_B)
    handed(a, 3, here=ON_A, began=ON_B)
    a.on_event(on(ON_A, QueueCallerJoin, 3, "support-a", 1, 1))
    handed(a, 8, here=back_on_b, began=ON_A)
    a.on_event(on(back_on_b, QueueCallerJoin, 8, "support-b", 1, 1))
    a.on_event(on(back_on_b, AgentConnect, 8.5, "support-b", "sim-support-b-2", 0, 0))
    a.on_event(Hangup("b", at(20), ON_B.call_id, ON_B.call_id, 16))
    [r] = out
    assert (r.node, r.topic, r.queue, r.overflowed, r.outcome) == (
        "b",
        "support",
        "support-b",
        True,
        Outcome.ANSWERED,
    )


def test_a_handover_to_itself_changes_nothing() -> None:
    a, out = assembler()
    handed(a, 1, here=ON_A, began=ON_A)
    a.on_event(on(ON_A, QueueCallerJoin, 2, "main", 1, 1))
    a.on_event(Hangup("a", at(3), ON_A.call_id, ON_A.call_id, 16))
    assert [(r.node, r.call_id) for r in out] == [("a", ON_A.call_id)]
