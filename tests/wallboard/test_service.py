"""The wallboard hub: figures per queue, operators' time in state, alerts, pushes coalesced."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

from agents.state import OperatorState, OperatorStatus
from core.outbox import Backlog
from metrics.live.board import QueueBoard
from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome
from telephony.events import QueueCallerJoin, QueueCallerLeave
from wallboard.service import Wallboard, WallboardSources

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def answered(wait: float, started: datetime) -> CallRecord:
    return CallRecord(
        id=uuid.uuid4().hex,
        node="local",
        call_id=uuid.uuid4().hex,
        started_at=started,
        queue_entered_at=started,
        queue="crisis",
        outcome=Outcome.ANSWERED,
        wait_seconds=wait,
        talk_seconds=60,
    )


def hub(board: QueueBoard, operators: list[OperatorState], clock: Clock) -> Wallboard:
    levels = ServiceLevels({"crisis": 10, "legal": 60}, {"crisis": 0.9})
    sources = WallboardSources(
        board, lambda: ["crisis", "legal"], lambda: operators, lambda: levels, clock=clock
    )
    return Wallboard(sources)


def test_queues_operators_and_alerts() -> None:
    clock, board = Clock(), QueueBoard()
    operators = [OperatorState("op-anna", OperatorStatus.AVAILABLE, "", ("crisis",), 0)]
    wall = hub(board, operators, clock)
    board.on_event(QueueCallerJoin("local", T0 - timedelta(seconds=15), "c1", "u1", "crisis", 1, 1))
    wall.on_record(answered(5, T0 - timedelta(hours=1)))
    wall.on_record(answered(30, T0 - timedelta(hours=2)))
    wall.on_record(answered(1, T0 - timedelta(hours=30)))  # outside 24 h: not counted
    clock.now = T0 + timedelta(seconds=3)
    operators[0] = OperatorState("op-anna", OperatorStatus.ON_CALL, "", ("crisis",), 1)
    wall.on_event(QueueCallerLeave("local", clock.now, "c0", "u0", "crisis", 1, 1))  # status seen now
    clock.now = T0 + timedelta(seconds=10)
    snap = wall.snapshot()
    crisis = snap["queues"][0]
    assert (crisis["queue"], crisis["waiting"], crisis["longest_wait_seconds"]) == ("crisis", 1, 25.0)
    assert (crisis["service_level_24h"], crisis["offered_24h"], crisis["logged_in"]) == (0.5, 2, 1)
    assert crisis["operators"] == {"on_call": 1}
    assert snap["operators"][0]["seconds_in_state"] == 7.0
    kinds = {(a["queue"], a["kind"]) for a in snap["alerts"]}
    assert kinds == {("crisis", "service_level"), ("crisis", "wait"), ("legal", "unstaffed")}


def test_the_day_starts_at_midnight_and_the_window_slides() -> None:
    clock, board = Clock(), QueueBoard()
    wall = hub(board, [], clock)
    wall.on_record(answered(5, T0 - timedelta(hours=13)))  # yesterday, 23:00
    wall.on_record(answered(5, T0 - timedelta(hours=1)))
    crisis = wall.snapshot()["queues"][0]
    assert (crisis["offered_today"], crisis["offered_24h"]) == (1, 2)
    clock.now = T0 + timedelta(hours=11, minutes=30)
    crisis = wall.snapshot()["queues"][0]
    assert (crisis["offered_today"], crisis["offered_24h"]) == (1, 1)
    clock.now = T0 + timedelta(hours=13)  # the next day
    assert wall.snapshot()["queues"][0]["offered_today"] == 0


async def test_a_burst_of_events_is_one_push_within_the_coalescing_delay() -> None:
    clock, board = Clock(), QueueBoard()
    wall = hub(board, [], clock)
    stream = wall.subscribe()
    await anext(stream)
    for i in range(50):
        event = QueueCallerJoin("local", T0, f"c{i}", f"u{i}", "legal", i + 1, i + 1)
        board.on_event(event)
        wall.on_event(event)
    pushed = json.loads(await asyncio.wait_for(anext(stream), 0.5))
    assert pushed["queues"][1]["waiting"] == 50
    await asyncio.sleep(0.1)
    assert wall._subscribers and all(q.empty() for q in wall._subscribers)
    await stream.aclose()


class Backlogs:
    """What the record writer's backlog says, moved by the test."""

    def __init__(self) -> None:
        self.now = Backlog(0, 0.0, 0, 0, 0, outage=False, stopped=False)

    def __call__(self) -> Backlog:
        return self.now


