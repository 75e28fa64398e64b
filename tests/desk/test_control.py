"""Call control's AMI actions, built from the operator's channel alone, and its faults: a fake AMI
node here only refuses, drops or stalls (what Asterisk does with them: tests/e2e/test_call_control.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from agents.exceptions import NotInCall
from core.types import CallRef
from desk.control import (
    Action,
    CallControl,
    DeskAction,
    Mode,
    Target,
    blind_transfer,
    bring_in,
    consultation,
    hang_up,
)
from desk.exceptions import CallControlFailed, NoEmergencyLine, UnknownQueue, UnknownReferral
from ivr.document import IvrDocument
from telephony import variables as v
from telephony.ami import AmiUnavailable
from telephony.events import AgentComplete, AgentConnect
from tests.conftest import seed_document

OP_CHANNEL = "PJSIP/op-anna-00000007"
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PARTNER = Target("referral", "shelter", "88001000003")


class FakeNode:
    """Answers every action with ``reply``, or raises ``error``, or never answers."""

    def __init__(self, reply: Any = None, error: Exception | None = None, stall: bool = False) -> None:
        self.name = "local"
        self.sent: list[Mapping[str, str]] = []
        self._reply = {"Response": "Success"} if reply is None else reply
        self._error, self._stall = error, stall

    async def send(self, action: Mapping[str, str], *, first_reply: bool = False) -> Any:
        assert first_reply  # every call-control action is answered by its first message
        self.sent.append(dict(action))
        if self._error is not None:
            raise self._error
        if self._stall:
            await asyncio.sleep(3600)
        return self._reply


def connect(member: str = "op-anna", channel: str = OP_CHANNEL) -> AgentConnect:
    return AgentConnect("local", AT, "1733570000.11", "1733570000.12", "peer", member, 3, 1, channel)


def control(
    node: FakeNode, doc: IvrDocument | None = None
) -> tuple[CallControl, list[DeskAction], list[DeskAction]]:
    kept: list[DeskAction] = []
    told: list[DeskAction] = []
    document = doc or seed_document()
    c = CallControl([node], lambda: document, lambda _call: "crisis", kept.append, [told.append], lambda: AT)
    c.on_event(connect())
    return c, kept, told


# -- the actions ------------------------------------------------------------------------------------
def test_a_blind_transfer_names_only_the_operators_channel() -> None:
    assert blind_transfer(OP_CHANNEL, Target("queue", "crisis", "crisis")) == {
        "Action": "BlindTransfer", "Channel": OP_CHANNEL, "Context": v.CONTEXT_DESK_QUEUE, "Exten": "crisis",
    }  # fmt: skip
    assert blind_transfer(OP_CHANNEL, PARTNER)["Context"] == v.CONTEXT_DESK_REFERRAL
    assert blind_transfer(OP_CHANNEL, PARTNER)["Exten"] == "88001000003"


def test_a_warm_transfer_sets_the_target_for_the_consultation_then_transfers() -> None:
    setvar, atxfer = consultation(OP_CHANNEL, PARTNER)
    assert setvar == {
        "Action": "Setvar",
        "Channel": OP_CHANNEL,
        "Variable": "_HOTLINE_DESK_DIAL",
        "Value": "88001000003",
    }
    assert atxfer == {
        "Action": "Atxfer",
        "Channel": OP_CHANNEL,
        "Exten": v.CONSULT_REFERRAL,
        "Context": v.CONTEXT_DESK_CONSULT,
    }
    assert consultation(OP_CHANNEL, Target("queue", "senior", "senior"))[1]["Exten"] == v.CONSULT_QUEUE


def test_a_partner_is_brought_in_anonymously_into_the_operators_bridge() -> None:
    action = bring_in(OP_CHANNEL, PARTNER)
    assert action["Channel"] == "PJSIP/88001000003@hotline-referral"
    assert (action["Application"], action["Data"]) == ("BridgeAdd", OP_CHANNEL)
    assert action["CallerID"] == "anonymous <anonymous>"
    assert action["Async"] == "true"  # a sync Originate breaks panoramisk's connection
    assert hang_up(OP_CHANNEL) == {"Action": "Hangup", "Channel": OP_CHANNEL, "Cause": "16"}


# -- the service ------------------------------------------------------------------------------------
async def test_each_use_is_sent_kept_and_told() -> None:
    node = FakeNode()
    c, kept, told = control(node)
    done = await c.transfer("op-anna", "op-lead", Mode.WARM, None, "shelter")
    assert [a["Action"] for a in node.sent] == ["Setvar", "Atxfer"]
    assert (done.action, done.operator, done.by, done.at) == (Action.TRANSFER_WARM, "op-anna", "op-lead", AT)
    assert (done.call, done.queue, done.topic, done.target) == (
        CallRef("local", "1733570000.11"), "peer", "crisis", Target("referral", "shelter", "88001000003"),
    )  # fmt: skip
    assert kept == told == [done]
    emergency = await c.emergency("op-anna", "op-anna")
    assert emergency.target == Target("emergency", "emergency", seed_document().emergency.number)  # type: ignore[union-attr]
    assert node.sent[-1]["Channel"] == f"PJSIP/{seed_document().emergency.number}@hotline-referral"  # type: ignore[union-attr]
    await c.conference("op-anna", "op-anna", "shelter")
    await c.transfer("op-anna", "op-anna", Mode.BLIND, "crisis", None)
    await c.leave("op-anna", "op-anna")
    assert [a["Action"] for a in node.sent[2:]] == ["Originate", "Originate", "BlindTransfer", "Hangup"]
    assert [d.action for d in kept] == [
        Action.TRANSFER_WARM, Action.EMERGENCY, Action.CONFERENCE, Action.TRANSFER_BLIND, Action.LEAVE,
    ]  # fmt: skip
    assert all("7900" not in str(a) for a in node.sent)


async def test_nothing_is_sent_for_an_unknown_target_or_an_operator_not_in_a_call() -> None:
    node = FakeNode()
    c, kept, _ = control(node, seed_document().model_copy(update={"emergency": None}))
    with pytest.raises(UnknownQueue):
        await c.transfer("op-anna", "op-anna", Mode.BLIND, "nowhere", None)
    with pytest.raises(UnknownReferral):
        await c.transfer("op-anna", "op-anna", Mode.WARM, None, "nowhere")
    with pytest.raises(UnknownReferral):
        await c.conference("op-anna", "op-anna", "nowhere")
    with pytest.raises(NoEmergencyLine):
        await c.emergency("op-anna", "op-anna")
    with pytest.raises(NotInCall):
        await c.leave("op-bob", "op-bob")
    assert node.sent == [] and kept == []


async def test_the_seat_ends_with_the_operators_leg_of_that_call() -> None:
    c, _, _ = control(FakeNode())
    c.on_event(AgentComplete("local", AT, "another-call", "u", "peer", "op-anna", 3, 10, "agent"))
    assert c.seat("op-anna") is not None  # another call's end
    c.on_event(AgentComplete("local", AT, "1733570000.11", "u", "peer", "op-anna", 3, 10, "transfer"))
    assert c.seat("op-anna") is None
    c.on_event(connect(channel=""))  # a leg without the operator's channel cannot be controlled
    assert c.seat("op-anna") is None


@pytest.mark.parametrize(
    ("node", "says"),
    [
        (
            FakeNode(error=AmiUnavailable("local", "not logged in")),
            "BlindTransfer on node 'local' failed: not logged in",
        ),
        (FakeNode(reply={"Response": "Error", "Message": "No such channel"}), "refused: No such channel"),
        (FakeNode(reply=[]), "refused: refused"),
    ],
)
async def test_an_asterisk_that_fails_or_refuses_is_a_502_naming_the_node(node: FakeNode, says: str) -> None:
    c, kept, told = control(node)
    with pytest.raises(CallControlFailed) as failed:
        await c.transfer("op-anna", "op-anna", Mode.BLIND, "crisis", None)
    assert says in str(failed.value) and failed.value.details == {"node": "local"}
    assert kept == told == []  # nothing happened: nothing is recorded


async def test_a_node_that_never_answers_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    real = asyncio.wait_for

    async def quick(aw: Any, **_: float) -> Any:
        return await real(aw, 0.05)

    monkeypatch.setattr("desk.control.asyncio.wait_for", quick)
    c, _, _ = control(FakeNode(stall=True))
    with pytest.raises(CallControlFailed, match="no answer in 10 s"):
        await c.leave("op-anna", "op-anna")


async def test_a_call_on_a_node_not_configured_is_refused() -> None:
    c, _, _ = control(FakeNode())
    c.on_event(AgentConnect("elsewhere", AT, "c", "u", "peer", "op-anna", 3, 1, OP_CHANNEL))
    with pytest.raises(CallControlFailed, match="not configured"):
        await c.leave("op-anna", "op-anna")


async def test_a_log_that_cannot_be_written_does_not_undo_what_asterisk_did() -> None:
    node, told = FakeNode(), list[DeskAction]()

    def broken(_: DeskAction) -> None:
        raise OSError("disk gone")

    c = CallControl([node], seed_document, lambda _c: None, broken, [told.append], lambda: AT)
    c.on_event(connect())
    done = await c.leave("op-anna", "op-anna")
    assert told == [done] and [a["Action"] for a in node.sent] == ["Hangup"]
