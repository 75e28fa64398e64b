"""Supervision over FastAGI (supervision/codes.py): the seniors' feature codes, refused for the
role operator, and what the dialplan tells of the supervisor's call (spying in a mode, hung up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from agents.directory import Role
from agents.exceptions import UnknownOperator
from supervision.codes import SupervisionCodes
from supervision.session import Ending, Mode, State
from telephony import variables as v
from telephony.agi import AgiRequest
from tests.supervision.test_service import OP_CHANNEL, FakeNode, engine, service  # noqa: F401

ROLES = {"op-senior": Role.SENIOR, "op-lead": Role.SHIFT_LEAD, "op-vera": Role.OPERATOR}


class FakeChannel:
    def __init__(self) -> None:
        self.played: list[str] = []
        self.variables: list[tuple[str, str]] = []

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        self.played.append(prompt)
        return ""

    async def set_variables(self, pairs: Any, *, last: bool = False) -> None:
        self.variables.extend(pairs)


def role_of(operator: str) -> Role:
    if operator not in ROLES:
        raise UnknownOperator(operator)
    return ROLES[operator]


def request(*args: str) -> AgiRequest:
    return AgiRequest("supervision", "1765098000.30", "en", args, "127.0.0.1")


@pytest.fixture
def codes(engine: Engine) -> SupervisionCodes:  # noqa: F811
    return SupervisionCodes(service(engine, FakeNode()), role_of)


async def test_a_senior_dials_a_code_and_the_dialplan_learns_whom_to_spy_on(codes: SupervisionCodes) -> None:
    channel = FakeChannel()
    await codes(request("code", "op-senior", "5", "op-anna"), channel)  # type: ignore[arg-type]
    assert channel.played == []
    assert channel.variables == [
        (v.SPY_TARGET, OP_CHANNEL),
        (v.SPY_EXIT_CONTEXT, v.CONTEXT_SUPERVISE_KEYS),
        (v.SPY_SESSION, "s1"),
    ]
    supervision = codes._supervision
    [session] = supervision.live()
    assert (session.origin.value, session.mode, session.channel) == ("code", Mode.WHISPER, "1765098000.30")
    await codes(request("spy", "s1", "5", "PJSIP/op-senior-00000002"), FakeChannel())  # type: ignore[arg-type]
    assert session.state is State.ACTIVE and session.channel == "PJSIP/op-senior-00000002"
    await codes(request("spy", "s1", "6", "PJSIP/op-senior-00000002"), FakeChannel())  # type: ignore[arg-type]
    assert [(m.mode, m.via) for m in session.modes] == [(Mode.WHISPER, "code"), (Mode.BARGE, "keys")]
    await codes(request("end", "s1"), FakeChannel())  # type: ignore[arg-type]
    assert session.ended_how is Ending.HUNG_UP and supervision.live() == []


@pytest.mark.parametrize(
    ("supervisor", "key", "operator"),
    [
        ("op-vera", "4", "op-anna"),  # the role operator may not supervise
        ("op-nobody", "4", "op-anna"),  # no such account
        ("op-senior", "7", "op-anna"),  # no mode for 7
        ("op-senior", "4", "op-boris"),  # not in a call
        ("op-senior", "4", "+79000000001"),  # not a pseudonym (never logged)
    ],
)
async def test_a_code_refused_plays_the_error_tone_and_starts_nothing(
    codes: SupervisionCodes, supervisor: str, key: str, operator: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = FakeChannel()
    await codes(request("code", supervisor, key, operator), channel)  # type: ignore[arg-type]
    assert (channel.played, channel.variables) == (["beeperr"], [])
    assert codes._supervision.live() == []
    assert "79000000001" not in caplog.text


async def test_unknown_sessions_and_actions_are_ignored(codes: SupervisionCodes, tmp_path: Path) -> None:
    await codes(request("spy", "nothing", "4", "PJSIP/op-senior-1"), FakeChannel())  # type: ignore[arg-type]
    await codes(request("end", "nothing"), FakeChannel())  # type: ignore[arg-type]
    await codes(request("dance"), FakeChannel())  # type: ignore[arg-type]
    assert codes._supervision.live() == []
