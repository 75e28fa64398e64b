"""Administering the IVR over a real SQLite database and real prompt audio (espeak-ng, sox)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy.orm import Session

from core.db import make_engine, migrate
from dialplan.apply import ApplyFailed
from ivr.codec import DocumentError, to_data
from ivr.document import IvrDocument, PromptSource
from ivr.engine import Ask, Route, RouteKind, RouteReason
from ivr.issues import Issue
from ivr.models import IvrVersionRow
from ivr.prompts import PromptError, PromptStudio
from ivr.service import (
    DraftInvalid,
    IvrError,
    IvrService,
    NotFound,
    PublishConflict,
    PublishRefused,
    UnknownVersion,
)
from ivr.store import IvrStore, PromptPaths
from tests.conftest import ROOT, seed_document

SEED = ROOT / "tests" / "menu.yaml"
ASTERISK_SOUNDS = Path("/srv/hotline/sounds")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 10:00 in Moscow: office hours
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
SHELTER_TOPIC: dict[str, Any] = {
    "names": {"ru": "Dom", "en": "Domestic violence"},
    "queue": "shelter",
    "priority": 6,
    "overflow": {"queue": "main", "after_seconds": 90},
}


@dataclass
class Asterisk:
    """Records what would be rendered and reloaded; raises ``failure`` when one is set."""

    applied: list[IvrDocument] = field(default_factory=list)
    failure: Exception | None = None

    async def __call__(self, doc: IvrDocument) -> None:
        if self.failure is not None:
            raise self.failure
        self.applied.append(doc)


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One studio directory for the module: synthesis is cached by text, files by content."""
    return tmp_path_factory.mktemp("sounds")


@pytest.fixture
def database(tmp_path: Path) -> Database:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'hotline.sqlite3'}")
    migrate(engine)
    return engine


@pytest.fixture
def store(database: Database) -> IvrStore:
    return IvrStore(database)


@pytest.fixture
def asterisk() -> Asterisk:
    return Asterisk()


def make_service(store: IvrStore, sounds: Path, asterisk: Asterisk) -> IvrService:
    return IvrService(store, PromptStudio(sounds), asterisk, ASTERISK_SOUNDS, clock=lambda: NOW)


@pytest.fixture
async def service(store: IvrStore, sounds: Path, asterisk: Asterisk) -> IvrService:
    service = make_service(store, sounds, asterisk)
    await service.start(SEED)
    return service


def walk(service: IvrService, *keys: str) -> Route:
    simulation = service.simulate(list(keys), MONDAY_10)
    assert simulation.route is not None, simulation
    return simulation.route


async def add_shelter(service: IvrService) -> list[Issue]:
    """A new queue for domestic violence; two edits, the draft valid after the second."""
    issues = await service.edit_draft("topics", "violence-home", SHELTER_TOPIC)
    assert issues == [Issue("topic violence-home", "queue 'shelter' does not exist")]
    return await service.edit_draft("queues", "shelter", {"service_level_seconds": 15})


# -- start ---------------------------------------------------------------------------------------
async def test_no_engine_before_start(store: IvrStore, sounds: Path, asterisk: Asterisk) -> None:
    with pytest.raises(IvrError, match="no IVR version is active yet"):
        make_service(store, sounds, asterisk).engine()


async def test_start_publishes_the_seed_as_version_1(
    service: IvrService, store: IvrStore, asterisk: Asterisk, document: IvrDocument
) -> None:
    assert service.engine().version == 1
    assert service.engine().document == document
    assert asterisk.applied == [document]
    [version] = store.versions()
    assert (version.number, version.author, version.note) == (1, "seed", "imported from menu.yaml")
    assert version.created_at == NOW
    assert [(a.version, a.action, a.author) for a in store.activations()] == [(1, "publish", "seed")]
    assert store.active_number() == 1
    assert await service.draft() == document
    draft = store.draft()
    assert draft is not None and draft.based_on == 1  # the draft is version 1's text


