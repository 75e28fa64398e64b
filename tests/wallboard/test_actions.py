"""The shift lead acts from the wallboard (issue 17, item 4), on a real Presence whose AMI node
is a fake: the same AMI actions as the operators' own API, the pause recorded as a shift lead's,
queue moves for the rest of the shift (gone at logout), and every action, done or refused, in
the record with who, what, whom, when and the result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from agents.directory import OperatorDirectory, Role
from agents.exceptions import AlreadyInQueue, NotInQueue, NotLoggedIn, UnknownQueue
from agents.pauses import PauseLog, PauseWriter
from agents.presence import PauseReason, Presence
from agents.state import OperatorBoard
from metrics.live.board import QueueBoard
from metrics.records.levels import ServiceLevels
from telephony.events import QueueMemberAdded, QueueMemberPause, QueueMemberRemoved
from tests.agents.test_guard import FakeNode
from tests.conftest import seed_document
from tests.wallboard.test_service import Clock
from wallboard.actions import ActionLog, WallboardActions
from wallboard.lead import LeadSources
from wallboard.service import Wallboard, WallboardSources

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database: Engine) -> Engine:
    """A migrated SQLite file, and PostgreSQL when a server answers (tests/databases.py)."""
    OperatorDirectory(database).create("op-anna", "Anna", Role.OPERATOR, {"crisis": 2})
    return database


def member(
    event: type[QueueMemberAdded] | type[QueueMemberPause] | type[QueueMemberRemoved],
    queue: str,
    reason: str = "",
) -> QueueMemberAdded:
    return event("a", AT, "", "", queue, "op-anna", "PJSIP/op-anna", 1, bool(reason), reason, False, 0)  # type: ignore[return-value]


class Lead:
    def __init__(self, engine: Engine) -> None:
        self.node, self.board, self.forgot = FakeNode(), OperatorBoard(), list[str]()
        self.writer = PauseWriter(PauseLog(engine), wait=1.0)
        self.presence = Presence(
            OperatorDirectory(engine),
            [self.node],
            seed_document,
            self.board.logged_in,
            self.writer,  # type: ignore[list-item]
        )
        states = lambda: [self.board.state(o) for o in self.board.operators()]  # noqa: E731
        sources = WallboardSources(
            QueueBoard(), lambda: ["crisis", "main"], states, lambda: ServiceLevels({}), clock=Clock()
        )
        self.wall = Wallboard(sources)
        self.wall.lead = LeadSources(moves=self.presence.moves)
        self.log = ActionLog(engine)
        self.actions = WallboardActions(self.presence, self.board, self.wall, self.log, self.forgot.append)

    def sent(self) -> list[tuple[str, ...]]:
        out = [
            (a["Action"], a.get("Queue", ""), a.get("Paused", ""), a.get("Reason", ""))
            for a in self.node.actions
        ]
        self.node.actions.clear()
        return out


async def test_pause_resume_move_and_logout_as_the_operators_api_would(engine: Engine) -> None:
    lead = Lead(engine)
    with pytest.raises(NotLoggedIn):
        await lead.actions.pause("op-lead", "op-anna", PauseReason.SUPERVISION)
    for queue in ("crisis", "main"):
        lead.board.on_event(member(QueueMemberAdded, queue))
    await lead.actions.pause("op-lead", "op-anna", PauseReason.SUPERVISION)
    assert lead.sent() == [("QueuePause", "", "true", "supervision")]
    [pause] = lead.writer.log.recent("op-anna")
    assert (pause.reason, pause.source) == ("supervision", "shift_lead")
    for queue in ("crisis", "main"):
        lead.board.on_event(member(QueueMemberPause, queue, "supervision"))
    await lead.actions.move("op-lead", "op-anna", "legal", into=True)  # joins paused, like the rest
    assert lead.sent() == [("QueueAdd", "legal", "true", ""), ("QueuePause", "legal", "true", "supervision")]
    await lead.actions.move("op-lead", "op-anna", "main", into=False)
    assert lead.sent() == [("QueueRemove", "main", "", "")]
    lead.board.on_event(member(QueueMemberRemoved, "main"))
    assert lead.wall.snapshot()["operators"][0]["moved"] == {"legal": "in", "main": "out"}
    with pytest.raises(UnknownQueue):
        await lead.actions.move("op-lead", "op-anna", "nowhere", into=True)
    with pytest.raises(AlreadyInQueue):
        await lead.actions.move("op-lead", "op-anna", "crisis", into=True)
    with pytest.raises(NotInQueue):
        await lead.actions.move("op-lead", "op-anna", "main", into=False)
    await lead.actions.resume("op-lead", "op-anna")
    assert lead.sent() == [("QueuePause", "", "false", "")]
    await lead.actions.logout("op-lead", "op-anna")  # every queue of the document, then the guard forgets
    assert {a[0] for a in lead.sent()} == {"QueueRemove"} and lead.forgot == ["op-anna"]
    assert lead.presence.moves("op-anna") == {}  # the next shift: the skills' queues again
    recorded = await asyncio.to_thread(lead.log.recent)
    assert [(r["by"], r["action"], r["operator"], r["target"], r["result"]) for r in reversed(recorded)] == [
        ("op-lead", "pause", "op-anna", "supervision", "operator_not_logged_in"),
        ("op-lead", "pause", "op-anna", "supervision", "ok"),
        ("op-lead", "queue_add", "op-anna", "legal", "ok"),
        ("op-lead", "queue_remove", "op-anna", "main", "ok"),
        ("op-lead", "queue_add", "op-anna", "nowhere", "queue_not_found"),
        ("op-lead", "queue_add", "op-anna", "crisis", "operator_in_queue"),
        ("op-lead", "queue_remove", "op-anna", "main", "operator_not_in_queue"),
        ("op-lead", "resume", "op-anna", None, "ok"),
        ("op-lead", "logout", "op-anna", None, "ok"),
    ]
    assert all(isinstance(r["at"], datetime) for r in recorded)


async def test_an_acknowledgement_is_recorded(engine: Engine) -> None:
    lead = Lead(engine)
    [alert, *_] = lead.wall.snapshot()["alerts"]  # nobody logged in anywhere
    done = await lead.actions.acknowledge("op-lead", alert["id"])
    assert done["by"] == "op-lead"
    [line] = await asyncio.to_thread(lead.log.recent)
    assert (line["action"], line["target"], line["result"]) == ("acknowledge", alert["id"], "ok")
