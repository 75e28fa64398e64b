from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.types import CallRef
from ivr.engine import Route, RouteKind, RouteReason
from metrics.records.assembler import CallAssembler
from metrics.records.record import CallRecord, Outcome
from telephony.events import (
    AgentComplete,
    AgentConnect,
    Hangup,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CALL = CallRef("local", "1700000000.1")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def join(s: float, queue: str = "crisis", call: str = CALL.call_id) -> QueueCallerJoin:
    return QueueCallerJoin("local", at(s), call, call, queue, 1, 1)


def connect(s: float, hold: int = 4, call: str = CALL.call_id) -> AgentConnect:
    return AgentConnect("local", at(s), call, call, "crisis", "sim-crisis-1", hold, 1)


def complete(s: float, talk: int = 30, call: str = CALL.call_id) -> AgentComplete:
    return AgentComplete("local", at(s), call, call, "crisis", "sim-crisis-1", 4, talk, "agent")


def hangup(s: float, call: str = CALL.call_id, leg: str | None = None) -> Hangup:
    return Hangup("local", at(s), call, leg or call, 16)


def assembler() -> tuple[CallAssembler, list[CallRecord]]:
    out: list[CallRecord] = []
    return CallAssembler(out.append, clock=lambda: at(0)), out


def test_answered_call_after_the_ivr_is_one_complete_record() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "en", "config")
    a.ivr_routed(
        CALL,
        at(3),
        Route(RouteKind.QUEUE, RouteReason.CHOSEN, "en", "1", ("root",), queue="crisis", topic="crisis"),
    )
    for event in (
        join(3.1),
        QueueCallerLeave("local", at(7), CALL.call_id, "", "crisis", 1, 0),
        connect(7),
        complete(37),
    ):
        a.on_event(event)
    assert out == []  # the caller may still rate the call: their hangup ends it
    a.on_event(hangup(37.2))
    [r] = out
    assert (r.topic, r.queue, r.path, r.outcome, r.fallback) == (
        "crisis",
        "crisis",
        "1",
        Outcome.ANSWERED,
        False,
    )
    assert (r.started_at, r.queue_entered_at, r.answered_at, r.ended_at) == (
        at(0),
        at(3.1),
        at(7),
        at(37.2),
    )
    assert (r.wait_seconds, r.talk_seconds, r.operator, r.language) == (
        4.0,
        30.0,
        "sim-crisis-1",
        "en",
    )
    assert r.complete and a.open_calls == 0


def test_call_that_never_met_the_ivr_is_marked_fallback() -> None:
    a, out = assembler()
    for event in (join(0, "main"), connect(2), complete(12), hangup(12)):
        a.on_event(event)
    [r] = out
    assert (r.queue, r.topic, r.fallback, r.outcome) == ("crisis", None, True, Outcome.ANSWERED)


def test_ivr_failure_is_marked_fallback_even_after_the_queue_join() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "en", "config")
    a.ivr_failed(CALL, at(1), "")
    a.on_event(join(1.5, "main"))
    a.on_event(QueueCallerAbandon("local", at(9), CALL.call_id, "", "main", 1, 1, 7))
    assert out == []  # app_queue says "abandon" on a timeout too: the hangup decides
    a.on_event(hangup(9))
    [r] = out
    # Waited from the queue entry (1.5 s) to the abandon (9 s); HoldTime says a whole 7.
    assert (r.fallback, r.outcome, r.wait_seconds) == (True, Outcome.ABANDONED_IN_QUEUE, 7.5)


def test_hangup_in_the_ivr_is_recorded_with_the_path() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "ru", "config")
    a.ivr_hangup(CALL, at(4), "9")
    [r] = out
    assert (r.outcome, r.path, r.ended_at, r.queue) == (Outcome.ABANDONED_IN_IVR, "9", at(4), None)


def test_late_and_repeated_events_never_make_a_second_record() -> None:
    a, out = assembler()
    for event in (
        join(0),
        connect(2),
        complete(12),
        complete(12),
        hangup(12.5),
        hangup(12.5),
        QueueCallerLeave("local", at(13), CALL.call_id, "", "crisis", 1, 0),
        complete(14),
    ):
        a.on_event(event)
    assert len(out) == 1 and a.open_calls == 0
    assert out[0].talk_seconds == 30.0  # the repeated AgentComplete did not add its talk twice


def test_calls_are_kept_apart_by_node_and_call_id() -> None:
    a, out = assembler()
    a.on_event(join(0, call="a"))
    a.on_event(join(0, call="b"))
    a.on_event(complete(5, call="b"))
    a.on_event(hangup(5, call="b"))
    assert [r.call_id for r in out] == ["b"] and a.open_calls == 1


