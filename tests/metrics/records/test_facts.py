"""Two service instances, one record per call (metrics/records/facts.py): the instance that
walked the IVR and the one that only followed AMI assemble the same record, and the store folds
their two versions into one row, whichever saves first, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.types import CallRef
from ivr.engine import Route, RouteKind, RouteReason
from metrics.records.assembler import CallAssembler
from metrics.records.facts import merge, record_id
from metrics.records.models import CallIntervalRow, CallRecordRow
from metrics.records.record import CallRecord, Outcome
from metrics.records.store import RecordStore
from telephony.events import AgentComplete, AgentConnect, AmiEvent, Hangup, QueueCallerJoin
from telephony.route_facts import RouteFacts

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
CALL = CallRef("local", "1700000000.1")
ROUTE = Route(
    RouteKind.QUEUE,
    RouteReason.CHOSEN,
    "ru",
    "1",
    ("language", "root"),
    queue="crisis",
    topic="crisis",
    priority=10,
)
FACTS = RouteFacts(
    started_at=T0,
    routed_at=T0 + timedelta(seconds=6),
    menu_version="3",
    language="ru",
    path="1",
    topic="crisis",
    reason=RouteReason.CHOSEN.value,
    priority=10,
    repeat_count=2,
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ami_events(route: RouteFacts | None = FACTS) -> list[AmiEvent]:
    c = CALL.call_id
    return [
        QueueCallerJoin("local", at(6.2), c, c, "crisis", 1, 1, route),
        AgentConnect("local", at(10), c, c, "crisis", "sim-crisis-1", 4, 1),
        AgentComplete("local", at(40), c, c, "crisis", "sim-crisis-1", 4, 30, "agent"),
        Hangup("local", at(41), c, c, 16),
    ]


def walked() -> CallRecord:
    """The instance whose FastAGI server walked the caller: IVR reports and AMI."""
    out: list[CallRecord] = []
    a = CallAssembler(out.append, clock=lambda: at(0))
    a.ivr_started(CALL, at(0), "ru", "3", 2)
    a.ivr_routed(CALL, at(6), ROUTE)
    events = ami_events()
    for event in events[:3]:
        a.on_event(event)
    a.surveyed(CALL, at(40.5), 5)  # the survey's FastAGI session ran here too
    a.on_event(events[3])
    assert len(out) == 1
    return out[0]


def followed(route: RouteFacts | None = FACTS) -> CallRecord:
    """The other instance: AMI only, the route from the channel."""
    out: list[CallRecord] = []
    b = CallAssembler(out.append, clock=lambda: at(0))
    events = ami_events(route)
    for event in events[:2]:
        b.on_event(event)
    b.handed_on(CALL, "conference")  # the operator's desk ran on this instance
    for event in events[2:]:
        b.on_event(event)
    assert len(out) == 1
    return out[0]


def test_both_instances_assemble_the_same_call() -> None:
    a, b = walked(), followed()
    assert a.id == b.id == record_id(CALL)
    for name in ("started_at", "ivr_ended_at", "topic", "path", "priority", "language", "menu_version"):
        assert getattr(a, name) == getattr(b, name), name
    assert (b.fallback, b.route_reason, b.repeat_count, b.queue) == (False, "chosen", 2, "crisis")
    assert (b.outcome, b.talk_seconds, b.answered_at) == (Outcome.ANSWERED, 30.0, at(10))


def test_without_the_route_the_follower_records_a_fallback_and_the_merge_mends_it() -> None:
    bare = followed(route=None)
    assert (bare.topic, bare.fallback, bare.ivr_ended_at) == (None, True, None)
    one = merge(walked(), bare)
    assert (one.topic, one.fallback, one.priority, one.path) == ("crisis", False, 10, "1")
    assert (one.survey_score, one.conferenced) == (5, True)


def test_the_complete_version_says_how_the_call_ended() -> None:
    swept = dataclasses.replace(followed(), complete=False, outcome=Outcome.FAILED, ended_at=None)
    assert merge(walked(), swept).outcome is Outcome.ANSWERED
    assert merge(swept, walked()).outcome is Outcome.ANSWERED
    assert merge(walked(), swept).ended_at == at(41)


@pytest.mark.parametrize("first", ["walked", "followed"])
def test_the_store_keeps_one_row_with_what_each_knew(database: Engine, first: str) -> None:
    store = RecordStore(database)
    versions = [walked(), followed(route=None)]
    for version in versions if first == "walked" else versions[::-1]:
        store.save(version)
    store.save_many([followed(route=None), walked()])  # saved again (a retried batch)
    with Session(database) as session:
        rows = session.scalars(select(CallRecordRow)).all()
        calls = session.scalar(select(func.sum(CallIntervalRow.calls)))
        answered = session.scalar(select(func.sum(CallIntervalRow.answered)))
        topics = set(session.scalars(select(CallIntervalRow.topic)))
    assert len(rows) == 1
    row = rows[0]
    assert (row.id, row.topic, row.fallback, row.survey_score, row.conferenced) == (
        record_id(CALL),
        "crisis",
        False,
        5,
        True,
    )
    assert (calls, answered, topics) == (1, 1, {"crisis"})
