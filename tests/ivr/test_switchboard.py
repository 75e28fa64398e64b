"""Switchboarding (ivr/switchboard.py): the routing decision per caller, the refusals (unknown
queue or partner line, itself, loops, chains, one per queue), the end by expiry or by hand, the
record of every redirect, and a restart that reloads what is in force."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.db import make_engine, migrate
from core.errors import DomainError
from core.types import CallRef
from ivr.document import IvrDocument
from ivr.engine import Engine as IvrEngine
from ivr.engine import Route, RouteKind, RouteReason
from ivr.handler import IvrHandler
from ivr.switchboard import (
    AlreadyRedirected,
    RedirectChain,
    RedirectLoop,
    RedirectNotActive,
    RedirectNotFound,
    RedirectToItself,
    Switchboard,
    SwitchboardUnavailable,
    UnknownQueue,
    UnknownReferral,
)
from ivr.switchboard_api import RedirectPublic
from ivr.switchboard_store import Redirect, SwitchboardStore
from metrics.records.assembler import CallAssembler
from metrics.records.record import CallRecord
from telephony import variables as v
from telephony.agi import AgiRequest, DigitsResult
from tests.conftest import seed_document

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 12:00 in Moscow: office hours
SUNDAY = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # partners with office hours are closed
TEN = timedelta(minutes=10)


@dataclass
class Clock:
    now: datetime = MONDAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    database = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(database)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def doc() -> IvrDocument:
    return seed_document()


def board(engine: Engine, clock: Clock, doc: IvrDocument) -> Switchboard:
    return Switchboard(SwitchboardStore(engine), lambda: doc, clock)


@pytest.fixture
def sb(engine: Engine, clock: Clock, doc: IvrDocument) -> Switchboard:
    return board(engine, clock, doc)


def queue_route(queue: str, **extra: object) -> Route:
    return Route(
        kind=RouteKind.QUEUE,
        reason=RouteReason.CHOSEN,
        language="ru",
        path="1,1",
        nodes=("language", "root"),
        queue=queue,
        topic=queue,
        priority=10,
        **extra,  # type: ignore[arg-type]
    )


# -- the routing decision ---------------------------------------------------------------------------
async def test_new_callers_of_a_redirected_queue_go_to_the_target(sb: Switchboard, doc: IvrDocument) -> None:
    await sb.start("crisis", "main", None, TEN, "op-lead")
    routed = sb.reroute(queue_route("crisis"), doc)
    assert (routed.kind, routed.queue, routed.switchboarded_from) == (RouteKind.QUEUE, "main", "crisis")
    assert (routed.topic, routed.priority) == ("crisis", 10)  # what the caller chose stays
    assert sb.reroute(queue_route("loss"), doc) == queue_route("loss")  # other queues: as walked


async def test_an_overflow_into_the_target_is_dropped(sb: Switchboard, doc: IvrDocument) -> None:
    await sb.start("loss", "main", None, TEN, "op-lead")
    into_target = queue_route("loss", overflow_queue="main", overflow_after_seconds=60)
    routed = sb.reroute(into_target, doc)
    assert (routed.queue, routed.overflow_queue, routed.overflow_after_seconds) == ("main", None, None)
    elsewhere = sb.reroute(queue_route("loss", overflow_queue="crisis", overflow_after_seconds=60), doc)
    assert (elsewhere.queue, elsewhere.overflow_queue) == ("main", "crisis")


async def test_a_partner_line_is_dialled_as_a_referral(sb: Switchboard, doc: IvrDocument) -> None:
    await sb.start("crisis", None, "crisis-team", TEN, "op-lead")
    routed = sb.reroute(queue_route("crisis", survey=True), doc)
    assert (routed.kind, routed.queue, routed.referral, routed.referral_number) == (
        RouteKind.REFERRAL,
        None,
        "crisis-team",
        "88001000002",
    )
    assert (routed.switchboarded_from, routed.survey) == ("crisis", False)


async def test_a_closed_or_removed_target_leaves_callers_in_their_queue(
    sb: Switchboard, doc: IvrDocument, clock: Clock
) -> None:
    clock.now = SUNDAY
    await sb.start("loss", None, "bereavement-group", TEN, "op-lead")  # office hours: closed today
    assert sb.reroute(queue_route("loss"), doc) == queue_route("loss")
    await sb.start("crisis", "legal", None, TEN, "op-lead")
    without_legal = doc.model_copy(update={"queues": [q for q in doc.queues if q.name != "legal"]})
    assert sb.reroute(queue_route("crisis"), without_legal) == queue_route("crisis")


async def test_referral_routes_are_never_redirected(sb: Switchboard, doc: IvrDocument) -> None:
    await sb.start("legal", "main", None, TEN, "op-lead")
    referral = Route(RouteKind.REFERRAL, RouteReason.CHOSEN, "ru", "5", (), referral="legal-aid")
    assert sb.reroute(referral, doc) is referral


# -- expiry, early end, the record --------------------------------------------------------------------
async def test_a_redirect_ends_by_itself_at_its_planned_end(
    sb: Switchboard, doc: IvrDocument, clock: Clock, engine: Engine
) -> None:
    changes: list[int] = []
    sb.listen(lambda: changes.append(1))
    made = await sb.start("crisis", "main", None, timedelta(seconds=30), "op-lead")
    assert [r["queue"] for r in sb.snapshot()] == ["crisis"] and sb.snapshot()[0]["seconds_left"] == 30.0
    clock.now = made.planned_end - timedelta(milliseconds=1)
    assert sb.reroute(queue_route("crisis"), doc).queue == "main"
    clock.now = made.planned_end  # exact: no timer needed for the callers
    assert sb.reroute(queue_route("crisis"), doc).queue == "crisis"
    assert sb.active() == [] and sb.snapshot() == []
    await sb._expire_locked()  # what run() does each second
    [stored] = SwitchboardStore(engine).recent()
    assert (stored.ended_at, stored.ended_by, stored.state(clock.now)) == (made.planned_end, None, "expired")
    assert len(changes) == 2  # started, expired


async def test_ending_early_records_who_and_when(sb: Switchboard, doc: IvrDocument, clock: Clock) -> None:
    made = await sb.start("crisis", None, "crisis-team", TEN, "op-lead")
    clock.now += timedelta(minutes=2)
    ended = await sb.end(made.id, "op-other-lead")
    assert (ended.started_by, ended.ended_by, ended.ended_at, ended.state(clock.now)) == (
        "op-lead",
        "op-other-lead",
        MONDAY + timedelta(minutes=2),
        "ended",
    )
    assert (ended.queue, ended.target_referral, ended.planned_end) == ("crisis", "crisis-team", MONDAY + TEN)
    assert sb.reroute(queue_route("crisis"), doc).queue == "crisis"
    with pytest.raises(RedirectNotActive):
        await sb.end(made.id, "op-lead")
    with pytest.raises(RedirectNotFound):
        await sb.end(999, "op-lead")
    again = await sb.start("crisis", "main", None, TEN, "op-lead")  # the queue is free again
    assert again.id != made.id


async def test_the_duration_is_bounded(sb: Switchboard) -> None:
    short = await sb.start("crisis", "main", None, timedelta(seconds=1), "op-lead")
    long = await sb.start("loss", "main", None, timedelta(days=3), "op-lead")
    assert short.planned_end - short.started_at == timedelta(seconds=15)
    assert long.planned_end - long.started_at == timedelta(hours=24)


# -- refusals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("queue", "target_queue", "target_referral", "error", "where"),
    [
        ("nowhere", "main", None, UnknownQueue, "queue"),
        ("crisis", "nowhere", None, UnknownQueue, "target_queue"),
        ("crisis", None, "nowhere", UnknownReferral, "target_referral"),
        ("crisis", "crisis", None, RedirectToItself, "target_queue"),
    ],
)
async def test_unknown_names_and_itself_are_refused_saying_where(
    sb: Switchboard,
    queue: str,
    target_queue: str | None,
    target_referral: str | None,
    error: type[DomainError],
    where: str,
) -> None:
    with pytest.raises(error) as refused:
        await sb.start(queue, target_queue, target_referral, TEN, "op-lead")
    assert refused.value.details[0]["where"] == where
    assert sb.active() == []


async def test_one_redirect_per_queue_and_no_loop_nor_chain(sb: Switchboard) -> None:
    first = await sb.start("crisis", "main", None, TEN, "op-lead")
    with pytest.raises(AlreadyRedirected) as busy:
        await sb.start("crisis", "loss", None, TEN, "op-lead")
    assert busy.value.details["id"] == first.id
    with pytest.raises(RedirectLoop, match="'main' to 'crisis' refused: queue 'crisis' goes to 'main'"):
        await sb.start("main", "crisis", None, TEN, "op-lead")
    with pytest.raises(RedirectChain):
        await sb.start("loss", "crisis", None, TEN, "op-lead")  # crisis sends its callers on
    with pytest.raises(RedirectChain):
        await sb.start("main", "loss", None, TEN, "op-lead")  # main takes crisis's callers
    await sb.start("loss", "main", None, TEN, "op-lead")  # two queues into one: allowed
    assert [r.queue for r in sb.active()] == ["crisis", "loss"]


# -- a restart ----------------------------------------------------------------------------------------
async def test_a_restart_reloads_what_is_in_force_and_closes_what_expired(
    sb: Switchboard, engine: Engine, clock: Clock, doc: IvrDocument
) -> None:
    short = await sb.start("crisis", "main", None, timedelta(minutes=1), "op-lead")
    long = await sb.start("loss", None, "crisis-team", TEN, "op-lead")
    clock.now += timedelta(minutes=2)  # the service was down meanwhile: nobody wrote the expiry
    again = board(engine, clock, doc)
    assert await again.load() == 1
    assert [r.id for r in again.active()] == [long.id]
    assert again.reroute(queue_route("loss"), doc).referral == "crisis-team"
    assert again.reroute(queue_route("crisis"), doc).queue == "crisis"
    stored = {r.id: r for r in await again.recent()}
    assert (stored[short.id].ended_at, stored[short.id].state(clock.now)) == (short.planned_end, "expired")
    assert stored[long.id].ended_at is None


async def test_a_database_that_refuses_changes_nothing(
    sb: Switchboard, engine: Engine, doc: IvrDocument
) -> None:
    engine.dispose()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE switchboard")
    with pytest.raises(SwitchboardUnavailable):
        await sb.start("crisis", "main", None, TEN, "op-lead")
    assert sb.active() == [] and sb.reroute(queue_route("crisis"), doc).queue == "crisis"


# -- the FastAGI IVR asks it once per caller; the record says where the caller came from -------------
class SilentCaller:
    """An AGI channel whose caller presses nothing: the walk ends at the fallback queue."""

    def __init__(self) -> None:
        self.variables: dict[str, str] = {}

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        return ""

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        return DigitsResult("", True)

    async def set_language(self, language: str) -> None:
        return None

    async def set_variables(self, pairs: Sequence[tuple[str, str]], *, last: bool = False) -> None:
        self.variables.update(pairs)


class AnyPrompt(dict[tuple[str, str], str]):
    def __missing__(self, key: tuple[str, str]) -> str:
        return f"/sounds/{key[1]}/{key[0]}"


async def test_the_ivr_sends_a_redirected_queues_caller_on_and_the_record_shows_it(
    sb: Switchboard, doc: IvrDocument
) -> None:
    records: list[CallRecord] = []
    assembler = CallAssembler(records.append, clock=lambda: MONDAY)
    compiled = IvrEngine(1, doc, AnyPrompt())
    handler = IvrHandler(lambda: compiled, assembler, clock=lambda: MONDAY, reroute=sb.reroute)
    request = AgiRequest("ivr", "u-1", "ru", ("1700000000.1", "local"), "127.0.0.1")
    await sb.start(doc.fallback_queue, "crisis", None, TEN, "op-lead")
    caller = SilentCaller()
    await handler(request, caller)  # type: ignore[arg-type]
    assert (caller.variables[v.QUEUE], caller.variables[v.IVR_RESULT]) == ("crisis", v.IVR_OK)
    record = assembler.open_record(CallRef("local", "1700000000.1"))
    assert record is not None
    assert (record.queue, record.switchboarded_from) == ("crisis", doc.fallback_queue)


def test_an_expiry_not_written_down_yet_reads_as_its_planned_end() -> None:
    open_row = Redirect(7, "crisis", "main", None, "op-lead", MONDAY, MONDAY + TEN)
    public = RedirectPublic.of(open_row, MONDAY + TEN)
    assert (public.state, public.ended_at, public.ended_by, public.seconds_left) == (
        "expired",
        MONDAY + TEN,
        None,
        0.0,
    )
    assert RedirectPublic.of(open_row, MONDAY).model_dump(include={"state", "ended_at", "seconds_left"}) == {
        "state": "active",
        "ended_at": None,
        "seconds_left": 600.0,
    }
