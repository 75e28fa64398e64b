"""Supervision's service with a fake AMI node and a real database: the AMI actions it sends
(built from the operator's and the supervisor's channels alone), what the dialplan tells it over
FastAGI, how a session ends, what is recorded, the operator's notice. What Asterisk does with the
actions: tests/e2e/test_supervision.py."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from agents.exceptions import NotInCall
from core.types import CallRef
from desk.control import Seat
from supervision.exceptions import SessionEnded, SessionNotFound, SupervisionConflict, SupervisionFailed
from supervision.service import Supervision
from supervision.session import Ending, Mode, State
from supervision.store import Filters, SupervisionStore
from telephony import variables as v
from telephony.ami import AmiUnavailable
from telephony.events import AgentComplete

OP_CHANNEL = "PJSIP/op-anna-00000007"
CALL = CallRef("local", "1765098000.10")
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class FakeNode:
    def __init__(self, reply: Any = None, error: Exception | None = None) -> None:
        self.name = "local"
        self.sent: list[dict[str, str]] = []
        self.reply = {"Response": "Success"} if reply is None else reply
        self.error = error

    async def send(self, action: Mapping[str, str], *, first_reply: bool = False) -> Any:
        assert first_reply
        self.sent.append(dict(action))
        if self.error is not None:
            raise self.error
        return self.reply


class Clock:
    def __init__(self) -> None:
        self.now = AT

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def engine(database: Engine) -> Engine:
    """SQLite, and PostgreSQL when a server answers on 127.0.0.1:5432 (tests/databases.py)."""
    return database


def service(engine: Engine, node: FakeNode, notify: bool = True, ring: float = 60) -> Supervision:
    seats = {"op-anna": Seat("local", OP_CHANNEL, CALL, "peer")}
    ids = iter(f"s{n}" for n in range(1, 100))
    return Supervision(
        [node], seats.get, SupervisionStore(engine), notify, Clock(), lambda: next(ids), ring_seconds=ring
    )


async def test_a_session_calls_the_supervisors_phone_as_supervision_and_spies_on_the_operator(
    engine: Engine,
) -> None:
    node = FakeNode()
    s = service(engine, node)
    session = await s.start("op-senior", "op-anna", Mode.WHISPER)
    assert node.sent == [
        {
            "Action": "Originate",
            "Channel": "PJSIP/op-senior",
            "Context": v.CONTEXT_SUPERVISE,
            "Exten": "5",
            "Priority": "1",
            "CallerID": '"Supervision" <supervision>',
            "ChannelId": "supervision-s1",
            "Timeout": "30000",
            "Variable": f"{v.SPY_SESSION}=s1,{v.SPY_TARGET}={OP_CHANNEL},"
            f"SPY_EXIT_CONTEXT={v.CONTEXT_SUPERVISE_KEYS}",
            "Async": "true",
        }
    ]
    assert (session.state, session.mode, session.call_id) == (State.RINGING, Mode.WHISPER, CALL.call_id)
    assert s.notice("op-anna") is None  # not answered yet: nobody hears the operator
    await s.spying("s1", "5", "PJSIP/op-senior-0000000a")
    assert session.state is State.ACTIVE and session.channel == "PJSIP/op-senior-0000000a"
    assert s.notice("op-anna") is session
    stored = SupervisionStore(engine).get("s1")
    assert stored is not None and (stored.state, stored.answered_at) == (State.ACTIVE, session.answered_at)


async def test_modes_switch_by_redirect_and_by_keys_and_every_change_is_recorded(engine: Engine) -> None:
    node = FakeNode()
    s = service(engine, node)
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    await s.spying("s1", "4", "PJSIP/op-senior-0000000a")
    await s.switch("s1", Mode.BARGE, "op-lead")
    assert node.sent[-1] == {
        "Action": "Redirect",
        "Channel": "PJSIP/op-senior-0000000a",
        "Context": v.CONTEXT_SUPERVISE,
        "Exten": "6",
        "Priority": "1",
    }
    await s.spying("s1", "6", "PJSIP/op-senior-0000000a")  # the redirect arrives: no new change
    await s.spying("s1", "5", "PJSIP/op-senior-0000000a")  # 5 pressed on the supervisor's phone
    stored = SupervisionStore(engine).get("s1")
    assert stored is not None
    assert [(m.mode, m.via, m.by) for m in stored.modes] == [
        (Mode.LISTEN, "api", "op-senior"),
        (Mode.BARGE, "api", "op-lead"),
        (Mode.WHISPER, "keys", "op-senior"),
    ]
    assert stored.mode is Mode.WHISPER


async def test_a_mode_chosen_while_the_phone_rings_is_the_one_it_starts_in(engine: Engine) -> None:
    node = FakeNode()
    s = service(engine, node)
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    await s.switch("s1", Mode.BARGE, "op-senior")
    assert [a["Action"] for a in node.sent] == ["Originate"]  # nothing to redirect yet
    await s.spying("s1", "4", "PJSIP/op-senior-0000000a")  # answered in the originate's mode
    await asyncio.sleep(0)
    assert node.sent[-1]["Action"] == "Redirect" and node.sent[-1]["Exten"] == "6"
    assert [m.mode for m in (await s.get("s1")).modes] == [Mode.LISTEN, Mode.BARGE]


async def test_a_session_ends_by_the_api_by_a_hang_up_or_with_the_call(engine: Engine) -> None:
    node = FakeNode()
    s = service(engine, node)
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    ended = await s.stop("s1", "op-lead")
    assert node.sent[-1] == {"Action": "Hangup", "Channel": "supervision-s1", "Cause": "16"}
    assert (ended.state, ended.ended_how, ended.ended_by) == (State.ENDED, Ending.ENDED, "op-lead")
    await s.hung_up("s1")  # the dialplan's h, after the hang-up: nothing changes
    assert (await s.get("s1")).ended_how is Ending.ENDED
    with pytest.raises(SessionEnded):
        await s.switch("s1", Mode.BARGE, "op-lead")
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    await s.hung_up("s2")
    assert (await s.get("s2")).ended_how is Ending.HUNG_UP
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    s.on_event(AgentComplete("local", AT, CALL.call_id, "u", "peer", "op-anna", 3, 40, "caller"))
    await asyncio.sleep(0.05)
    assert (await s.get("s3")).ended_how is Ending.CALL_ENDED and s.live() == []
    found = await s.find(Filters(operator="op-anna", ended_only=True))
    assert [x.id for x in found] == ["s3", "s2", "s1"]


async def test_a_phone_that_never_answers_ends_the_session(engine: Engine) -> None:
    s = service(engine, FakeNode(), ring=0.01)
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    await asyncio.sleep(0.1)
    assert (await s.get("s1")).ended_how is Ending.NOT_ANSWERED


async def test_a_hang_up_of_a_channel_already_gone_ends_the_session_still(engine: Engine) -> None:
    s = service(engine, FakeNode(reply={"Response": "Error", "Message": "No such channel"}))
    with pytest.raises(SupervisionFailed):  # the originate itself refused: no session
        await s.start("op-senior", "op-anna", Mode.LISTEN)
    assert s.live() == []
    ok = FakeNode()
    s = service(engine, ok)
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    ok.reply = {"Response": "Error", "Message": "No such channel"}
    assert (await s.stop("s1", "op-senior")).state is State.ENDED


async def test_refusals(engine: Engine) -> None:
    s = service(engine, FakeNode(error=AmiUnavailable("local", "not logged in")))
    with pytest.raises(NotInCall):
        await s.start("op-senior", "op-boris", Mode.LISTEN)
    with pytest.raises(SupervisionConflict):
        await s.start("op-anna", "op-anna", Mode.LISTEN)
    with pytest.raises(SupervisionFailed) as failed:
        await s.start("op-senior", "op-anna", Mode.LISTEN)
    assert failed.value.details == {"node": "local"} and s.live() == []
    with pytest.raises(SessionNotFound):
        await s.get("nothing")
    here = service(engine, FakeNode())
    await here.start_here("op-senior", "op-anna", Mode.LISTEN, "1765098000.30")
    with pytest.raises(SupervisionConflict) as busy:  # one session at a time per supervisor
        await here.start("op-senior", "op-anna", Mode.BARGE)
    assert busy.value.details == {"session": "s1"}


async def test_the_notice_follows_the_lines_setting(engine: Engine) -> None:
    s = service(engine, FakeNode(), notify=False)
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    await s.spying("s1", "4", "PJSIP/op-senior-0000000a")
    assert s.notice("op-anna") is None and s.live()[0].state is State.ACTIVE


async def test_a_channel_name_not_the_supervisors_is_not_taken(engine: Engine) -> None:
    s = service(engine, FakeNode())
    await s.start("op-senior", "op-anna", Mode.LISTEN)
    await s.spying("s1", "4", "PJSIP/op-anna-00000007")
    assert s.live()[0].channel == "supervision-s1"


async def test_sessions_a_previous_process_left_open_end_as_restart(engine: Engine) -> None:
    before = service(engine, FakeNode())
    await before.start("op-senior", "op-anna", Mode.LISTEN)
    await before.spying("s1", "4", "PJSIP/op-senior-0000000a")
    after = service(engine, FakeNode())  # the next process, on the same database
    await after.recover()
    stored = SupervisionStore(engine).get("s1")
    assert stored is not None and (stored.state, stored.ended_how) == (State.ENDED, Ending.RESTART)
    assert stored.ended_at is not None
    await after.recover()  # nothing left to close