async def test_prompt_paths_point_where_asterisk_reads_and_the_files_exist(
    service: IvrService, store: IvrStore, sounds: Path
) -> None:
    paths = service.engine().prompt_paths
    shipped = ("language", "welcome", "violence", "closed", "stay-on-line", "survey", "survey-thanks")
    expected = {(p, lang) for p in shipped for lang in ("ru", "en")}
    assert set(paths) == expected
    for (prompt, lang), path in paths.items():
        assert re.fullmatch(rf"/srv/hotline/sounds/{lang}/{prompt}-[0-9a-f]{{12}}", path), path
        local = sounds / Path(path).relative_to(ASTERISK_SOUNDS)
        assert local.with_name(local.name + ".wav").is_file()
    assert paths[("welcome", "ru")] != paths[("welcome", "en")]
    stored = store.version(1)
    assert stored is not None and stored.prompt_paths == paths
    for lang in ("ru", "en"):  # queues.conf names one file for every language (see dialplan/render.py)
        announcement = sounds / lang / "queue-announce-stay-on-line.wav"
        hashed = sounds / Path(paths[("stay-on-line", lang)]).relative_to(ASTERISK_SOUNDS)
        assert announcement.read_bytes() == hashed.with_name(hashed.name + ".wav").read_bytes()


async def test_a_restart_loads_the_live_version_without_publishing_again(
    service: IvrService, store: IvrStore, sounds: Path, asterisk: Asterisk
) -> None:
    again = make_service(store, sounds, asterisk)
    await again.start(SEED)
    assert again.engine().version == 1
    assert again.engine().prompt_paths == service.engine().prompt_paths
    assert len(store.versions()) == 1 and len(asterisk.applied) == 1


# -- the draft -----------------------------------------------------------------------------------
async def test_editing_a_topic_returns_the_issues_and_keeps_the_draft(service: IvrService) -> None:
    issues = await service.edit_draft("topics", "violence-home", SHELTER_TOPIC)
    assert issues == [Issue("topic violence-home", "queue 'shelter' does not exist")]
    draft = await service.draft()
    topic = draft.topic("violence-home")
    assert topic is not None and (topic.queue, topic.priority) == ("shelter", 6)
    assert service.engine().document.topic("violence-home").queue == "violence"  # type: ignore[union-attr]


async def test_an_invalid_draft_is_refused_and_version_1_stays_live(
    service: IvrService, store: IvrStore, asterisk: Asterisk
) -> None:
    await service.edit_draft("topics", "violence-home", SHELTER_TOPIC)
    with pytest.raises(PublishRefused) as refused:
        await service.publish(author="ann")
    assert refused.value.issues == [Issue("topic violence-home", "queue 'shelter' does not exist")]
    assert str(refused.value) == "the draft has 1 problem(s)"
    assert refused.value.details == [
        {
            "where": "topic violence-home",
            "problem": "queue 'shelter' does not exist",
            "message": "topic violence-home: queue 'shelter' does not exist",
        }
    ]
    assert (refused.value.error_id, refused.value.status) == ("ivr_publish_refused", 422)
    assert service.engine().version == 1 and store.active_number() == 1
    assert len(store.versions()) == 1 and len(asterisk.applied) == 1
    assert walk(service, "2", "2", "1").queue == "violence"


async def test_deleting_what_does_not_exist_is_not_found(service: IvrService) -> None:
    with pytest.raises(NotFound, match="topic 'nothing' does not exist"):
        await service.edit_draft("topics", "nothing", None)
    with pytest.raises(NotFound, match="node 'nothing' does not exist"):
        await service.edit_draft("nodes", "nothing", None)
    with pytest.raises(NotFound, match="unknown section 'colours'"):
        await service.edit_draft("colours", "red", {})


LOSS_IN_USE = [  # the menu's option and the referrals for the loss topic
    Issue("language > root, option 3", "topic 'loss' does not exist"),
    Issue("referral bereavement-group", "topic 'loss' does not exist"),
    Issue("referral social-services", "topic 'loss' does not exist"),
]


async def test_deleting_a_topic_in_use_is_an_issue(service: IvrService) -> None:
    assert await service.edit_draft("topics", "loss", None) == LOSS_IN_USE


async def test_a_malformed_edit_is_refused_and_the_draft_kept(service: IvrService) -> None:
    with pytest.raises(DocumentError) as caught:
        await service.edit_draft("topics", "loss", {"names": {"en": "Loss"}, "queue": "Loss Queue"})
    assert [i.where for i in caught.value.issues] == ["topics.3.queue"]  # in its place
    assert await service.draft() == service.engine().document