def test_silent_calls_are_swept_as_incomplete_never_lost() -> None:
    now = [at(0)]
    out: list[CallRecord] = []
    a = CallAssembler(out.append, clock=lambda: now[0], stale_after=timedelta(minutes=10))
    a.on_event(join(0))
    a.on_event(connect(3))
    now[0] = at(300)
    assert a.sweep() == 0
    now[0] = at(3600)
    assert a.sweep() == 1
    [r] = out
    assert (r.complete, r.outcome) == (False, Outcome.ANSWERED)


def test_shutdown_flushes_open_calls_as_incomplete() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "en", "config")
    assert a.flush_all() == 1
    assert out[0].outcome is Outcome.FAILED and not out[0].complete


def test_events_without_a_call_id_are_ignored() -> None:
    a, out = assembler()
    a.on_event(join(0, call=""))
    assert a.open_calls == 0 and out == []


def test_wait_counts_every_queue_of_an_overflowed_call() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "ru", "1")
    a.ivr_routed(CALL, at(3), Route(RouteKind.QUEUE, RouteReason.CHOSEN, "ru", "6", ("root",), queue="quiet"))
    a.on_event(join(3, "quiet"))
    a.on_event(QueueCallerLeave("local", at(8), CALL.call_id, "", "quiet", 1, 0))
    a.on_event(join(8, "main"))
    a.on_event(AgentConnect("local", at(9.5), CALL.call_id, CALL.call_id, "main", "sim-main-1", 1, 0))
    a.on_event(
        AgentComplete("local", at(20), CALL.call_id, CALL.call_id, "main", "sim-main-1", 1, 10, "agent")
    )
    a.on_event(hangup(20))
    [r] = out
    assert (r.queue, r.overflowed, r.wait_seconds, r.talk_seconds) == ("main", True, 6.5, 10.0)


def test_a_queue_timeout_then_an_overflow_join_is_still_one_open_call() -> None:
    a, out = assembler()
    a.on_event(join(0, "quiet"))
    a.on_event(QueueCallerAbandon("local", at(5), CALL.call_id, "", "quiet", 1, 1, 5))
    a.on_event(join(5, "main"))
    assert out == [] and a.open_calls == 1
    a.on_event(hangup(7))
    [r] = out
    assert (r.outcome, r.queue, r.overflowed, r.wait_seconds) == (
        Outcome.ABANDONED_IN_QUEUE,
        "main",
        True,
        7.0,
    )


def test_the_callers_hangup_ends_whatever_is_open() -> None:
    a, out = assembler()
    a.on_event(join(0))
    a.on_event(connect(2))
    a.on_event(hangup(12, leg="1700000000.2"))  # the operator's leg: not the caller
    assert out == []
    a.on_event(hangup(12))  # no AgentComplete seen: talk from the event times
    [r] = out
    assert (r.outcome, r.talk_seconds, r.ended_at) == (Outcome.ANSWERED, 10.0, at(12))


def test_a_hangup_before_the_ivr_reports_ends_the_call_in_the_ivr() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "ru", "1")
    a.on_event(hangup(3))
    a.ivr_hangup(CALL, at(3.1), "1")  # the IVR's own report comes late: one record still
    [r] = out
    assert (r.outcome, r.ended_at) == (Outcome.ABANDONED_IN_IVR, at(3))


def test_a_caller_gone_between_the_ivr_and_the_queue_is_recorded_at_once() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "ru", "1")
    a.ivr_routed(
        CALL, at(3), Route(RouteKind.QUEUE, RouteReason.CHOSEN, "ru", "1", ("root",), queue="crisis")
    )
    a.on_event(hangup(3.01))  # before any QueueCallerJoin
    [r] = out
    assert (r.outcome, r.queue, r.wait_seconds, r.ended_at) == (
        Outcome.ABANDONED_IN_QUEUE,
        "crisis",
        0.0,
        at(3.01),
    )


def test_an_escalation_keeps_one_record_with_both_operators_talk() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "en", "3")
    a.on_event(join(1))
    a.on_event(connect(5))
    a.on_event(
        AgentComplete(
            "local", at(65), CALL.call_id, CALL.call_id, "crisis", "sim-crisis-1", 4, 60, "transfer"
        )
    )
    a.on_event(join(65, "senior"))
    a.on_event(AgentConnect("local", at(70), CALL.call_id, CALL.call_id, "senior", "senior-1", 5, 1))
    a.on_event(hangup(100))  # the caller hung up on the senior: no AgentComplete yet
    a.on_event(
        AgentComplete("local", at(100), CALL.call_id, CALL.call_id, "senior", "senior-1", 5, 30, "caller")
    )
    [r] = out
    assert (r.escalated, r.queue, r.operator, r.wait_seconds) == (True, "crisis", "sim-crisis-1", 4.0)
    assert (r.talk_seconds, r.outcome, r.overflowed) == (90.0, Outcome.ANSWERED, False)


