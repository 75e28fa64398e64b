"""The wallboard's alerts ranked (a crisis caller over threshold first, then unstaffed queues with
callers waiting, then service level) and acknowledged by a shift lead (who, when; gone with the
alert)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agents.state import OperatorState, OperatorStatus
from metrics.live.board import QueueBoard
from metrics.records.levels import ServiceLevels
from telephony.events import QueueCallerJoin, QueueCallerLeave
from tests.wallboard.test_service import T0, Clock, answered
from wallboard.alerts import AlertAcknowledged, AlertNotFound, Alerts, queue_alerts
from wallboard.lead import LeadSources
from wallboard.service import Wallboard, WallboardSources

QUEUES = ["crisis", "legal", "main", "quiet"]


def board_with_alerts(clock: Clock) -> tuple[Wallboard, QueueBoard]:
    """crisis: a caller over its 10 s; legal: nobody in, a caller waiting; main: service level
    below target, a caller over 20 s; quiet: nobody in, nobody waiting."""
    board = QueueBoard()
    levels = ServiceLevels({"crisis": 10, "legal": 60, "main": 20, "quiet": 20}, {}, 20, 0.8)
    operators = [OperatorState("op-anna", OperatorStatus.ON_CALL, "", ("crisis", "main"), 1)]
    wall = Wallboard(WallboardSources(board, lambda: QUEUES, lambda: operators, lambda: levels, clock=clock))
    wall.lead = LeadSources(crisis_queues=lambda: {"crisis"})
    for i, (queue, waited) in enumerate((("crisis", 12), ("legal", 5), ("main", 40))):
        board.on_event(
            QueueCallerJoin("local", T0 - timedelta(seconds=waited), f"c{i}", f"u{i}", queue, 1, 1)
        )
    slow = answered(50, T0 - timedelta(hours=1))
    slow.queue = "main"
    wall.on_record(slow)
    return wall, board


def test_a_crisis_caller_first_then_unstaffed_with_callers_then_service_level() -> None:
    clock = Clock()
    wall, _ = board_with_alerts(clock)
    alerts = wall.snapshot()["alerts"]
    assert [(a["id"], a["rank"]) for a in alerts] == [
        ("wait:crisis", 1),
        ("unstaffed:legal", 2),
        ("wait:main", 3),  # the longer wait first within the rank
        ("service_level:main", 3),
        ("unstaffed:quiet", 6),
    ]
    assert alerts[0]["crisis"] is True and alerts[0]["message"].startswith("a crisis caller has waited 12 s")
    assert alerts[1]["message"] == "nobody is logged in, 1 waiting"
    assert all(a["acknowledged"] is None for a in alerts)


def test_without_crisis_queues_a_wait_is_a_service_alert() -> None:
    [alert] = [
        a
        for a in queue_alerts(
            {
                "queue": "crisis",
                "service_level_24h": None,
                "target": 0.8,
                "waiting": 1,
                "longest_wait_seconds": 30.0,
                "threshold_seconds": 10,
                "logged_in": 1,
            },
            crisis=False,
        )
    ]
    assert (alert["kind"], alert["rank"], alert["crisis"]) == ("wait", 3, False)


def test_an_acknowledgement_shows_who_and_when_until_the_alert_ends() -> None:
    clock = Clock()
    wall, board = board_with_alerts(clock)
    with pytest.raises(AlertNotFound):
        wall.acknowledge("wait:nowhere", "op-lead")
    clock.now = T0 + timedelta(seconds=1)
    made = wall.acknowledge("wait:crisis", "op-lead")
    assert (made.by, made.at) == ("op-lead", T0 + timedelta(seconds=1))
    with pytest.raises(AlertAcknowledged) as info:
        wall.acknowledge("wait:crisis", "op-other")
    assert info.value.details == {"by": "op-lead", "at": (T0 + timedelta(seconds=1)).isoformat()}
    [crisis] = [a for a in wall.snapshot()["alerts"] if a["id"] == "wait:crisis"]
    assert crisis["acknowledged"] == {"by": "op-lead", "at": (T0 + timedelta(seconds=1)).isoformat()}
    board.on_event(QueueCallerLeave("local", clock.now, "c0", "u0", "crisis", 0, 1))  # answered
    assert "wait:crisis" not in {a["id"] for a in wall.snapshot()["alerts"]}
    board.on_event(QueueCallerJoin("local", T0 - timedelta(seconds=30), "c9", "u9", "crisis", 1, 1))
    [again] = [a for a in wall.snapshot()["alerts"] if a["id"] == "wait:crisis"]
    assert again["acknowledged"] is None  # a new alert


def test_alerts_alone_rank_stably() -> None:
    ranked = Alerts().ranked(
        [
            {"queue": None, "kind": "records", "message": "r", "rank": 5},
            {"queue": "a", "kind": "emergency", "message": "e", "rank": 4, "operator": "op-a", "at": "t"},
        ]
    )
    assert [a["id"] for a in ranked] == ["emergency:op-a:t", "records:-"]