# -- publish -------------------------------------------------------------------------------------
async def test_publishing_swaps_the_engine_and_calls_in_progress_keep_theirs(
    service: IvrService, store: IvrStore, asterisk: Asterisk
) -> None:
    in_progress = service.engine()
    call = in_progress.walk(MONDAY_10)
    call.start()
    assert await add_shelter(service) == []
    assert await service.publish(author="ann", note="a shelter queue") == 2
    live = service.engine()
    assert live.version == 2 and store.active_number() == 2
    assert (walk(service, "2", "2", "1").queue, walk(service, "2", "2", "1").priority) == ("shelter", 6)
    assert asterisk.applied[-1] == live.document and "shelter" in live.document.queue_names()
    # The call that started on version 1 finishes on it.
    assert isinstance(call.answer("2"), Ask) and isinstance(call.answer("2"), Ask)
    finished = call.answer("1")
    assert isinstance(finished, Route) and (finished.queue, finished.priority) == ("violence", 5)
    assert in_progress.version == 1
    stored = store.version(2)
    assert stored is not None and (stored.author, stored.note) == ("ann", "a shelter queue")
    assert store.draft().based_on == 2  # type: ignore[union-attr]
    assert stored.checksum != store.version(1).checksum  # type: ignore[union-attr]


async def test_publishing_unchanged_text_reuses_the_prompt_files(service: IvrService) -> None:
    before = service.engine().prompt_paths
    assert await add_shelter(service) == []
    await service.publish(author="ann")
    assert service.engine().prompt_paths == before


async def test_a_failed_apply_leaves_the_live_version_and_writes_nothing(
    service: IvrService, store: IvrStore, sounds: Path
) -> None:
    broken = Asterisk(failure=ApplyFailed("ast-a", "reloading app_queue.so failed: timeout"))
    other = make_service(store, sounds, broken)
    await other.start(SEED)
    assert await add_shelter(other) == []
    with pytest.raises(ApplyFailed, match=r"asterisk node 'ast-a': reloading app_queue\.so failed"):
        await other.publish(author="ann")
    assert other.engine().version == 1 and service.engine().version == 1
    assert [v.number for v in store.versions()] == [1]
    assert [a.action for a in store.activations()] == ["publish"]
    assert walk(other, "2", "2", "1").queue == "violence"
    # The draft is kept: publish again once Asterisk is back.
    broken.failure = None
    assert await other.publish(author="ann") == 2
    assert broken.applied == [other.engine().document]


async def test_a_changed_prompt_text_gets_a_new_file(service: IvrService, sounds: Path) -> None:
    before = service.engine().prompt_paths
    issues = await service.edit_draft(
        "prompts", "closed", {"ru": {"text": "Zakryto."}, "en": {"text": "We are closed now."}}
    )
    assert issues == []
    await service.publish(author="ann")
    after = service.engine().prompt_paths
    assert after[("closed", "en")] != before[("closed", "en")]
    assert after[("welcome", "en")] == before[("welcome", "en")]
    old = sounds / Path(before[("closed", "en")]).relative_to(ASTERISK_SOUNDS)
    assert old.with_name(old.name + ".wav").is_file()  # calls on version 1 may still play it


async def test_concurrent_publishes_get_their_own_numbers(service: IvrService, store: IvrStore) -> None:
    assert await add_shelter(service) == []
    numbers = await asyncio.gather(service.publish("ann"), service.publish("bob"))
    assert sorted(numbers) == [2, 3]
    assert [a.version for a in store.activations()] == [1, 2, 3]


# -- roll back -----------------------------------------------------------------------------------
async def test_rollback_makes_version_1_live_again(
    service: IvrService, store: IvrStore, asterisk: Asterisk, document: IvrDocument
) -> None:
    assert await add_shelter(service) == []
    await service.publish(author="ann")
    await service.rollback(1, author="bob")
    assert service.engine().version == 1 and store.active_number() == 1
    assert service.engine().document == document
    assert walk(service, "2", "2", "1").queue == "violence"
    assert [(a.version, a.action, a.author) for a in store.activations()] == [
        (1, "publish", "seed"),
        (2, "publish", "ann"),
        (1, "rollback", "bob"),
    ]
    assert asterisk.applied[-1] == document and len(asterisk.applied) == 3
    stored = store.version(1)
    assert stored is not None and service.engine().prompt_paths == stored.prompt_paths


