"""The IVR editor's server side (issue 19) in the real app: the YAML view keeps the admin's
comments through item edits and publishing, the draft's diff against the live version, a
prompt's audio (real espeak-ng and sox), and the simulation's texts."""

from __future__ import annotations

import difflib
import io
import subprocess
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from agents.directory import Role
from core.db import make_engine, migrate
from hotline.http import create_app
from ivr.api import ivr_router
from ivr.codec import from_yaml, to_data
from ivr.document import IvrDocument, LanguageAction, SubmenuAction, TopicAction
from ivr.editor_api import editor_router
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from ivr.store import IvrStore
from tests.accounts import authenticator
from tests.conftest import ROOT
from tests.ivr.test_api import ADMIN, NOW, TOKEN, _apply, add_shelter
from tests.problems import problem_of

SEED = ROOT / "hotline-ivr.yaml"  # the shipped seed: its comments are the point here
SEED_TEXT = SEED.read_text(encoding="utf-8")
COMMENTS = [line.strip() for line in SEED_TEXT.splitlines() if "#" in line and '"' not in line]
AUDIO = "/api/ivr/prompts/{}/{}/audio"


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sounds")


@pytest.fixture
def database(tmp_path: Path) -> Engine:
    database = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(database)
    return database


@pytest.fixture
def service(database: Engine, sounds: Path) -> IvrService:
    store = IvrStore(database)
    return IvrService(store, PromptStudio(sounds), _apply, Path("/srv/hotline/sounds"), lambda: NOW)


