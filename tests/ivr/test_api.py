"""The IVR admin API in the real app: token, draft, validation, publish, versions, simulate."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Request

from agents.auth import Principal
from agents.directory import Role
from core.db import make_engine, migrate
from hotline.http import create_app
from ivr.api import ivr_router
from ivr.codec import from_yaml, to_data
from ivr.document import IvrDocument
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from ivr.store import IvrStore
from tests.accounts import authenticator
from tests.conftest import ROOT
from tests.problems import problem_of

TOKEN = "t0ken"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SEED_TEXT = (ROOT / "tests" / "menu.yaml").read_text(encoding="utf-8")
SHELTER_TOPIC: dict[str, Any] = {
    "names": {"ru": "Dom", "en": "Domestic violence"},
    "queue": "shelter",
    "priority": 6,
    "overflow": {"queue": "main", "after_seconds": 90},
}
SHELTER_ISSUE = {
    "where": "topic violence-home",
    "problem": "queue 'shelter' does not exist",
    "message": "topic violence-home: queue 'shelter' does not exist",
}


async def _apply(_: IvrDocument) -> None:
    return None


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sounds")


@pytest.fixture
async def client(tmp_path: Path, sounds: Path) -> AsyncIterator[httpx.AsyncClient]:
    database = make_engine(f"sqlite:///{tmp_path / 'var' / 'hotline.sqlite3'}")
    migrate(database)
    ivr_store = IvrStore(database)
    service = IvrService(ivr_store, PromptStudio(sounds), _apply, Path("/srv/hotline/sounds"), lambda: NOW)
    await service.start(ROOT / "tests" / "menu.yaml")
    admin = authenticator(database, admin_token=TOKEN).guard({Role.ADMIN}, "ivr")
    app = create_app([ivr_router(service, ivr_store, admin)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", headers=ADMIN) as client:
        yield client


async def add_shelter(client: httpx.AsyncClient) -> None:
    await client.put("/api/ivr/draft/topics/violence-home", json=SHELTER_TOPIC)
    response = await client.put("/api/ivr/draft/queues/shelter", json={"service_level_seconds": 15})
    assert response.json() == {"valid": True, "issues": []}


# -- the token -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "sign in first, or send a token: Authorization: Bearer <token>"),
        ({"Authorization": "t0ken"}, "only bearer tokens are taken: Authorization: Bearer <token>"),
        ({"Authorization": "Basic t0ken"}, "only bearer tokens are taken: Authorization: Bearer <token>"),
        ({"Authorization": "Bearer wrong"}, "this token is not valid"),
        (
            {"Authorization": "Bearer hlt_0123456789abcdef_" + "x" * 43},
            "this token is not valid (unknown, revoked or expired)",
        ),
    ],
)
async def test_without_an_admins_token_401(
    client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    client.headers.pop("Authorization")
    response = await client.get("/api/ivr/draft", headers=headers)
    assert response.status_code == 401
    assert problem_of(response) == {"error_id": "unauthorized", "detail": message, "details": None}


async def test_publish_needs_the_token_too(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ivr/publish", json={}, headers={"Authorization": "Bearer t0ken2"})
    assert response.status_code == 401
    assert (await client.get("/api/ivr/versions")).json()[-1]["number"] == 1


# -- the draft -----------------------------------------------------------------------------------
async def test_get_the_draft(client: httpx.AsyncClient, document: IvrDocument) -> None:
    response = await client.get("/api/ivr/draft")
    assert response.status_code == 200
    body = response.json()
    silence = body.pop("silence")  # the test menu's silent caller: under its own limit (90 s)
    assert body == {"valid": True, "issues": [], "document": to_data(document), "based_on": 1}
    assert (
        set(silence["by_node"]) == set(document.menu.nodes) and silence["seconds"] <= silence["limit"] == 90
    )


async def test_get_the_draft_as_yaml(client: httpx.AsyncClient, document: IvrDocument) -> None:
    response = await client.get("/api/ivr/draft/yaml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert from_yaml(response.text) == document


async def test_put_yaml_with_a_duplicate_key_is_422_with_details(client: httpx.AsyncClient) -> None:
    lines = SEED_TEXT.splitlines()
    first = lines.index('        "1": {action: topic, topic: crisis}') + 1
    second = lines.index('        "9": {action: repeat}') + 1
    text = SEED_TEXT.replace('"9": {action: repeat}', '"1": {action: repeat}')
    response = await client.put("/api/ivr/draft/yaml", content=text.encode())
    assert response.status_code == 422
    problem = f"key '1' is used twice in one mapping (first on line {first})"
    assert problem_of(response) == {
        "error_id": "ivr_document_invalid",
        "detail": f"line {second}: {problem}",
        "details": [{"where": f"line {second}", "problem": problem, "message": f"line {second}: {problem}"}],
    }


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("languages: [ru]\x07\n", "character 16"),
        ("schedules:\n  - {id: x, holidays: [2026-02-30]}\n", "line 2, column 24"),
        ("? [a]\n: 1\n", "line 1, column 3"),
        ("- not a mapping\n", "document"),
    ],
)
async def test_put_unreadable_yaml_is_422_never_500(client: httpx.AsyncClient, text: str, where: str) -> None:
    response = await client.put("/api/ivr/draft/yaml", content=text.encode())
    assert response.status_code == 422
    assert response.json()["error_id"] == "ivr_document_invalid"
    assert response.json()["details"][0]["where"] == where


async def test_put_yaml_saves_a_readable_draft(client: httpx.AsyncClient) -> None:
    text = SEED_TEXT.replace("{action: topic, topic: loss}", "{action: topic, topic: grief}")
    response = await client.put("/api/ivr/draft/yaml", content=text.encode())
    assert response.status_code == 200
    assert response.json() == {
        "valid": False,
        "issues": [
            {
                "where": "language > root, option 3",
                "problem": "topic 'grief' does not exist",
                "message": "language > root, option 3: topic 'grief' does not exist",
            }
        ],
    }
    draft = (await client.get("/api/ivr/draft")).json()
    assert draft["valid"] is False
    assert draft["document"]["menu"]["nodes"]["root"]["options"]["3"] == {"action": "topic", "topic": "grief"}


async def test_put_a_json_document_with_a_bad_slug_is_422(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/ivr/draft")).json()["document"]
    document["topics"][0]["id"] = "Crisis"
    response = await client.put("/api/ivr/draft", json=document)
    assert response.status_code == 422
    assert response.json()["details"] == [
        {
            "where": "topics.0.id",
            "problem": "String should match pattern '^[a-z][a-z0-9_-]{0,39}$'",
            "message": "topics.0.id: String should match pattern '^[a-z][a-z0-9_-]{0,39}$'",
        }
    ]


async def test_a_topic_pointing_at_a_missing_queue_is_saved_but_not_valid(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/ivr/draft/topics/violence-home", json=SHELTER_TOPIC)
    assert response.status_code == 200
    assert response.json() == {"valid": False, "issues": [SHELTER_ISSUE]}
    assert (await client.post("/api/ivr/validate")).json() == {"valid": False, "issues": [SHELTER_ISSUE]}


async def test_deleting_a_missing_item_is_404(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/ivr/draft/topics/nothing")
    assert response.status_code == 404
    assert problem_of(response) == {
        "error_id": "ivr_not_found",
        "detail": "topic 'nothing' does not exist",
        "details": [],
    }


# -- publish, versions, roll back ---------------------------------------------------------------
async def test_publishing_an_invalid_draft_is_refused_with_the_issue(client: httpx.AsyncClient) -> None:
    await client.put("/api/ivr/draft/topics/violence-home", json=SHELTER_TOPIC)
    response = await client.post("/api/ivr/publish", json={"author": "ann"})
    assert response.status_code == 422
    assert problem_of(response) == {
        "error_id": "ivr_publish_refused",
        "detail": "the draft has 1 problem(s)",
        "details": [SHELTER_ISSUE],
    }
    assert [v["active"] for v in (await client.get("/api/ivr/versions")).json()] == [True]


async def test_fix_publish_versions_and_roll_back(client: httpx.AsyncClient) -> None:
    await add_shelter(client)
    response = await client.post("/api/ivr/publish", json={"author": "ann", "note": "shelter queue"})
    assert (response.status_code, response.json()) == (200, {"version": 2})

    versions = (await client.get("/api/ivr/versions")).json()
    assert [(v["number"], v["author"], v["note"], v["active"]) for v in versions] == [
        (1, "seed", "imported from menu.yaml", False),
        (2, "admin", "shelter queue", True),  # who signed in, not the body's "ann"
    ]
    assert datetime.fromisoformat(versions[1]["created_at"]).replace(tzinfo=UTC) == NOW
    assert len(versions[1]["checksum"]) == 64 and versions[0]["checksum"] != versions[1]["checksum"]

    active = await client.get("/api/ivr/versions/active/yaml")
    assert active.status_code == 200 and "shelter" in from_yaml(active.text).queue_names()
    first = await client.get("/api/ivr/versions/1/yaml")
    assert "shelter" not in from_yaml(first.text).queue_names()
    assert (await client.get("/api/ivr/draft")).json()["based_on"] == 2

    response = await client.post("/api/ivr/rollback", json={"version": 1, "author": "bob"})
    assert (response.status_code, response.json()) == (200, {"version": 1})
    versions = (await client.get("/api/ivr/versions")).json()
    assert [v["active"] for v in versions] == [True, False]
    assert "shelter" not in from_yaml((await client.get("/api/ivr/versions/active/yaml")).text).queue_names()


@pytest.mark.parametrize("number", ["99", "abc", "-1"])
async def test_an_unknown_version_yaml_is_404(client: httpx.AsyncClient, number: str) -> None:
    response = await client.get(f"/api/ivr/versions/{number}/yaml")
    assert response.status_code == 404
    assert problem_of(response) == {
        "error_id": "ivr_not_found",
        "detail": f"version {number} does not exist",
        "details": [],
    }


async def test_rollback_to_an_unknown_version_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ivr/rollback", json={"version": 99})
    assert response.status_code == 404
    assert problem_of(response) == {
        "error_id": "ivr_unknown_version",
        "detail": "version 99 does not exist",
        "details": [],
    }


# -- simulate ------------------------------------------------------------------------------------
async def test_simulate_a_two_level_path(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/ivr/simulate", json={"keys": ["2", "2", "1"], "at": "2026-11-23T10:00:00+03:00"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["waiting_at"]) == (1, None)
    assert body["route"] == {
        "kind": "queue",
        "reason": "chosen",
        "language": "en",
        "path": "2,2,1",
        "nodes": ["language", "root", "violence"],
        "queue": "violence",
        "topic": "violence-home",
        "priority": 5,
        "overflow_queue": "main",
        "overflow_after_seconds": 90,
        "overflow_waiting_over": None,
        "referral": None,
        "referral_number": None,
        "after_hours": False,
        "announce": [],
    }
    assert [(s["node"], s["language"], s["pressed"]) for s in body["steps"]] == [
        ("language", "ru", "2"),
        ("root", "en", "2"),
        ("violence", "en", "1"),
    ]
    assert body["steps"][1]["prompts"][0].startswith("/srv/hotline/sounds/en/welcome-")


async def test_simulate_after_hours_with_a_naive_time_read_as_utc(client: httpx.AsyncClient) -> None:
    # 09:00 UTC on a Sunday is 12:00 in Moscow: the legal office is closed.
    response = await client.post("/api/ivr/simulate", json={"keys": ["", "5"], "at": "2026-11-22T09:00:00"})
    route = response.json()["route"]
    assert (route["kind"], route["reason"], route["referral"], route["referral_number"]) == (
        "referral",
        "after_hours",
        "legal-aid",
        "88001000001",
    )
    assert route["after_hours"] is True and route["announce"][0].startswith("/srv/hotline/sounds/ru/closed-")


async def test_simulate_until_the_keys_run_out(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ivr/simulate", json={"keys": ["2"], "language": "en"})
    body = response.json()
    assert (body["route"], body["waiting_at"], len(body["steps"])) == (None, "root", 1)


async def test_simulate_the_draft(client: httpx.AsyncClient) -> None:
    await add_shelter(client)
    response = await client.post(
        "/api/ivr/simulate", json={"keys": ["2", "2", "1"], "draft": True, "at": "2026-11-23T07:00:00Z"}
    )
    body = response.json()
    assert body["version"] is None
    assert (body["route"]["queue"], body["route"]["priority"]) == ("shelter", 6)
    assert body["steps"][0]["prompts"] == ["ru/language", "en/language"]


async def test_simulating_a_broken_draft_is_422(client: httpx.AsyncClient) -> None:
    await client.put("/api/ivr/draft/topics/violence-home", json=SHELTER_TOPIC)
    response = await client.post("/api/ivr/simulate", json={"keys": ["2", "2", "1"], "draft": True})
    assert response.status_code == 422
    assert problem_of(response) == {
        "error_id": "ivr_draft_invalid",
        "detail": "the draft has 1 problem(s); simulate it once fixed",
        "details": [SHELTER_ISSUE],
    }


# -- recordings ----------------------------------------------------------------------------------
@pytest.fixture
def recording(tmp_path: Path) -> bytes:
    wav = tmp_path / "x.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(wav), "synth", "1", "sine", "440"], check=True)
    return wav.read_bytes()


async def test_upload_a_recording_and_publish_it(client: httpx.AsyncClient, recording: bytes) -> None:
    response = await client.put(
        "/api/ivr/prompts/closed/en/recording", content=recording, headers={"X-Filename": "x.wav"}
    )
    assert response.json() == {"valid": True, "issues": []}
    draft = (await client.get("/api/ivr/draft")).json()["document"]
    sha256 = draft["prompts"]["closed"]["en"]["recording"]
    assert (await client.post("/api/ivr/publish", json={})).json() == {"version": 2}
    sunday = {"keys": ["2", "5"], "at": "2026-11-22T09:00:00Z"}
    route = (await client.post("/api/ivr/simulate", json=sunday)).json()["route"]
    assert route["announce"] == [f"/srv/hotline/sounds/en/closed-{sha256[:12]}"]


async def test_uploading_text_as_a_recording_is_422(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/api/ivr/prompts/closed/en/recording", content=b"hello", headers={"X-Filename": "notes.txt"}
    )
    assert response.status_code == 422
    assert problem_of(response) == {
        "error_id": "prompt_invalid",
        "detail": "prompt 'closed' (en): 'notes.txt' is not an audio file sox can read",
        "details": None,
    }


async def test_a_request_that_does_not_fit_gets_the_common_error_format(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ivr/rollback", json={"version": "x"})
    assert response.status_code == 422
    body = problem_of(response)
    assert (body["error_id"], body["detail"]) == (
        "invalid_request",
        "the request does not fit this endpoint",
    )
    assert [d["where"] for d in body["details"]] == ["body.version"]
    response = await client.put("/api/ivr/draft/widgets/x", json={})
    assert response.json()["error_id"] == "invalid_request"
    assert response.json()["details"][0]["where"] == "path.section"


async def test_the_author_is_the_signed_in_identity_never_the_body(tmp_path: Path, sounds: Path) -> None:
    database = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(database)
    store = IvrStore(database)
    service = IvrService(store, PromptStudio(sounds), _apply, Path("/srv/hotline/sounds"), lambda: NOW)
    await service.start(ROOT / "tests" / "menu.yaml")

    async def lead(request: Request) -> Principal:
        return Principal("op-lead", Role.SHIFT_LEAD, operator=True)

    app = create_app([ivr_router(service, store, lead)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        await client.put("/api/ivr/draft/queues/shelter", json={"service_level_seconds": 15})
        published = await client.post("/api/ivr/publish", json={"author": "mallory", "note": "n"})
        rolled = await client.post("/api/ivr/rollback", json={"version": 1, "author": "mallory"})
    assert published.json() == {"version": 2} and rolled.json() == {"version": 1}
    assert [(a.action, a.author) for a in store.activations()] == [
        ("publish", "seed"),
        ("publish", "op-lead"),
        ("rollback", "op-lead"),
    ]


# -- the desk's sections (issue 16) --------------------------------------------------------------
async def test_guidance_summary_and_emergency_round_trip_through_publish_and_rollback(
    client: httpx.AsyncClient, document: IvrDocument
) -> None:
    data = (await client.get("/api/ivr/draft")).json()["document"]
    crisis = next(t for t in data["topics"] if t["id"] == "crisis")
    crisis["guidance"]["texts"]["en"]["steps"].append("Stay until the crisis team arrives")
    crisis["guidance"]["escalate_to"] = "senior"
    mood = {"id": "mood", "names": {"ru": "Настроение", "en": "Mood"}, "kind": "choices"}
    data["summary"]["fields"].append({**mood, "values": {"calm": {"ru": "Спокойное", "en": "Calm"}}})
    data["summary"]["window_minutes"] = 30
    data["emergency"]["number"] = "88001000199"
    assert (await client.put("/api/ivr/draft", json=data)).json() == {"valid": True, "issues": []}
    assert (await client.post("/api/ivr/validate")).json() == {"valid": True, "issues": []}
    assert (await client.post("/api/ivr/publish", json={"note": "desk"})).json() == {"version": 2}

    live = from_yaml((await client.get("/api/ivr/versions/active/yaml")).text)
    guidance = live.topic("crisis").guidance  # type: ignore[union-attr]
    assert guidance is not None and guidance.escalate_to == "senior"
    assert guidance.texts["en"].steps[-1] == "Stay until the crisis team arrives"
    assert live.summary is not None and live.summary.window_minutes == 30
    assert [f.id for f in live.summary.fields][-1] == "mood"
    assert live.emergency is not None and live.emergency.number == "88001000199"

    assert (await client.post("/api/ivr/rollback", json={"version": 1})).status_code == 200
    assert from_yaml((await client.get("/api/ivr/versions/active/yaml")).text) == document


async def test_a_draft_whose_guidance_names_a_missing_referral_is_not_published(
    client: httpx.AsyncClient,
) -> None:
    text = SEED_TEXT.replace("      referrals: [addiction-line]\n", "      referrals: [rehab]\n")
    response = await client.put("/api/ivr/draft/yaml", content=text.encode())
    issue = {
        "where": "topic addiction, guidance",
        "problem": "referral 'rehab' does not exist",
        "message": "topic addiction, guidance: referral 'rehab' does not exist",
    }
    assert response.json() == {"valid": False, "issues": [issue]}
    refused = await client.post("/api/ivr/publish", json={})
    assert (refused.status_code, problem_of(refused)["details"]) == (422, [issue])


async def test_the_openapi_document_describes_the_draft_with_the_desk_sections(
    client: httpx.AsyncClient,
) -> None:
    put = (await client.get("/openapi.json")).json()["paths"]["/api/ivr/draft"]["put"]
    schema = put["requestBody"]["content"]["application/json"]["schema"]
    assert {"summary", "emergency", "topics", "referrals"} <= set(schema["properties"])
    topic = schema["properties"]["topics"]["items"]["properties"]
    guidance = next(s for s in topic["guidance"]["anyOf"] if s.get("type") == "object")
    assert {"texts", "escalate_to", "referrals", "issues", "example"} == set(guidance["properties"])
    summary = next(s for s in schema["properties"]["summary"]["anyOf"] if s.get("type") == "object")
    field = summary["properties"]["fields"]["items"]
    assert field["properties"]["kind"]["enum"] == ["choice", "choices", "flag", "issues", "referral", "text"]
    referral = schema["properties"]["referrals"]["items"]["properties"]
    assert {"languages", "region", "schedule"} <= set(referral)