async def test_rollback_to_an_unknown_version(
    service: IvrService, store: IvrStore, asterisk: Asterisk
) -> None:
    with pytest.raises(UnknownVersion, match="version 99 does not exist") as caught:
        await service.rollback(99, author="bob")
    assert (caught.value.error_id, caught.value.status) == ("ivr_unknown_version", 404)
    assert service.engine().version == 1 and len(store.activations()) == 1 and len(asterisk.applied) == 1


async def test_a_failed_apply_on_rollback_keeps_the_live_version(
    service: IvrService, store: IvrStore, asterisk: Asterisk
) -> None:
    assert await add_shelter(service) == []
    await service.publish(author="ann")
    asterisk.failure = ApplyFailed("ast-a", "not logged in")
    with pytest.raises(ApplyFailed):
        await service.rollback(1, author="bob")
    assert service.engine().version == 2 and store.active_number() == 2


# -- another process -----------------------------------------------------------------------------
async def test_a_second_service_follows_publish_and_rollback(
    service: IvrService, store: IvrStore, database: Database, sounds: Path
) -> None:
    other = make_service(IvrStore(database), sounds, Asterisk())
    await other.start(SEED)
    assert await other.refresh() is False
    assert await add_shelter(service) == []
    await service.publish(author="ann")
    assert other.engine().version == 1
    assert await other.refresh() is True
    assert other.engine().version == 2 and walk(other, "2", "2", "1").queue == "shelter"
    assert other.engine().prompt_paths == service.engine().prompt_paths
    assert await other.refresh() is False
    await service.rollback(1, author="bob")
    assert await other.refresh() is True and other.engine().version == 1


# -- simulate ------------------------------------------------------------------------------------
async def test_simulate_the_live_version(service: IvrService) -> None:
    paths = service.engine().prompt_paths
    result = service.simulate(["2", "2", "1"], MONDAY_10)
    assert result.version == 1 and result.waiting is None
    assert result.route is not None
    assert (result.route.kind, result.route.queue, result.route.topic, result.route.path) == (
        RouteKind.QUEUE,
        "violence",
        "violence-home",
        "2,2,1",
    )
    assert [{k: v for k, v in s.items() if k not in ("prompt_ids", "texts")} for s in result.steps] == [
        {
            "node": "language",
            "prompts": [paths[("language", "ru")], paths[("language", "en")]],
            "language": "ru",
            "pressed": "2",
        },
        {"node": "root", "prompts": [paths[("welcome", "en")]], "language": "en", "pressed": "2"},
        {"node": "violence", "prompts": [paths[("violence", "en")]], "language": "en", "pressed": "1"},
    ]
    doc = service.engine().document  # and what the caller hears, as text, in the step's language
    assert [(s["prompt_ids"][0], s["texts"][0]) for s in result.steps] == [
        ("language", doc.prompts["language"]["ru"].text),
        ("welcome", doc.prompts["welcome"]["en"].text),
        ("violence", doc.prompts["violence"]["en"].text),
    ]
    assert all(len(s["prompt_ids"]) == len(s["texts"]) == len(s["prompts"]) for s in result.steps)


async def test_simulate_stops_at_the_route_and_waits_when_keys_run_out(service: IvrService) -> None:
    done = service.simulate(["", "1", "5", "5"], MONDAY_10)
    assert done.route is not None and done.route.queue == "crisis" and len(done.steps) == 2
    waiting = service.simulate(["2"], MONDAY_10, language="en")
    assert waiting.route is None and waiting.waiting is not None
    assert (waiting.waiting.node, waiting.waiting.language) == ("root", "en")


async def test_simulate_after_hours(service: IvrService) -> None:
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    route = service.simulate(["2", "5"], sunday).route
    assert route is not None
    assert (route.kind, route.reason, route.referral_number) == (
        RouteKind.REFERRAL,
        RouteReason.AFTER_HOURS,
        "88001000001",
    )
    assert route.announce == (service.engine().prompt_paths[("closed", "en")],)


