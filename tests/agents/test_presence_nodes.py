"""An operator on a line of several Asterisk nodes: each queue is joined, left and paused on the
nodes it lives on only (a queue of one node does not exist on the others)."""

from __future__ import annotations

from sqlalchemy import Engine

from agents.directory import OperatorDirectory, Role
from agents.presence import PauseReason, Presence
from ivr.codec import from_yaml
from ivr.document import IvrDocument
from tests.agents.test_guard import FakeNode
from tests.conftest import ROOT


class Node(FakeNode):
    def __init__(self, name: str, refuse_pause: bool = False) -> None:
        super().__init__()
        self.name, self.refuse_pause = name, refuse_pause

    async def send(self, action: dict[str, str]) -> dict[str, str]:
        self.actions.append(dict(action))
        if self.refuse_pause and action["Action"] == "QueuePause":
            return {"Response": "Error", "Message": "Interface not found"}
        return {"Response": "Success"}

    def queues(self, what: str) -> list[str]:
        return [a["Queue"] for a in self.actions if a["Action"] == what]


def document() -> IvrDocument:
    return from_yaml((ROOT / "tests" / "e2e" / "nodes.yaml").read_text(encoding="utf-8"))


async def test_queues_are_joined_and_left_where_they_live(database: Engine) -> None:
    OperatorDirectory(database).create("op-anna", "Anna", Role.OPERATOR, {"support": 2})
    a, b = Node("a"), Node("b")
    presence = Presence(OperatorDirectory(database), [a, b], document, lambda _: True)  # type: ignore[list-item]
    assert await presence.login("op-anna") == ["main", "support-a"]
    assert (a.queues("QueueAdd"), b.queues("QueueAdd")) == (["main", "support-a"], ["main"])
    await presence.logout("op-anna")
    assert a.queues("QueueRemove") == ["main", "support-a", "urgent-a"]
    assert b.queues("QueueRemove") == ["main", "support-b"]  # every queue (a shift lead may have moved her)


async def test_a_pause_where_the_operator_is_in_no_queue_is_no_failure(database: Engine) -> None:
    OperatorDirectory(database).create("op-boris", "Boris", Role.OPERATOR, {})
    a, b = Node("a"), Node("b", refuse_pause=True)
    presence = Presence(OperatorDirectory(database), [a, b], document, lambda _: True)  # type: ignore[list-item]
    await presence.pause("op-boris", PauseReason.BREAK)
    assert [x["Action"] for x in a.actions + b.actions] == ["QueuePause", "QueuePause"]
