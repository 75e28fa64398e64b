"""The call in front of an operator, followed from the queues' events (issue 16, item 1): what
the desk says while the phone rings, during the talk and after, until the summary is saved."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.types import CallRef
from desk.context import CallDesk
from ivr.desk import Guidance, GuidanceText, SummaryForm
from ivr.document import IvrDocument
from metrics.records.record import CallRecord
from telephony.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AgentRingNoAnswer,
    QueueCallerAbandon,
)
from tests.conftest import seed_document

NODE = "local"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CALL = CallRef(NODE, "1765098000.10")


def with_guidance(doc: IvrDocument) -> IvrDocument:
    guidance = Guidance(
        texts={
            "ru": GuidanceText(
                summary="Кризис", steps=["Выслушайте", "Оцените риск"], risk_questions=["План?"]
            ),
            "en": GuidanceText(
                summary="Crisis", steps=["Listen", "Assess the risk"], risk_questions=["A plan?"]
            ),
        },
        referrals=[r.id for r in doc.referrals[:1]],
        issues={"suicidal-thoughts": {"ru": "Суицидальные мысли", "en": "Suicidal thoughts"}},
        example=True,
    )
    topics = [t.model_copy(update={"guidance": guidance}) if t.id == "crisis" else t for t in doc.topics]
    return doc.model_copy(update={"topics": topics, "summary": SummaryForm(window_minutes=30)})


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def doc() -> IvrDocument:
    return with_guidance(seed_document())


class Line:
    """The desk with the assembler's open record of one call and a summary flag."""

    def __init__(self, doc: IvrDocument) -> None:
        self.clock = Clock()
        self.record = CallRecord(
            "rec-1",
            NODE,
            CALL.call_id,
            T0 - timedelta(seconds=40),
            ivr_ended_at=T0 - timedelta(seconds=20),
            queue_entered_at=T0 - timedelta(seconds=20),
            language="ru",
            path="1>1",
            topic="crisis",
            queue="crisis",
            priority=10,
            repeat_count=3,
        )
        self.open: dict[CallRef, CallRecord] = {CALL: self.record}
        self.desk = CallDesk(self.open.get, lambda: doc, self.clock)

    def event(self, kind: type, *fields: object, call: CallRef = CALL) -> None:
        self.desk.on_event(kind(call.node, self.clock.now, call.call_id, call.call_id + ".1", *fields))


def test_a_ringing_call_shows_its_topic_language_and_guidance_in_the_asked_language(doc: IvrDocument) -> None:
    line = Line(doc)
    line.event(AgentCalled, "crisis", "op-anna")
    line.clock.now += timedelta(seconds=2)
    seen = line.desk.context("op-anna", "en")
    assert seen.state == "offered" and seen.call is not None
    call = seen.call
    assert (call.record_id, call.topic, call.topic_name, call.language) == (
        "rec-1",
        "crisis",
        "Crisis and suicidal thoughts",
        "ru",
    )
    assert (call.waited_seconds, call.talking_seconds, call.priority, call.repeat_count) == (
        22.0,
        None,
        10,
        3,
    )
    assert call.guidance is not None
    assert (call.guidance.language, call.guidance.steps, call.guidance.example) == (
        "en",
        ["Listen", "Assess the risk"],
        True,
    )
    assert call.guidance.escalate_to == doc.escalation_queue
    assert [r.id for r in call.guidance.referrals] == [doc.referrals[0].id]
    assert [i.name for i in call.guidance.issues] == ["Suicidal thoughts"]
    assert line.desk.context("op-anna").call.guidance.language == "ru"  # type: ignore[union-attr]  # the call's
    assert line.desk.context("op-boris").state == "none"


def test_the_talk_runs_from_the_answer_and_ringing_colleagues_lose_the_offer(doc: IvrDocument) -> None:
    line = Line(doc)
    line.event(AgentCalled, "crisis", "op-anna")
    line.event(AgentCalled, "crisis", "op-boris")  # ringall
    line.clock.now += timedelta(seconds=3)
    line.event(AgentConnect, "crisis", "op-anna", 23, 3, "PJSIP/op-anna-00000001")
    line.clock.now += timedelta(seconds=65)
    seen = line.desk.context("op-anna")
    assert seen.state == "talking" and seen.call is not None
    assert (seen.call.waited_seconds, seen.call.talking_seconds) == (23.0, 65.0)
    assert line.desk.context("op-boris").state == "none"