def test_survey_score_and_wrapup_land_in_the_record() -> None:
    out: list[CallRecord] = []
    a = CallAssembler(out.append, clock=lambda: at(0), wrapup_for={"crisis": 45.0}.get)
    a.ivr_started(CALL, at(0), "en", "3", repeat_count=2)
    a.on_event(join(1))
    a.on_event(connect(5))
    a.on_event(complete(35))
    a.surveyed(CALL, at(40), 4)
    a.surveyed(CALL, at(40), 9)  # out of range: ignored
    a.on_event(hangup(41))
    [r] = out
    assert (r.survey_score, r.wrapup_seconds, r.repeat_count, r.escalated) == (4, 45.0, 2, False)


def test_a_call_an_operator_finished_settles_sooner_when_the_hangup_is_lost() -> None:
    now = [at(0)]
    out: list[CallRecord] = []
    a = CallAssembler(out.append, clock=lambda: now[0], settle_after=timedelta(minutes=15))
    for event in (join(0), connect(2), complete(12)):
        a.on_event(event)
    now[0] = at(15 * 60 + 13)
    assert a.sweep() == 1
    [r] = out
    assert (r.outcome, r.complete, r.talk_seconds) == (Outcome.ANSWERED, False, 30.0)


def test_the_desks_actions_mark_the_open_record_and_a_transfer_is_no_escalation() -> None:
    a, out = assembler()
    a.ivr_started(CALL, at(0), "en", "3")
    a.on_event(join(1))
    a.on_event(connect(5))
    a.handed_on(CALL, "emergency")
    a.handed_on(CALL, "conference")
    a.handed_on(CALL, "transfer_blind")
    a.handed_on(CALL, "leave")  # changes nothing
    a.handed_on(CallRef("local", "no-such-call"), "emergency")  # no record is made for it
    a.on_event(join(30, "senior"))  # the blind transfer's queue
    a.on_event(hangup(60))
    [r] = out
    assert (r.emergency, r.conferenced, r.transferred, r.escalated) == (True, True, "blind", False)
    a.handed_on(CALL, "transfer_warm")  # after the record went out: nothing changes
    assert r.transferred == "blind" and len(out) == 1


def test_a_call_that_ends_on_another_side_ends_as_its_caller_hanging_up() -> None:
    """A Twilio call's status callback (ivr/twilio_voice.py): a referral it dialled is over."""
    a, out = assembler()
    twilio = CallRef("twilio", "0f" * 16)
    a.ivr_started(twilio, at(0), "ru", "3", 2)
    route = Route(
        RouteKind.REFERRAL,
        RouteReason.CHOSEN,
        "ru",
        "4",
        ("main",),
        referral="shelter",
        referral_number="88001000200",
    )
    a.ivr_routed(twilio, at(5), route)
    a.caller_gone(twilio, at(65))
    a.caller_gone(twilio, at(70))  # again, or a call never seen: nothing more
    a.caller_gone(CallRef("twilio", "unknown"), at(70))
    [record] = out
    assert (record.node, record.outcome, record.referral, record.ended_at, record.repeat_count) == (
        "twilio",
        Outcome.REFERRED,
        "shelter",
        at(65),
        2,
    )


def test_a_call_handed_over_goes_on_under_the_new_reference_as_one_record() -> None:
    """A caller who walked the IVR on a Twilio number, handed to an Asterisk queue."""
    a, out = assembler()
    twilio = CallRef("twilio", "0e" * 16)
    a.ivr_started(twilio, at(0), "ru", "3", 1)
    route = Route(RouteKind.QUEUE, RouteReason.CHOSEN, "ru", "1", ("root",), "crisis", "crisis", 10)
    a.ivr_routed(twilio, at(5), route)
    assert a.rejoin(twilio, CALL)
    assert not a.rejoin(twilio, CALL) and not a.rejoin(CallRef("twilio", "unknown"), CallRef("local", "x"))
    assert a.open_record(twilio) is None and a.topic_of(CALL) == "crisis"
    a.caller_gone(twilio, at(6))  # Twilio's status callback, late: the call is Asterisk's now
    for event in (join(10), connect(14), complete(40), hangup(41)):
        a.on_event(event)
    [record] = out
    assert (record.node, record.call_id, record.topic, record.queue, record.priority) == (
        CALL.node,
        CALL.call_id,
        "crisis",
        "crisis",
        10,
    )
    assert (record.outcome, record.menu_version, record.fallback) == (Outcome.ANSWERED, "3", False)
    assert not a.rejoin(CallRef("twilio", "0d" * 16), CALL)  # recorded already: never a second record