async def test_simulate_a_draft(service: IvrService) -> None:
    assert await add_shelter(service) == []
    result = service.simulate(["2", "2", "1"], MONDAY_10, doc=await service.draft())
    assert result.version is None
    assert result.route is not None and (result.route.queue, result.route.priority) == ("shelter", 6)
    assert [s["prompts"] for s in result.steps] == [
        ["ru/language", "en/language"],
        ["en/welcome"],
        ["en/violence"],
    ]
    assert walk(service, "2", "2", "1").queue == "violence"  # the live version is untouched


async def test_simulating_a_broken_draft_says_what_is_wrong(service: IvrService) -> None:
    await service.edit_draft("topics", "loss", None)
    with pytest.raises(DraftInvalid) as caught:
        service.simulate(["", "3"], MONDAY_10, doc=await service.draft())
    assert caught.value.issues == LOSS_IN_USE
    assert (caught.value.error_id, caught.value.status) == ("ivr_draft_invalid", 422)


# -- recordings ----------------------------------------------------------------------------------
def recorded_wav(tmp_path: Path) -> bytes:
    path = tmp_path / "x.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "synth", "1", "sine", "440"], check=True)
    return path.read_bytes()


async def test_an_uploaded_recording_is_what_the_next_version_plays(
    service: IvrService, sounds: Path, tmp_path: Path
) -> None:
    synthesized = service.engine().prompt_paths
    assert await service.upload_recording("welcome", "en", recorded_wav(tmp_path), "x.wav") == []
    source = (await service.draft()).prompts["welcome"]["en"]
    assert source.text is None and source.recording is not None
    assert re.fullmatch(r"[0-9a-f]{64}", source.recording)
    assert (await service.draft()).prompts["welcome"]["ru"] == PromptSource(text=synthesized_text(service))
    assert await service.publish(author="ann") == 2
    path = service.engine().prompt_paths[("welcome", "en")]
    assert path == f"/srv/hotline/sounds/en/welcome-{source.recording[:12]}"
    local = sounds / "en" / f"welcome-{source.recording[:12]}.wav"
    assert local.is_file()
    assert service.engine().prompt_paths[("welcome", "ru")] == synthesized[("welcome", "ru")]
    waiting = service.simulate(["2"], MONDAY_10).waiting
    assert waiting is not None and waiting.prompts == (path,)


def synthesized_text(service: IvrService) -> str | None:
    return service.engine().document.prompts["welcome"]["ru"].text


async def test_a_recording_that_was_never_uploaded_refuses_publishing(service: IvrService) -> None:
    data = to_data(await service.draft())
    data["prompts"]["closed"]["en"] = {"recording": "0123456789ab" + "0" * 52}
    await service.edit_draft("prompts", "closed", data["prompts"]["closed"])
    with pytest.raises(PublishRefused) as refused:
        await service.publish(author="ann")
    assert refused.value.issues == [Issue("prompt closed (en)", "recording 0123456789ab was never uploaded")]
    assert service.engine().version == 1


async def test_an_upload_that_is_not_audio_changes_nothing(service: IvrService) -> None:
    with pytest.raises(PromptError, match=r"'notes\.txt' is not an audio file sox can read"):
        await service.upload_recording("welcome", "en", b"hello", "notes.txt")
    assert await service.draft() == service.engine().document


async def test_a_version_number_taken_by_another_process_is_a_conflict_not_a_crash(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    store = IvrStore(engine)
    store.publish("{}", {}, "other", "", datetime(2026, 1, 1, tzinfo=UTC))

    class StaleStore(IvrStore):
        """Numbers versions as if it had not seen the other process's publish."""

        def publish(
            self,
            document: str,
            prompt_paths: PromptPaths,
            author: str,
            note: str,
            at: datetime,
            yaml_text: str | None = None,
        ) -> int:
            with Session(engine) as session, session.begin():
                session.add(IvrVersionRow(number=1, document=document, prompt_paths="[]", checksum="x",
                                          created_at=at, author=author, note=note))  # fmt: skip
            return 1

    async def apply(_: IvrDocument) -> None:
        return None

    service = IvrService(
        StaleStore(engine), PromptStudio(tmp_path / "sounds"), apply, Path("/srv/hotline/sounds")
    )
    await service.save_draft(seed_document())
    with pytest.raises(PublishConflict, match="another publish took this version number"):
        await service.publish("admin")
    assert store.active_number() == 1
