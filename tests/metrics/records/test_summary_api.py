"""PUT and GET /api/calls/{id}/summary in the composition root's app: the operator who took the
call saves it against the live IVR version's form, it shows in /api/calls and on the
wallboard's count; another operator's call, an unknown call, one past its window and each
kind of bad value are refused with their problem."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.directory import Role
from core.db import migrate
from hotline.app import Hotline
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from metrics.records.record import CallRecord, Outcome
from tests.accounts import make_admin
from tests.conftest import make_settings
from tests.metrics.records.summary_forms import desk_document
from tests.metrics.records.test_retention import call
from tests.problems import problem_of

ADMIN_TOKEN = "admin-t0ken"
URL = "/api/calls/{}/summary"


async def _nothing(_: object) -> None:
    return None


@dataclass
class Desk:
    client: httpx.AsyncClient
    hotline: Hotline
    tokens: dict[str, str]

    async def put(self, record_id: str, values: dict[str, Any], who: str = "op-anna") -> httpx.Response:
        return await self.client.put(URL.format(record_id), json={"values": values}, headers=self._as(who))

    async def get(self, path: str, who: str = "op-anna") -> httpx.Response:
        return await self.client.get(path, headers=self._as(who))

    def _as(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def taken(self, by: str = "op-anna", ended_ago: timedelta = timedelta(minutes=5)) -> CallRecord:
        """A call ``by`` took, in the database and told to the wallboard as it finished."""
        ended = datetime.now(UTC) - ended_ago
        record = call(ended - timedelta(minutes=3), Outcome.ANSWERED, operator=by, ended_at=ended)
        self.hotline.store.save(record)
        self.hotline.wallboard.on_record(record)
        return record


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sounds")


@pytest.fixture
async def desk(tmp_path: Path, sounds: Path) -> AsyncIterator[Desk]:
    settings = make_settings(tmp_path, prompts_dir=str(sounds))
    hotline = Hotline(settings)
    migrate(hotline.engine)
    make_admin(hotline.engine, ADMIN_TOKEN)
    publisher = IvrService(
        hotline.ivr_store, PromptStudio(settings.prompts_dir), _nothing, settings.asterisk_prompts_dir
    )
    await publisher.start(settings.ivr_seed)
    await publisher.save_draft(desk_document())
    await publisher.publish("admin")
    await hotline.ivr_service.start(settings.ivr_seed)
    tokens = {"admin": ADMIN_TOKEN}
    for name, role in (("op-anna", Role.OPERATOR), ("op-boris", Role.OPERATOR), ("op-senior", Role.SENIOR)):
        tokens[name] = hotline.directory.create(name, name, role, {"crisis": 1}).api_token
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        yield Desk(client, hotline, tokens)
    hotline.engine.dispose()


def _missing(desk: Desk) -> int:
    missing: int = desk.hotline.wallboard.snapshot()["summaries"]["missing_today"]
    return missing


async def test_the_operator_saves_the_summary_and_it_shows_in_the_record(desk: Desk) -> None:
    record, other = desk.taken(), desk.taken("op-boris")
    assert _missing(desk) == 2
    values = {"risk": "high", "issues": ["panic"], "referral": "crisis-team", "note": "calmer, age 30-40"}
    saved = await desk.put(record.id, values)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    live = desk.hotline.ivr_service.engine().version
    assert (body["values"], body["saved_by"], body["menu_version"]) == (values, "op-anna", live)
    assert (await desk.get(URL.format(record.id))).json() == body
    assert _missing(desk) == 1  # op-boris's call still has none
    listed = {r["id"]: r["summary"] for r in (await desk.get("/api/calls", who="admin")).json()}
    assert listed == {record.id: body, other.id: None}
    by_senior = await desk.put(other.id, {"risk": "low"}, who="op-senior")
    assert by_senior.status_code == 200 and by_senior.json()["saved_by"] == "op-senior"
    assert _missing(desk) == 0
    now = datetime.now(UTC)
    period = {
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(minutes=1)).isoformat(),
    }
    report = await desk.client.get("/api/reports", params=period, headers=desk._as("admin"))
    k = desk.hotline.settings.privacy.small_cell_k
    assert report.json()["summaries"] == {
        "k": k,
        "calls": 2,
        "values": [],
        "suppressed": {"merged": 4, "hidden": 3},  # risk high and low, panic, crisis-team (never the note)
    }


@pytest.mark.parametrize(
    ("values", "error_id", "where"),
    [
        ({"risk": "high", "note": "перезвонить +7 900 000-00-01"}, "summary_personal_data", "values.note"),
        ({"risk": "extreme"}, "summary_invalid_value", "values.risk"),
        ({"risk": "low", "issues": ["debts"]}, "summary_invalid_value", "values.issues"),
        ({"risk": "low", "colour": "red"}, "summary_unknown_field", "values.colour"),
        ({"needs": ["food"]}, "summary_missing_field", "values.risk"),
        ({"risk": "low", "note": "x" * 81}, "summary_text_too_long", "values.note"),
    ],
)
async def test_bad_values_are_refused_naming_the_field(
    desk: Desk, values: dict[str, Any], error_id: str, where: str
) -> None:
    record = desk.taken()
    refused = await desk.put(record.id, values)
    problem = problem_of(refused)
    assert (refused.status_code, problem["error_id"], problem["details"][0]["where"]) == (
        422,
        error_id,
        where,
    )
    assert "900" not in refused.text
    assert (await desk.get(URL.format(record.id))).status_code == 404  # nothing saved


async def test_another_operators_call_an_unknown_call_and_a_late_summary_are_refused(desk: Desk) -> None:
    theirs = desk.taken("op-boris")
    for method in ("put", "get"):
        answer = await (
            desk.put(theirs.id, {"risk": "low"}) if method == "put" else desk.get(URL.format(theirs.id))
        )
        assert (answer.status_code, problem_of(answer)["error_id"]) == (403, "forbidden"), method
    unknown = await desk.put("nobody", {"risk": "low"}, who="admin")
    assert (unknown.status_code, problem_of(unknown)["error_id"]) == (404, "call_not_found")
    late = desk.taken(ended_ago=timedelta(minutes=61))  # the form's window is 60 min
    refused = await desk.put(late.id, {"risk": "low"})
    assert (refused.status_code, problem_of(refused)["error_id"]) == (409, "summary_window_closed")
    untaken = call(datetime.now(UTC), Outcome.ABANDONED_IN_QUEUE)
    desk.hotline.store.save(untaken)
    refused = await desk.put(untaken.id, {"risk": "low"}, who="op-senior")
    assert (refused.status_code, problem_of(refused)["error_id"]) == (409, "call_not_taken")
    without_token = await desk.client.put(URL.format(theirs.id), json={"values": {}})
    assert without_token.status_code == 401
