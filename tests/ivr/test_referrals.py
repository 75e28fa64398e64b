"""Referral search for operators (ivr/referrals.py, GET /api/referrals): every role with its own
token, filters by topic, language, words and hours, over the live document; 422s naming the
parameter. The shipped demo line's referrals (hotline-ivr.yaml) are the directory searched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.directory import OperatorDirectory, Role
from core.db import make_engine, migrate
from hotline.http import create_app
from ivr.api import ivr_router, referrals_router
from ivr.document import IvrDocument, Referral
from ivr.prompts import PromptStudio
from ivr.referrals import ReferralQuery, open_at, search
from ivr.service import IvrService
from ivr.store import IvrStore
from tests.accounts import authenticator
from tests.conftest import ROOT
from tests.problems import problem_of

ADMIN_TOKEN = "admin-t0ken"
MONDAY_10_MSK = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # office hours (Europe/Moscow 09-20)
SATURDAY_18_MSK = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # after Saturday's 10-16
ALL = [
    "legal-aid",
    "crisis-team",
    "shelter",
    "bereavement-group",
    "addiction-line",
    "social-services",
    "volunteers",
]
ALWAYS_OPEN = ["legal-aid", "crisis-team", "shelter", "addiction-line"]  # no schedule
OFFICE_HOURS = ["bereavement-group", "social-services", "volunteers"]  # office-hours


@dataclass
class Clock:
    now: datetime = MONDAY_10_MSK

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    client: httpx.AsyncClient
    clock: Clock
    tokens: dict[Role, str]

    async def ids(self, **params: Any) -> list[str]:
        response = await self.client.get("/api/referrals", params=params, headers=self.auth(Role.OPERATOR))
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()]

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


async def _nothing(_: IvrDocument) -> None:
    return None


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sounds")


@pytest.fixture
async def desk(tmp_path: Path, sounds: Path) -> AsyncIterator[Desk]:
    database = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(database)
    store = IvrStore(database)
    clock = Clock()
    service = IvrService(store, PromptStudio(sounds), _nothing, Path("/srv/hotline/sounds"), clock)
    await service.start(ROOT / "hotline-ivr.yaml")
    directory = OperatorDirectory(database)
    tokens = {Role.ADMIN: ADMIN_TOKEN} | {
        role: directory.create(f"op-{role.value}".replace("_", "-"), role.value, role, {}).api_token
        for role in (Role.OPERATOR, Role.SENIOR, Role.SHIFT_LEAD)
    }
    auth = authenticator(database, directory, admin_token=ADMIN_TOKEN)
    app = create_app(
        [
            ivr_router(service, store, auth.guard({Role.ADMIN}, "ivr")),
            referrals_router(service, auth.guard(set(Role), "ivr")),
        ]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hotline") as client:
        yield Desk(client, clock, tokens)
    database.dispose()


# -- who may search ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
async def test_every_role_searches_with_its_own_token(desk: Desk, role: Role) -> None:
    response = await desk.client.get("/api/referrals", headers=desk.auth(role))
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == ALL


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_without_a_valid_token_401(desk: Desk, headers: dict[str, str]) -> None:
    response = await desk.client.get("/api/referrals", headers=headers)
    assert (response.status_code, problem_of(response)["error_id"]) == (401, "unauthorized")


# -- what it answers -----------------------------------------------------------------------------
async def test_a_referral_as_the_desk_sees_it(desk: Desk) -> None:
    response = await desk.client.get(
        "/api/referrals", params={"q": "crisis team"}, headers=desk.auth(Role.SENIOR)
    )
    assert response.json() == [
        {
            "id": "crisis-team",
            "organisation": "Regional psychiatric crisis team (example)",
            "description": (
                "Comes out to a person at risk of suicide; advises relatives and operators by phone."
            ),
            "number": "88001000002",
            "topics": ["crisis"],
            "languages": ["ru"],
            "region": "Example region",
            "open_now": True,
        }
    ]


async def test_by_topic(desk: Desk) -> None:
    assert await desk.ids(topic="loss") == ["bereavement-group", "social-services"]
    assert await desk.ids(topic="violence-home") == ["legal-aid", "shelter"]


async def test_by_a_language_spoken_there(desk: Desk) -> None:
    assert await desk.ids(language="en") == ["shelter", "addiction-line"]
    assert await desk.ids(language="uk") == []  # well formed, spoken nowhere here


async def test_by_words_in_any_case_of_organisation_description_or_region(desk: Desk) -> None:
    assert await desk.ids(q="EXAMPLE REGION") == ["crisis-team", "social-services", "volunteers"]
    assert await desk.ids(q="lawyers") == ["legal-aid"]  # the description
    assert await desk.ids(q="Volunteer") == ["volunteers"]  # organisation and description, once
    assert await desk.ids(q="   ") == ALL  # blank: no filter


async def test_open_now_follows_each_referrals_hours_at_the_moment_asked(desk: Desk) -> None:
    assert await desk.ids(open_now="true") == ALL
    assert await desk.ids(open_now="false") == []
    desk.clock.now = SATURDAY_18_MSK
    assert await desk.ids(open_now="true") == ALWAYS_OPEN
    assert await desk.ids(open_now="false") == OFFICE_HOURS
    listed = (await desk.client.get("/api/referrals", headers=desk.auth(Role.OPERATOR))).json()
    assert {r["id"]: r["open_now"] for r in listed} == {
        **dict.fromkeys(ALWAYS_OPEN, True),
        **dict.fromkeys(OFFICE_HOURS, False),
    }


async def test_filters_combine(desk: Desk) -> None:
    desk.clock.now = SATURDAY_18_MSK
    assert await desk.ids(topic="social", open_now="true") == []
    assert await desk.ids(topic="social", open_now="false", q="deliver") == ["volunteers"]
    assert await desk.ids(topic="violence-other", language="en") == ["shelter"]


async def test_the_live_document_is_searched_not_the_draft(desk: Desk) -> None:
    admin = desk.auth(Role.ADMIN)
    hospice = {
        "organisation": "Hospice line",
        "number": "88001000008",
        "topics": ["loss"],
        "languages": ["en"],
    }
    edited = await desk.client.put("/api/ivr/draft/referrals/hospice", json=hospice, headers=admin)
    assert edited.json() == {"valid": True, "issues": []}
    assert await desk.ids(topic="loss", language="en") == []
    assert (await desk.client.post("/api/ivr/publish", json={}, headers=admin)).status_code == 200
    assert await desk.ids(topic="loss", language="en") == ["hospice"]


# -- what it refuses -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "where", "problem"),
    [
        ({"topic": "ghost"}, "query.topic", "topic 'ghost' does not exist"),
        ({"topic": "Crisis!"}, "query.topic", "String should match pattern '^[a-z][a-z0-9_-]{0,39}$'"),
        ({"language": "english"}, "query.language", "String should match pattern '^[a-z]{2,3}$'"),
        ({"q": "x" * 101}, "query.q", "String should have at most 100 characters"),
        (
            {"open_now": "maybe"},
            "query.open_now",
            "Input should be a valid boolean, unable to interpret input",
        ),
    ],
)
async def test_a_bad_parameter_is_422_naming_it(
    desk: Desk, params: dict[str, str], where: str, problem: str
) -> None:
    response = await desk.client.get("/api/referrals", params=params, headers=desk.auth(Role.OPERATOR))
    assert response.status_code == 422
    assert problem_of(response) == {
        "error_id": "invalid_request",
        "detail": "the request does not fit this endpoint",
        "details": [{"where": where, "problem": problem}],
    }


# -- the search itself ---------------------------------------------------------------------------
def test_a_referral_that_does_not_say_its_languages_is_not_matched_by_one(document: IvrDocument) -> None:
    silent = Referral(id="silent", organisation="Silent", number="88001000009")
    doc = document.model_copy(update={"referrals": [silent]})
    assert search(doc, ReferralQuery(), MONDAY_10_MSK)[0].referral == silent
    assert search(doc, ReferralQuery(language="ru"), MONDAY_10_MSK) == []


def test_without_a_schedule_a_referral_is_always_open(document: IvrDocument) -> None:
    legal, bereavement = document.referral("legal-aid"), document.referral("bereavement-group")
    assert legal is not None and bereavement is not None
    assert open_at(document, legal, SATURDAY_18_MSK) and not open_at(document, bereavement, SATURDAY_18_MSK)