def test_records_waiting_for_the_database_show_and_raise_an_alert_after_a_minute() -> None:
    clock, board, backlog = Clock(), QueueBoard(), Backlogs()
    operators = [OperatorState("op-anna", OperatorStatus.AVAILABLE, "", ("crisis", "legal"), 0)]
    sources = WallboardSources(
        board, lambda: ["crisis", "legal"], lambda: operators, lambda: ServiceLevels({}), clock=clock
    )
    without = Wallboard(sources).snapshot()
    assert without["records"] == {"pending": 0, "oldest_pending_seconds": 0.0} and without["alerts"] == []
    wall = Wallboard(dataclasses.replace(sources, records=backlog))
    backlog.now = Backlog(3, 59.96, 10, 0, 0, outage=True, stopped=False)
    snap = wall.snapshot()
    assert snap["records"] == {"pending": 3, "oldest_pending_seconds": 60.0} and snap["alerts"] == []
    backlog.now = Backlog(4, 61.2, 10, 0, 0, outage=True, stopped=False)
    snap = wall.snapshot()
    assert snap["records"] == {"pending": 4, "oldest_pending_seconds": 61.2}
    assert snap["alerts"] == [
        {
            "queue": None,
            "kind": "records",
            "message": "4 call records have waited 61 s for the database",
            "rank": 5,
            "id": "records:-",
            "crisis": False,
            "acknowledged": None,
        }
    ]
    backlog.now = Backlog(0, 0.0, 14, 0, 0, outage=False, stopped=False)
    assert wall.snapshot()["alerts"] == []


async def test_the_records_alert_is_pushed_when_it_starts_without_any_event() -> None:
    clock, board, backlog = Clock(), QueueBoard(), Backlogs()
    operators = [OperatorState("op-anna", OperatorStatus.AVAILABLE, "", ("crisis", "legal"), 0)]
    sources = WallboardSources(
        board, lambda: ["crisis", "legal"], lambda: operators, lambda: ServiceLevels({}), clock=clock
    )
    wall = Wallboard(dataclasses.replace(sources, records=backlog))
    stream = wall.subscribe()
    assert json.loads(await anext(stream))["alerts"] == []
    runner = asyncio.create_task(wall.run(tick=0.01))  # the one-second tick, faster
    backlog.now = Backlog(2, 75.0, 0, 0, 0, outage=True, stopped=False)
    pushed = json.loads(await asyncio.wait_for(anext(stream), 5))
    assert [a["kind"] for a in pushed["alerts"]] == ["records"]
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    await stream.aclose()


def test_todays_taken_calls_without_a_summary_are_counted() -> None:
    clock = Clock()
    wall = hub(QueueBoard(), [], clock)

    def missing() -> int:
        count: int = wall.snapshot()["summaries"]["missing_today"]
        return count

    yesterday = T0 - timedelta(hours=13)  # 23:00 UTC, the day before
    wall.preload_taken([("old", yesterday, False), ("done", T0 - timedelta(hours=2), True)])
    mine, theirs = answered(5, T0 - timedelta(hours=1)), answered(5, T0 - timedelta(minutes=30))
    unanswered = dataclasses.replace(answered(5, T0), outcome=Outcome.ABANDONED_IN_QUEUE)
    for record in (mine, theirs):
        record.operator = "op-anna"
    for record in (mine, theirs, unanswered):
        wall.on_record(record)
    assert missing() == 2  # yesterday's and the untaken call do not count
    wall.on_summary(mine.id)
    wall.on_summary("unknown")
    assert missing() == 1
    wall.on_record(mine)  # its record again (a late survey score): still summarised
    wall.on_record(dataclasses.replace(theirs))
    assert missing() == 1
    clock.now = T0 + timedelta(hours=12)  # the next day
    assert missing() == 0


def test_an_emergency_is_an_alert_for_an_hour_with_who_and_when_and_no_number() -> None:
    clock = Clock()
    wall = hub(QueueBoard(), [OperatorState("op-anna", OperatorStatus.ON_CALL, "", ("crisis",), 0)], clock)
    wall.on_emergency("op-anna", "op-lead", T0, "crisis", "suicide")
    clock.now = T0 + timedelta(minutes=59)
    [alert] = [a for a in wall.snapshot()["alerts"] if a["kind"] == "emergency"]
    assert alert == {
        "queue": "crisis",
        "kind": "emergency",
        "message": "op-anna brought the emergency line into a call (asked by op-lead)",
        "operator": "op-anna",
        "by": "op-lead",
        "at": T0.isoformat(),
        "topic": "suicide",
        "rank": 4,
        "id": f"emergency:op-anna:{T0.isoformat()}",
        "crisis": False,
        "acknowledged": None,
    }
    json.dumps(wall.snapshot())  # the stream sends it as JSON
    clock.now = T0 + timedelta(minutes=61)
    assert not [a for a in wall.snapshot()["alerts"] if a["kind"] == "emergency"]
