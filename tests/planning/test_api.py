"""The planning API in the real app against a SQLite database seeded with generated records
(a known weekly pattern): roles, forecasts with their backtest error, staffing, rosters, the
current interval for the wallboard, and refusals that name the field."""

from __future__ import annotations

import asyncio
import math
import threading
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest
from sqlalchemy import Engine

from agents.directory import OperatorDirectory, Role
from core.db import make_engine, migrate
from hotline.http import create_app
from metrics.records.record import CallRecord, Outcome
from metrics.records.store import RecordStore
from planning.api import FORECAST_WAITING, FORECAST_WORKERS, planning_router
from planning.service import NoHistory, Plan, PlanningService, PlanRequest
from tests.accounts import authenticator
from tests.hotline.test_loops import until

ADMIN_TOKEN = "admin-t0ken"
ZONE = ZoneInfo("Europe/Moscow")
START = date(2026, 11, 23)  # Monday: the first planned day
NOW = datetime(2026, 11, 25, 20, 10, tzinfo=ZONE)  # Wednesday evening, in the evening peak
QUEUES = {"crisis": 1.0, "legal": 0.4}


def calls_per_half_hour(day: int, slot: int, scale: float) -> float:
    hour = slot / 2
    return scale * (1 + 6 * math.exp(-(((hour - 20) / 2.5) ** 2)) + 3 * math.exp(-(((hour - 11) / 2) ** 2)))


def generated_records(weeks: int, seed: int = 11) -> list[CallRecord]:
    """Calls of the ``weeks`` before START: answered (talk + wrap-up) or abandoned in the queue."""
    rng = np.random.default_rng(seed)
    first = datetime.combine(START - timedelta(days=7 * weeks), datetime.min.time(), tzinfo=ZONE)
    out = []
    for queue, scale in QUEUES.items():
        for i in range(weeks * 7 * 48):
            slot_start = first + timedelta(minutes=30 * i)
            for _ in range(rng.poisson(calls_per_half_hour(i // 48, i % 48, scale))):
                at = (slot_start + timedelta(seconds=float(rng.uniform(0, 1800)))).astimezone(UTC)
                out.append(_record(rng, at, queue))
    return out


def _record(rng: np.random.Generator, at: datetime, queue: str) -> CallRecord:
    entered = at + timedelta(seconds=12)
    wait = float(rng.exponential(15))
    abandoned = rng.random() < 0.08
    outcome = Outcome.ABANDONED_IN_QUEUE if abandoned else Outcome.ANSWERED
    talk = None if abandoned else float(rng.exponential(240))
    return CallRecord(
        id=uuid.uuid4().hex,
        node="local",
        call_id=uuid.uuid4().hex,
        started_at=at,
        queue_entered_at=entered,
        answered_at=None if abandoned else entered + timedelta(seconds=wait),
        ended_at=entered + timedelta(seconds=wait + (talk or 0)),
        topic=queue,
        queue=queue,
        outcome=outcome,
        wait_seconds=wait,
        talk_seconds=talk,
        wrapup_seconds=None if abandoned else 60.0,
    )


def seed(engine: Engine, weeks: int = 4) -> None:
    store = RecordStore(engine)
    records = generated_records(weeks)
    for i in range(0, len(records), 500):
        store.save_many(records[i : i + 500])


async def _nothing(_: object) -> None:
    return None


App = tuple[httpx.AsyncClient, dict[Role, str]]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('planning') / 'hotline.sqlite3'}")
    migrate(engine)
    seed(engine)
    return engine


@pytest.fixture
async def app(database: Engine, tmp_path: Path) -> AsyncIterator[App]:
    directory = OperatorDirectory(database)
    tokens = {}
    for role in (Role.OPERATOR, Role.SENIOR, Role.SHIFT_LEAD):
        name = f"op-{role.value.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
        tokens[role] = directory.create(name, role.value, role, {}).api_token
    tokens[Role.ADMIN] = ADMIN_TOKEN
    auth = authenticator(database, directory, admin_token=ADMIN_TOKEN)
    service = PlanningService(database, clock=lambda: NOW.astimezone(UTC))
    lead = auth.guard({Role.SHIFT_LEAD, Role.ADMIN}, "planning")
    application = create_app([planning_router(database, lead, service)])
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", timeout=120) as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


PLAN = {"start": START.isoformat(), "days": 7, "history_weeks": 4}
TEMPLATES = [
    {"name": "day", "start": "08:00", "minutes": 480, "breaks": [{"offset_minutes": 240, "minutes": 60}]},
    {"name": "evening", "start": "15:00", "minutes": 480},
    {"name": "night", "start": "23:00", "minutes": 480},
]
ROSTER = {
    **PLAN,
    "interval_minutes": 60,
    "templates": TEMPLATES,
    "operators": [{"id": f"op-{i}"} for i in range(10)],
    "time_limit_seconds": 5,
}
CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/planning/forecast", PLAN),
    ("POST", "/api/planning/roster", ROSTER),
    ("GET", "/api/planning/now", None),
]


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
async def test_without_a_token_401(app: App, method: str, path: str, body: dict[str, Any] | None) -> None:
    client, _ = app
    response = await client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json()["error_id"] == "unauthorized"


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SENIOR])
@pytest.mark.parametrize(("method", "path", "body"), CALLS)
async def test_operators_and_seniors_are_refused(
    app: App, method: str, path: str, body: dict[str, Any] | None, role: Role
) -> None:
    client, tokens = app
    response = await client.request(method, path, json=body, headers=bearer(tokens[role]))
    assert response.status_code == 403
    assert response.json()["error_id"] == "forbidden"


