"""The operator board: live state from member events, wrap-up after a call, resyncs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agents.state import OperatorBoard, OperatorStatus
from telephony.events import AgentComplete, AgentConnect, QueueMember, QueueMemberAdded, QueueSnapshot

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def added(queue: str = "peer") -> QueueMemberAdded:
    return QueueMemberAdded("a", at(0), "", "", queue, "op-anna", "PJSIP/op-anna", 1, False, "", False, 0)


def test_wrapup_follows_a_call_for_the_queues_wrapup_time() -> None:
    now = [at(0)]
    board = OperatorBoard(wrapup_for={"peer": 30.0}.get, clock=lambda: now[0])
    board.on_event(added())
    board.on_event(AgentConnect("a", at(5), "c1", "c1", "peer", "op-anna", 3, 1, "PJSIP/op-anna-0001"))
    assert board.call_channel("op-anna") == ("a", "PJSIP/op-anna-0001")
    board.on_event(AgentComplete("a", at(65), "c1", "c1", "peer", "op-anna", 3, 60, "agent"))
    assert board.call_channel("op-anna") is None
    now[0] = at(70)
    state = board.state("op-anna")
    assert (state.status, state.wrapup_until, state.since) == (OperatorStatus.WRAP_UP, at(95), at(70))
    now[0] = at(96)
    assert board.state("op-anna").status is OperatorStatus.AVAILABLE


def test_a_resync_learns_the_last_call_from_asterisk() -> None:
    now = [at(10)]
    board = OperatorBoard(wrapup_for={"peer": 30.0, "main": 5.0}.get, clock=lambda: now[0])
    member = QueueMember(
        "a",
        at(10),
        "",
        "",
        "peer",
        "op-anna",
        "PJSIP/op-anna",
        1,
        False,
        "",
        False,
        3,
        int(at(0).timestamp()),
    )
    board.on_event(QueueSnapshot("a", at(10), (), (member,), ()))
    assert board.state("op-anna").status is OperatorStatus.WRAP_UP
    now[0] = at(31)
    assert board.state("op-anna").status is OperatorStatus.AVAILABLE


def test_no_wrapup_without_a_call() -> None:
    board = OperatorBoard(wrapup_for={"peer": 30.0}.get, clock=lambda: at(1))
    board.on_event(added())
    assert board.state("op-anna").status is OperatorStatus.AVAILABLE