@pytest.fixture
async def client(service: IvrService, database: Engine) -> AsyncIterator[httpx.AsyncClient]:
    await service.start(SEED)
    store = IvrStore(database)
    admin = authenticator(database, admin_token=TOKEN).guard({Role.ADMIN}, "ivr")
    app = create_app([ivr_router(service, store, admin), editor_router(service, store, admin)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", headers=ADMIN) as client:
        yield client


def _comments(text: str) -> list[str]:
    return [c for c in COMMENTS if c not in text]  # the seed's comment lines that are lost


# -- the YAML view keeps the admin's text ---------------------------------------------------------
async def test_the_seeds_text_is_the_drafts_and_the_first_versions(client: httpx.AsyncClient) -> None:
    assert len(COMMENTS) > 10
    assert (await client.get("/api/ivr/draft/yaml")).text == SEED_TEXT
    assert (await client.get("/api/ivr/versions/1/yaml")).text == SEED_TEXT


async def test_item_edits_keep_the_comments_and_change_only_their_items(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/ivr/draft")).json()["document"]
    topic = next(t for t in document["topics"] if t["id"] == "violence-home")
    edited = await client.put("/api/ivr/draft/topics/violence-home", json={**topic, "priority": 6})
    added = await client.put("/api/ivr/draft/queues/shelter", json={"service_level_seconds": 15})
    deleted = await client.delete("/api/ivr/draft/queues/legal")
    assert [r.status_code for r in (edited, added, deleted)] == [200, 200, 200]
    text = (await client.get("/api/ivr/draft/yaml")).text
    assert _comments(text) == []
    document = (await client.get("/api/ivr/draft")).json()["document"]
    assert to_data(from_yaml(text)) == document  # the text says the draft, no more, no less
    changed = [
        line[0] + line[2:]  # "+ " or "- ", then the line
        for line in difflib.ndiff(SEED_TEXT.splitlines(), text.splitlines())
        if line.startswith(("-", "+"))
    ]
    assert sorted(changed) == sorted(
        [
            "-  - {name: legal, service_level_seconds: 60}",
            "-    priority: 5",
            "+    priority: 6",
            "+  - name: shelter",
            "+    service_level_seconds: 15",
        ]
    )
    assert [t["id"] for t in document["topics"]].index("violence-home") == 1  # edited in its place


async def test_a_published_version_keeps_its_text(client: httpx.AsyncClient) -> None:
    await add_shelter(client)
    draft = (await client.get("/api/ivr/draft/yaml")).text
    assert (await client.post("/api/ivr/publish", json={})).json() == {"version": 2}
    for number in ("2", "active"):
        assert (await client.get(f"/api/ivr/versions/{number}/yaml")).text == draft
    assert _comments(draft) == []
    assert (await client.get("/api/ivr/versions/1/yaml")).text == SEED_TEXT


async def test_yaml_is_kept_as_sent_and_a_whole_json_draft_keeps_its_comments(
    client: httpx.AsyncClient,
) -> None:
    text = SEED_TEXT.replace("default_language: ru", "default_language: ru  # the callers' first")
    assert (await client.put("/api/ivr/draft/yaml", content=text.encode())).status_code == 200
    assert (await client.get("/api/ivr/draft/yaml")).text == text
    document = (await client.get("/api/ivr/draft")).json()["document"]
    document["default_language"] = "en"
    assert (await client.put("/api/ivr/draft", json=document)).status_code == 200
    kept = (await client.get("/api/ivr/draft/yaml")).text
    assert "default_language: en  # the callers' first" in kept and _comments(kept) == []


async def test_without_a_kept_text_the_draft_is_rendered(
    client: httpx.AsyncClient, service: IvrService
) -> None:
    await service.save_draft(service.engine().document)  # as a draft from before this change
    assert await client.put("/api/ivr/draft/queues/shelter", json={"service_level_seconds": 15})
    text = (await client.get("/api/ivr/draft/yaml")).text
    assert "#" not in text and "shelter" in from_yaml(text).queue_names()


# -- the diff against the live version ------------------------------------------------------------
async def test_no_change_is_an_empty_diff(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/ivr/diff")
    assert response.status_code == 200
    assert response.json() == {"against": 1, "changes": [], "unified": ""}


async def test_the_diff_names_added_removed_and_changed_items(client: httpx.AsyncClient) -> None:
    await add_shelter(client)
    await client.delete("/api/ivr/draft/prompts/closed")
    await client.put("/api/ivr/draft/referrals/legal-aid", json=_referral(number="88001000009"))
    body = (await client.get("/api/ivr/diff")).json()
    assert body["against"] == 1
    assert body["changes"] == [
        {
            "section": "topics",
            "id": "violence-home",
            "change": "changed",
            "fields": ["names.ru", "queue", "priority", "guidance"],
        },
        {"section": "referrals", "id": "legal-aid", "change": "changed", "fields": ["number"]},
        {"section": "queues", "id": "shelter", "change": "added", "fields": []},
        {"section": "prompts", "id": "closed", "change": "removed", "fields": []},
    ]
    unified = body["unified"].splitlines()
    assert unified[:2] == ["--- version 1", "+++ draft"]
    assert "-    queue: violence" in unified and "+    queue: shelter" in unified


async def test_settings_are_compared_too(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/ivr/draft")).json()["document"]
    document["survey"]["timeout_seconds"] = 9
    document["escalation_queue"] = "main"
    await client.put("/api/ivr/draft", json=document)
    assert (await client.get("/api/ivr/diff")).json()["changes"] == [
        {"section": "settings", "id": "escalation_queue", "change": "changed", "fields": []},
        {"section": "settings", "id": "survey", "change": "changed", "fields": ["timeout_seconds"]},
    ]


def _referral(**changed: str) -> dict[str, Any]:
    seed = next(r for r in to_data(from_yaml(SEED_TEXT))["referrals"] if r["id"] == "legal-aid")
    return {**seed, **changed}


# -- listening to a prompt ------------------------------------------------------------------------
def _seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        return reader.getnframes() / reader.getframerate()


async def test_a_text_prompt_is_heard_as_espeak_says_it(client: httpx.AsyncClient) -> None:
    response = await client.get(AUDIO.format("closed", "en"))
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    assert _seconds(response.content) > 1
    again = await client.get(AUDIO.format("closed", "en"), params={"source": "active"})
    assert again.content == response.content  # the same text and voice: the same rendering


async def test_a_draft_prompt_is_heard_before_it_is_published(client: httpx.AsyncClient) -> None:
    await client.put("/api/ivr/draft/prompts/hello", json={"en": {"text": "Hello and welcome."}})
    assert (await client.get(AUDIO.format("hello", "en"))).status_code == 200
    live = await client.get(AUDIO.format("hello", "en"), params={"source": "active"})
    assert live.status_code == 404


@pytest.fixture
def recording(tmp_path: Path) -> bytes:
    wav = tmp_path / "x.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", str(wav), "synth", "1.5", "sine", "440"], check=True
    )
    return wav.read_bytes()


async def test_an_uploaded_recording_is_heard_as_uploaded(
    client: httpx.AsyncClient, recording: bytes
) -> None:
    await client.put("/api/ivr/prompts/closed/en/recording", content=recording)
    heard = await client.get(AUDIO.format("closed", "en"))
    assert heard.status_code == 200 and _seconds(heard.content) == pytest.approx(1.5, abs=0.01)


@pytest.mark.parametrize(
    ("prompt", "language", "where"),
    [
        ("nothing", "en", "prompt nothing"),
        ("closed", "pl", "prompt closed (pl)"),
        ("mute", "en", "prompt mute (en)"),
    ],
)
async def test_an_unknown_prompt_or_language_is_404_with_where(
    client: httpx.AsyncClient, prompt: str, language: str, where: str
) -> None:
    await client.put("/api/ivr/draft/prompts/mute", json={"en": {}})  # neither text nor recording
    response = await client.get(AUDIO.format(prompt, language))
    assert response.status_code == 404
    body = problem_of(response)
    assert body["error_id"] == "ivr_not_found" and body["details"][0]["where"] == where


async def test_speech_that_cannot_be_made_is_a_problem_saying_why(client: httpx.AsyncClient) -> None:
    await client.put("/api/ivr/draft/prompts/hello", json={"zz": {"text": "Hello."}})
    response = await client.get(AUDIO.format("hello", "zz"))
    assert response.status_code == 422
    body = problem_of(response)
    assert body["error_id"] == "prompt_invalid" and "no voice for language 'zz'" in body["detail"]


# -- the simulation says what the caller hears ----------------------------------------------------
async def test_simulating_the_draft_gives_the_prompts_texts(client: httpx.AsyncClient) -> None:
    await add_shelter(client)
    body = (
        await client.post("/api/ivr/simulate", json={"keys": ["2"], "draft": True, "language": "en"})
    ).json()
    document = (await client.get("/api/ivr/draft")).json()["document"]
    [step] = body["steps"]
    assert step["prompt_ids"][0] == document["menu"]["nodes"][step["node"]]["prompt"]
    assert step["texts"][0] == document["prompts"][step["prompt_ids"][0]][step["language"]]["text"]
    assert body["announce_texts"] == []


async def test_an_after_hours_announcement_comes_with_its_text(client: httpx.AsyncClient) -> None:
    document = from_yaml(SEED_TEXT)
    legal = next(t for t in document.topics if t.id == "legal")
    assert legal.after_hours is not None and legal.after_hours.prompt == "closed"
    keys = _keys_to(document, "legal")
    sunday = {"keys": keys, "at": "2026-11-22T09:00:00Z", "language": "en"}
    body = (await client.post("/api/ivr/simulate", json=sunday)).json()
    assert body["route"]["after_hours"] is True
    assert body["announce_texts"] == [document.prompts["closed"][body["route"]["language"]].text]


def _keys_to(document: IvrDocument, topic: str) -> list[str]:
    """The keys from the menu's entry to the option choosing ``topic`` (depth first)."""

    def walk(node: str, seen: set[str]) -> list[str] | None:
        for digit, action in document.menu.nodes[node].options.items():
            if isinstance(action, TopicAction) and action.topic == topic:
                return [digit]
            following = action.node if isinstance(action, SubmenuAction) else None
            following = action.next if isinstance(action, LanguageAction) else following
            if following and following not in seen and (rest := walk(following, {*seen, following})):
                return [digit, *rest]
        return None

    keys = walk(document.menu.entry, {document.menu.entry})
    assert keys is not None
    return keys


# -- the silent caller's time (issue 20) -------------------------------------------------------
async def test_the_draft_says_how_long_a_silent_caller_takes(client: httpx.AsyncClient) -> None:
    silence = (await client.get("/api/ivr/draft")).json()["silence"]
    assert silence["limit"] == 15 and set(silence["by_node"]) == {"language", "root", "topics"}
    assert silence["seconds"] == silence["by_node"]["language"] <= 15
    # A greeting that says much more: over the limit, refused, the figures still shown.
    long = "Вы позвонили на линию доверия. " * 6
    edit = {"ru": {"text": long}, "en": {"text": "You have called the helpline."}}
    issues = (await client.put("/api/ivr/draft/prompts/welcome", json=edit)).json()["issues"]
    assert [i["where"] for i in issues] == ["language > root"]
    assert "over the limit of 15 s" in issues[0]["problem"]
    body = (await client.get("/api/ivr/draft")).json()
    assert body["issues"] == issues and body["silence"]["seconds"] > 15
    assert (await client.post("/api/ivr/validate")).json()["issues"] == issues
    published = await client.post("/api/ivr/publish", json={"note": "long"})
    assert published.status_code == 422, published.text