@pytest.mark.parametrize("role", [Role.SHIFT_LEAD, Role.ADMIN])
async def test_forecast_and_staffing_per_interval_and_queue(app: App, role: Role) -> None:
    client, tokens = app
    response = await client.post("/api/planning/forecast", json=PLAN, headers=bearer(tokens[role]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["intervals"]) == 7 * 48
    assert body["intervals"][0] == "2026-11-23T00:00:00+03:00"
    queues = {q["queue"]: q for q in body["queues"]}
    assert set(queues) == set(QUEUES)
    crisis = queues["crisis"]
    assert crisis["forecast_model"] in {"weighted_average", "holt_winters"}
    assert crisis["wape"] == crisis["backtest_wape"][crisis["forecast_model"]] and 0 < crisis["wape"] < 1
    assert 0 < crisis["naive_wape"] < 1  # repeating last week, scored on the same weeks
    assert crisis["worse_than_naive"] is (crisis["wape"] > crisis["naive_wape"])
    assert crisis["staffing_model"] == "erlang_a"
    assert crisis["patience_seconds"] == pytest.approx(15 / 0.08, rel=0.3)  # mean wait / P(abandon)
    expected = np.array([calls_per_half_hour(i // 48, i % 48, 1.0) for i in range(7 * 48)])
    # four weeks of a few calls per interval: Poisson noise dominates, so compare 2-hour blocks
    blocks = np.array(crisis["calls"]).reshape(-1, 4).sum(axis=1)
    expected_blocks = expected.reshape(-1, 4).sum(axis=1)
    assert np.abs(blocks - expected_blocks).sum() / expected_blocks.sum() < 0.2
    assert np.mean(crisis["handle_seconds"]) == pytest.approx(300, rel=0.15)  # talk 240 + wrap-up 60
    evening, night = 40, 8  # 20:00 and 04:00 on Monday
    assert crisis["positions"][evening] > crisis["positions"][night]
    assert crisis["positions"][evening] >= math.ceil(crisis["agents"][evening] / 0.7)
    assert all(s >= 0.8 for s, a in zip(crisis["service_level"], crisis["agents"], strict=True) if a)
    assert all(o <= 0.85 for o in crisis["occupancy"])
    totals = [sum(q["positions"][i] for q in body["queues"]) for i in range(7 * 48)]
    assert body["required"] == totals


async def test_a_roster_covers_the_requirement_per_interval(app: App) -> None:
    client, tokens = app
    response = await client.post("/api/planning/roster", json=ROSTER, headers=bearer(tokens[Role.SHIFT_LEAD]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] in {"OPTIMAL", "FEASIBLE"}
    required, scheduled = body["plan"]["required"], body["scheduled"]
    assert len(required) == len(scheduled) == 7 * 24
    assert body["under"] == [max(r - s, 0) for r, s in zip(required, scheduled, strict=True)]
    assert body["under_total"] == sum(body["under"])
    assert [o["id"] for o in body["operators"]] == [f"op-{i}" for i in range(10)]
    for operator in body["operators"]:
        assert all(h <= 40 for h in operator["hours_per_week"])
        for shift in operator["shifts"]:
            assert shift["template"] in {"day", "evening", "night"}
    assert body["hours_total"] == sum(sum(o["hours_per_week"]) for o in body["operators"])


async def test_now_gives_the_current_intervals_positions_per_queue(app: App) -> None:
    client, tokens = app
    headers = bearer(tokens[Role.SHIFT_LEAD])
    response = await client.get("/api/planning/now", headers=headers)
    assert response.status_code == 200, response.text
    now = response.json()
    assert now["interval_start"] == "2026-11-25T20:00:00+03:00"
    day = {**PLAN, "start": "2026-11-25", "days": 1}
    plan = (await client.post("/api/planning/forecast", json=day, headers=headers)).json()
    by_queue = {q["queue"]: q["positions"][40] for q in plan["queues"]}
    assert {q["queue"]: q["required_positions"] for q in now["queues"]} == by_queue
    assert now["total_positions"] == sum(by_queue.values()) > 0


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"targets": {"service_level": 1.5}}, "body.targets.service_level"),
        ({"timezone": "Mars/Olympus"}, "body.timezone"),
        ({"interval_minutes": 20}, "body.interval_minutes"),
        ({"days": 0}, "body.days"),
        ({"special_days": [{"date": "2026-13-01"}]}, "body.special_days.0.date"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(app: App, change: dict[str, Any], where: str) -> None:
    client, tokens = app
    response = await client.post(
        "/api/planning/forecast", json={**PLAN, **change}, headers=bearer(tokens[Role.ADMIN])
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error_id"] == "invalid_request"
    assert where in [d["where"] for d in body["details"]]


async def test_a_shift_off_the_interval_grid_is_refused_naming_the_template(app: App) -> None:
    client, tokens = app
    bad = [*TEMPLATES[:1], {"name": "odd", "start": "07:30", "minutes": 480}]
    response = await client.post(
        "/api/planning/roster", json={**ROSTER, "templates": bad}, headers=bearer(tokens[Role.ADMIN])
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error_id"] == "roster_invalid"
    assert body["details"][0]["where"] == "body.templates.1.start"
    assert "60-minute grid" in body["detail"]


async def test_no_history_is_a_clear_error(app: App) -> None:
    client, tokens = app
    response = await client.post(
        "/api/planning/forecast", json={**PLAN, "start": "2025-01-06"}, headers=bearer(tokens[Role.ADMIN])
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error_id"] == "planning_no_history"
    assert body["details"][0]["where"] == "body.history_weeks"


async def test_now_takes_the_interval_length_as_a_query_parameter(app: App) -> None:
    client, tokens = app
    response = await client.get(
        "/api/planning/now", params={"interval_minutes": "60"}, headers=bearer(tokens[Role.ADMIN])
    )
    assert response.status_code == 200, response.text
    assert (response.json()["interval_minutes"], response.json()["interval_start"]) == (
        60,
        "2026-11-25T20:00:00+03:00",
    )


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"timezone": "Nowhere/City"}, "query.timezone"),
        ({"interval_minutes": "20"}, "query.interval_minutes"),
    ],
)
async def test_bad_parameters_for_now_are_refused(app: App, params: dict[str, str], where: str) -> None:
    client, tokens = app
    response = await client.get("/api/planning/now", params=params, headers=bearer(tokens[Role.ADMIN]))
    assert response.status_code == 422
    assert response.json()["details"][0]["where"] == where


class HeldService(PlanningService):
    """Forecasts that hold their thread until ``release``, then find no history."""

    def __init__(self, engine: Engine, release: threading.Event) -> None:
        super().__init__(engine)
        self.release = release
        self.threads: list[str] = []  # the thread of each forecast started

    def plan(self, request: PlanRequest) -> Plan:
        self.threads.append(threading.current_thread().name)
        self.release.wait()
        raise NoHistory("held", "body.history_weeks")


async def test_forecasts_never_take_the_default_thread_pool_and_a_full_pool_is_a_429(
    database: Engine,
) -> None:
    """The default thread pool (presence writes, the IVR's refresh) at its smallest: a forecast
    that holds its thread must leave it free. Beyond the forecast pool's workers and waiting
    line, forecasts and the current interval are refused at once."""
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
    release = threading.Event()
    service = HeldService(database, release)
    admin = authenticator(database, admin_token=ADMIN_TOKEN).guard({Role.ADMIN}, "planning")
    application = create_app([planning_router(database, admin, service)])
    transport = httpx.ASGITransport(app=application)
    extra = 4
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", timeout=60) as client:
        try:
            asked = [
                asyncio.ensure_future(
                    client.post("/api/planning/forecast", json=PLAN, headers=bearer(ADMIN_TOKEN))
                )
                for _ in range(FORECAST_WORKERS + FORECAST_WAITING + extra)
            ]
            await until(lambda: bool(service.threads), within=30)  # a forecast holds its thread
            assert await asyncio.wait_for(asyncio.to_thread(lambda: "ran"), 30) == "ran"
            await until(lambda: sum(a.done() for a in asked) == extra, within=30)
            refused = [a.result() for a in asked if a.done()]
            assert {(r.status_code, r.json()["error_id"], r.headers["retry-after"]) for r in refused} == {
                (429, "planning_busy", "30")
            }
            now = await client.get("/api/planning/now", headers=bearer(ADMIN_TOKEN))
            assert (now.status_code, now.json()["error_id"]) == (429, "planning_busy")
        finally:
            release.set()
        answered = await asyncio.gather(*asked)
    assert [r.status_code for r in answered].count(422) == FORECAST_WORKERS + FORECAST_WAITING
    assert len(service.threads) == FORECAST_WORKERS + FORECAST_WAITING
    assert all(name.startswith("forecast") for name in service.threads)
