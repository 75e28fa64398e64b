"""Debrief requests (issue 17, item 3) on a migrated SQLite database: asked by the operator about
their own call, screened notes, one open at a time, started (a pause with reason debrief,
recorded on the request) and closed (who, when, outcome; the debrief's pause ends with it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Engine

from agents.debriefs import Debriefs, DebriefStore
from agents.directory import OperatorDirectory, Role
from agents.exceptions import (
    DebriefCallNotFound,
    DebriefClosed,
    DebriefNotFound,
    DebriefOpen,
    DebriefPersonalData,
    Forbidden,
    UnknownOperator,
)
from agents.guard import Notice
from agents.presence import PauseReason, PauseSource, Presence
from agents.schemas import StatePublic
from agents.state import OperatorState, OperatorStatus

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CALLS = {"rec-anna": "op-anna", "rec-boris": "op-boris", "rec-nobody": ""}


class FakePresence:
    """Stands in for agents.presence.Presence: what was asked of Asterisk."""

    def __init__(self) -> None:
        self.done: list[tuple[Any, ...]] = []
        self.reason: dict[str, str] = {}

    async def pause(self, operator: str, reason: PauseReason, source: PauseSource) -> None:
        self.done.append(("pause", operator, reason.value, source.value))
        self.reason[operator] = reason.value

    async def resume(self, operator: str) -> None:
        self.done.append(("resume", operator))
        self.reason.pop(operator, None)


@pytest.fixture
def engine(database: Engine) -> Engine:
    """A migrated SQLite file, and PostgreSQL when a server answers (tests/databases.py)."""
    directory = OperatorDirectory(database)
    for name in ("op-anna", "op-boris"):
        directory.create(name, name, Role.OPERATOR, {"crisis": 2})
    return database


def debriefs(engine: Engine, presence: FakePresence, logged_in: bool = True) -> Debriefs:
    async def owner(record_id: str, _asking: str) -> str | None:
        return CALLS.get(record_id)

    clock = iter(T0 + timedelta(minutes=i) for i in range(100))
    return Debriefs(
        DebriefStore(engine),
        cast(Presence, presence),
        OperatorDirectory(engine).get,
        owner,
        lambda _op: logged_in,
        lambda op: presence.reason.get(op, ""),
        clock=lambda: next(clock),
    )


async def test_a_request_is_started_with_a_debrief_pause_and_closed_with_its_end(engine: Engine) -> None:
    presence, changes = FakePresence(), []
    service = debriefs(engine, presence)
    service.listeners.append(lambda: changes.append(len(service.open_now())))
    asked = await service.request("op-anna", "rec-anna", "  a long call about loss  ", suggested=True)
    assert (asked.operator, asked.record_id, asked.note, asked.suggested, asked.state) == (
        "op-anna",
        "rec-anna",
        "a long call about loss",
        True,
        "open",
    )
    assert [d.id for d in service.open_now()] == [asked.id]
    started = await service.start(asked.id, "op-lead")
    assert (started.state, started.started_by, started.paused) == ("started", "op-lead", True)
    assert presence.done == [("pause", "op-anna", "debrief", "shift_lead")]
    closed = await service.close(asked.id, "op-lead", "talked it through")
    assert (closed.state, closed.closed_by, closed.outcome) == ("closed", "op-lead", "talked it through")
    assert presence.done[-1] == ("resume", "op-anna") and service.open_now() == []
    assert changes == [1, 1, 0]
    [kept] = await service.recent("op-anna")  # as the table holds it
    assert (kept.requested_at, kept.started_at, kept.closed_at) == (
        T0,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=2),
    )
    reloaded = debriefs(engine, presence)
    await reloaded.load()
    assert reloaded.open_now() == []


async def test_closing_keeps_a_pause_that_is_not_the_debriefs_own(engine: Engine) -> None:
    presence = FakePresence()
    service = debriefs(engine, presence)
    asked = await service.request("op-anna", None, None)
    await service.start(asked.id, "op-lead")
    presence.reason["op-anna"] = "break"  # the operator changed the pause meanwhile
    await service.close(asked.id, "op-lead", None)
    assert [d[0] for d in presence.done] == ["pause"]
    other = await service.request("op-anna", None, None)
    await service.start(other.id, "op-lead")
    await service.close(other.id, "op-lead", None, resume=False)  # the lead keeps them paused
    assert [d[0] for d in presence.done] == ["pause", "pause"]


async def test_an_operator_logged_out_is_not_paused_and_the_request_says_so(engine: Engine) -> None:
    presence = FakePresence()
    service = debriefs(engine, presence, logged_in=False)
    asked = await service.request("op-anna", None, None)
    started = await service.start(asked.id, "op-lead")
    assert (started.state, started.paused, presence.done) == ("started", False, [])


@pytest.mark.parametrize(
    "note",
    ["call me on +7 900 000-00-01", "she lives at ул. Ленина, 5", "mail anna@example.org", "code 12345"],
)
async def test_personal_data_in_a_note_is_refused_and_never_echoed(engine: Engine, note: str) -> None:
    service = debriefs(engine, FakePresence())
    with pytest.raises(DebriefPersonalData) as info:
        await service.request("op-anna", None, note)
    assert note not in str(info.value) and note not in repr(info.value.details)
    assert await service.recent() == []


async def test_the_call_named_must_be_the_operators_own_and_one_request_is_open_at_a_time(
    engine: Engine,
) -> None:
    service = debriefs(engine, FakePresence())
    with pytest.raises(UnknownOperator):
        await service.request("op-nobody", None, None)
    with pytest.raises(DebriefCallNotFound):
        await service.request("op-anna", "rec-unknown", None)
    for someone_elses in ("rec-boris", "rec-nobody"):
        with pytest.raises(Forbidden):
            await service.request("op-anna", someone_elses, None)
    first = await service.request("op-anna", "rec-anna", None)
    with pytest.raises(DebriefOpen) as info:
        await service.request("op-anna", None, None)
    assert info.value.details == {"id": first.id}
    await service.request("op-boris", None, None)  # another operator's is their own
    with pytest.raises(DebriefNotFound):
        await service.start(999, "op-lead")
    await service.close(first.id, "op-lead", None)
    with pytest.raises(DebriefClosed):
        await service.close(first.id, "op-lead", None)
    with pytest.raises(DebriefClosed):
        await service.start(first.id, "op-lead")


def test_a_recovery_notice_suggests_a_debrief_on_the_operators_page() -> None:
    state = OperatorState("op-anna", OperatorStatus.PAUSED, "recovery", ("crisis",), 3)
    notices = [Notice("heavy_topic", "a call on crisis: take 10 minutes", T0, T0, suggest_debrief=True)]
    [public] = StatePublic.of(state, notices).notices
    assert public.suggest_debrief is True