def test_an_ended_call_stays_until_its_summary_is_saved(doc: IvrDocument) -> None:
    line = Line(doc)
    line.event(AgentConnect, "crisis", "op-anna", 20, 2, "PJSIP/op-anna-00000001")
    line.clock.now += timedelta(seconds=300)
    line.event(AgentComplete, "crisis", "op-anna", 20, 300, "agent")
    finished = replace(line.record, ended_at=line.clock.now, answered_at=T0, talk_seconds=300.0)
    del line.open[CALL]  # the assembler hands the record out and forgets it
    line.desk.on_record(finished)
    line.clock.now += timedelta(minutes=10)
    seen = line.desk.context("op-anna")
    assert seen.state == "ended" and seen.call is not None
    assert (seen.call.talking_seconds, seen.call.summary_saved) == (300.0, False)  # the timer stopped
    line.desk.on_summary("rec-1")
    assert line.desk.context("op-anna").state == "none"


def test_an_ended_call_without_a_summary_leaves_the_desk_after_the_window(doc: IvrDocument) -> None:
    line = Line(doc)
    line.event(AgentConnect, "crisis", "op-anna", 20, 2, "")
    line.event(AgentComplete, "crisis", "op-anna", 20, 60, "caller")
    line.clock.now += timedelta(minutes=29)
    assert line.desk.context("op-anna").state == "ended"
    line.clock.now += timedelta(minutes=2)  # the form's window is 30 minutes
    assert line.desk.context("op-anna").state == "none"


def test_the_next_offer_replaces_an_ended_call(doc: IvrDocument) -> None:
    line = Line(doc)
    line.event(AgentConnect, "crisis", "op-anna", 20, 2, "")
    line.event(AgentComplete, "crisis", "op-anna", 20, 60, "caller")
    other = CallRef(NODE, "1765098100.20")
    line.open[other] = replace(line.record, id="rec-2", call_id=other.call_id, topic="loss", queue="loss")
    line.event(AgentCalled, "loss", "op-anna", call=other)
    seen = line.desk.context("op-anna")
    assert (seen.state, seen.call.record_id if seen.call else None) == ("offered", "rec-2")


@pytest.mark.parametrize("gone", ["no answer", "caller left"])
def test_an_offer_that_ends_unanswered_leaves_the_desk(doc: IvrDocument, gone: str) -> None:
    line = Line(doc)
    line.event(AgentCalled, "crisis", "op-anna")
    if gone == "no answer":
        line.event(AgentRingNoAnswer, "crisis", "op-anna", 15000)
    else:
        line.event(QueueCallerAbandon, "crisis", 1, 1, 30)
    assert line.desk.context("op-anna").state == "none"


def test_a_call_without_a_topic_has_no_guidance_and_no_number_anywhere(doc: IvrDocument) -> None:
    line = Line(doc)
    line.record.topic, line.record.fallback, line.record.language = None, True, None
    line.event(AgentCalled, "main", "op-anna")
    seen = line.desk.context("op-anna", "pl")  # a language the document lacks: its default
    assert seen.call is not None and (seen.call.topic_name, seen.call.guidance, seen.call.fallback) == (
        None,
        None,
        True,
    )
    assert "+7900" not in json.dumps(seen.model_dump(mode="json"))


def test_a_summary_saved_during_the_call_lets_it_leave_the_desk_when_it_ends(doc: IvrDocument) -> None:
    line = Line(doc)
    line.event(AgentConnect, "crisis", "op-anna", 20, 2, "")
    line.desk.on_summary("rec-1")
    talking = line.desk.context("op-anna")
    assert talking.state == "talking" and talking.call is not None and talking.call.summary_saved
    line.desk.on_summary("rec-other")  # another call's summary changes nothing here
    line.event(AgentComplete, "crisis", "op-anna", 20, 60, "caller")
    assert line.desk.context("op-anna").state == "none"


def test_the_summary_form_comes_with_the_call_its_options_those_the_call_allows() -> None:
    doc = seed_document()  # the shipped form: call type, risk, issues, outcome, referral given...
    assert doc.summary is not None
    line = Line(doc)
    line.event(AgentCalled, "crisis", "op-anna")
    call = line.desk.context("op-anna", "en").call
    assert call is not None and call.form is not None
    fields = {f.id: f for f in call.form.fields}
    assert list(fields) == [f.id for f in doc.summary.fields if f.kind != "text"]
    crisis = doc.topic("crisis")
    assert crisis is not None and crisis.guidance is not None
    assert [o.id for o in fields["issues"].options] == list(crisis.guidance.issues)  # this topic's only
    referral = next(f for f in fields.values() if f.kind == "referral")
    assert [o.id for o in referral.options] == [r.id for r in doc.referrals]
    risk = fields["risk-level"]
    assert risk.kind == "choice" and risk.name == doc.summary.fields[1].names["en"]
